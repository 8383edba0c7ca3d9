//! `POST /v1/reports` (a report over a period, queued: the report, its job and the queue
//! message in one transaction, relayed at once), `GET /v1/reports` (paged, newest first)
//! and `GET /v1/reports/{id}` (with presigned links to the HTML and PDF once ready).
//! Periods are days in the owner's time zone, at most `MAX_DAYS` long, ending today at
//! the latest and starting within the two years analytics are kept; one request per
//! `REPORT_EVERY_SECONDS` (30 by default) per owner.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::auth::authenticate;
use shared::aws::storage::Presigned;
use shared::domain::{Fields, Invalid};
use shared::error::{AppError, Problem};
use shared::http::PageParams;
use shared::http::docs::{InvalidInput, NotAuthenticated, NotFound, NotJson};
use shared::http::{Page, PageRequest, Query, json, json_body, parse_id};
use shared::repo::jobs;
use shared::repo::reports::{self, Kind, Report};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::State;

/// The longest period one report covers, in days.
pub const MAX_DAYS: i64 = 92;
/// How long a download link works.
const LINK_TTL: StdDuration = StdDuration::from_secs(15 * 60);

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// First day (YYYY-MM-DD), in your ad account's time zone.
    #[schema(example = "2026-11-23")]
    period_start: Option<String>,
    /// Last day, included; today at the latest, at most 92 days after the first.
    #[schema(example = "2026-11-29")]
    period_end: Option<String>,
}

/// Presigned links to a ready report's files, valid for 15 minutes.
#[derive(Serialize, ToSchema)]
pub struct Downloads {
    pub html: Presigned,
    pub pdf: Presigned,
}

#[derive(Serialize, ToSchema)]
pub struct ReportView {
    pub id: Uuid,
    /// `weekly` (from the Monday schedule) or `on_demand`.
    pub kind: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The IANA time zone the period's days are in.
    pub timezone: String,
    /// pending, running, ready, failed or cancelled.
    pub status: String,
    /// 0–100.
    pub progress: i16,
    /// The `generate_report` job (`GET /v1/jobs/{id}`, cancellable).
    pub job_id: Option<Uuid>,
    /// Headline figures once ready: currency, spend, impressions, clicks, conversions,
    /// cost_per_result, campaigns, credits_used.
    #[schema(value_type = Option<Object>)]
    pub summary: Option<Value>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Only on `GET /v1/reports/{id}` of a ready report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downloads: Option<Downloads>,
}

impl From<Report> for ReportView {
    fn from(r: Report) -> Self {
        Self {
            id: r.id,
            kind: r.kind.as_str().into(),
            period_start: r.period_start,
            period_end: r.period_end,
            timezone: r.timezone,
            status: r.status,
            progress: r.progress,
            job_id: r.job_id,
            summary: r.summary,
            error: r.error,
            created_at: r.created_at,
            completed_at: r.completed_at,
            downloads: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReportPage {
    pub items: Vec<ReportView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

fn every() -> Duration {
    Duration::seconds(shared::config::parsed_or("REPORT_EVERY_SECONDS", 30i64).unwrap_or(30))
}

fn date(raw: &str) -> Result<NaiveDate, Invalid> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| Invalid::new("invalid_date", "a date as YYYY-MM-DD"))
}

/// The period asked for, every rule checked against `today` where the owner is.
pub fn period(
    start: Option<String>,
    end: Option<String>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), AppError> {
    let mut f = Fields::default();
    let start = f
        .required("period_start", start)
        .and_then(|s| f.check("period_start", date(&s)));
    let end = f
        .required("period_end", end)
        .and_then(|s| f.check("period_end", date(&s)));
    if let Some(end) = end
        && end > today
    {
        f.check::<()>(
            "period_end",
            Err(Invalid::new(
                "in_future",
                format!("today ({today}) at the latest"),
            )),
        );
    }
    if let Some(start) = start
        && start < today - Duration::days(730)
    {
        f.check::<()>(
            "period_start",
            Err(Invalid::new(
                "too_old",
                "within the two years analytics are kept",
            )),
        );
    }
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            f.check::<()>(
                "period_end",
                Err(Invalid::new("before_start", "on or after period_start")),
            );
        } else if (e - s).num_days() + 1 > MAX_DAYS {
            f.check::<()>(
                "period_end",
                Err(Invalid::new(
                    "period_too_long",
                    format!("at most {MAX_DAYS} days after period_start, both included"),
                )),
            );
        }
    }
    f.finish()?;
    Ok((start.expect("checked"), end.expect("checked")))
}

#[utoipa::path(post, path = "/v1/reports", operation_id = "create_report", tag = "reports", security(("bearer" = [])),
    request_body = ReportRequest,
    responses(
        (status = 202, description = "Report queued; follow it at Location", body = ReportView),
        NotJson,
        NotAuthenticated,
        InvalidInput,
        (status = 429, description = "A report was asked for less than 30 seconds ago", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let body: ReportRequest = json_body(req)?;
    let (report, outbox) = state
        .ctx
        .db
        .tenant(user, async |t| {
            let timezone = reports::timezone_of(t, user.0).await?;
            let today = reports::today_in(t, &timezone).await?;
            let period = period(body.period_start.clone(), body.period_end.clone(), today)?;
            if let Some(last) = jobs::last_requested(t, reports::JOB_TYPE).await? {
                let retry_at = last + every();
                if retry_at > Utc::now() {
                    return Err(AppError::RateLimited {
                        code: "report_rate_limited",
                        detail:
                            "A report was asked for a moment ago; wait for it or try again shortly."
                                .into(),
                        retry_at,
                    });
                }
            }
            reports::create(t, user.0, Kind::OnDemand, period, &timezone)
                .await?
                .ok_or_else(|| AppError::Internal("an on-demand report was not written".into()))
        })
        .await?;
    tracing::info!(user_id = %user, report_id = %report.id, "report queued");
    state.relay.send_now(&state.ctx.db, user, &[outbox]).await;
    let mut res = json(StatusCode::ACCEPTED, &ReportView::from(report.clone()))?;
    res.headers_mut().insert(
        "location",
        format!("/v1/reports/{}", report.id)
            .parse()
            .map_err(AppError::internal)?,
    );
    Ok(res)
}

#[utoipa::path(get, path = "/v1/reports", operation_id = "list_reports", tag = "reports", security(("bearer" = [])),
    params(
        PageParams,
    ),
    responses(
        (status = 200, description = "Your reports, newest first", body = ReportPage),
        NotAuthenticated,
        InvalidInput,
    ))]
pub async fn list(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let q = Query::of(req);
    let mut f = Fields::default();
    q.reject_unknown(&mut f, &["limit", "cursor"]);
    let page = PageRequest::from_query(&q, &mut f);
    f.finish()?;
    let rows = state
        .ctx
        .db
        .tenant(user, async |t| reports::list(t, &page).await)
        .await?;
    let page = Page::from_rows(rows, &page, Report::cursor);
    json(
        StatusCode::OK,
        &ReportPage {
            items: page.items.into_iter().map(ReportView::from).collect(),
            next_cursor: page.next_cursor,
        },
    )
}

fn file_name(r: &Report, ext: &str) -> String {
    format!("adpilot-report-{}-{}.{ext}", r.period_start, r.period_end)
}

#[utoipa::path(get, path = "/v1/reports/{id}", operation_id = "get_report", tag = "reports", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The report")),
    responses(
        (status = 200, description = "The report; when ready, links to its HTML and PDF valid for 15 minutes", body = ReportView),
        NotAuthenticated,
        NotFound,
    ))]
pub async fn get(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let id = parse_id(id)?;
    let report = state
        .ctx
        .db
        .tenant(user, async |t| reports::get(t, id).await)
        .await?
        .ok_or(AppError::NotFound)?;
    let downloads = match (&report.status[..], &report.html_key, &report.pdf_key) {
        ("ready", Some(html), Some(pdf)) => Some(Downloads {
            html: state
                .storage
                .presign_get(html, Some(&file_name(&report, "html")), LINK_TTL)
                .await?,
            pdf: state
                .storage
                .presign_get(pdf, Some(&file_name(&report, "pdf")), LINK_TTL)
                .await?,
        }),
        _ => None,
    };
    let mut view = ReportView::from(report);
    view.downloads = downloads;
    json(StatusCode::OK, &view)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    fn problem_fields(e: AppError) -> String {
        format!("{e:?}")
    }

    #[test]
    fn a_period_is_whole_days_ending_today_at_the_latest_and_at_most_ninety_two_long() {
        assert_eq!(
            period(
                Some("2026-11-23".into()),
                Some("2026-11-29".into()),
                today()
            )
            .unwrap(),
            (
                NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
                NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
            )
        );
        assert!(
            period(
                Some("2026-09-01".into()),
                Some("2026-12-01".into()),
                today()
            )
            .is_ok()
        );
        let cases = [
            (None, Some("2026-11-29"), "period_start"),
            (Some("2026-11-31"), Some("2026-11-29"), "invalid_date"),
            (Some("2026-11-23"), Some("2026-12-02"), "in_future"),
            (Some("2026-11-23"), Some("2026-11-22"), "before_start"),
            (Some("2026-08-31"), Some("2026-12-01"), "period_too_long"),
            (Some("2024-11-30"), Some("2024-12-01"), "too_old"),
        ];
        for (start, end, expected) in cases {
            let e = period(start.map(Into::into), end.map(Into::into), today()).unwrap_err();
            assert!(
                problem_fields(e).contains(expected),
                "{start:?}..{end:?} should say {expected}"
            );
        }
    }
}
