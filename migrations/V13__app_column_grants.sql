-- The app role may change only the columns the API writes: a user's own name and
-- phone, login time and deletion; a subscription's used credits, status and
-- cancel-at-period-end. Never a password hash, an email, a tier, a price, a credit
-- limit or which subscription is current (the billing webhook, as the worker, does).
REVOKE UPDATE ON users, subscriptions FROM adpilot_app;
GRANT UPDATE (first_name, last_name, phone, last_login, deleted_at, is_active) ON users TO adpilot_app;
GRANT UPDATE (monthly_ai_credits_used, status, provider_status, cancel_at_period_end)
    ON subscriptions TO adpilot_app;

-- Copying the current subscription's tier and status onto the user is the owner's
-- job, whoever changed the subscription.
ALTER FUNCTION sync_user_subscription() SECURITY DEFINER;
ALTER FUNCTION sync_user_subscription() SET search_path = public, pg_temp;
