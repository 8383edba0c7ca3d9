-- Notifications: what happened that an owner should know, in the app and by email.
-- A notification is written in the transaction that made the change it tells of, so it
-- exists exactly when that change committed; its event_key makes a repeated event (a
-- webhook delivered twice, a retried worker) one notification. Emails are sent from the
-- outbox by the notifications function; each notification's email is one row here, so a
-- redelivered message never sends twice and a permanent failure is kept, not retried.

CREATE TABLE notifications (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    category TEXT NOT NULL CHECK (category IN ('ad_review', 'meta_connection', 'payment', 'trial',
                                               'credits', 'generation', 'optimization', 'report')),
    event_key TEXT NOT NULL CHECK (length(event_key) BETWEEN 1 AND 300),
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body TEXT NOT NULL CHECK (length(body) <= 2000),
    link TEXT,
    in_app BOOLEAN NOT NULL DEFAULT true,
    read_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, event_key)
);
CREATE INDEX idx_notifications_feed ON notifications (user_id, created_at DESC, id DESC) WHERE in_app;
CREATE INDEX idx_notifications_unread ON notifications (user_id) WHERE in_app AND read_at IS NULL;

CREATE TABLE notification_preferences (
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    category TEXT NOT NULL CHECK (category IN ('ad_review', 'meta_connection', 'payment', 'trial',
                                               'credits', 'generation', 'optimization', 'report')),
    in_app BOOLEAN NOT NULL DEFAULT true,
    email BOOLEAN NOT NULL DEFAULT true,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, category)
);

CREATE TABLE notification_emails (
    notification_id UUID PRIMARY KEY REFERENCES notifications(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    provider_message_id TEXT,
    sent_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_notification_emails_pending ON notification_emails (created_at) WHERE status = 'pending';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['notifications', 'notification_preferences', 'notification_emails']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO adpilot_app
                            USING (user_id = current_app_user_id())
                            WITH CHECK (user_id = current_app_user_id())', t);
        EXECUTE format('CREATE POLICY worker_all ON %I TO adpilot_worker USING (true) WITH CHECK (true)', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE ON notifications, notification_preferences, notification_emails TO adpilot_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON notifications, notification_preferences, notification_emails TO adpilot_worker;
