CREATE TABLE "credit_notes" (
	"account" text NOT NULL,
	"id" text NOT NULL,
	"customer_id" text,
	"invoice_id" text,
	"amount" bigint DEFAULT 0 NOT NULL,
	"currency" text,
	"status" text,
	"reason" text,
	"type" text,
	"created" bigint NOT NULL,
	"voided_at" bigint,
	"src_created" bigint NOT NULL,
	"src_rank" integer NOT NULL,
	"src_event_id" text NOT NULL,
	CONSTRAINT "credit_notes_account_id_pk" PRIMARY KEY("account","id")
);
--> statement-breakpoint
CREATE TABLE "payment_intents" (
	"account" text NOT NULL,
	"id" text NOT NULL,
	"customer_id" text,
	"amount" bigint DEFAULT 0 NOT NULL,
	"currency" text,
	"status" text,
	"latest_charge_id" text,
	"failure_code" text,
	"decline_code" text,
	"created" bigint,
	"src_created" bigint NOT NULL,
	"src_rank" integer NOT NULL,
	"src_event_id" text NOT NULL,
	CONSTRAINT "payment_intents_account_id_pk" PRIMARY KEY("account","id")
);
--> statement-breakpoint
CREATE TABLE "subscription_schedules" (
	"account" text NOT NULL,
	"id" text NOT NULL,
	"customer_id" text,
	"subscription_id" text,
	"status" text,
	"end_behavior" text,
	"phases" jsonb,
	"created" bigint,
	"released_at" bigint,
	"canceled_at" bigint,
	"completed_at" bigint,
	"src_created" bigint NOT NULL,
	"src_rank" integer NOT NULL,
	"src_event_id" text NOT NULL,
	CONSTRAINT "subscription_schedules_account_id_pk" PRIMARY KEY("account","id")
);
--> statement-breakpoint
CREATE INDEX "credit_notes_customer_idx" ON "credit_notes" USING btree ("account","customer_id","created");--> statement-breakpoint
CREATE INDEX "payment_intents_customer_idx" ON "payment_intents" USING btree ("account","customer_id","created");--> statement-breakpoint
CREATE INDEX "subscription_schedules_customer_idx" ON "subscription_schedules" USING btree ("account","customer_id");