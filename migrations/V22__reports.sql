-- Reports: an owner's performance over a period, written by the report worker as an HTML
-- page and a PDF beside it in S3. A report is asked for through the API (on_demand) or
-- queued by maintenance every Monday from 09:00 in the owner's time zone (weekly, for the
-- Monday-to-Sunday week before); one weekly report per owner and week, however often
-- maintenance runs. The job (background_jobs) carries progress and cancellation; the
-- row keeps what was made after the job is purged.
CREATE TABLE reports (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id UUID REFERENCES background_jobs(id) ON DELETE SET NULL,
    kind TEXT NOT NULL CHECK (kind IN ('weekly', 'on_demand')),
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    -- The IANA zone the period's days and the schedule are read in.
    timezone TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'failed', 'cancelled')),
    html_key TEXT,
    pdf_key TEXT,
    -- The headline figures, for listing without opening the file.
    summary JSONB,
    error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at TIMESTAMPTZ,
    CHECK (period_end >= period_start AND period_end - period_start < 366),
    CHECK (status <> 'ready' OR (html_key IS NOT NULL AND pdf_key IS NOT NULL))
);
CREATE INDEX idx_reports_user_created ON reports (user_id, created_at DESC, id DESC);
CREATE UNIQUE INDEX reports_one_weekly ON reports (user_id, period_start) WHERE kind = 'weekly';

ALTER TABLE reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE reports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reports TO adpilot_app
    USING (user_id = current_app_user_id())
    WITH CHECK (user_id = current_app_user_id());
CREATE POLICY worker_all ON reports TO adpilot_worker USING (true) WITH CHECK (true);

GRANT SELECT, INSERT, UPDATE ON reports TO adpilot_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON reports TO adpilot_worker;
