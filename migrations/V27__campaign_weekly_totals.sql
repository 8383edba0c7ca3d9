-- A campaign's delivery per ISO week (Monday to Sunday), summed from its daily rollup,
-- so a 30-day summary reads about ten rows per campaign (the whole weeks inside the
-- range, and the days at either end) instead of thirty. The insights upsert rewrites
-- the weeks of the days it changed in the same transaction; the daily maintenance
-- rebuilds any week that drifted from its days. `week` is the Monday.
CREATE TABLE campaign_weekly_totals (
    campaign_id UUID NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    week DATE NOT NULL CHECK (extract(isodow FROM week) = 1),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    impressions BIGINT NOT NULL CHECK (impressions >= 0),
    clicks BIGINT NOT NULL CHECK (clicks >= 0),
    spend NUMERIC(16,2) NOT NULL CHECK (spend >= 0),
    conversions BIGINT NOT NULL CHECK (conversions >= 0),
    conversion_value NUMERIC(16,2) NOT NULL CHECK (conversion_value >= 0),
    PRIMARY KEY (campaign_id, week)
);
-- The summary's read: every campaign of one owner over a range of weeks, from the index.
CREATE INDEX idx_campaign_weekly_totals_user_week ON campaign_weekly_totals (user_id, week)
    INCLUDE (campaign_id, impressions, clicks, spend, conversions, conversion_value);

ALTER TABLE campaign_weekly_totals ENABLE ROW LEVEL SECURITY;
ALTER TABLE campaign_weekly_totals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON campaign_weekly_totals TO adpilot_app
    USING (user_id = current_app_user_id());
CREATE POLICY worker_all ON campaign_weekly_totals TO adpilot_worker USING (true) WITH CHECK (true);
GRANT SELECT ON campaign_weekly_totals TO adpilot_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON campaign_weekly_totals TO adpilot_worker;

-- Existing data: the weeks start equal to the days already rolled up.
INSERT INTO campaign_weekly_totals (campaign_id, week, user_id, impressions, clicks, spend, conversions, conversion_value)
SELECT campaign_id, date_trunc('week', date)::date, user_id, sum(impressions), sum(clicks), sum(spend),
       sum(conversions), sum(conversion_value)
FROM campaign_daily_totals
GROUP BY campaign_id, date_trunc('week', date)::date, user_id;
