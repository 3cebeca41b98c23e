ALTER TABLE "messages" ADD COLUMN "model" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "cost_micros" bigint;--> statement-breakpoint
ALTER TABLE "user" ADD COLUMN "default_model" text;--> statement-breakpoint
CREATE INDEX "messages_user_usage_idx" ON "messages" USING btree ("user_id","created_at") WHERE "messages"."role" = 'assistant';