-- Stripe beside Razorpay. A subscription names its provider in `payment_method`
-- (the seed's column: 'razorpay' or 'stripe') and the instrument the provider charges
-- in `payment_method_id` (Stripe's pm_…, Razorpay's token or card id), with the card's
-- brand and last four (never the number). Everything that is not about one provider
-- (cancelling a superseded subscription, events, payments) loses its Razorpay name.

UPDATE subscriptions SET payment_method = 'razorpay'
    WHERE razorpay_subscription_id IS NOT NULL AND payment_method IS NULL;
ALTER TABLE subscriptions
    ADD CONSTRAINT subscriptions_payment_method_check CHECK (payment_method IN ('razorpay', 'stripe')),
    ADD CONSTRAINT subscriptions_razorpay_named CHECK (razorpay_subscription_id IS NULL OR payment_method = 'razorpay'),
    ADD CONSTRAINT subscriptions_stripe_named CHECK (
        (stripe_checkout_session_id IS NULL AND stripe_subscription_id IS NULL) OR payment_method = 'stripe'),
    ADD COLUMN payment_method_type VARCHAR(20),
    ADD COLUMN card_brand VARCHAR(20),
    ADD COLUMN card_last4 VARCHAR(4) CHECK (card_last4 ~ '^[0-9]{4}$'),
    ADD COLUMN stripe_checkout_session_id VARCHAR(255) UNIQUE,
    ADD COLUMN stripe_subscription_id VARCHAR(255) UNIQUE,
    -- Amounts keep their currency's own decimals (none for JPY, three for KWD).
    ALTER COLUMN price TYPE NUMERIC;
ALTER TABLE subscriptions RENAME COLUMN razorpay_cancel_due_at TO provider_cancel_due_at;
ALTER TABLE subscriptions RENAME COLUMN razorpay_cancel_attempts TO provider_cancel_attempts;
ALTER TABLE subscriptions RENAME COLUMN razorpay_cancel_error TO provider_cancel_error;
ALTER INDEX idx_subscriptions_razorpay_cancel_due RENAME TO idx_subscriptions_provider_cancel_due;

-- Credits reset with every paid period and, within an annual plan, every month: the
-- month the used credits count from. Maintenance moves it on by whole months.
ALTER TABLE subscriptions ADD COLUMN credits_month_start TIMESTAMPTZ;
UPDATE subscriptions SET credits_month_start = current_period_start;
ALTER TABLE subscriptions ALTER COLUMN credits_month_start SET NOT NULL,
    ALTER COLUMN credits_month_start SET DEFAULT now();
CREATE INDEX idx_subscriptions_annual_credit_months ON subscriptions (credits_month_start)
    WHERE is_current AND billing_cycle = 'annual';

-- A customer at a provider, made once per user (Stripe's cus_…).
CREATE TABLE billing_customers (
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider VARCHAR(10) NOT NULL CHECK (provider IN ('razorpay', 'stripe')),
    customer_id VARCHAR(255) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, provider),
    UNIQUE (provider, customer_id)
);
ALTER TABLE billing_customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_customers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON billing_customers TO adpilot_app
    USING (user_id = current_app_user_id()) WITH CHECK (user_id = current_app_user_id());
CREATE POLICY worker_all ON billing_customers TO adpilot_worker USING (true) WITH CHECK (true);
GRANT SELECT, INSERT ON billing_customers TO adpilot_app;
GRANT SELECT ON billing_customers TO adpilot_worker;

-- The app writes the Stripe checkout's session id onto the checkout row it creates.
GRANT UPDATE (stripe_checkout_session_id) ON subscriptions TO adpilot_app;

-- Events and payments of either provider; ids are unique per provider.
ALTER TABLE billing_events ADD COLUMN provider VARCHAR(10) NOT NULL DEFAULT 'razorpay'
    CHECK (provider IN ('razorpay', 'stripe'));
ALTER TABLE billing_events ALTER COLUMN provider DROP DEFAULT;
ALTER TABLE billing_events RENAME COLUMN razorpay_subscription_id TO provider_subscription_id;
ALTER TABLE billing_events DROP CONSTRAINT billing_events_provider_event_id_key;
ALTER TABLE billing_events ADD CONSTRAINT billing_events_provider_event_key UNIQUE (provider, provider_event_id);

ALTER TABLE payments ADD COLUMN provider VARCHAR(10) NOT NULL DEFAULT 'razorpay'
    CHECK (provider IN ('razorpay', 'stripe'));
ALTER TABLE payments ALTER COLUMN provider DROP DEFAULT;
ALTER TABLE payments RENAME COLUMN razorpay_payment_id TO provider_payment_id;
ALTER TABLE payments DROP CONSTRAINT payments_razorpay_payment_id_key;
ALTER TABLE payments ADD CONSTRAINT payments_provider_payment_key UNIQUE (provider, provider_payment_id);
ALTER TABLE payments ALTER COLUMN amount TYPE NUMERIC;

-- Stripe prices per tier, cycle and currency (Razorpay's INR prices and plan ids stay in
-- subscription_plans). Editable data, seeded once.
INSERT INTO system_config (key, value, description) VALUES
    ('stripe_prices',
     '{"starter": {"monthly": {"USD": "19.00", "EUR": "17.00"}, "annual": {"USD": "190.00", "EUR": "170.00"}},
       "professional": {"monthly": {"USD": "49.00", "EUR": "45.00"}, "annual": {"USD": "490.00", "EUR": "450.00"}},
       "business": {"monthly": {"USD": "99.00", "EUR": "89.00"}, "annual": {"USD": "990.00", "EUR": "890.00"}}}',
     'Stripe prices per tier, billing cycle and ISO currency (amounts as decimal strings)')
ON CONFLICT (key) DO NOTHING;

-- Where a business is: it decides the default payment provider and currency.
ALTER TABLE business_profiles ADD COLUMN country CHAR(2) CHECK (country ~ '^[A-Z]{2}$');
