-- The seed's retention: analytics 2 years, completed jobs 30 days, usage logs 1 year.
-- Whole expired monthly partitions are dropped; only rows in partially expired ones
-- (and the default partition) are deleted row by row. Returns what it removed.
CREATE OR REPLACE FUNCTION cleanup_old_data() RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
DECLARE
    analytics_cutoff date := (current_date - interval '2 years')::date;
    part record;
    dropped text[] := '{}';
    analytics_deleted bigint;
    jobs_deleted bigint;
    usage_deleted bigint;
BEGIN
    FOR part IN
        SELECT c.relname,
               to_date(substring(c.relname FROM 'y(\d{4}m\d{2})$'), 'YYYY"m"MM') AS month_start
          FROM pg_inherits i
          JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'performance_analytics'::regclass
           AND c.relname ~ '^performance_analytics_y\d{4}m\d{2}$'
    LOOP
        IF (part.month_start + interval '1 month')::date <= analytics_cutoff THEN
            EXECUTE format('DROP TABLE %I', part.relname);
            dropped := dropped || part.relname::text;
        END IF;
    END LOOP;

    DELETE FROM performance_analytics WHERE date < analytics_cutoff;
    GET DIAGNOSTICS analytics_deleted = ROW_COUNT;

    DELETE FROM background_jobs
     WHERE status = 'completed' AND completed_at < now() - interval '30 days';
    GET DIAGNOSTICS jobs_deleted = ROW_COUNT;

    DELETE FROM usage_logs WHERE logged_at < now() - interval '1 year';
    GET DIAGNOSTICS usage_deleted = ROW_COUNT;

    RETURN jsonb_build_object(
        'dropped_partitions', to_jsonb(dropped),
        'analytics_rows_deleted', analytics_deleted,
        'jobs_deleted', jobs_deleted,
        'usage_logs_deleted', usage_deleted);
END
$$;
REVOKE ALL ON FUNCTION cleanup_old_data() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cleanup_old_data() TO adpilot_worker;
