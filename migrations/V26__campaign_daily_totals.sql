-- A campaign's delivery per day, one narrow row per (campaign, day), so a summary over a
-- month reads thirty rows per campaign instead of the partitioned table's several kinds
-- of rows. It is a copy of the daily-total rows of `performance_analytics` (no hour, no
-- breakdown): the sync writes it in the statement that upserts them (only the days that
-- changed), and the daily maintenance rebuilds whatever drifted. `user_id` is the
-- campaign's owner, so the tenant policy reads one column instead of a subquery.
CREATE TABLE campaign_daily_totals (
    campaign_id UUID NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    date DATE NOT NULL,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    impressions BIGINT NOT NULL CHECK (impressions >= 0),
    clicks BIGINT NOT NULL CHECK (clicks >= 0),
    spend NUMERIC(14,2) NOT NULL CHECK (spend >= 0),
    conversions BIGINT NOT NULL CHECK (conversions >= 0),
    conversion_value NUMERIC(14,2) NOT NULL CHECK (conversion_value >= 0),
    PRIMARY KEY (campaign_id, date)
);
-- The summary's read: every campaign of one owner over a range of days, from the index.
CREATE INDEX idx_campaign_daily_totals_user_date ON campaign_daily_totals (user_id, date)
    INCLUDE (campaign_id, impressions, clicks, spend, conversions, conversion_value);

ALTER TABLE campaign_daily_totals ENABLE ROW LEVEL SECURITY;
ALTER TABLE campaign_daily_totals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON campaign_daily_totals TO adpilot_app
    USING (user_id = current_app_user_id());
CREATE POLICY worker_all ON campaign_daily_totals TO adpilot_worker USING (true) WITH CHECK (true);
GRANT SELECT ON campaign_daily_totals TO adpilot_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON campaign_daily_totals TO adpilot_worker;

-- Existing data: the rollup starts equal to the daily totals already stored.
INSERT INTO campaign_daily_totals (campaign_id, date, user_id, impressions, clicks, spend, conversions, conversion_value)
SELECT pa.campaign_id, pa.date, c.user_id, pa.impressions, pa.clicks, pa.spend, pa.conversions, pa.conversion_value
FROM performance_analytics pa JOIN campaigns c ON c.id = pa.campaign_id
WHERE pa.hour IS NULL AND pa.platform IS NULL AND pa.placement IS NULL AND pa.age_range IS NULL
  AND pa.gender IS NULL AND pa.location IS NULL;
