CREATE TABLE "audit_log" (
	"id" text PRIMARY KEY NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "decision_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"as_of" bigint NOT NULL,
	"dry_run" integer DEFAULT 0 NOT NULL,
	"summary" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "interventions" (
	"id" text PRIMARY KEY NOT NULL,
	"account" text NOT NULL,
	"customer_id" text NOT NULL,
	"subscription_id" text,
	"policy_id" text NOT NULL,
	"policy_version" integer NOT NULL,
	"decided_at" bigint NOT NULL,
	"arm" text NOT NULL,
	"action" text NOT NULL,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text NOT NULL,
	"probability" real NOT NULL,
	"band" text NOT NULL,
	"model_version" text,
	"uplift_effect" real,
	"reasons" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"mrr" bigint DEFAULT 0 NOT NULL,
	"currency" text DEFAULT 'usd' NOT NULL,
	"expected_cost" bigint DEFAULT 0 NOT NULL,
	"cost" bigint DEFAULT 0 NOT NULL,
	"budget_month" text NOT NULL,
	"stripe_request_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"error" text,
	"applied_at" bigint,
	"horizon_days" integer DEFAULT 30 NOT NULL,
	"outcome" text,
	"churn_type" text,
	"churned_at" bigint,
	"settled_at" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policies" (
	"id" text NOT NULL,
	"version" integer NOT NULL,
	"name" text NOT NULL,
	"definition" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "policies_id_version_pk" PRIMARY KEY("id","version")
);
--> statement-breakpoint
CREATE TABLE "policy_budgets" (
	"policy_id" text NOT NULL,
	"month" text NOT NULL,
	"currency" text NOT NULL,
	"limit_amount" bigint NOT NULL,
	"reserved" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "policy_budgets_policy_id_month_pk" PRIMARY KEY("policy_id","month")
);
--> statement-breakpoint
CREATE INDEX "audit_log_entity_idx" ON "audit_log" USING btree ("entity_type","entity_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "interventions_decision_uq" ON "interventions" USING btree ("policy_id","account","customer_id","decided_at");--> statement-breakpoint
CREATE INDEX "interventions_customer_idx" ON "interventions" USING btree ("account","customer_id","decided_at");--> statement-breakpoint
CREATE INDEX "interventions_policy_idx" ON "interventions" USING btree ("policy_id","decided_at");--> statement-breakpoint
CREATE INDEX "interventions_unsettled_idx" ON "interventions" USING btree ("decided_at") WHERE "interventions"."outcome" is null;--> statement-breakpoint
CREATE INDEX "policies_name_idx" ON "policies" USING btree ("name");