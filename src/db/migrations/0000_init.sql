CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_id" text NOT NULL,
	"topic" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"available_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "stripe_events" (
	"id" text PRIMARY KEY NOT NULL,
	"account" text NOT NULL,
	"type" text NOT NULL,
	"created" bigint NOT NULL,
	"api_version" text,
	"livemode" boolean DEFAULT false NOT NULL,
	"object_id" text,
	"payload" jsonb NOT NULL,
	"source" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	"processing_error" text,
	"unhandled" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_cursors" (
	"account" text NOT NULL,
	"resource" text NOT NULL,
	"cursor" text,
	"completed_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"items_seen" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "charges" (
	"account" text NOT NULL,
	"id" text NOT NULL,
	"customer_id" text,
	"invoice_id" text,
	"payment_method_type" text,
	"amount" bigint DEFAULT 0 NOT NULL,
	"amount_refunded" bigint DEFAULT 0 NOT NULL,
	"currency" text,
	"status" text,
	"failure_code" text,
	"disputed" boolean DEFAULT false NOT NULL,
	"created" bigint,
	"src_created" bigint NOT NULL,
	"src_rank" integer NOT NULL,
	"src_event_id" text NOT NULL,
	CONSTRAINT "charges_account_id_pk" PRIMARY KEY("account","id")
);
--> statement-breakpoint
CREATE TABLE "customers" (
	"account" text NOT NULL,
	"id" text NOT NULL,
	"email" text,
	"name" text,
	"currency" text,
	"created" bigint,
	"delinquent" boolean,
	"balance" bigint,
	"default_payment_method" text,
	"country" text,
	"metadata" jsonb,
	"deleted" boolean DEFAULT false NOT NULL,
	"src_created" bigint NOT NULL,
	"src_rank" integer NOT NULL,
	"src_event_id" text NOT NULL,
	CONSTRAINT "customers_account_id_pk" PRIMARY KEY("account","id")
);
--> statement-breakpoint
CREATE TABLE "discounts" (
	"account" text NOT NULL,
	"id" text NOT NULL,
	"customer_id" text,
	"subscription_id" text,
	"coupon_id" text,
	"percent_off" integer,
	"amount_off" bigint,
	"start" bigint,
	"end" bigint,
	"deleted_at" bigint,
	"src_created" bigint NOT NULL,
	"src_rank" integer NOT NULL,
	"src_event_id" text NOT NULL,
	CONSTRAINT "discounts_account_id_pk" PRIMARY KEY("account","id")
);
--> statement-breakpoint
CREATE TABLE "disputes" (
	"account" text NOT NULL,
	"id" text NOT NULL,
	"charge_id" text,
	"customer_id" text,
	"amount" bigint DEFAULT 0 NOT NULL,
	"currency" text,
	"status" text,
	"reason" text,
	"created" bigint NOT NULL,
	"src_created" bigint NOT NULL,
	"src_rank" integer NOT NULL,
	"src_event_id" text NOT NULL,
	CONSTRAINT "disputes_account_id_pk" PRIMARY KEY("account","id")
);
--> statement-breakpoint
CREATE TABLE "invoices" (
	"account" text NOT NULL,
	"id" text NOT NULL,
	"customer_id" text,
	"subscription_id" text,
	"status" text,
	"billing_reason" text,
	"collection_method" text,
	"currency" text,
	"amount_due" bigint DEFAULT 0 NOT NULL,
	"amount_paid" bigint DEFAULT 0 NOT NULL,
	"amount_remaining" bigint DEFAULT 0 NOT NULL,
	"total" bigint DEFAULT 0 NOT NULL,
	"attempt_count" integer DEFAULT 0 NOT NULL,
	"next_payment_attempt" bigint,
	"created" bigint,
	"due_date" bigint,
	"period_start" bigint,
	"period_end" bigint,
	"finalized_at" bigint,
	"paid_at" bigint,
	"voided_at" bigint,
	"marked_uncollectible_at" bigint,
	"src_created" bigint NOT NULL,
	"src_rank" integer NOT NULL,
	"src_event_id" text NOT NULL,
	CONSTRAINT "invoices_account_id_pk" PRIMARY KEY("account","id")
);
--> statement-breakpoint
CREATE TABLE "payment_failures" (
	"account" text NOT NULL,
	"event_id" text NOT NULL,
	"customer_id" text,
	"invoice_id" text,
	"subscription_id" text,
	"amount" bigint,
	"currency" text,
	"attempt" integer,
	"failure_code" text,
	"decline_code" text,
	"failed_at" bigint NOT NULL,
	CONSTRAINT "payment_failures_account_event_id_pk" PRIMARY KEY("account","event_id")
);
--> statement-breakpoint
CREATE TABLE "payment_methods" (
	"account" text NOT NULL,
	"id" text NOT NULL,
	"customer_id" text,
	"type" text,
	"card_brand" text,
	"card_funding" text,
	"exp_month" integer,
	"exp_year" integer,
	"created" bigint,
	"attached_at" bigint,
	"detached_at" bigint,
	"src_created" bigint NOT NULL,
	"src_rank" integer NOT NULL,
	"src_event_id" text NOT NULL,
	CONSTRAINT "payment_methods_account_id_pk" PRIMARY KEY("account","id")
);
--> statement-breakpoint
CREATE TABLE "refunds" (
	"account" text NOT NULL,
	"id" text NOT NULL,
	"charge_id" text,
	"customer_id" text,
	"amount" bigint DEFAULT 0 NOT NULL,
	"currency" text,
	"status" text,
	"created" bigint NOT NULL,
	CONSTRAINT "refunds_account_id_pk" PRIMARY KEY("account","id")
);
--> statement-breakpoint
CREATE TABLE "subscription_items" (
	"account" text NOT NULL,
	"id" text NOT NULL,
	"subscription_id" text NOT NULL,
	"price_id" text,
	"product_id" text,
	"quantity" integer DEFAULT 1 NOT NULL,
	"unit_amount" bigint,
	"currency" text,
	"interval" text,
	"interval_count" integer,
	"usage_type" text,
	"current_period_start" bigint,
	"current_period_end" bigint,
	"deleted" boolean DEFAULT false NOT NULL,
	"src_created" bigint NOT NULL,
	"src_rank" integer NOT NULL,
	"src_event_id" text NOT NULL,
	CONSTRAINT "subscription_items_account_id_pk" PRIMARY KEY("account","id")
);
--> statement-breakpoint
CREATE TABLE "subscription_versions" (
	"account" text NOT NULL,
	"subscription_id" text NOT NULL,
	"event_id" text NOT NULL,
	"valid_from" bigint NOT NULL,
	"rank" integer NOT NULL,
	"customer_id" text NOT NULL,
	"status" text NOT NULL,
	"currency" text,
	"created" bigint,
	"start_date" bigint,
	"current_period_start" bigint,
	"current_period_end" bigint,
	"cancel_at_period_end" boolean DEFAULT false NOT NULL,
	"cancel_at" bigint,
	"canceled_at" bigint,
	"ended_at" bigint,
	"trial_start" bigint,
	"trial_end" bigint,
	"collection_method" text,
	"default_payment_method" text,
	"pause_behavior" text,
	"pause_resumes_at" bigint,
	"discount_coupons" jsonb,
	"discount_end" bigint,
	"cancellation_reason" text,
	"cancellation_feedback" text,
	"mrr" bigint DEFAULT 0 NOT NULL,
	"quantity" integer DEFAULT 0 NOT NULL,
	"price_id" text,
	"product_id" text,
	"interval" text,
	"interval_count" integer,
	"item_count" integer DEFAULT 0 NOT NULL,
	"metadata" jsonb,
	CONSTRAINT "subscription_versions_account_subscription_id_event_id_pk" PRIMARY KEY("account","subscription_id","event_id")
);
--> statement-breakpoint
CREATE TABLE "subscriptions" (
	"account" text NOT NULL,
	"id" text NOT NULL,
	"customer_id" text NOT NULL,
	"status" text NOT NULL,
	"currency" text,
	"created" bigint,
	"start_date" bigint,
	"current_period_start" bigint,
	"current_period_end" bigint,
	"cancel_at_period_end" boolean DEFAULT false NOT NULL,
	"cancel_at" bigint,
	"canceled_at" bigint,
	"ended_at" bigint,
	"trial_start" bigint,
	"trial_end" bigint,
	"collection_method" text,
	"default_payment_method" text,
	"pause_behavior" text,
	"pause_resumes_at" bigint,
	"discount_coupons" jsonb,
	"discount_end" bigint,
	"cancellation_reason" text,
	"cancellation_feedback" text,
	"mrr" bigint DEFAULT 0 NOT NULL,
	"quantity" integer DEFAULT 0 NOT NULL,
	"price_id" text,
	"product_id" text,
	"interval" text,
	"interval_count" integer,
	"item_count" integer DEFAULT 0 NOT NULL,
	"metadata" jsonb,
	"deleted" boolean DEFAULT false NOT NULL,
	"src_created" bigint NOT NULL,
	"src_rank" integer NOT NULL,
	"src_event_id" text NOT NULL,
	CONSTRAINT "subscriptions_account_id_pk" PRIMARY KEY("account","id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_event_topic_uq" ON "outbox" USING btree ("event_id","topic");--> statement-breakpoint
CREATE INDEX "outbox_pending_idx" ON "outbox" USING btree ("available_at") WHERE "outbox"."delivered_at" is null;--> statement-breakpoint
CREATE INDEX "stripe_events_account_created_idx" ON "stripe_events" USING btree ("account","created");--> statement-breakpoint
CREATE INDEX "stripe_events_unprocessed_idx" ON "stripe_events" USING btree ("received_at") WHERE "stripe_events"."processed_at" is null;--> statement-breakpoint
CREATE INDEX "stripe_events_object_idx" ON "stripe_events" USING btree ("account","object_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sync_cursors_pk" ON "sync_cursors" USING btree ("account","resource");--> statement-breakpoint
CREATE INDEX "charges_customer_idx" ON "charges" USING btree ("account","customer_id","created");--> statement-breakpoint
CREATE INDEX "discounts_customer_idx" ON "discounts" USING btree ("account","customer_id");--> statement-breakpoint
CREATE INDEX "disputes_customer_idx" ON "disputes" USING btree ("account","customer_id","created");--> statement-breakpoint
CREATE INDEX "invoices_customer_idx" ON "invoices" USING btree ("account","customer_id","created");--> statement-breakpoint
CREATE INDEX "payment_failures_customer_idx" ON "payment_failures" USING btree ("account","customer_id","failed_at");--> statement-breakpoint
CREATE INDEX "payment_methods_customer_idx" ON "payment_methods" USING btree ("account","customer_id");--> statement-breakpoint
CREATE INDEX "refunds_customer_idx" ON "refunds" USING btree ("account","customer_id","created");--> statement-breakpoint
CREATE INDEX "subscription_items_sub_idx" ON "subscription_items" USING btree ("account","subscription_id");--> statement-breakpoint
CREATE INDEX "subscription_versions_customer_idx" ON "subscription_versions" USING btree ("account","customer_id","valid_from");--> statement-breakpoint
CREATE INDEX "subscriptions_customer_idx" ON "subscriptions" USING btree ("account","customer_id");