CREATE TABLE "model_versions" (
	"name" text NOT NULL,
	"version" text NOT NULL,
	"status" text DEFAULT 'candidate' NOT NULL,
	"metrics" jsonb NOT NULL,
	"path" text NOT NULL,
	"feature_version" text,
	"created_at" timestamp with time zone NOT NULL,
	"promoted_at" timestamp with time zone,
	"retired_at" timestamp with time zone,
	CONSTRAINT "model_versions_name_version_pk" PRIMARY KEY("name","version")
);
--> statement-breakpoint
CREATE TABLE "training_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"model_name" text NOT NULL,
	"status" text NOT NULL,
	"trigger" text DEFAULT 'cli' NOT NULL,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"model_version" text,
	"metrics" jsonb,
	"decision" jsonb,
	"report_path" text,
	"error" text,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_one_champion_uq" ON "model_versions" USING btree ("name") WHERE "model_versions"."status" = 'champion';--> statement-breakpoint
CREATE INDEX "model_versions_status_idx" ON "model_versions" USING btree ("name","status");--> statement-breakpoint
CREATE INDEX "training_runs_model_started_idx" ON "training_runs" USING btree ("model_name","started_at");