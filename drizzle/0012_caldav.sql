CREATE TABLE "caldav_objects" (
	"task_id" uuid PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"uid" text NOT NULL,
	"name" text NOT NULL,
	"extra" text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ical_feeds" (
	"user_id" text PRIMARY KEY NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ical_feeds_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "task_change_counters" (
	"user_id" text PRIMARY KEY NOT NULL,
	"last_seq" bigint DEFAULT 0 NOT NULL,
	"forgotten_seq" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "lists" ADD COLUMN "caldav_name" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "change_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "caldav_objects" ADD CONSTRAINT "caldav_objects_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "caldav_objects" ADD CONSTRAINT "caldav_objects_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ical_feeds" ADD CONSTRAINT "ical_feeds_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_change_counters" ADD CONSTRAINT "task_change_counters_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "caldav_objects_user_uid_uq" ON "caldav_objects" USING btree ("user_id","uid");--> statement-breakpoint
CREATE UNIQUE INDEX "caldav_objects_user_name_uq" ON "caldav_objects" USING btree ("user_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "lists_user_caldav_name_uq" ON "lists" USING btree ("user_id","caldav_name");--> statement-breakpoint
CREATE INDEX "tasks_user_change_idx" ON "tasks" USING btree ("user_id","change_seq");--> statement-breakpoint
-- hand-written
-- Every insert or update of a task takes the user's next change number (the counter row
-- lock orders a user's writes, so numbers commit in order). While an account is being
-- deleted (its lists' set-null cascade updates its tasks) the user row is gone: no number.
CREATE FUNCTION "tasks_take_change_seq"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE next_seq bigint;
BEGIN
  INSERT INTO "task_change_counters" ("user_id", "last_seq")
  SELECT NEW."user_id", 1 WHERE EXISTS (SELECT 1 FROM "user" u WHERE u."id" = NEW."user_id")
  ON CONFLICT ("user_id") DO UPDATE SET "last_seq" = "task_change_counters"."last_seq" + 1
  RETURNING "last_seq" INTO next_seq;
  IF next_seq IS NOT NULL THEN
    NEW."change_seq" := next_seq;
  END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER "tasks_change_seq" BEFORE INSERT OR UPDATE ON "tasks"
  FOR EACH ROW EXECUTE FUNCTION "tasks_take_change_seq"();--> statement-breakpoint
-- A task purged for good (the trash purge) can no longer be reported as deleted: sync
-- tokens older than its last change become invalid.
CREATE FUNCTION "tasks_forget_change_seq"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "task_change_counters" SET "forgotten_seq" = GREATEST("forgotten_seq", OLD."change_seq")
  WHERE "user_id" = OLD."user_id";
  RETURN OLD;
END $$;--> statement-breakpoint
CREATE TRIGGER "tasks_forget_change_seq" AFTER DELETE ON "tasks"
  FOR EACH ROW EXECUTE FUNCTION "tasks_forget_change_seq"();
