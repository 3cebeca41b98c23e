ALTER TABLE "caldav_objects" ADD COLUMN "raw" text;--> statement-breakpoint
ALTER TABLE "caldav_objects" ADD COLUMN "raw_version" integer;