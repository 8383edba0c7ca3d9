-- Background jobs, configuration, and the outbox for messages that must follow a commit.
CREATE TABLE background_jobs (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    job_type VARCHAR(50) NOT NULL,
    user_id UUID REFERENCES users(id) ON DELETE CASCADE,
    campaign_id UUID REFERENCES campaigns(id) ON DELETE CASCADE,
    parameters JSONB,
    status VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    progress SMALLINT NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    result JSONB,
    error_message TEXT,
    scheduled_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_background_jobs_status ON background_jobs (status);
CREATE INDEX idx_background_jobs_scheduled ON background_jobs (scheduled_at);
CREATE INDEX idx_background_jobs_user ON background_jobs (user_id, created_at DESC);
CREATE TRIGGER background_jobs_updated_at BEFORE UPDATE ON background_jobs
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE system_config (
    key VARCHAR(100) PRIMARY KEY,
    value JSONB NOT NULL,
    description TEXT,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TRIGGER system_config_updated_at BEFORE UPDATE ON system_config
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The seed's defaults, inserted idempotently: an operator's edits survive a re-run,
-- a missing key comes back. Migrations call it once; maintenance may call it again.
CREATE OR REPLACE FUNCTION seed_system_config() RETURNS void
    LANGUAGE sql
    AS $$
INSERT INTO system_config (key, value, description) VALUES
    ('ai_service_limits', '{"imagen": 100, "veo": 50}', 'AI service usage limits per user per day'),
    ('meta_api_rate_limits', '{"calls_per_hour": 200}', 'Meta API rate limiting configuration'),
    ('subscription_features',
     '{"starter": {"ai_credits": 50}, "professional": {"ai_credits": 200}, "business": {"ai_credits": 400}}',
     'Feature limits by subscription tier')
ON CONFLICT (key) DO NOTHING;
$$;
SELECT seed_system_config();

CREATE TABLE outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id UUID REFERENCES users(id) ON DELETE CASCADE,
    -- The logical queue the message goes to (a queue name in template.yaml).
    topic VARCHAR(100) NOT NULL,
    payload JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    available_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at TIMESTAMPTZ
);
CREATE INDEX idx_outbox_pending ON outbox (available_at) WHERE sent_at IS NULL;
