//! `GET/POST /v1/rules`, `GET/PATCH/DELETE /v1/rules/{id}`: an owner's optimization
//! rules. The body is Meta's Ad Rules shape (`entity_type`, `evaluation_spec`,
//! `execution_spec`, `schedule_spec`) with a name, an optional campaign (all the owner's
//! campaigns otherwise), `status` and `dry_run`; every invalid part is named by its path.
//! PATCH replaces the parts it names and may carry the `version` it read (409 if the
//! rule changed since).

use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use shared::auth::authenticate;
use shared::domain::rule::{EntityType, EvaluationSpec, ExecutionSpec, RuleSpec, ScheduleSpec};
use shared::domain::{Fields, Invalid};
use shared::error::{AppError, Problem};
use shared::http::PageParams;
use shared::http::docs::{InvalidInput, NotAuthenticated, NotFound, NotJson};
use shared::http::{Page, PageRequest, Query, json, json_body, no_content, parse_id};
use shared::repo::rules::{self, Rule, RuleFields};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::State;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleStatus {
    Enabled,
    Disabled,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    #[schema(example = "Scale winners")]
    name: Option<String>,
    /// The campaign it looks at; every campaign of yours when absent.
    campaign_id: Option<Uuid>,
    entity_type: Option<EntityType>,
    evaluation_spec: Option<EvaluationSpec>,
    execution_spec: Option<ExecutionSpec>,
    #[serde(default)]
    schedule_spec: Option<ScheduleSpec>,
    /// ENABLED (default) or DISABLED.
    status: Option<RuleStatus>,
    /// Log what it would do without doing it.
    #[serde(default)]
    dry_run: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulePatch {
    name: Option<String>,
    /// A campaign id, or null for every campaign.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    campaign_id: Option<Option<Uuid>>,
    entity_type: Option<EntityType>,
    evaluation_spec: Option<EvaluationSpec>,
    execution_spec: Option<ExecutionSpec>,
    schedule_spec: Option<ScheduleSpec>,
    status: Option<RuleStatus>,
    dry_run: Option<bool>,
    /// The version you read; 409 if the rule changed since.
    version: Option<i32>,
}

/// Serde helper: a field that may be absent, null or a value.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[derive(Serialize, ToSchema)]
pub struct RuleView {
    pub id: Uuid,
    pub name: String,
    pub campaign_id: Option<Uuid>,
    pub entity_type: EntityType,
    pub evaluation_spec: EvaluationSpec,
    pub execution_spec: ExecutionSpec,
    pub schedule_spec: ScheduleSpec,
    /// A readable slug of the conditions, as the decision log shows it.
    pub trigger_condition: String,
    pub status: RuleStatus,
    pub dry_run: bool,
    /// Why it turned itself off, if it did (its actions kept failing).
    pub disabled_reason: Option<String>,
    /// Made from the campaign's goals: roas_above_4x_3_days, cpa_above_target_7_days or
    /// ctr_decline_15_percent.
    pub preset: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Rule> for RuleView {
    fn from(r: Rule) -> Self {
        Self {
            id: r.id,
            name: r.name,
            campaign_id: r.campaign_id,
            entity_type: r.spec.entity_type,
            evaluation_spec: r.spec.evaluation_spec,
            execution_spec: r.spec.execution_spec,
            schedule_spec: r.spec.schedule_spec,
            trigger_condition: r.trigger_condition,
            status: if r.enabled {
                RuleStatus::Enabled
            } else {
                RuleStatus::Disabled
            },
            dry_run: r.dry_run,
            disabled_reason: r.disabled_reason,
            preset: r.preset,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RulePage {
    pub items: Vec<RuleView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

fn name(raw: Option<String>, f: &mut Fields) -> Option<String> {
    let n = f.required("name", raw)?;
    f.check(
        "name",
        shared::domain::text(&n, 200).and_then(|t| {
            if t.is_empty() {
                Err(Invalid::new("required", "a name"))
            } else {
                Ok(t)
            }
        }),
    )
}

/// Checks the fields and that the campaign is the caller's.
async fn checked(
    state: &State,
    user: shared::domain::UserId,
    f: &mut Fields,
    fields: Option<RuleFields>,
) -> Result<RuleFields, AppError> {
    if let Some(r) = &fields {
        r.spec.check(f);
        if let Some(c) = r.campaign_id {
            let mine = state
                .ctx
                .db
                .tenant(user, async |t| rules::owns_campaign(t, c).await)
                .await?;
            if !mine {
                f.check::<()>(
                    "campaign_id",
                    Err(Invalid::new(
                        "not_found",
                        "no campaign of yours has this id",
                    )),
                );
            }
        }
    }
    std::mem::take(f).finish()?;
    fields.ok_or_else(|| AppError::Internal("checked fields without a rule".into()))
}

#[utoipa::path(post, path = "/v1/rules", operation_id = "create_rule", tag = "rules", security(("bearer" = [])),
    request_body = NewRule,
    responses(
        (status = 201, description = "The rule", body = RuleView),
        NotJson,
        NotAuthenticated,
        InvalidInput,
    ))]
pub async fn create(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let body: NewRule = json_body(req)?;
    let mut f = Fields::default();
    let name = name(body.name, &mut f);
    let entity_type = f.required("entity_type", body.entity_type);
    let evaluation_spec = f.required("evaluation_spec", body.evaluation_spec);
    let execution_spec = f.required("execution_spec", body.execution_spec);
    // The spec is checked even when the name is not, so every mistake is named at once.
    let fields = match (entity_type, evaluation_spec, execution_spec) {
        (Some(entity_type), Some(evaluation_spec), Some(execution_spec)) => Some(RuleFields {
            campaign_id: body.campaign_id,
            name: name.unwrap_or_default(),
            spec: RuleSpec {
                entity_type,
                evaluation_spec,
                execution_spec,
                schedule_spec: body.schedule_spec.unwrap_or_default(),
            },
            enabled: body.status != Some(RuleStatus::Disabled),
            dry_run: body.dry_run.unwrap_or(false),
        }),
        _ => None,
    };
    let fields = checked(state, user, &mut f, fields).await?;
    let rule = state
        .ctx
        .db
        .tenant(user, async |t| rules::create(t, &fields).await)
        .await?;
    tracing::info!(user_id = %user, rule_id = %rule.id, trigger = rule.trigger_condition, "rule created");
    json(StatusCode::CREATED, &RuleView::from(rule))
}

#[utoipa::path(get, path = "/v1/rules", operation_id = "list_rules", tag = "rules", security(("bearer" = [])),
    params(
        ("campaign_id" = Option<Uuid>, Query, description = "Only this campaign's rules"),
        PageParams,
    ),
    responses(
        (status = 200, description = "Your rules, newest first", body = RulePage),
        NotAuthenticated,
        InvalidInput,
    ))]
pub async fn list(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let q = Query::of(req);
    let mut f = Fields::default();
    q.reject_unknown(&mut f, &["campaign_id", "limit", "cursor"]);
    let page = PageRequest::from_query(&q, &mut f);
    let campaign: Option<Uuid> = q.parse(&mut f, "campaign_id", "a campaign id");
    f.finish()?;
    let rows = state
        .ctx
        .db
        .tenant(user, async |t| rules::list(t, campaign, &page).await)
        .await?;
    let page = Page::from_rows(rows, &page, Rule::cursor);
    json(
        StatusCode::OK,
        &RulePage {
            items: page.items.into_iter().map(RuleView::from).collect(),
            next_cursor: page.next_cursor,
        },
    )
}

#[utoipa::path(get, path = "/v1/rules/{id}", operation_id = "get_rule", tag = "rules", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The rule")),
    responses(
        (status = 200, description = "The rule", body = RuleView),
        NotAuthenticated,
        NotFound,
    ))]
pub async fn get(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let id = parse_id(id)?;
    let rule = state
        .ctx
        .db
        .tenant(user, async |t| rules::get(t, id).await)
        .await?
        .ok_or(AppError::NotFound)?;
    json(StatusCode::OK, &RuleView::from(rule))
}

#[utoipa::path(patch, path = "/v1/rules/{id}", operation_id = "update_rule", tag = "rules", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The rule")),
    request_body = RulePatch,
    responses(
        (status = 200, description = "The rule, its version bumped", body = RuleView),
        NotJson,
        NotAuthenticated,
        NotFound,
        InvalidInput,
        (status = 409, description = "The rule changed since the version you sent", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let id = parse_id(id)?;
    let body: RulePatch = json_body(req)?;
    let current = state
        .ctx
        .db
        .tenant(user, async |t| rules::get(t, id).await)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut f = Fields::default();
    let name = match body.name {
        Some(n) => name(Some(n), &mut f).unwrap_or_default(),
        None => current.name.clone(),
    };
    let spec = RuleSpec {
        entity_type: body.entity_type.unwrap_or(current.spec.entity_type),
        evaluation_spec: body
            .evaluation_spec
            .unwrap_or(current.spec.evaluation_spec.clone()),
        execution_spec: body
            .execution_spec
            .unwrap_or(current.spec.execution_spec.clone()),
        schedule_spec: body
            .schedule_spec
            .unwrap_or(current.spec.schedule_spec.clone()),
    };
    let fields = RuleFields {
        campaign_id: body.campaign_id.unwrap_or(current.campaign_id),
        name,
        spec,
        enabled: body
            .status
            .map_or(current.enabled, |s| s == RuleStatus::Enabled),
        dry_run: body.dry_run.unwrap_or(current.dry_run),
    };
    let fields = checked(state, user, &mut f, Some(fields)).await?;
    let rule = state
        .ctx
        .db
        .tenant(user, async |t| {
            rules::update(t, id, &fields, body.version).await
        })
        .await?
        .ok_or(AppError::NotFound)?;
    tracing::info!(user_id = %user, rule_id = %rule.id, version = rule.version, "rule changed");
    json(StatusCode::OK, &RuleView::from(rule))
}

#[utoipa::path(delete, path = "/v1/rules/{id}", operation_id = "delete_rule", tag = "rules", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The rule")),
    responses(
        (status = 204, description = "Deleted; its decisions stay in the log"),
        NotAuthenticated,
        NotFound,
    ))]
pub async fn delete(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let id = parse_id(id)?;
    let gone = state
        .ctx
        .db
        .tenant(user, async |t| rules::delete(t, id).await)
        .await?;
    if !gone {
        return Err(AppError::NotFound);
    }
    Ok(no_content())
}
