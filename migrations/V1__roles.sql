-- Roles the platform connects as. Tables are owned by the role that runs migrations;
-- the functions connect as adpilot_app (not owner, no BYPASSRLS, only the grants it
-- needs); cross-tenant jobs (sync, retention, billing webhooks) run as adpilot_worker,
-- which the migration role assumes explicitly with SET LOCAL ROLE.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'adpilot_app') THEN
        CREATE ROLE adpilot_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'adpilot_worker') THEN
        CREATE ROLE adpilot_worker NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    IF NOT pg_has_role(current_user, 'adpilot_worker', 'MEMBER') THEN
        EXECUTE format('GRANT adpilot_worker TO %I', current_user);
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO adpilot_app, adpilot_worker;

-- The tenant of the current transaction, or NULL when none is set. After a
-- transaction-local set_config ends, the setting reads as '' rather than NULL.
CREATE OR REPLACE FUNCTION current_app_user_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.current_user_id', true), '')::uuid $$;

CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
