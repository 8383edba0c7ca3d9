//! From a judged rule to a decision on one entity: every guard is a named skip reason,
//! checked in a fixed order — the owner's switch (AI optimization off), the campaign's
//! state (review, rejection, not launched),
//! stale data (no sync for 3 hours), the conditions themselves (held, failed, or not
//! judgeable on small numbers), the learning phase (no significant change within 72
//! hours of the last significant edit), the rule's cooldown, two changes per campaign a
//! day, and budget steps and ceilings (+20 % by default, never beyond ±30 % a step or
//! above the goal's maximum or the account-wide cap). What survives is the change to make.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::evaluate::{Evaluation, Truth};
use crate::domain::rule::{ChangeUnit, ExecutionType, MAX_STEP_PCT, RuleSpec};

/// No action on data older than this.
pub const STALE_AFTER_HOURS: i64 = 3;
/// No significant change this soon after the last significant edit.
pub const LEARNING_HOURS: i64 = 72;
/// Changes the optimizer makes to one campaign in a day, at most.
pub const MAX_CHANGES_PER_DAY: i64 = 2;

/// Why a rule did not act on an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// The owner turned AI optimization off for the campaign.
    AutomationOff,
    /// The campaign is not on Meta yet.
    NotLaunched,
    /// Meta is still reviewing it.
    InReview,
    /// Meta rejected it.
    Rejected,
    /// The last sync is more than `STALE_AFTER_HOURS` old.
    StaleData,
    /// The rule's conditions do not hold.
    ConditionsNotMet,
    /// The conditions could not be judged; the inner reason says why (no_data,
    /// insufficient_impressions, no_conversions, no_baseline, not_significant).
    NotEnoughData,
    /// A significant edit while Meta is learning, or within `LEARNING_HOURS` of the last one.
    LearningPhase,
    /// This rule acted on the entity less than its action frequency ago.
    Cooldown,
    /// `MAX_CHANGES_PER_DAY` changes already today.
    DailyChangeLimit,
    /// The budget step leaves nothing to change (at the ceiling or the floor).
    AtBudgetLimit,
    /// A pause on something not running.
    AlreadyPaused,
    /// An unpause on something running.
    AlreadyActive,
    /// A budget rule on a campaign without a daily budget.
    NoBudget,
    /// A creative refresh found no active creative in the library the campaign has not
    /// used.
    NoReplacement,
    /// The audience is already as wide as the rule's bounds allow.
    AudienceAtBounds,
}

impl Skip {
    /// The reason as stored and shown (`learning_phase`).
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::AutomationOff => "automation_off",
            Skip::NotLaunched => "not_launched",
            Skip::InReview => "in_review",
            Skip::Rejected => "rejected",
            Skip::StaleData => "stale_data",
            Skip::ConditionsNotMet => "conditions_not_met",
            Skip::NotEnoughData => "not_enough_data",
            Skip::LearningPhase => "learning_phase",
            Skip::Cooldown => "cooldown",
            Skip::DailyChangeLimit => "daily_change_limit",
            Skip::AtBudgetLimit => "at_budget_limit",
            Skip::AlreadyPaused => "already_paused",
            Skip::AlreadyActive => "already_active",
            Skip::NoBudget => "no_budget",
            Skip::NoReplacement => "no_replacement",
            Skip::AudienceAtBounds => "audience_at_bounds",
        }
    }
}

/// What the guards need to know of the entity and the clock.
#[derive(Clone, Debug)]
pub struct Situation {
    /// When the rule is judged.
    pub now: DateTime<Utc>,
    /// Whether the owner lets the optimizer act on this campaign.
    pub automation_enabled: bool,
    /// Our campaign status: active, paused, review, …
    pub status: String,
    /// Meta's review status of the campaign's ads.
    pub approval_status: String,
    /// Whether it is on Meta.
    pub launched: bool,
    /// For AD rules: whether the creative is running.
    pub creative_active: Option<bool>,
    /// When its insights were last synced.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// The last edit that resets Meta's learning (ours or the owner's).
    pub last_significant_edit: Option<DateTime<Utc>>,
    /// When this rule last acted on it.
    pub last_applied_by_rule: Option<DateTime<Utc>>,
    /// Changes the optimizer made to it in the last day.
    pub changes_last_day: i64,
    /// Its daily budget now.
    pub daily_budget: Option<Decimal>,
    /// The owner's goal's highest daily budget.
    pub max_daily_budget: Option<Decimal>,
    /// Meta's learning stage of the ad set (LEARNING, SUCCESS, FAIL), when Meta gives it.
    pub meta_learning_stage: Option<String>,
    /// The owner's cap on the ad account's daily budgets together, and the other live
    /// campaigns' share of it.
    pub account_budget_cap: Option<Decimal>,
    /// The other live campaigns' daily budgets on the account, together.
    pub account_other_budgets: Decimal,
    /// The campaign's audience as launched (for AUDIENCE_EXPANSION).
    pub audience: Option<crate::domain::campaign::TargetAudience>,
}

impl Situation {
    /// Why the campaign counts as learning: Meta says so, or a significant edit (ours or
    /// the owner's) is less than 72 hours old.
    pub fn learning(&self) -> Option<&'static str> {
        if self.meta_learning_stage.as_deref() == Some("LEARNING") {
            return Some("meta_learning_stage");
        }
        self.last_significant_edit
            .is_some_and(|at| self.now - at < Duration::hours(LEARNING_HOURS))
            .then_some("recent_significant_edit")
    }

    /// The highest daily budget the goal and the account-wide cap allow.
    pub fn budget_ceiling(&self) -> Option<Decimal> {
        let account = self
            .account_budget_cap
            .map(|cap| (cap - self.account_other_budgets).max(Decimal::ZERO));
        match (self.max_daily_budget, account) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// What a rule would do to an entity.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Change {
    /// Pause the campaign (or the ad).
    Pause,
    /// Resume it.
    Unpause,
    /// Set the daily budget.
    Budget {
        /// The budget now.
        from: Decimal,
        /// The budget after.
        to: Decimal,
    },
    /// The tired creative's ad paused for `replacement`'s, the best creative of the
    /// owner's library the campaign has not used (chosen when the rule is judged) — or,
    /// when the library has none and the owner allowed it, for a creative generated with
    /// the owner's credits (`generate`), swapped in once it is made.
    CreativeRefresh {
        /// The creative swapped in; none while it is being generated.
        replacement: Option<uuid::Uuid>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        /// A creative is generated (with the owner's credits) for the swap.
        generate: bool,
    },
    /// The audience after the step, and what widened.
    AudienceExpansion {
        /// The audience after the step.
        audience: crate::domain::campaign::TargetAudience,
        /// The parts that widened (`advantage_audience`, `age_min`, `age_max`, …).
        widened: Vec<String>,
    },
    /// Tell the owner; change nothing.
    Notify,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
/// What the guards decided for one entity.
pub enum Decision {
    /// Make the change.
    Act {
        /// The change.
        change: Change,
    },
    /// Do nothing, for a reason.
    Skip {
        /// Which guard stopped it.
        reason: Skip,
        /// More about why (the unjudged condition's reason, the learning signal).
        detail: Option<String>,
    },
}

fn skip(reason: Skip) -> Decision {
    Decision::Skip {
        reason,
        detail: None,
    }
}

/// The new daily budget for `spec`'s change from `current`: the step clamped to ±30 %,
/// then kept under the rule's limit and the goal's maximum (or above the rule's floor),
/// rounded to the paisa; `AtBudgetLimit` when that leaves nothing to change.
pub fn new_budget(
    spec: &RuleSpec,
    current: Decimal,
    max_daily_budget: Option<Decimal>,
) -> Result<Decimal, Skip> {
    let change = spec
        .execution_spec
        .change_spec
        .as_ref()
        .ok_or(Skip::NoBudget)?;
    let max_step = current * Decimal::from(MAX_STEP_PCT) / Decimal::from(100);
    let step = match change.unit {
        ChangeUnit::Percentage => current * change.amount / Decimal::from(100),
        ChangeUnit::AccountCurrency => change.amount,
    }
    .clamp(-max_step, max_step);
    let mut to = current + step;
    if step > Decimal::ZERO {
        for ceiling in [change.limit, max_daily_budget].into_iter().flatten() {
            to = to.min(ceiling);
        }
    } else if let Some(floor) = change.limit {
        to = to.max(floor);
    }
    let to = to.round_dp(2);
    if to == current
        || (step > Decimal::ZERO && to < current)
        || (step < Decimal::ZERO && to > current)
    {
        return Err(Skip::AtBudgetLimit);
    }
    Ok(to)
}

/// The decision for one entity.
pub fn decide(spec: &RuleSpec, evaluation: &Evaluation, s: &Situation) -> Decision {
    if !s.automation_enabled {
        return skip(Skip::AutomationOff);
    }
    if !s.launched {
        return skip(Skip::NotLaunched);
    }
    if s.approval_status == "rejected" {
        return skip(Skip::Rejected);
    }
    if s.status == "review"
        || s.approval_status == "pending" && s.status != "active" && s.status != "paused"
    {
        return skip(Skip::InReview);
    }
    let stale = s
        .last_synced_at
        .is_none_or(|at| s.now - at > Duration::hours(STALE_AFTER_HOURS));
    if stale {
        return skip(Skip::StaleData);
    }
    match evaluation.truth {
        Truth::Fails => return skip(Skip::ConditionsNotMet),
        Truth::Unknown => {
            return Decision::Skip {
                reason: Skip::NotEnoughData,
                detail: evaluation.unknown_because().map(str::to_owned),
            };
        }
        Truth::Holds => {}
    }
    let kind = spec.execution_spec.execution_type;
    if kind.is_significant_edit()
        && let Some(why) = s.learning()
    {
        return Decision::Skip {
            reason: Skip::LearningPhase,
            detail: Some(why.to_owned()),
        };
    }
    if s.last_applied_by_rule
        .is_some_and(|at| s.now - at < Duration::minutes(spec.execution_spec.action_frequency))
    {
        return skip(Skip::Cooldown);
    }
    if kind != ExecutionType::Notification && s.changes_last_day >= MAX_CHANGES_PER_DAY {
        return skip(Skip::DailyChangeLimit);
    }
    let running = s.creative_active.unwrap_or(s.status == "active");
    let change = match kind {
        ExecutionType::Pause if !running => return skip(Skip::AlreadyPaused),
        ExecutionType::Pause => Change::Pause,
        ExecutionType::Unpause if running => return skip(Skip::AlreadyActive),
        ExecutionType::Unpause => Change::Unpause,
        ExecutionType::ChangeBudget => {
            let Some(current) = s.daily_budget else {
                return skip(Skip::NoBudget);
            };
            match new_budget(spec, current, s.budget_ceiling()) {
                Ok(to) => Change::Budget { from: current, to },
                Err(reason) => return skip(reason),
            }
        }
        ExecutionType::CreativeRefresh => Change::CreativeRefresh {
            replacement: None,
            generate: false,
        },
        ExecutionType::AudienceExpansion => {
            let bounds = spec
                .execution_spec
                .audience_spec
                .clone()
                .unwrap_or_default();
            match super::audience::widen(s.audience.as_ref(), &bounds) {
                Some((audience, widened)) => Change::AudienceExpansion { audience, widened },
                None => return skip(Skip::AudienceAtBounds),
            }
        }
        ExecutionType::Notification => Change::Notify,
    };
    Decision::Act { change }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(execution: serde_json::Value) -> RuleSpec {
        serde_json::from_value(json!({
            "entity_type": "CAMPAIGN",
            "evaluation_spec": {"filters": [{"field": "roas", "operator": "GREATER_THAN", "value": 4}]},
            "execution_spec": execution
        }))
        .unwrap()
    }

    fn raise(amount: &str, unit: &str, limit: Option<&str>) -> RuleSpec {
        spec(json!({"execution_type": "CHANGE_BUDGET",
                    "change_spec": {"amount": amount, "unit": unit, "limit": limit}}))
    }

    fn holds() -> Evaluation {
        Evaluation {
            truth: Truth::Holds,
            readings: vec![],
        }
    }

    fn situation() -> Situation {
        let now: DateTime<Utc> = "2026-12-01T12:00:00Z".parse().unwrap();
        Situation {
            now,
            automation_enabled: true,
            status: "active".into(),
            approval_status: "approved".into(),
            launched: true,
            creative_active: None,
            last_synced_at: Some(now - Duration::minutes(40)),
            last_significant_edit: Some(now - Duration::days(5)),
            last_applied_by_rule: None,
            changes_last_day: 0,
            daily_budget: Some(Decimal::from(1000)),
            max_daily_budget: None,
            meta_learning_stage: Some("SUCCESS".into()),
            account_budget_cap: None,
            account_other_budgets: Decimal::ZERO,
            audience: None,
        }
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn budget_steps_are_clamped_to_thirty_percent_and_kept_under_ceilings() {
        assert_eq!(
            new_budget(&raise("20", "PERCENTAGE", None), d("1000"), None),
            Ok(d("1200"))
        );
        assert_eq!(
            new_budget(&raise("80", "PERCENTAGE", None), d("1000"), None),
            Ok(d("1300"))
        );
        assert_eq!(
            new_budget(&raise("-50", "PERCENTAGE", None), d("1000"), None),
            Ok(d("700"))
        );
        assert_eq!(
            new_budget(&raise("500", "ACCOUNT_CURRENCY", None), d("1000"), None),
            Ok(d("1300"))
        );
        assert_eq!(
            new_budget(&raise("20", "PERCENTAGE", Some("1100")), d("1000"), None),
            Ok(d("1100"))
        );
        assert_eq!(
            new_budget(&raise("20", "PERCENTAGE", None), d("1000"), Some(d("1050"))),
            Ok(d("1050"))
        );
        assert_eq!(
            new_budget(&raise("20", "PERCENTAGE", None), d("1000"), Some(d("1000"))),
            Err(Skip::AtBudgetLimit)
        );
        assert_eq!(
            new_budget(&raise("20", "PERCENTAGE", None), d("1200"), Some(d("1000"))),
            Err(Skip::AtBudgetLimit),
            "never lowered by a rule that raises"
        );
        assert_eq!(
            new_budget(&raise("-20", "PERCENTAGE", Some("900")), d("1000"), None),
            Ok(d("900"))
        );
    }

    #[test]
    fn each_guard_is_a_named_skip_in_order() {
        let rule = raise("20", "PERCENTAGE", None);
        let act = decide(&rule, &holds(), &situation());
        assert_eq!(
            act,
            Decision::Act {
                change: Change::Budget {
                    from: d("1000"),
                    to: d("1200")
                }
            }
        );
        let with = |f: &dyn Fn(&mut Situation)| {
            let mut s = situation();
            f(&mut s);
            match decide(&rule, &holds(), &s) {
                Decision::Skip { reason, .. } => reason,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(with(&|s| s.automation_enabled = false), Skip::AutomationOff);
        assert_eq!(with(&|s| s.launched = false), Skip::NotLaunched);
        assert_eq!(
            with(&|s| s.approval_status = "rejected".into()),
            Skip::Rejected
        );
        assert_eq!(with(&|s| s.status = "review".into()), Skip::InReview);
        assert_eq!(
            with(&|s| s.last_synced_at = Some(s.now - Duration::hours(4))),
            Skip::StaleData
        );
        assert_eq!(with(&|s| s.last_synced_at = None), Skip::StaleData);
        assert_eq!(
            with(&|s| s.last_significant_edit = Some(s.now - Duration::hours(71))),
            Skip::LearningPhase
        );
        assert_eq!(
            with(&|s| s.last_applied_by_rule = Some(s.now - Duration::hours(2))),
            Skip::Cooldown
        );
        assert_eq!(with(&|s| s.changes_last_day = 2), Skip::DailyChangeLimit);
        assert_eq!(with(&|s| s.daily_budget = None), Skip::NoBudget);
        assert_eq!(
            with(&|s| s.meta_learning_stage = Some("LEARNING".into())),
            Skip::LearningPhase
        );
        assert_eq!(
            with(&|s| {
                s.account_budget_cap = Some(d("5000"));
                s.account_other_budgets = d("4000");
            }),
            Skip::AtBudgetLimit,
            "the account's other campaigns already use its cap"
        );
    }

    #[test]
    fn the_learning_phase_is_metas_word_or_a_recent_significant_edit() {
        let mut s = situation();
        assert_eq!(s.learning(), None);
        s.meta_learning_stage = Some("LEARNING".into());
        assert_eq!(s.learning(), Some("meta_learning_stage"));
        s.meta_learning_stage = Some("FAIL".into());
        assert_eq!(s.learning(), None, "learning limited is not learning");
        s.meta_learning_stage = None;
        s.last_significant_edit = Some(s.now - Duration::hours(10));
        assert_eq!(s.learning(), Some("recent_significant_edit"));
    }

    #[test]
    fn a_budget_rise_stops_at_the_account_wide_cap() {
        let rule = raise("30", "PERCENTAGE", None);
        let mut s = situation();
        s.account_budget_cap = Some(d("3100"));
        s.account_other_budgets = d("2000");
        assert_eq!(
            decide(&rule, &holds(), &s),
            Decision::Act {
                change: Change::Budget {
                    from: d("1000"),
                    to: d("1100")
                }
            }
        );
        s.max_daily_budget = Some(d("1050"));
        assert_eq!(s.budget_ceiling(), Some(d("1050")));
    }

    #[test]
    fn a_rule_that_cannot_be_judged_says_why_and_pausing_is_not_a_learning_reset() {
        let pause = spec(json!({"execution_type": "PAUSE"}));
        let unknown = Evaluation {
            truth: Truth::Unknown,
            readings: vec![],
        };
        assert_eq!(
            decide(&pause, &unknown, &situation()),
            Decision::Skip {
                reason: Skip::NotEnoughData,
                detail: None
            }
        );
        let mut s = situation();
        s.last_significant_edit = Some(s.now - Duration::hours(1));
        assert_eq!(
            decide(&pause, &holds(), &s),
            Decision::Act {
                change: Change::Pause
            }
        );
        s.status = "paused".into();
        assert_eq!(
            decide(&pause, &holds(), &s),
            Decision::Skip {
                reason: Skip::AlreadyPaused,
                detail: None
            }
        );
    }
}
