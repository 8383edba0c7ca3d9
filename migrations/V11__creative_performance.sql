-- Each creative's own results: Meta's ad-level insights per campaign asset and day,
-- partitioned by month and retained like performance_analytics (2 years).
CREATE TABLE creative_performance (
    campaign_id UUID NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    asset_id UUID NOT NULL REFERENCES creative_assets(id) ON DELETE CASCADE,
    date DATE NOT NULL,
    -- The Meta ad that showed the asset.
    meta_ad_id VARCHAR(255) NOT NULL,
    impressions BIGINT NOT NULL DEFAULT 0 CHECK (impressions >= 0),
    clicks BIGINT NOT NULL DEFAULT 0 CHECK (clicks >= 0),
    spend NUMERIC(14,2) NOT NULL DEFAULT 0 CHECK (spend >= 0),
    conversions BIGINT NOT NULL DEFAULT 0 CHECK (conversions >= 0),
    conversion_value NUMERIC(14,2) NOT NULL DEFAULT 0 CHECK (conversion_value >= 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, asset_id, date)
) PARTITION BY RANGE (date);
CREATE TABLE creative_performance_default PARTITION OF creative_performance DEFAULT;
CREATE INDEX idx_creative_performance_date ON creative_performance (date);
CREATE TRIGGER creative_performance_updated_at BEFORE UPDATE ON creative_performance
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

ALTER TABLE creative_performance ENABLE ROW LEVEL SECURITY;
ALTER TABLE creative_performance FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON creative_performance TO adpilot_app
    USING (campaign_id IN (SELECT id FROM campaigns WHERE user_id = current_app_user_id()));
CREATE POLICY worker_all ON creative_performance TO adpilot_worker USING (true) WITH CHECK (true);
GRANT SELECT ON creative_performance TO adpilot_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON creative_performance TO adpilot_worker;

-- Creates the month's partition of a table partitioned by `date`, idempotently, moving
-- that month's rows out of its default partition. Returns the partition's name.
CREATE OR REPLACE FUNCTION create_month_partition(p_parent regclass, p_month date) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
DECLARE
    parent text := p_parent::text;
    month_start date := date_trunc('month', p_month)::date;
    month_end date := (date_trunc('month', p_month) + interval '1 month')::date;
    part text := format('%s_y%sm%s', parent, to_char(month_start, 'YYYY'), to_char(month_start, 'MM'));
    cols text;
BEGIN
    IF to_regclass(format('public.%I', part)) IS NOT NULL THEN
        RETURN part;
    END IF;
    -- Serialise concurrent creators and writers of the default partition.
    EXECUTE format('LOCK TABLE %I IN SHARE ROW EXCLUSIVE MODE', parent || '_default');
    IF to_regclass(format('public.%I', part)) IS NOT NULL THEN
        RETURN part;
    END IF;
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
      FROM pg_attribute
     WHERE attrelid = p_parent AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
    EXECUTE format('CREATE TEMP TABLE month_moving ON COMMIT DROP AS
                    WITH moved AS (DELETE FROM %I WHERE date >= %L AND date < %L RETURNING %s)
                    SELECT * FROM moved',
                   parent || '_default', month_start, month_end, cols);
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                   part, parent, month_start, month_end);
    EXECUTE format('INSERT INTO %I (%s) SELECT %s FROM month_moving', parent, cols, cols);
    DROP TABLE month_moving;
    RETURN part;
END
$$;
REVOKE ALL ON FUNCTION create_month_partition(regclass, date) FROM PUBLIC;

-- The month's partitions of both tables (what maintenance calls ahead of time); returns
-- performance_analytics' partition, as before.
CREATE OR REPLACE FUNCTION create_performance_partition(p_month date) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
BEGIN
    PERFORM create_month_partition('creative_performance', p_month);
    RETURN create_month_partition('performance_analytics', p_month);
END
$$;
REVOKE ALL ON FUNCTION create_performance_partition(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION create_performance_partition(date) TO adpilot_worker;

SELECT create_month_partition('creative_performance',
                              (date_trunc('month', current_date) + make_interval(months => m))::date)
  FROM generate_series(0, 3) AS m;

-- Retention as before, over both tables: whole expired monthly partitions are dropped,
-- rows of partially expired ones (and the default partitions) deleted.
CREATE OR REPLACE FUNCTION cleanup_old_data() RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
DECLARE
    analytics_cutoff date := (current_date - interval '2 years')::date;
    parent text;
    part record;
    dropped text[] := '{}';
    analytics_deleted bigint;
    creative_deleted bigint;
    jobs_deleted bigint;
    usage_deleted bigint;
    states_deleted bigint;
BEGIN
    FOREACH parent IN ARRAY ARRAY['performance_analytics', 'creative_performance']
    LOOP
        FOR part IN
            SELECT c.relname,
                   to_date(substring(c.relname FROM 'y(\d{4}m\d{2})$'), 'YYYY"m"MM') AS month_start
              FROM pg_inherits i
              JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = parent::regclass
               AND c.relname ~ ('^' || parent || '_y\d{4}m\d{2}$')
        LOOP
            IF (part.month_start + interval '1 month')::date <= analytics_cutoff THEN
                EXECUTE format('DROP TABLE %I', part.relname);
                dropped := dropped || part.relname::text;
            END IF;
        END LOOP;
    END LOOP;

    DELETE FROM performance_analytics WHERE date < analytics_cutoff;
    GET DIAGNOSTICS analytics_deleted = ROW_COUNT;
    DELETE FROM creative_performance WHERE date < analytics_cutoff;
    GET DIAGNOSTICS creative_deleted = ROW_COUNT;

    DELETE FROM background_jobs
     WHERE status = 'completed' AND completed_at < now() - interval '30 days';
    GET DIAGNOSTICS jobs_deleted = ROW_COUNT;

    DELETE FROM usage_logs WHERE logged_at < now() - interval '1 year';
    GET DIAGNOSTICS usage_deleted = ROW_COUNT;

    -- Used Facebook Login states only matter until they expire.
    DELETE FROM meta_oauth_states WHERE expires_at < now() - interval '1 day';
    GET DIAGNOSTICS states_deleted = ROW_COUNT;

    RETURN jsonb_build_object(
        'dropped_partitions', to_jsonb(dropped),
        'analytics_rows_deleted', analytics_deleted,
        'creative_rows_deleted', creative_deleted,
        'jobs_deleted', jobs_deleted,
        'usage_logs_deleted', usage_deleted,
        'login_states_deleted', states_deleted);
END
$$;
REVOKE ALL ON FUNCTION cleanup_old_data() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cleanup_old_data() TO adpilot_worker;
