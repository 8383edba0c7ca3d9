-- The cross-tenant role logs in by itself (password set by the migrate function from
-- its own secret), so the webhooks and workers no longer hold the owner's credentials:
-- a bug on an internet-facing path cannot RESET ROLE its way to the owner. The owner's
-- URL reaches only migrate.
ALTER ROLE adpilot_worker LOGIN;
COMMENT ON ROLE adpilot_worker IS
    'Cross-tenant jobs (sync, retention, billing and Meta webhooks); logs in with DATABASE_WORKER_URL';
