-- Tenant isolation. Every table holding a user's data has RLS enabled and FORCEd.
-- adpilot_app sees only the rows of current_app_user_id(); tables without user_id
-- are scoped through their campaign. adpilot_worker (cross-tenant jobs) sees all,
-- and only code that explicitly assumes it does.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['refresh_tokens', 'subscriptions', 'usage_logs', 'business_profiles',
                             'brand_profiles', 'meta_accounts', 'creative_assets', 'campaigns',
                             'background_jobs', 'outbox']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO adpilot_app
                            USING (user_id = current_app_user_id())
                            WITH CHECK (user_id = current_app_user_id())', t);
    END LOOP;

    FOREACH t IN ARRAY ARRAY['users', 'refresh_tokens', 'subscriptions', 'usage_logs',
                             'business_profiles', 'brand_profiles', 'meta_accounts',
                             'creative_assets', 'campaigns', 'campaign_assets',
                             'performance_analytics', 'ai_optimization_logs',
                             'background_jobs', 'outbox']
    LOOP
        EXECUTE format('CREATE POLICY worker_all ON %I TO adpilot_worker USING (true) WITH CHECK (true)', t);
    END LOOP;

    FOREACH t IN ARRAY ARRAY['campaign_assets', 'performance_analytics', 'ai_optimization_logs']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users TO adpilot_app
    USING (id = current_app_user_id()) WITH CHECK (id = current_app_user_id());

CREATE POLICY tenant_isolation ON campaign_assets TO adpilot_app
    USING (campaign_id IN (SELECT id FROM campaigns WHERE user_id = current_app_user_id()))
    WITH CHECK (campaign_id IN (SELECT id FROM campaigns WHERE user_id = current_app_user_id())
                AND asset_id IN (SELECT id FROM creative_assets WHERE user_id = current_app_user_id()));
CREATE POLICY tenant_isolation ON performance_analytics TO adpilot_app
    USING (campaign_id IN (SELECT id FROM campaigns WHERE user_id = current_app_user_id()));
CREATE POLICY tenant_isolation ON ai_optimization_logs TO adpilot_app
    USING (campaign_id IN (SELECT id FROM campaigns WHERE user_id = current_app_user_id()));

-- What the app role may do; nothing more.
GRANT SELECT ON system_config TO adpilot_app;
GRANT SELECT, INSERT, UPDATE ON users, refresh_tokens, subscriptions, business_profiles,
    brand_profiles, creative_assets, campaigns, background_jobs TO adpilot_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON meta_accounts, campaign_assets TO adpilot_app;
GRANT SELECT, INSERT ON usage_logs TO adpilot_app;
GRANT SELECT ON performance_analytics, ai_optimization_logs TO adpilot_app;
GRANT INSERT ON outbox TO adpilot_app;

GRANT SELECT, UPDATE ON system_config TO adpilot_worker;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, refresh_tokens, subscriptions, usage_logs,
    business_profiles, brand_profiles, meta_accounts, creative_assets, campaigns,
    campaign_assets, performance_analytics, ai_optimization_logs, background_jobs, outbox
    TO adpilot_worker;
GRANT EXECUTE ON FUNCTION create_performance_partition(date) TO adpilot_worker;

-- Login must find an account by email before anyone is authenticated. This is the
-- one cross-tenant read the app role may make: a live account's id and hash.
CREATE OR REPLACE FUNCTION auth_find_login(p_email text)
    RETURNS TABLE (user_id uuid, password_hash text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
        SELECT u.id, u.password_hash::text FROM users u
         WHERE lower(u.email) = lower(btrim(p_email)) AND u.deleted_at IS NULL AND u.is_active
    $$;
REVOKE ALL ON FUNCTION auth_find_login(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_find_login(text) TO adpilot_app;
