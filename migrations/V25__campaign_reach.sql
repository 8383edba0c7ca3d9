-- Unique reach is not a sum of days: Meta counts the people of a window once. The sync
-- reads it for the windows rules can name (yesterday, the last 3, 7, 14 and 28 whole days
-- and the windows of equal length before them) in one insights call with `time_ranges`,
-- and keeps each campaign's reach and impressions per exact window here; frequency is
-- impressions / reach, as Meta defines it. Windows older than 60 days are pruned by the
-- sync that writes new ones.
CREATE TABLE campaign_reach (
    campaign_id UUID NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    since DATE NOT NULL,
    until DATE NOT NULL CHECK (until >= since),
    reach BIGINT NOT NULL CHECK (reach >= 0),
    impressions BIGINT NOT NULL CHECK (impressions >= 0),
    synced_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, since, until)
);
CREATE INDEX idx_campaign_reach_until ON campaign_reach (until);

ALTER TABLE campaign_reach ENABLE ROW LEVEL SECURITY;
ALTER TABLE campaign_reach FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON campaign_reach TO adpilot_app
    USING (campaign_id IN (SELECT id FROM campaigns WHERE user_id = current_app_user_id()));
CREATE POLICY worker_all ON campaign_reach TO adpilot_worker USING (true) WITH CHECK (true);
GRANT SELECT ON campaign_reach TO adpilot_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON campaign_reach TO adpilot_worker;
