DROP INDEX "messages_reply_to_uq";--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "context" jsonb;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "replaced_by" uuid;--> statement-breakpoint
CREATE INDEX "messages_search_idx" ON "messages" USING gin (to_tsvector('simple', "content"));--> statement-breakpoint
CREATE UNIQUE INDEX "messages_reply_to_uq" ON "messages" USING btree ("reply_to") WHERE "messages"."replaced_by" is null;