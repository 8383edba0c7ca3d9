-- Optimization rules and the decision log. A rule belongs to its owner and looks at one
-- campaign or at all of the owner's campaigns; its body (`spec`) is JSON in Meta's Ad
-- Rules names, its readable slug in trigger_condition. Every decision the optimizer or a
-- preview makes is explained in ai_optimization_logs, which gains the columns that needs.
-- campaign_edits records significant edits (budget, targeting, creatives, status), by
-- the owner or by the optimizer, for the learning-phase guard ("no change within 72 h of
-- the last significant edit") and for "the user wins".
CREATE TABLE optimization_rules (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- One campaign, or every campaign of the owner when NULL.
    campaign_id UUID REFERENCES campaigns(id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    entity_type TEXT NOT NULL CHECK (entity_type IN ('CAMPAIGN', 'AD')),
    spec JSONB NOT NULL,
    trigger_condition VARCHAR(100) NOT NULL,
    status TEXT NOT NULL DEFAULT 'ENABLED' CHECK (status IN ('ENABLED', 'DISABLED')),
    dry_run BOOLEAN NOT NULL DEFAULT false,
    -- Why the rule turned itself off (its circuit breaker), if it did.
    disabled_reason TEXT,
    -- Made from the campaign's goals (roas_above_4x_3_days, …); one of each per campaign.
    preset TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ
);
CREATE INDEX idx_optimization_rules_user ON optimization_rules (user_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX idx_optimization_rules_campaign ON optimization_rules (campaign_id) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX optimization_rules_one_preset ON optimization_rules (campaign_id, preset) WHERE preset IS NOT NULL;
CREATE TRIGGER optimization_rules_updated_at BEFORE UPDATE ON optimization_rules
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

ALTER TABLE ai_optimization_logs
    ADD COLUMN user_id UUID REFERENCES users(id) ON DELETE CASCADE,
    ADD COLUMN rule_id UUID REFERENCES optimization_rules(id) ON DELETE SET NULL,
    ADD COLUMN rule_version INTEGER,
    ADD COLUMN entity_type TEXT CHECK (entity_type IN ('CAMPAIGN', 'AD')),
    -- The creative, for AD rules.
    ADD COLUMN asset_id UUID REFERENCES creative_assets(id) ON DELETE SET NULL,
    ADD COLUMN decision TEXT CHECK (decision IN ('applied', 'skipped', 'failed', 'dry_run', 'reverted')),
    ADD COLUMN skip_reason TEXT,
    -- The evaluation window the decision is about (rule, entity and window act once).
    ADD COLUMN window_key TEXT,
    -- The metric snapshot with its denominators, and the statistics decided with.
    ADD COLUMN metrics JSONB,
    ADD COLUMN statistics JSONB,
    ADD COLUMN meta_error TEXT,
    ADD COLUMN follow_up_at TIMESTAMPTZ,
    ADD COLUMN reverted_at TIMESTAMPTZ;
CREATE UNIQUE INDEX ai_optimization_logs_once ON ai_optimization_logs
    (rule_id, campaign_id, coalesce(asset_id, '00000000-0000-0000-0000-000000000000'::uuid), window_key)
    WHERE decision = 'applied';
CREATE INDEX idx_ai_optimization_feed ON ai_optimization_logs (campaign_id, optimized_at DESC, id DESC);
CREATE INDEX idx_ai_optimization_rule_runs ON ai_optimization_logs (rule_id, optimized_at DESC)
    WHERE decision IN ('applied', 'failed');

-- The log was readable per campaign only; owners now read their rows by user_id too.
DROP POLICY IF EXISTS tenant_isolation ON ai_optimization_logs;
CREATE POLICY tenant_isolation ON ai_optimization_logs TO adpilot_app
    USING (campaign_id IN (SELECT id FROM campaigns WHERE user_id = current_app_user_id()))
    WITH CHECK (campaign_id IN (SELECT id FROM campaigns WHERE user_id = current_app_user_id())
                AND user_id = current_app_user_id());

CREATE TABLE campaign_edits (
    id BIGSERIAL PRIMARY KEY,
    campaign_id UUID NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- budget, targeting, creative, status
    kind TEXT NOT NULL,
    -- Whether Meta may restart learning for it.
    significant BOOLEAN NOT NULL,
    -- 'user' unless the optimizer says otherwise (SET LOCAL adpilot.edit_source).
    source TEXT NOT NULL DEFAULT 'user' CHECK (source IN ('user', 'optimizer')),
    edited_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_campaign_edits_campaign ON campaign_edits (campaign_id, edited_at DESC);

-- Edits are recorded by the database itself, whoever makes them, as the role making
-- them (the owner's tenant transaction, or the worker).
CREATE OR REPLACE FUNCTION record_campaign_edit() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = public, pg_temp
    AS $$
DECLARE
    source text := coalesce(nullif(current_setting('adpilot.edit_source', true), ''), 'user');
BEGIN
    IF TG_TABLE_NAME = 'campaign_assets' THEN
        INSERT INTO campaign_edits (campaign_id, user_id, kind, significant, source)
        SELECT c.id, c.user_id, 'creative', true, source FROM campaigns c
         WHERE c.id = coalesce(NEW.campaign_id, OLD.campaign_id);
        RETURN NULL;
    END IF;
    IF NEW.daily_budget IS DISTINCT FROM OLD.daily_budget OR NEW.total_budget IS DISTINCT FROM OLD.total_budget THEN
        INSERT INTO campaign_edits (campaign_id, user_id, kind, significant, source)
        VALUES (NEW.id, NEW.user_id, 'budget', true, source);
    END IF;
    IF NEW.target_audience IS DISTINCT FROM OLD.target_audience THEN
        INSERT INTO campaign_edits (campaign_id, user_id, kind, significant, source)
        VALUES (NEW.id, NEW.user_id, 'targeting', true, source);
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO campaign_edits (campaign_id, user_id, kind, significant, source)
        VALUES (NEW.id, NEW.user_id, 'status', false, source);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER campaigns_record_edit AFTER UPDATE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION record_campaign_edit();
CREATE TRIGGER campaign_assets_record_edit AFTER INSERT OR DELETE OR UPDATE OF is_active ON campaign_assets
    FOR EACH ROW EXECUTE FUNCTION record_campaign_edit();

DO $$
BEGIN
    EXECUTE 'ALTER TABLE optimization_rules ENABLE ROW LEVEL SECURITY';
    EXECUTE 'ALTER TABLE optimization_rules FORCE ROW LEVEL SECURITY';
    EXECUTE 'CREATE POLICY tenant_isolation ON optimization_rules TO adpilot_app
                 USING (user_id = current_app_user_id()) WITH CHECK (user_id = current_app_user_id())';
    EXECUTE 'CREATE POLICY worker_all ON optimization_rules TO adpilot_worker USING (true) WITH CHECK (true)';
    EXECUTE 'ALTER TABLE campaign_edits ENABLE ROW LEVEL SECURITY';
    EXECUTE 'ALTER TABLE campaign_edits FORCE ROW LEVEL SECURITY';
    EXECUTE 'CREATE POLICY tenant_isolation ON campaign_edits TO adpilot_app
                 USING (user_id = current_app_user_id()) WITH CHECK (user_id = current_app_user_id())';
    EXECUTE 'CREATE POLICY worker_all ON campaign_edits TO adpilot_worker USING (true) WITH CHECK (true)';
END
$$;

GRANT SELECT, INSERT, UPDATE ON optimization_rules TO adpilot_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON optimization_rules TO adpilot_worker;
GRANT SELECT, INSERT ON campaign_edits TO adpilot_app;
GRANT USAGE ON SEQUENCE campaign_edits_id_seq TO adpilot_app;
GRANT SELECT, INSERT, DELETE ON campaign_edits TO adpilot_worker;
GRANT USAGE ON SEQUENCE campaign_edits_id_seq TO adpilot_worker;
GRANT SELECT, INSERT, UPDATE, DELETE ON ai_optimization_logs TO adpilot_worker;
-- The optimizer records and settles its decisions in the owner's tenant transaction.
GRANT INSERT, UPDATE ON ai_optimization_logs TO adpilot_app;
