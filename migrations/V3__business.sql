-- Business and brand profiles, Meta connections, the creative library, campaigns.
CREATE TABLE business_profiles (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    business_name VARCHAR(255),
    business_type VARCHAR(100),
    industry VARCHAR(100),
    website_url TEXT,
    business_address TEXT,
    target_audience_description TEXT,
    monthly_budget_range VARCHAR(50),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX business_profiles_one_per_user ON business_profiles (user_id) WHERE deleted_at IS NULL;
CREATE INDEX idx_business_profiles_user ON business_profiles (user_id);
CREATE TRIGGER business_profiles_updated_at BEFORE UPDATE ON business_profiles
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE brand_profiles (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    website_url TEXT,
    website_analysis JSONB,
    logo_url TEXT,
    color_palette JSONB,
    typography JSONB,
    brand_voice JSONB,
    messaging_patterns JSONB,
    social_media_analysis JSONB,
    ai_generated_guidelines JSONB,
    last_analysis TIMESTAMPTZ,
    analysis_version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX brand_profiles_one_per_user ON brand_profiles (user_id) WHERE deleted_at IS NULL;
CREATE INDEX idx_brand_profiles_user ON brand_profiles (user_id);
CREATE TRIGGER brand_profiles_updated_at BEFORE UPDATE ON brand_profiles
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE meta_accounts (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    meta_user_id VARCHAR(255) NOT NULL,
    -- AES-256-GCM ciphertexts, "key_id:base64(nonce||ciphertext)"; never plaintext.
    access_token TEXT NOT NULL,
    refresh_token TEXT,
    token_expires_at TIMESTAMPTZ,
    permissions JSONB,
    ad_account_ids TEXT[],
    connection_status VARCHAR(20) NOT NULL DEFAULT 'active'
        CHECK (connection_status IN ('active', 'expired', 'revoked', 'error')),
    last_sync TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, meta_user_id)
);
CREATE INDEX idx_meta_accounts_user ON meta_accounts (user_id);
CREATE INDEX idx_meta_accounts_status ON meta_accounts (connection_status);
CREATE TRIGGER meta_accounts_updated_at BEFORE UPDATE ON meta_accounts
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE creative_assets (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    asset_type VARCHAR(10) NOT NULL CHECK (asset_type IN ('image', 'video')),
    -- Uploaded files have no prompt; generated ones must have one.
    source VARCHAR(20) NOT NULL DEFAULT 'uploaded' CHECK (source IN ('uploaded', 'generated')),
    file_url TEXT,
    file_size BIGINT CHECK (file_size >= 0),
    filename VARCHAR(255),
    content_type VARCHAR(100),
    format VARCHAR(10) CHECK (format IN ('1:1', '4:5', '16:9', '9:16')),
    dimensions JSONB,
    duration_seconds NUMERIC(10,3) CHECK (duration_seconds >= 0),
    prompt TEXT,
    style VARCHAR(100),
    ai_model VARCHAR(50),
    generation_time INTEGER CHECK (generation_time >= 0),
    tags TEXT[] NOT NULL DEFAULT '{}',
    is_favorite BOOLEAN NOT NULL DEFAULT false,
    usage_count INTEGER NOT NULL DEFAULT 0 CHECK (usage_count >= 0),
    status VARCHAR(20) NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'deleted', 'processing', 'failed')),
    failure_reason TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ,
    CHECK (source <> 'generated' OR prompt IS NOT NULL),
    CHECK (status <> 'active' OR (file_url IS NOT NULL AND format IS NOT NULL))
);
CREATE INDEX idx_creative_assets_user ON creative_assets (user_id);
CREATE INDEX idx_creative_assets_type ON creative_assets (asset_type);
CREATE INDEX idx_creative_assets_format ON creative_assets (format);
CREATE INDEX idx_creative_assets_status ON creative_assets (status);
CREATE INDEX idx_creative_assets_tags ON creative_assets USING GIN (tags);
CREATE INDEX idx_assets_user_type_created ON creative_assets (user_id, asset_type, created_at DESC);
CREATE INDEX idx_assets_user_created_live ON creative_assets (user_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE TRIGGER creative_assets_updated_at BEFORE UPDATE ON creative_assets
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE campaigns (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    meta_campaign_id VARCHAR(255) UNIQUE,
    name VARCHAR(255) NOT NULL CHECK (btrim(name) <> ''),
    purpose VARCHAR(50) NOT NULL
        CHECK (purpose IN ('lead_generation', 'sales', 'brand_awareness', 'app_installs',
                           'event_promotion', 'store_visits', 'retargeting')),
    objective VARCHAR(50),
    currency VARCHAR(3) NOT NULL DEFAULT 'INR',
    daily_budget NUMERIC(12,2) CHECK (daily_budget > 0),
    total_budget NUMERIC(12,2) CHECK (total_budget > 0),
    start_date DATE,
    end_date DATE,
    target_audience JSONB,
    audience_size_estimate JSONB,
    status VARCHAR(20) NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'review', 'active', 'paused', 'completed', 'cancelled')),
    approval_status VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (approval_status IN ('pending', 'approved', 'rejected')),
    ai_optimization_enabled BOOLEAN NOT NULL DEFAULT true,
    optimization_goals JSONB,
    total_spend NUMERIC(14,2) NOT NULL DEFAULT 0,
    total_impressions BIGINT NOT NULL DEFAULT 0,
    total_clicks BIGINT NOT NULL DEFAULT 0,
    total_conversions BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ,
    CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date)
);
CREATE INDEX idx_campaigns_user ON campaigns (user_id);
CREATE INDEX idx_campaigns_status ON campaigns (status);
CREATE INDEX idx_campaigns_purpose ON campaigns (purpose);
CREATE INDEX idx_campaigns_user_status_created ON campaigns (user_id, status, created_at DESC);
CREATE INDEX idx_campaigns_user_created_live ON campaigns (user_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE TRIGGER campaigns_updated_at BEFORE UPDATE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE campaign_assets (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    campaign_id UUID NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    asset_id UUID NOT NULL REFERENCES creative_assets(id),
    asset_role VARCHAR(50) NOT NULL DEFAULT 'primary' CHECK (asset_role IN ('primary', 'variation', 'test')),
    is_active BOOLEAN NOT NULL DEFAULT true,
    performance_score NUMERIC(3,2) CHECK (performance_score BETWEEN 0 AND 5),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, asset_id)
);
CREATE INDEX idx_campaign_assets_campaign ON campaign_assets (campaign_id);
CREATE INDEX idx_campaign_assets_asset ON campaign_assets (asset_id);

CREATE TABLE ai_optimization_logs (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    campaign_id UUID NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    optimization_type VARCHAR(50),
    trigger_condition VARCHAR(100),
    before_values JSONB,
    after_values JSONB,
    success BOOLEAN,
    impact_description TEXT,
    performance_change JSONB,
    optimized_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_ai_optimization_campaign ON ai_optimization_logs (campaign_id);
CREATE INDEX idx_ai_optimization_type ON ai_optimization_logs (optimization_type);
