-- Meta: the ad accounts of a connection, launch progress, sync budgets and webhooks.

-- The ad accounts a Meta connection may use (/me/adaccounts), synced while the
-- connection is active and the account is enabled.
CREATE TABLE meta_ad_accounts (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    meta_account_id UUID NOT NULL REFERENCES meta_accounts(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- "act_<digits>", as Meta names it.
    ad_account_id VARCHAR(64) NOT NULL CHECK (ad_account_id ~ '^act_[0-9]+$'),
    name VARCHAR(255),
    -- Meta's account_status: 1 active, 2 disabled, 3 unsettled, 7 pending review, …
    account_status INTEGER NOT NULL,
    currency VARCHAR(3) NOT NULL,
    timezone_name VARCHAR(64),
    sync_enabled BOOLEAN NOT NULL DEFAULT true,
    last_sync_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (meta_account_id, ad_account_id)
);
CREATE INDEX idx_meta_ad_accounts_user ON meta_ad_accounts (user_id);
CREATE INDEX idx_meta_ad_accounts_ad_account ON meta_ad_accounts (ad_account_id);
CREATE TRIGGER meta_ad_accounts_updated_at BEFORE UPDATE ON meta_ad_accounts
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Which Facebook user a connection belongs to, by name, and when it was last used.
ALTER TABLE meta_accounts ADD COLUMN meta_user_name VARCHAR(255);
ALTER TABLE meta_accounts ADD COLUMN revoked_at TIMESTAMPTZ;
ALTER TABLE meta_accounts ADD COLUMN last_error TEXT;

-- Launching to Meta: the ad account used and every Meta object created so far, so a
-- retry resumes where a failed launch stopped instead of creating duplicates.
ALTER TABLE campaigns ADD COLUMN meta_ad_account_id VARCHAR(64);
ALTER TABLE campaigns ADD COLUMN meta_adset_id VARCHAR(255);
ALTER TABLE campaigns ADD COLUMN meta_launch JSONB;
ALTER TABLE campaigns ADD COLUMN last_synced_at TIMESTAMPTZ;
CREATE INDEX idx_campaigns_meta_ad_account ON campaigns (meta_ad_account_id)
    WHERE meta_campaign_id IS NOT NULL;

-- Calls made to Meta per ad account per hour, so no account gets more than
-- system_config.meta_api_rate_limits allows, and until when Meta asked us to wait.
CREATE TABLE meta_rate_windows (
    ad_account_id VARCHAR(64) NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    calls INTEGER NOT NULL DEFAULT 0 CHECK (calls >= 0),
    throttled_until TIMESTAMPTZ,
    last_usage JSONB,
    PRIMARY KEY (ad_account_id, window_start)
);

-- Meta webhook deliveries, stored once (deduplicated on a hash of the signed body per
-- entry change) and applied by the worker.
CREATE TABLE meta_webhook_events (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    dedupe_key VARCHAR(64) NOT NULL UNIQUE,
    object VARCHAR(50) NOT NULL,
    entry_id VARCHAR(100) NOT NULL,
    field VARCHAR(100) NOT NULL,
    value JSONB NOT NULL,
    event_time TIMESTAMPTZ NOT NULL,
    status VARCHAR(20) NOT NULL DEFAULT 'received'
        CHECK (status IN ('received', 'applied', 'recorded', 'failed')),
    outcome TEXT,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    processed_at TIMESTAMPTZ
);
CREATE INDEX idx_meta_webhook_events_pending ON meta_webhook_events (received_at) WHERE status = 'received';

ALTER TABLE meta_ad_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE meta_ad_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON meta_ad_accounts TO adpilot_app
    USING (user_id = current_app_user_id()) WITH CHECK (user_id = current_app_user_id());
CREATE POLICY worker_all ON meta_ad_accounts TO adpilot_worker USING (true) WITH CHECK (true);
ALTER TABLE meta_webhook_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE meta_webhook_events FORCE ROW LEVEL SECURITY;
CREATE POLICY worker_all ON meta_webhook_events TO adpilot_worker USING (true) WITH CHECK (true);

GRANT SELECT, INSERT, UPDATE, DELETE ON meta_ad_accounts TO adpilot_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON meta_ad_accounts, meta_rate_windows TO adpilot_worker;
GRANT SELECT, INSERT, UPDATE ON meta_webhook_events TO adpilot_worker;
