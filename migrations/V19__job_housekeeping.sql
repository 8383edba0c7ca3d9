-- Jobs a user can follow and stop. Maintenance fails jobs stuck `running` past their
-- type's limit (their worker died or timed out without saying so), found by this index;
-- retention now purges failed and cancelled jobs too.
CREATE INDEX idx_background_jobs_running ON background_jobs (started_at) WHERE status = 'running';
CREATE INDEX idx_background_jobs_user_type ON background_jobs (user_id, job_type, created_at DESC);

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

    -- Completed jobs go after 30 days; failed and cancelled ones after 90 (support
    -- looks at those).
    DELETE FROM background_jobs
     WHERE (status = 'completed' AND completed_at < now() - interval '30 days')
        OR (status IN ('failed', 'cancelled') AND completed_at < now() - interval '90 days');
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
