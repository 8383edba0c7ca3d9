-- Performance data from Meta, range-partitioned by month on date. The natural key
-- covers every breakdown column with NULLS NOT DISTINCT, so re-syncing a day whose
-- hour (or any breakdown) is NULL updates the row instead of duplicating it.
-- Ratios are derived from the stored sums and are NULL when their divisor is zero.
CREATE TABLE performance_analytics (
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    campaign_id UUID NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    date DATE NOT NULL,
    hour INTEGER CHECK (hour BETWEEN 0 AND 23),
    impressions BIGINT NOT NULL DEFAULT 0 CHECK (impressions >= 0),
    clicks BIGINT NOT NULL DEFAULT 0 CHECK (clicks >= 0),
    spend NUMERIC(14,2) NOT NULL DEFAULT 0 CHECK (spend >= 0),
    conversions BIGINT NOT NULL DEFAULT 0 CHECK (conversions >= 0),
    conversion_value NUMERIC(14,2) NOT NULL DEFAULT 0 CHECK (conversion_value >= 0),
    ctr NUMERIC(12,6) GENERATED ALWAYS AS
        (CASE WHEN impressions > 0 THEN round(clicks::numeric / impressions, 6) END) STORED,
    cpc NUMERIC(14,4) GENERATED ALWAYS AS
        (CASE WHEN clicks > 0 THEN round(spend / clicks, 4) END) STORED,
    cpa NUMERIC(14,4) GENERATED ALWAYS AS
        (CASE WHEN conversions > 0 THEN round(spend / conversions, 4) END) STORED,
    roas NUMERIC(14,4) GENERATED ALWAYS AS
        (CASE WHEN spend > 0 THEN round(conversion_value / spend, 4) END) STORED,
    platform VARCHAR(20),
    placement VARCHAR(50),
    age_range VARCHAR(20),
    gender VARCHAR(10),
    location VARCHAR(100),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id, date),
    CONSTRAINT performance_analytics_natural_key UNIQUE NULLS NOT DISTINCT
        (campaign_id, date, hour, platform, placement, age_range, gender, location)
) PARTITION BY RANGE (date);

CREATE TABLE performance_analytics_default PARTITION OF performance_analytics DEFAULT;

CREATE INDEX idx_performance_campaign_date ON performance_analytics (campaign_id, date);
CREATE INDEX idx_performance_date ON performance_analytics (date);
CREATE INDEX idx_performance_platform ON performance_analytics (platform);
CREATE INDEX idx_performance_campaign_date_platform ON performance_analytics (campaign_id, date, platform);
CREATE TRIGGER performance_analytics_updated_at BEFORE UPDATE ON performance_analytics
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Creates the partition for the month containing p_month, idempotently. Rows of that
-- month already sitting in the default partition are moved into the new partition;
-- rows of other months stay where they are. Returns the partition's name.
CREATE OR REPLACE FUNCTION create_performance_partition(p_month date) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
DECLARE
    month_start date := date_trunc('month', p_month)::date;
    month_end date := (date_trunc('month', p_month) + interval '1 month')::date;
    part text := format('performance_analytics_y%sm%s',
                        to_char(month_start, 'YYYY'), to_char(month_start, 'MM'));
    cols text := 'id, campaign_id, date, hour, impressions, clicks, spend, conversions, '
                 'conversion_value, platform, placement, age_range, gender, location, '
                 'created_at, updated_at';
BEGIN
    IF to_regclass(format('public.%I', part)) IS NOT NULL THEN
        RETURN part;
    END IF;
    -- Serialise concurrent creators and writers of the default partition.
    LOCK TABLE performance_analytics_default IN SHARE ROW EXCLUSIVE MODE;
    IF to_regclass(format('public.%I', part)) IS NOT NULL THEN
        RETURN part;
    END IF;
    CREATE TEMP TABLE IF NOT EXISTS pa_moving (LIKE performance_analytics INCLUDING DEFAULTS)
        ON COMMIT DROP;
    EXECUTE format(
        'WITH moved AS (DELETE FROM performance_analytics_default
                         WHERE date >= %L AND date < %L RETURNING %s)
         INSERT INTO pa_moving (%s) SELECT %s FROM moved',
        month_start, month_end, cols, cols, cols);
    EXECUTE format('CREATE TABLE %I PARTITION OF performance_analytics FOR VALUES FROM (%L) TO (%L)',
                   part, month_start, month_end);
    EXECUTE format('INSERT INTO performance_analytics (%s) SELECT %s FROM pa_moving', cols, cols);
    DROP TABLE pa_moving;
    RETURN part;
END
$$;
REVOKE ALL ON FUNCTION create_performance_partition(date) FROM PUBLIC;

SELECT create_performance_partition((date_trunc('month', current_date) + make_interval(months => m))::date)
  FROM generate_series(0, 3) AS m;
