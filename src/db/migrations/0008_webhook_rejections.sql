CREATE TABLE "webhook_rejections" (
	"minute" bigint NOT NULL,
	"reason" text NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "webhook_rejections_minute_reason_pk" PRIMARY KEY("minute","reason")
);
