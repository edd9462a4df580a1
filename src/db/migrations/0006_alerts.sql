CREATE TABLE "alerts" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"key" text NOT NULL,
	"severity" text NOT NULL,
	"message" text NOT NULL,
	"value" real NOT NULL,
	"threshold" real NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"opened_at" bigint NOT NULL,
	"last_seen_at" bigint NOT NULL,
	"closed_at" bigint,
	"notified_open_at" bigint,
	"notified_close_at" bigint
);
--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_one_open_uq" ON "alerts" USING btree ("kind","key") WHERE "alerts"."closed_at" is null;--> statement-breakpoint
CREATE INDEX "alerts_opened_idx" ON "alerts" USING btree ("opened_at");