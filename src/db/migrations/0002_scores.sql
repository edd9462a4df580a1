CREATE TABLE "scores" (
	"account" text NOT NULL,
	"customer_id" text NOT NULL,
	"as_of" bigint NOT NULL,
	"model_name" text NOT NULL,
	"model_version" text NOT NULL,
	"probability" real NOT NULL,
	"band" text NOT NULL,
	"drivers" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "scores_account_customer_id_as_of_model_name_model_version_pk" PRIMARY KEY("account","customer_id","as_of","model_name","model_version")
);
--> statement-breakpoint
CREATE INDEX "scores_customer_latest_idx" ON "scores" USING btree ("account","customer_id","as_of");--> statement-breakpoint
CREATE INDEX "scores_model_as_of_idx" ON "scores" USING btree ("model_name","model_version","as_of");