ALTER TABLE "caldav_objects" DROP CONSTRAINT "caldav_objects_task_id_tasks_id_fk";
--> statement-breakpoint
ALTER TABLE "messages" DROP CONSTRAINT "messages_conversation_id_conversations_id_fk";
--> statement-breakpoint
ALTER TABLE "notifications" DROP CONSTRAINT "notifications_reminder_id_task_reminders_id_fk";
--> statement-breakpoint
ALTER TABLE "pending_actions" DROP CONSTRAINT "pending_actions_conversation_id_conversations_id_fk";
--> statement-breakpoint
ALTER TABLE "pending_actions" DROP CONSTRAINT "pending_actions_message_id_messages_id_fk";
--> statement-breakpoint
ALTER TABLE "task_reminders" DROP CONSTRAINT "task_reminders_task_id_tasks_id_fk";
--> statement-breakpoint
ALTER TABLE "tasks" DROP CONSTRAINT "tasks_list_id_lists_id_fk";
--> statement-breakpoint
ALTER TABLE "turn_tool_calls" DROP CONSTRAINT "turn_tool_calls_message_id_messages_id_fk";
--> statement-breakpoint
ALTER TABLE "webhook_deliveries" DROP CONSTRAINT "webhook_deliveries_webhook_id_webhooks_id_fk";
--> statement-breakpoint
DROP INDEX "activity_undo_of_uq";--> statement-breakpoint
DROP INDEX "messages_conversation_seq_uq";--> statement-breakpoint
DROP INDEX "messages_reply_to_uq";--> statement-breakpoint
DROP INDEX "notifications_reminder_fire_uq";--> statement-breakpoint
ALTER TABLE "activity" DROP CONSTRAINT "activity_pkey";--> statement-breakpoint
ALTER TABLE "caldav_objects" DROP CONSTRAINT "caldav_objects_pkey";--> statement-breakpoint
ALTER TABLE "conversations" DROP CONSTRAINT "conversations_pkey";--> statement-breakpoint
ALTER TABLE "import_jobs" DROP CONSTRAINT "import_jobs_pkey";--> statement-breakpoint
ALTER TABLE "lists" DROP CONSTRAINT "lists_pkey";--> statement-breakpoint
ALTER TABLE "messages" DROP CONSTRAINT "messages_pkey";--> statement-breakpoint
ALTER TABLE "notifications" DROP CONSTRAINT "notifications_pkey";--> statement-breakpoint
ALTER TABLE "task_reminders" DROP CONSTRAINT "task_reminders_pkey";--> statement-breakpoint
ALTER TABLE "tasks" DROP CONSTRAINT "tasks_pkey";--> statement-breakpoint
ALTER TABLE "webhook_deliveries" DROP CONSTRAINT "webhook_deliveries_pkey";--> statement-breakpoint
ALTER TABLE "webhooks" DROP CONSTRAINT "webhooks_pkey";--> statement-breakpoint
ALTER TABLE "activity" ADD CONSTRAINT "activity_pkey" PRIMARY KEY("id","user_id");--> statement-breakpoint
ALTER TABLE "caldav_objects" ADD CONSTRAINT "caldav_objects_pkey" PRIMARY KEY("task_id","user_id");--> statement-breakpoint
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_pkey" PRIMARY KEY("id","user_id");--> statement-breakpoint
ALTER TABLE "import_jobs" ADD CONSTRAINT "import_jobs_pkey" PRIMARY KEY("id","user_id");--> statement-breakpoint
ALTER TABLE "lists" ADD CONSTRAINT "lists_pkey" PRIMARY KEY("id","user_id");--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_pkey" PRIMARY KEY("id","user_id");--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_pkey" PRIMARY KEY("id","user_id");--> statement-breakpoint
ALTER TABLE "task_reminders" ADD CONSTRAINT "task_reminders_pkey" PRIMARY KEY("id","user_id");--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_pkey" PRIMARY KEY("id","user_id");--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY("id","user_id");--> statement-breakpoint
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_pkey" PRIMARY KEY("id","user_id");--> statement-breakpoint
ALTER TABLE "caldav_objects" ADD CONSTRAINT "caldav_objects_task_fk" FOREIGN KEY ("user_id","task_id") REFERENCES "public"."tasks"("user_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_conversation_fk" FOREIGN KEY ("user_id","conversation_id") REFERENCES "public"."conversations"("user_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pending_actions" ADD CONSTRAINT "pending_actions_conversation_fk" FOREIGN KEY ("user_id","conversation_id") REFERENCES "public"."conversations"("user_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pending_actions" ADD CONSTRAINT "pending_actions_message_fk" FOREIGN KEY ("user_id","message_id") REFERENCES "public"."messages"("user_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_reminders" ADD CONSTRAINT "task_reminders_task_fk" FOREIGN KEY ("user_id","task_id") REFERENCES "public"."tasks"("user_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "turn_tool_calls" ADD CONSTRAINT "turn_tool_calls_message_fk" FOREIGN KEY ("user_id","message_id") REFERENCES "public"."messages"("user_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_fk" FOREIGN KEY ("user_id","webhook_id") REFERENCES "public"."webhooks"("user_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "activity_undo_of_uq" ON "activity" USING btree ("user_id","undo_of");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_conversation_seq_uq" ON "messages" USING btree ("user_id","conversation_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_reply_to_uq" ON "messages" USING btree ("user_id","reply_to") WHERE "messages"."replaced_by" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "notifications_reminder_fire_uq" ON "notifications" USING btree ("user_id","reminder_id","scheduled_for");--> statement-breakpoint
-- hand-written (drizzle-kit cannot express it): ON DELETE SET NULL of ONE column of a
-- composite foreign key (PostgreSQL 15). user_id is part of the key and NOT NULL: deleting
-- a list forgets only tasks.list_id, deleting a reminder only notifications.reminder_id.
-- The "<table>_pkey" names of the DROP CONSTRAINT statements above were filled in by hand
-- too (drizzle-kit leaves a placeholder): PostgreSQL's names of the old one-column keys.
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_list_fk" FOREIGN KEY ("user_id","list_id") REFERENCES "public"."lists"("user_id","id") ON DELETE SET NULL ("list_id") ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_reminder_fk" FOREIGN KEY ("user_id","reminder_id") REFERENCES "public"."task_reminders"("user_id","id") ON DELETE SET NULL ("reminder_id") ON UPDATE no action;
