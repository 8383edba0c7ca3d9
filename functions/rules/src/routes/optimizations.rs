//! `GET /v1/campaigns/{id}/optimizations`: the campaign's decision log, newest first —
//! applied, skipped with its reason, failed with Meta's error, dry runs and reverts, each
//! with the numbers it was decided on.

use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::Value;
use shared::auth::authenticate;
use shared::domain::{Fields, Invalid};
use shared::error::AppError;
use shared::http::PageParams;
use shared::http::docs::{InvalidInput, NotAuthenticated, NotFound};
use shared::http::{Page, PageRequest, Query, json, parse_id};
use shared::repo::optimization_logs::{self, LogRow};
use shared::repo::rules;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::State;

const DECISIONS: [&str; 5] = ["applied", "skipped", "failed", "dry_run", "reverted"];

#[derive(Serialize, ToSchema)]
pub struct Optimization {
    pub id: Uuid,
    pub rule_id: Option<Uuid>,
    pub rule_version: Option<i32>,
    /// CAMPAIGN or AD.
    pub entity_type: Option<String>,
    /// The creative, for AD rules.
    pub asset_id: Option<Uuid>,
    /// budget_change, pause, unpause, creative_refresh, audience_expansion, notification.
    pub optimization_type: Option<String>,
    pub trigger_condition: Option<String>,
    /// applied, skipped, failed, dry_run or reverted.
    pub decision: Option<String>,
    pub skip_reason: Option<String>,
    /// The days the rule read.
    pub window: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metrics: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub statistics: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub before_values: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub after_values: Option<Value>,
    pub success: Option<bool>,
    pub meta_error: Option<String>,
    pub impact_description: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub performance_change: Option<Value>,
    pub optimized_at: DateTime<Utc>,
    pub reverted_at: Option<DateTime<Utc>>,
}

impl From<LogRow> for Optimization {
    fn from(r: LogRow) -> Self {
        Self {
            id: r.id,
            rule_id: r.rule_id,
            rule_version: r.rule_version,
            entity_type: r.entity_type,
            asset_id: r.asset_id,
            optimization_type: r.optimization_type,
            trigger_condition: r.trigger_condition,
            decision: r.decision,
            skip_reason: r.skip_reason,
            window: r.window_key,
            metrics: r.metrics,
            statistics: r.statistics,
            before_values: r.before_values,
            after_values: r.after_values,
            success: r.success,
            meta_error: r.meta_error,
            impact_description: r.impact_description,
            performance_change: r.performance_change,
            optimized_at: r.optimized_at,
            reverted_at: r.reverted_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OptimizationPage {
    pub items: Vec<Optimization>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/campaigns/{id}/optimizations", operation_id = "list_campaign_optimizations", tag = "rules", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The campaign"),
        ("decision" = Option<String>, Query, description = "applied, skipped, failed, dry_run or reverted"),
        PageParams,
    ),
    responses(
        (status = 200, description = "The campaign's decisions, newest first", body = OptimizationPage),
        NotAuthenticated,
        NotFound,
        InvalidInput,
    ))]
pub async fn list(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let campaign = parse_id(id)?;
    let q = Query::of(req);
    let mut f = Fields::default();
    q.reject_unknown(&mut f, &["decision", "limit", "cursor"]);
    let page = PageRequest::from_query(&q, &mut f);
    let decision = q.one(&mut f, "decision").and_then(|d| {
        f.check(
            "decision",
            if DECISIONS.contains(&d) {
                Ok(d.to_owned())
            } else {
                Err(Invalid::new("invalid", DECISIONS.join(", ")))
            },
        )
    });
    f.finish()?;
    let rows = state
        .ctx
        .db
        .tenant(user, async |t| {
            if !rules::owns_campaign(t, campaign).await? {
                return Err(AppError::NotFound);
            }
            optimization_logs::list(t, campaign, decision.as_deref(), &page).await
        })
        .await?;
    let page = Page::from_rows(rows, &page, LogRow::cursor);
    json(
        StatusCode::OK,
        &OptimizationPage {
            items: page.items.into_iter().map(Optimization::from).collect(),
            next_cursor: page.next_cursor,
        },
    )
}
