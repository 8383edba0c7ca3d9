-- Meta money safety: single-use login states, an atomic launch claim, the time of the
-- last Meta status event applied to a campaign, and currencies Meta accepts.

-- A Facebook Login `state` is consumed once, by the user it was issued to. The row is
-- written when the callback is completed; a second completion finds it and is refused.
CREATE TABLE meta_oauth_states (
    -- SHA-256 of the signed state (hex): the state itself never needs to be stored.
    state_hash CHAR(64) PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_meta_oauth_states_expires ON meta_oauth_states (expires_at);
ALTER TABLE meta_oauth_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE meta_oauth_states FORCE ROW LEVEL SECURITY;
-- The primary key spans users, so a state is single-use whoever tries it; the policy
-- only lets a user see and write their own rows.
CREATE POLICY tenant_isolation ON meta_oauth_states TO adpilot_app
    USING (user_id = current_app_user_id()) WITH CHECK (user_id = current_app_user_id());
CREATE POLICY worker_all ON meta_oauth_states TO adpilot_worker USING (true) WITH CHECK (true);
GRANT SELECT, INSERT ON meta_oauth_states TO adpilot_app;
GRANT SELECT, DELETE ON meta_oauth_states TO adpilot_worker;

-- A launch in progress holds this claim until it finishes or the claim expires (longer
-- than the function's timeout), so a second launch of the same campaign waits with 409
-- instead of creating a second Meta campaign.
ALTER TABLE campaigns ADD COLUMN launch_claim UUID;
ALTER TABLE campaigns ADD COLUMN launch_claimed_until TIMESTAMPTZ;

-- When the last Meta status event applied to this campaign happened (Meta's time), so
-- an event delivered late cannot undo a newer one.
ALTER TABLE campaigns ADD COLUMN meta_status_at TIMESTAMPTZ;

-- The campaign's money is in an ISO 4217 currency Meta accepts; budgets and spend are
-- in it, and it must equal the ad account's currency to launch.
ALTER TABLE campaigns ADD CONSTRAINT campaigns_currency_iso CHECK (currency ~ '^[A-Z]{3}$');

-- Meta's review of the campaign's ads, per ad (asset, ad id, effective status and
-- Meta's ad_review_feedback), from the last sync; approval_status is its verdict.
ALTER TABLE campaigns ADD COLUMN ad_review JSONB;

-- What an objective needs on Meta: the ad account's pixel (sales and leads optimise for
-- its purchase or lead event), its UTC offset (insights days are the account's days),
-- and for app installs the app and its store page.
ALTER TABLE meta_ad_accounts ADD COLUMN pixel_id VARCHAR(64);
ALTER TABLE meta_ad_accounts ADD COLUMN timezone_offset_hours NUMERIC(4,2);
ALTER TABLE campaigns ADD COLUMN promoted_app JSONB;

-- The campaign's version, bumped by every change a user (or a launch) makes; it is the
-- ETag clients send back in If-Match, and a PATCH writes only over the version it read,
-- so concurrent edits never silently overwrite each other.
ALTER TABLE campaigns ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
