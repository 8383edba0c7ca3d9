-- Billing through Razorpay and paid AI generation.
--
-- Subscription states. Razorpay's lifecycle maps onto ours like this (documented in
-- the README too):
--   created, authenticated   → created   (checkout not finished; never the current row)
--   activated, resumed       → active
--   charged                  → active, and a new period resets the month's credits once
--   pending, halted          → past_due  (a renewal failed; Razorpay retries, then halts)
--   paused                   → paused    (new: the seed had no word for it)
--   cancelled                → cancelled
--   completed, expired       → expired
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_status_check;
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_status_check
    CHECK (status IN ('created', 'trial', 'active', 'past_due', 'paused', 'cancelled', 'expired'));
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_created_never_current
    CHECK (NOT (is_current AND status = 'created'));
ALTER TABLE users DROP CONSTRAINT users_subscription_status_check;
ALTER TABLE users ADD CONSTRAINT users_subscription_status_check
    CHECK (subscription_status IN ('trial', 'active', 'past_due', 'paused', 'cancelled', 'expired'));
-- Razorpay's own status, as last reported, for support.
ALTER TABLE subscriptions ADD COLUMN provider_status VARCHAR(20);

-- Plans, credit costs and model ids are editable data (seeded once, never overwritten).
CREATE OR REPLACE FUNCTION seed_system_config() RETURNS void
    LANGUAGE sql
    AS $$
INSERT INTO system_config (key, value, description) VALUES
    ('ai_service_limits', '{"imagen": 100, "veo": 50}', 'AI service usage limits per user per day'),
    ('meta_api_rate_limits', '{"calls_per_hour": 200}', 'Meta API rate limiting configuration'),
    ('subscription_features',
     '{"starter": {"ai_credits": 50}, "professional": {"ai_credits": 200}, "business": {"ai_credits": 400}}',
     'Feature limits by subscription tier'),
    ('subscription_plans',
     '{"starter": {"name": "Starter",
                   "monthly": {"price_inr": "1499.00", "razorpay_plan_id": "plan_adpilot_starter_m"},
                   "annual": {"price_inr": "14990.00", "razorpay_plan_id": "plan_adpilot_starter_y"}},
       "professional": {"name": "Professional",
                   "monthly": {"price_inr": "3999.00", "razorpay_plan_id": "plan_adpilot_pro_m"},
                   "annual": {"price_inr": "39990.00", "razorpay_plan_id": "plan_adpilot_pro_y"}},
       "business": {"name": "Business",
                   "monthly": {"price_inr": "7999.00", "razorpay_plan_id": "plan_adpilot_business_m"},
                   "annual": {"price_inr": "79990.00", "razorpay_plan_id": "plan_adpilot_business_y"}}}',
     'Prices in INR and Razorpay plan ids per tier and billing cycle'),
    ('ai_credit_costs', '{"image": 1, "video": 5}', 'Credits one generation costs, per media type'),
    ('ai_models', '{"image": "gemini-2.5-flash-image", "video": "veo-3.0-generate-001"}',
     'Model ids used for generation')
ON CONFLICT (key) DO NOTHING;
$$;
SELECT seed_system_config();

-- Every Razorpay webhook delivery we accepted, once per event id: redeliveries are
-- acknowledged without being applied again; unknown types are kept for the record.
CREATE TABLE billing_events (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    provider_event_id VARCHAR(100) NOT NULL UNIQUE,
    event_type VARCHAR(100) NOT NULL,
    user_id UUID REFERENCES users(id) ON DELETE SET NULL,
    razorpay_subscription_id VARCHAR(64),
    event_created_at TIMESTAMPTZ NOT NULL,
    payload JSONB NOT NULL,
    outcome TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_billing_events_user ON billing_events (user_id, received_at DESC);
CREATE INDEX idx_billing_events_subscription ON billing_events (razorpay_subscription_id);

-- Payments reported by Razorpay, amounts converted from paise at the edge.
CREATE TABLE payments (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    razorpay_payment_id VARCHAR(64) NOT NULL UNIQUE,
    user_id UUID REFERENCES users(id) ON DELETE SET NULL,
    subscription_id UUID REFERENCES subscriptions(id) ON DELETE SET NULL,
    amount NUMERIC(12,2) NOT NULL CHECK (amount >= 0),
    currency VARCHAR(3) NOT NULL,
    status VARCHAR(20) NOT NULL CHECK (status IN ('captured', 'failed', 'authorized', 'refunded')),
    error_description TEXT,
    paid_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_payments_user ON payments (user_id, paid_at DESC);
CREATE TRIGGER payments_updated_at BEFORE UPDATE ON payments
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

ALTER TABLE billing_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_events FORCE ROW LEVEL SECURITY;
ALTER TABLE payments ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON payments TO adpilot_app
    USING (user_id = current_app_user_id());
CREATE POLICY worker_all ON billing_events TO adpilot_worker USING (true) WITH CHECK (true);
CREATE POLICY worker_all ON payments TO adpilot_worker USING (true) WITH CHECK (true);
GRANT SELECT ON payments TO adpilot_app;
GRANT SELECT, INSERT, UPDATE ON billing_events, payments TO adpilot_worker;

-- A request that queued a message may relay it at once after commit (its own rows
-- only, through RLS); the maintenance relay remains the safety net.
GRANT SELECT (id, topic, payload, attempts, created_at, sent_at, available_at),
      UPDATE (sent_at, attempts, last_error, available_at) ON outbox TO adpilot_app;
