-- When a paid subscription becomes a user's current one, every other live Razorpay
-- subscription of theirs is superseded: cancelled here at once (it can never become
-- current again) and cancelled at Razorpay by whoever gets there first, the webhook
-- right after its commit or the maintenance sweep every minute, so nobody pays twice.
ALTER TABLE subscriptions
    ADD COLUMN superseded_at TIMESTAMPTZ,
    ADD COLUMN razorpay_cancel_due_at TIMESTAMPTZ,
    ADD COLUMN razorpay_cancel_attempts INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN razorpay_cancel_error TEXT;

CREATE INDEX idx_subscriptions_razorpay_cancel_due ON subscriptions (razorpay_cancel_due_at)
    WHERE razorpay_cancel_due_at IS NOT NULL;

-- Whether the current period came from Razorpay (an event) rather than being the
-- checkout's estimate: an event's period replaces an estimate whatever its dates, and a
-- confirmed period only for a later one, so events applied in any order end alike.
ALTER TABLE subscriptions ADD COLUMN period_confirmed BOOLEAN NOT NULL DEFAULT false;
UPDATE subscriptions SET period_confirmed = (last_event_at IS NOT NULL);
