//! `POST /v1/rules/{id}/preview`: what the rule would do right now on every entity it
//! looks at — how many were evaluated, matched, would be acted on, and skipped by
//! reason, each with its numbers. Nothing is sent to Meta and nothing is logged.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::auth::authenticate;
use shared::error::AppError;
use shared::http::docs::{NotAuthenticated, NotFound};
use shared::http::{json, parse_id};
use shared::repo::rules;
use shared::rules::evaluate::Truth;
use shared::rules::guards::Decision;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::State;
use crate::judge::{self, Judgement};

#[derive(Serialize, ToSchema)]
pub struct Preview {
    pub rule_id: Uuid,
    pub rule_version: i32,
    pub evaluated_at: DateTime<Utc>,
    /// Entities looked at (campaigns, or running creatives for AD rules).
    pub evaluated: usize,
    /// Whose conditions all hold.
    pub matched: usize,
    /// Would be acted on now.
    pub would_act: usize,
    /// Skipped, by reason (conditions_not_met, not_enough_data, learning_phase, …).
    pub skipped: BTreeMap<String, usize>,
    /// Each entity: campaign, creative, the decision (act with its change, or skip with
    /// its reason), the window read, and every condition with its value, target and
    /// denominators.
    #[schema(value_type = Vec<Object>)]
    pub entities: Vec<Judgement>,
}

/// Counts the judgements into a preview.
pub fn summarise(rule: &rules::Rule, now: DateTime<Utc>, entities: Vec<Judgement>) -> Preview {
    let mut skipped = BTreeMap::new();
    let mut would_act = 0;
    for j in &entities {
        match &j.decision {
            Decision::Act { .. } => would_act += 1,
            Decision::Skip { reason, .. } => {
                *skipped.entry(reason.as_str().to_owned()).or_insert(0) += 1;
            }
        }
    }
    Preview {
        rule_id: rule.id,
        rule_version: rule.version,
        evaluated_at: now,
        evaluated: entities.len(),
        matched: entities
            .iter()
            .filter(|j| j.evaluation.truth == Truth::Holds)
            .count(),
        would_act,
        skipped,
        entities,
    }
}

#[utoipa::path(post, path = "/v1/rules/{id}/preview", operation_id = "preview_rule", tag = "rules", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The rule")),
    responses(
        (status = 200, description = "What the rule would do now; nothing is sent", body = Preview),
        NotAuthenticated,
        NotFound,
    ))]
pub async fn preview(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let id = parse_id(id)?;
    let now = Utc::now();
    let preview = state
        .ctx
        .db
        .tenant(user, async |t| {
            let rule = rules::get(t, id).await?.ok_or(AppError::NotFound)?;
            let entities = judge::judge(t, &rule, None, now).await?;
            Ok(summarise(&rule, now, entities))
        })
        .await?;
    json(StatusCode::OK, &preview)
}
