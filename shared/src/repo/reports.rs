//! `reports`: an owner's performance over a period, made by the report worker. A report
//! is asked for (`request`, from the API) or queued by maintenance each Monday from 09:00
//! in the owner's time zone (`queue_weekly`, one per owner and week); either way the row,
//! its `generate_report` job and the queue message are written in one transaction. The
//! owner's time zone is their Meta ad account's (whose days the insights are), else
//! `DEFAULT_TIMEZONE`.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::db::{Tenant, Tx, Worker};
use crate::error::AppError;
use crate::messages::ReportRequest;
use crate::paging::{Cursor, PageRequest};
use crate::repo::outbox;
use crate::repo::sql::Statement;

/// The `background_jobs.job_type` of a report.
pub const JOB_TYPE: &str = "generate_report";

/// Where an owner is when no ad account says otherwise.
pub const DEFAULT_TIMEZONE: &str = "Asia/Kolkata";

/// Weekly, from the schedule, or asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Weekly,
    OnDemand,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Weekly => "weekly",
            Kind::OnDemand => "on_demand",
        }
    }

    fn parse(raw: &str) -> Self {
        if raw == "weekly" {
            Kind::Weekly
        } else {
            Kind::OnDemand
        }
    }
}

/// A report as stored, with its job's progress.
#[derive(Clone, Debug)]
pub struct Report {
    pub id: Uuid,
    pub user_id: Uuid,
    pub job_id: Option<Uuid>,
    pub kind: Kind,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub timezone: String,
    /// pending, running, ready, failed or cancelled (a pending report reads its job's).
    pub status: String,
    pub progress: i16,
    pub html_key: Option<String>,
    pub pdf_key: Option<String>,
    pub summary: Option<Value>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl Report {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.created_at,
            id: self.id,
        }
    }
}

/// The report joined to its job: a report still pending shows its job's state (running,
/// or cancelled and failed before the worker saw it).
const SELECT: &str = "SELECT * FROM (SELECT r.id, r.user_id, r.job_id, r.kind, r.period_start, r.period_end, \
            r.timezone, r.html_key, r.pdf_key, r.summary, r.completed_at, r.created_at, \
            CASE WHEN r.status = 'pending' AND j.status IN ('running', 'failed', 'cancelled') \
                 THEN j.status ELSE r.status END AS status, \
            CASE WHEN r.status = 'ready' THEN 100 ELSE coalesce(j.progress, 0) END AS progress, \
            coalesce(r.error, CASE WHEN j.status IN ('failed', 'cancelled') THEN j.error_message END) AS error \
       FROM reports r LEFT JOIN background_jobs j ON j.id = r.job_id) rj WHERE true";

impl From<&Row> for Report {
    fn from(r: &Row) -> Self {
        Self {
            id: r.get("id"),
            user_id: r.get("user_id"),
            job_id: r.get("job_id"),
            kind: Kind::parse(r.get("kind")),
            period_start: r.get("period_start"),
            period_end: r.get("period_end"),
            timezone: r.get("timezone"),
            status: r.get("status"),
            progress: r.get::<_, i32>("progress") as i16,
            html_key: r.get("html_key"),
            pdf_key: r.get("pdf_key"),
            summary: r.get("summary"),
            error: r.get("error"),
            created_at: r.get("created_at"),
            completed_at: r.get("completed_at"),
        }
    }
}

/// The owner's time zone: their newest enabled ad account's, else `DEFAULT_TIMEZONE`.
/// Postgres knows the zone names, so a name it does not know is not used.
pub async fn timezone_of(t: &impl Tx, user: Uuid) -> Result<String, AppError> {
    Ok(t.tx()
        .query_one(&format!("SELECT {TIMEZONE_OF}"), &[&user])
        .await?
        .get(0))
}

/// SQL for the zone of the user in `$1`.
const TIMEZONE_OF: &str = "coalesce((SELECT a.timezone_name FROM meta_ad_accounts a \
        WHERE a.user_id = $1 AND a.sync_enabled AND a.timezone_name IN (SELECT name FROM pg_timezone_names) \
        ORDER BY a.created_at DESC LIMIT 1), 'Asia/Kolkata')";

/// The period asked for is already over where the owner is, or ends today there.
pub async fn today_in(t: &impl Tx, timezone: &str) -> Result<NaiveDate, AppError> {
    Ok(t.tx()
        .query_one("SELECT (now() AT TIME ZONE $1)::date", &[&timezone])
        .await?
        .get(0))
}

/// Writes a report, its job and its queue message in the caller's transaction; returns
/// the report and the outbox id to relay at once.
pub async fn create(
    t: &impl Tx,
    user: Uuid,
    kind: Kind,
    period: (NaiveDate, NaiveDate),
    timezone: &str,
) -> Result<Option<(Report, i64)>, AppError> {
    let params = serde_json::json!({
        "kind": kind.as_str(), "period_start": period.0, "period_end": period.1, "timezone": timezone,
    });
    let job: Uuid = t
        .tx()
        .query_one(
            "INSERT INTO background_jobs (job_type, user_id, parameters, status, scheduled_at) \
             VALUES ($1, $2, $3, 'pending', now()) RETURNING id",
            &[&JOB_TYPE, &user, &params],
        )
        .await?
        .get(0);
    let id = t
        .tx()
        .query_opt(
            "INSERT INTO reports (user_id, job_id, kind, period_start, period_end, timezone) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id",
            &[&user, &job, &kind.as_str(), &period.0, &period.1, &timezone],
        )
        .await?;
    let Some(id) = id.map(|r| r.get::<_, Uuid>(0)) else {
        // A weekly report for this week exists: the job is not needed after all.
        t.tx()
            .execute("DELETE FROM background_jobs WHERE id = $1", &[&job])
            .await?;
        return Ok(None);
    };
    let message = ReportRequest {
        report_id: id,
        job_id: job,
        user_id: user,
    };
    let outbox = outbox::enqueue_for(t, user, &message).await?;
    let report = get_in(t, id).await?.ok_or(AppError::NotFound)?;
    Ok(Some((report, outbox)))
}

async fn get_in(t: &impl Tx, id: Uuid) -> Result<Option<Report>, AppError> {
    Ok(t.tx()
        .query_opt(&format!("{SELECT} AND id = $1"), &[&id])
        .await?
        .as_ref()
        .map(Report::from))
}

/// One of the tenant's reports.
pub async fn get(t: &Tenant<'_>, id: Uuid) -> Result<Option<Report>, AppError> {
    get_in(t, id).await
}

/// The tenant's reports, newest first, one page.
pub async fn list(t: &Tenant<'_>, page: &PageRequest) -> Result<Vec<Report>, AppError> {
    let mut q = Statement::new(SELECT.to_owned());
    let user = q.bind(t.user().0);
    q.push(&format!(" AND user_id = {user}"));
    q.page(page);
    Ok(t.tx
        .query(&q.sql, &q.params())
        .await?
        .iter()
        .map(Report::from)
        .collect())
}

/// The report is made: its files and headline figures, in the transaction that completes
/// its job. False when it had ended already.
pub async fn ready(
    t: &impl Tx,
    id: Uuid,
    files: (&str, &str),
    summary: &Value,
) -> Result<bool, AppError> {
    let n = t
        .tx()
        .execute(
            "UPDATE reports SET status = 'ready', html_key = $2, pdf_key = $3, summary = $4, \
                    error = NULL, completed_at = now() \
             WHERE id = $1 AND status = 'pending'",
            &[&id, &files.0, &files.1, summary],
        )
        .await?;
    Ok(n == 1)
}

/// The report will not be made (`failed` or `cancelled`), and why.
pub async fn ended(t: &impl Tx, id: Uuid, status: &str, why: &str) -> Result<bool, AppError> {
    let n = t
        .tx()
        .execute(
            "UPDATE reports SET status = $2, error = $3, completed_at = now() \
             WHERE id = $1 AND status = 'pending'",
            &[&id, &status, &why],
        )
        .await?;
    Ok(n == 1)
}

/// Queues the weekly report of every owner for whom it is Monday 09:00 or later (until
/// Tuesday 09:00, so a missed run catches up the same day) where they are and who had a
/// live campaign or spend in the week before; an owner's week is reported once however
/// often this runs. `now` is the schedule's time (the clock, but for tests). Returns each
/// queued report's owner and outbox id.
pub async fn queue_weekly(
    w: &Worker<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, i64)>, AppError> {
    let due = w
        .tx
        .query(
            &format!(
                "WITH owners AS ( \
                   SELECT u.id, tz.name AS timezone, ($1::timestamptz AT TIME ZONE tz.name) AS local_now \
                     FROM users u CROSS JOIN LATERAL (SELECT {} AS name) tz \
                    WHERE u.deleted_at IS NULL AND u.is_active), \
                 due AS ( \
                   SELECT id, timezone, (date_trunc('week', local_now)::date - 7) AS week_start \
                     FROM owners \
                    WHERE local_now >= date_trunc('week', local_now) + interval '9 hours' \
                      AND local_now < date_trunc('week', local_now) + interval '33 hours') \
                 SELECT d.id, d.timezone, d.week_start FROM due d \
                  WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.user_id = d.id AND r.kind = 'weekly' \
                                      AND r.period_start = d.week_start) \
                    AND EXISTS (SELECT 1 FROM campaigns c WHERE c.user_id = d.id AND ( \
                          (c.status = 'active' AND c.deleted_at IS NULL) \
                          OR EXISTS (SELECT 1 FROM performance_analytics p WHERE p.campaign_id = c.id \
                                       AND p.date BETWEEN d.week_start AND d.week_start + 6 AND p.spend > 0))) \
                  ORDER BY d.id LIMIT 500",
                TIMEZONE_OF.replace("$1", "u.id")
            ),
            &[&now],
        )
        .await?;
    let mut queued = Vec::new();
    for row in &due {
        let (user, timezone, start): (Uuid, String, NaiveDate) =
            (row.get(0), row.get(1), row.get(2));
        let end = start + chrono::Duration::days(6);
        if let Some((_, outbox)) = create(w, user, Kind::Weekly, (start, end), &timezone).await? {
            queued.push((user, outbox));
        }
    }
    Ok(queued)
}
