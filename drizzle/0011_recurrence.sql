ALTER TABLE "tasks" ADD COLUMN "completed_occurrences" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "last_completed_at" timestamp with time zone;