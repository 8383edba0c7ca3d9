//! Judging a rule on every entity it looks at, now: for each campaign in scope (and,
//! for AD rules, each running creative) the windows it reads, the evaluation, the
//! guards, and the decision — with the window the decision is about, so the same rule,
//! entity and window act at most once. Reads only; the preview shows it and the
//! optimizer acts on it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use shared::db::Tx;
use shared::domain::rule::EntityType;
use shared::error::AppError;
use shared::repo::optimizer_facts::{self, CampaignState};
use shared::repo::rules::Rule;
use shared::rules::evaluate::{self, Evaluation, Facts, WindowKey};
use shared::rules::guards::{self, Change, Decision, Situation};
use uuid::Uuid;

/// One entity judged.
#[derive(Clone, Debug, Serialize)]
pub struct Judgement {
    pub campaign_id: Uuid,
    pub campaign_name: String,
    /// The creative, for AD rules.
    pub asset_id: Option<Uuid>,
    #[serde(flatten)]
    pub decision: Decision,
    /// The days the rule read (its first window), which the decision is about.
    pub window: String,
    pub evaluation: Evaluation,
}

fn window_label(keys: &[WindowKey], c: &CampaignState) -> String {
    keys.iter()
        .find(|k| !k.previous)
        .map(|k| {
            let (from, to) = optimizer_facts::days_of(*k, c.today, c.first_day);
            format!("{from}..{to}")
        })
        .unwrap_or_else(|| c.today.to_string())
}

/// A creative refresh with the replacement it would use: the library's best unused
/// creative, else one generated with credits when the rule allows it, else the skip.
async fn with_replacement(t: &impl Tx, rule: &Rule, campaign: Uuid) -> Result<Decision, AppError> {
    let generate = rule
        .spec
        .execution_spec
        .refresh_spec
        .as_ref()
        .is_some_and(|r| r.allow_generation);
    Ok(
        match optimizer_facts::best_unused_creative(t, rule.user_id, campaign).await? {
            Some(replacement) => Decision::Act {
                change: Change::CreativeRefresh {
                    replacement: Some(replacement),
                    generate: false,
                },
            },
            None if generate => Decision::Act {
                change: Change::CreativeRefresh {
                    replacement: None,
                    generate: true,
                },
            },
            None => Decision::Skip {
                reason: guards::Skip::NoReplacement,
                detail: None,
            },
        },
    )
}

/// Every decision `rule` would make now (on one ad account's campaigns when given).
pub async fn judge(
    t: &impl Tx,
    rule: &Rule,
    ad_account: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<Judgement>, AppError> {
    let keys = evaluate::windows_needed(&rule.spec);
    let with_reach = evaluate::reads_reach(&rule.spec);
    let mut out = Vec::new();
    let scope =
        optimizer_facts::campaigns_in_scope(t, rule.user_id, rule.campaign_id, ad_account, now)
            .await?;
    for c in scope {
        let entities: Vec<Option<Uuid>> = match rule.spec.entity_type {
            EntityType::Campaign => vec![None],
            EntityType::Ad => optimizer_facts::active_creatives(t, c.id)
                .await?
                .into_iter()
                .map(Some)
                .collect(),
        };
        for asset in entities {
            let facts = Facts {
                windows: optimizer_facts::windows(t, &c, asset, &keys).await?,
                reach: match (with_reach, asset) {
                    (true, None) => optimizer_facts::reach(t, &c, &keys).await?,
                    _ => Default::default(),
                },
                daily_budget: c.daily_budget,
                hours_since_launch: c.hours_since_launch(now),
            };
            let evaluation = evaluate::evaluate(&rule.spec, &facts);
            let situation = Situation {
                now,
                automation_enabled: c.ai_optimization_enabled,
                status: c.status.clone(),
                approval_status: c.approval_status.clone(),
                launched: c.meta_campaign_id.is_some(),
                creative_active: asset.map(|_| true),
                last_synced_at: c.last_synced_at,
                last_significant_edit: c.last_significant_edit,
                last_applied_by_rule: optimizer_facts::last_applied(t, rule.id, c.id, asset)
                    .await?,
                changes_last_day: c.changes_last_day,
                daily_budget: c.daily_budget,
                max_daily_budget: c.max_daily_budget,
                meta_learning_stage: c.meta_learning_stage.clone(),
                account_budget_cap: c.account_budget_cap,
                account_other_budgets: c.account_other_budgets,
                audience: c.audience.clone(),
            };
            let decision = match guards::decide(&rule.spec, &evaluation, &situation) {
                Decision::Act {
                    change: Change::CreativeRefresh { .. },
                } => with_replacement(t, rule, c.id).await?,
                other => other,
            };
            out.push(Judgement {
                campaign_id: c.id,
                campaign_name: c.name.clone(),
                asset_id: asset,
                decision,
                window: window_label(&keys, &c),
                evaluation,
            });
        }
    }
    Ok(out)
}
