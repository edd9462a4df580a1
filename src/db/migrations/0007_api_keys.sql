CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"prefix" text NOT NULL,
	"name" text,
	"role" text NOT NULL,
	"secret_hash" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_prefix_unique" UNIQUE("prefix")
);
--> statement-breakpoint
CREATE INDEX "api_keys_created_idx" ON "api_keys" USING btree ("created_at");--> statement-breakpoint
-- GET /v1/customers pages through one scoring snapshot by (probability desc, account, customer id);
-- this index serves that order directly, so a page is an index range scan at any table size.
CREATE INDEX IF NOT EXISTS "scores_snapshot_rank_idx" ON "scores" USING btree ("model_name", "model_version", "as_of", "probability" DESC, "account", "customer_id");
