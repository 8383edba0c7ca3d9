-- Users, their refresh tokens and subscriptions. Tier and status have one truth:
-- the current subscription; users.subscription_tier/status are a copy kept by trigger
-- in the same transaction.
CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email VARCHAR(255) NOT NULL CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%'),
    password_hash VARCHAR(255) NOT NULL,
    first_name VARCHAR(100),
    last_name VARCHAR(100),
    phone VARCHAR(20),
    subscription_tier VARCHAR(20) NOT NULL DEFAULT 'starter'
        CHECK (subscription_tier IN ('starter', 'professional', 'business')),
    subscription_status VARCHAR(20) NOT NULL DEFAULT 'trial'
        CHECK (subscription_status IN ('active', 'cancelled', 'expired', 'trial', 'past_due')),
    trial_ends_at TIMESTAMPTZ,
    last_login TIMESTAMPTZ,
    is_active BOOLEAN NOT NULL DEFAULT true,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ
);
-- Case-insensitive uniqueness among live accounts; a deleted account frees its email.
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX idx_users_subscription ON users (subscription_tier, subscription_status);
CREATE TRIGGER users_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE refresh_tokens (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id UUID NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    issued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    rotated_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    CHECK (expires_at > issued_at)
);
CREATE INDEX idx_refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX idx_refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE subscriptions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    tier VARCHAR(20) NOT NULL CHECK (tier IN ('starter', 'professional', 'business')),
    billing_cycle VARCHAR(20) NOT NULL DEFAULT 'monthly' CHECK (billing_cycle IN ('monthly', 'annual')),
    price NUMERIC(12,2) NOT NULL CHECK (price >= 0),
    currency VARCHAR(3) NOT NULL DEFAULT 'INR',
    payment_method VARCHAR(50),
    payment_method_id VARCHAR(255),
    razorpay_subscription_id VARCHAR(64) UNIQUE,
    -- 'trial' is the state every account starts in; the seed had no word for it.
    status VARCHAR(20) NOT NULL DEFAULT 'active'
        CHECK (status IN ('trial', 'active', 'cancelled', 'expired', 'past_due')),
    is_current BOOLEAN NOT NULL DEFAULT true,
    current_period_start TIMESTAMPTZ NOT NULL,
    current_period_end TIMESTAMPTZ NOT NULL,
    cancel_at_period_end BOOLEAN NOT NULL DEFAULT false,
    monthly_ai_credits_used INTEGER NOT NULL DEFAULT 0 CHECK (monthly_ai_credits_used >= 0),
    monthly_ai_credits_limit INTEGER NOT NULL CHECK (monthly_ai_credits_limit >= 0),
    last_event_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (current_period_end > current_period_start)
);
CREATE UNIQUE INDEX subscriptions_one_current ON subscriptions (user_id) WHERE is_current;
CREATE INDEX idx_subscriptions_user ON subscriptions (user_id);
CREATE INDEX idx_subscriptions_status ON subscriptions (status);
CREATE TRIGGER subscriptions_updated_at BEFORE UPDATE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE OR REPLACE FUNCTION sync_user_subscription() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.is_current THEN
        UPDATE users
           SET subscription_tier = NEW.tier, subscription_status = NEW.status
         WHERE id = NEW.user_id
           AND (subscription_tier, subscription_status) IS DISTINCT FROM (NEW.tier, NEW.status);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER subscriptions_sync_user AFTER INSERT OR UPDATE OF tier, status, is_current ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION sync_user_subscription();

CREATE TABLE usage_logs (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    feature VARCHAR(50) NOT NULL,
    -- Negative for a refund; a refund is written at most once per resource.
    credits_consumed INTEGER NOT NULL DEFAULT 1 CHECK (credits_consumed <> 0),
    resource_id UUID,
    metadata JSONB,
    logged_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_usage_logs_user_date ON usage_logs (user_id, logged_at);
CREATE INDEX idx_usage_logs_feature ON usage_logs (feature);
CREATE INDEX idx_usage_user_feature_date ON usage_logs (user_id, feature, logged_at);
CREATE UNIQUE INDEX usage_logs_refund_once ON usage_logs (resource_id, feature)
    WHERE credits_consumed < 0;
