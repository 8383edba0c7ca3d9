//! `optimization_rules`: an owner's rules, each with its spec (JSON in Meta's Ad Rules
//! names), a readable `trigger_condition` slug, and a version that every change bumps
//! (log rows name the version they were decided under). Deleting is soft, so the log
//! keeps pointing at what decided.

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::db::{Tenant, Tx};
use crate::domain::rule::RuleSpec;
use crate::error::AppError;
use crate::paging::{Cursor, PageRequest};
use crate::repo::sql::Statement;

#[derive(Clone, Debug)]
pub struct Rule {
    pub id: Uuid,
    pub user_id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub name: String,
    pub spec: RuleSpec,
    pub trigger_condition: String,
    pub enabled: bool,
    pub dry_run: bool,
    pub disabled_reason: Option<String>,
    /// The preset it was made from, if any (roas_above_4x_3_days, …).
    pub preset: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Rule {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.created_at,
            id: self.id,
        }
    }
}

const COLUMNS: &str = "id, user_id, campaign_id, name, spec, trigger_condition, status, dry_run, \
                       disabled_reason, preset, version, created_at, updated_at";

fn rule(r: &Row) -> Result<Rule, AppError> {
    let spec: Value = r.get("spec");
    Ok(Rule {
        id: r.get("id"),
        user_id: r.get("user_id"),
        campaign_id: r.get("campaign_id"),
        name: r.get("name"),
        spec: serde_json::from_value(spec)
            .map_err(|e| AppError::Internal(format!("stored rule spec: {e}")))?,
        trigger_condition: r.get("trigger_condition"),
        enabled: r.get::<_, String>("status") == "ENABLED",
        dry_run: r.get("dry_run"),
        disabled_reason: r.get("disabled_reason"),
        preset: r.get("preset"),
        version: r.get("version"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    })
}

/// What an owner writes: everything but the ids and clocks.
#[derive(Clone, Debug)]
pub struct RuleFields {
    pub campaign_id: Option<Uuid>,
    pub name: String,
    pub spec: RuleSpec,
    pub enabled: bool,
    pub dry_run: bool,
}

fn spec_json(spec: &RuleSpec) -> Result<Value, AppError> {
    serde_json::to_value(spec).map_err(AppError::internal)
}

/// Whether the tenant owns a live campaign with this id.
pub async fn owns_campaign(t: &Tenant<'_>, campaign: Uuid) -> Result<bool, AppError> {
    Ok(t.tx
        .query_opt(
            "SELECT 1 FROM campaigns WHERE id = $1 AND deleted_at IS NULL",
            &[&campaign],
        )
        .await?
        .is_some())
}

pub async fn create(t: &Tenant<'_>, f: &RuleFields) -> Result<Rule, AppError> {
    let row = t
        .tx
        .query_one(
            &format!(
                "INSERT INTO optimization_rules (user_id, campaign_id, name, entity_type, spec, trigger_condition, \
                                                 status, dry_run) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
            ),
            &[
                &t.user().0,
                &f.campaign_id,
                &f.name,
                &entity(&f.spec),
                &spec_json(&f.spec)?,
                &f.spec.trigger_slug(),
                &status(f.enabled),
                &f.dry_run,
            ],
        )
        .await?;
    rule(&row)
}

fn entity(spec: &RuleSpec) -> &'static str {
    match spec.entity_type {
        crate::domain::rule::EntityType::Campaign => "CAMPAIGN",
        crate::domain::rule::EntityType::Ad => "AD",
    }
}

fn status(enabled: bool) -> &'static str {
    if enabled { "ENABLED" } else { "DISABLED" }
}

pub async fn get(t: &impl Tx, id: Uuid) -> Result<Option<Rule>, AppError> {
    t.tx()
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM optimization_rules WHERE id = $1 AND deleted_at IS NULL"
            ),
            &[&id],
        )
        .await?
        .as_ref()
        .map(rule)
        .transpose()
}

/// The tenant's rules, newest first, one page; only one campaign's when asked.
pub async fn list(
    t: &Tenant<'_>,
    campaign: Option<Uuid>,
    page: &PageRequest,
) -> Result<Vec<Rule>, AppError> {
    let mut q = Statement::new(format!(
        "SELECT {COLUMNS} FROM optimization_rules WHERE deleted_at IS NULL"
    ));
    let user = q.bind(t.user().0);
    q.push(&format!(" AND user_id = {user}"));
    if let Some(c) = campaign {
        let p = q.bind(c);
        q.push(&format!(" AND campaign_id = {p}"));
    }
    q.page(page);
    t.tx.query(&q.sql, &q.params())
        .await?
        .iter()
        .map(rule)
        .collect()
}

/// Replaces the rule's fields (bumping its version) if it is still at `version`; None
/// when it is gone, `Err(Conflict)` when someone changed it first.
pub async fn update(
    t: &Tenant<'_>,
    id: Uuid,
    f: &RuleFields,
    version: Option<i32>,
) -> Result<Option<Rule>, AppError> {
    let row = t
        .tx
        .query_opt(
            &format!(
                "UPDATE optimization_rules SET campaign_id = $2, name = $3, entity_type = $4, spec = $5, \
                        trigger_condition = $6, status = $7, dry_run = $8, version = version + 1, \
                        disabled_reason = CASE WHEN $7 = 'ENABLED' THEN NULL ELSE disabled_reason END \
                  WHERE id = $1 AND deleted_at IS NULL AND ($9::int IS NULL OR version = $9) \
                  RETURNING {COLUMNS}"
            ),
            &[
                &id,
                &f.campaign_id,
                &f.name,
                &entity(&f.spec),
                &spec_json(&f.spec)?,
                &f.spec.trigger_slug(),
                &status(f.enabled),
                &f.dry_run,
                &version,
            ],
        )
        .await?;
    match row {
        Some(r) => rule(&r).map(Some),
        None if get(t, id).await?.is_some() => Err(AppError::Conflict {
            code: "version_mismatch",
            detail: "The rule was changed since you read it; read it again.".into(),
        }),
        None => Ok(None),
    }
}

/// Soft-deletes the rule; false when there was none.
pub async fn delete(t: &Tenant<'_>, id: Uuid) -> Result<bool, AppError> {
    Ok(t.tx
        .execute(
            "UPDATE optimization_rules SET deleted_at = now(), status = 'DISABLED' \
             WHERE id = $1 AND deleted_at IS NULL",
            &[&id],
        )
        .await?
        == 1)
}

/// Turns a rule off by itself (its circuit breaker), saying why; false when it was off.
pub async fn disable(t: &impl Tx, id: Uuid, why: &str) -> Result<bool, AppError> {
    Ok(t.tx()
        .execute(
            "UPDATE optimization_rules SET status = 'DISABLED', disabled_reason = $2 \
              WHERE id = $1 AND status = 'ENABLED'",
            &[&id, &why],
        )
        .await?
        == 1)
}

/// The owner's enabled rules that run on `trigger` (hourly, daily or sync).
pub async fn enabled_for(t: &impl Tx, user: Uuid, trigger: &str) -> Result<Vec<Rule>, AppError> {
    let schedule = match trigger {
        "hourly" => "HOURLY",
        "daily" => "DAILY",
        _ => "AFTER_SYNC",
    };
    t.tx()
        .query(
            &format!(
                "SELECT {COLUMNS} FROM optimization_rules WHERE user_id = $1 AND status = 'ENABLED' \
                   AND deleted_at IS NULL AND coalesce(spec->'schedule_spec'->>'schedule_type', 'DAILY') = $2 \
                 ORDER BY created_at, id"
            ),
            &[&user, &schedule],
        )
        .await?
        .iter()
        .map(rule)
        .collect()
}

/// Writes a campaign's preset rules (`shared::rules::presets`): new ones are added,
/// untouched ones (version 1) follow changed goals, and ones the owner changed or
/// deleted stay as the owner left them.
pub async fn ensure_presets(
    t: &impl Tx,
    user: Uuid,
    campaign: Uuid,
    presets: &[crate::rules::presets::Preset],
) -> Result<(), AppError> {
    for p in presets {
        t.tx()
            .execute(
                "INSERT INTO optimization_rules (user_id, campaign_id, name, entity_type, spec, trigger_condition, preset) \
                 VALUES ($1, $2, $3, $4, $5, $6::text, $6::text) \
                 ON CONFLICT (campaign_id, preset) WHERE preset IS NOT NULL DO UPDATE \
                    SET spec = EXCLUDED.spec, entity_type = EXCLUDED.entity_type \
                  WHERE optimization_rules.version = 1 AND optimization_rules.deleted_at IS NULL \
                    AND optimization_rules.spec IS DISTINCT FROM EXCLUDED.spec",
                &[&user, &campaign, &p.name, &entity(&p.spec), &spec_json(&p.spec)?, &p.slug],
            )
            .await?;
    }
    Ok(())
}
