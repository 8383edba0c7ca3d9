//! Rules a campaign gets from its goals without writing any (when AI optimization is on):
//! scale a campaign whose ROAS held above target (4× by default) for three days
//! (`roas_above_4x_3_days`, +20 % a day at most, never above the goal's maximum budget);
//! trim one whose cost per result is, beyond doubt, above the target CPA
//! (`cpa_above_target_7_days`, −20 %); and refresh a creative whose CTR has really
//! fallen 15 % week on week (`ctr_decline_15_percent`: its ad paused for the best
//! creative of the library the campaign has not used). Each is an ordinary rule the owner can preview,
//! change or turn off; untouched ones follow the goals when they change.

use rust_decimal::Decimal;
use serde_json::json;

use crate::domain::rule::RuleSpec;

/// The goals presets read (the campaign's `optimization_goals`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Goals {
    /// Cost per result the owner aims at, INR.
    pub target_cpa: Option<Decimal>,
    /// Return on ad spend the owner aims at.
    pub target_roas: Option<Decimal>,
    /// The most the owner will spend per day.
    pub max_daily_budget: Option<Decimal>,
}

impl Goals {
    /// The goals in `optimization_goals`; a missing, non-positive or unreadable goal is none.
    pub fn from_json(v: &serde_json::Value) -> Self {
        let dec = |k: &str| -> Option<Decimal> {
            match &v[k] {
                serde_json::Value::String(s) => s.parse().ok(),
                serde_json::Value::Number(n) => n.to_string().parse().ok(),
                _ => None,
            }
            .filter(|d: &Decimal| *d > Decimal::ZERO)
        };
        Self {
            target_cpa: dec("target_cpa"),
            target_roas: dec("target_roas"),
            max_daily_budget: dec("max_daily_budget"),
        }
    }
}

/// A preset: its slug (kept as `preset` and `trigger_condition`), name and body.
pub struct Preset {
    /// Kept as the rule's `preset` and `trigger_condition` (`roas_above_4x_3_days`).
    pub slug: &'static str,
    /// The rule's name as created.
    pub name: &'static str,
    /// The rule's body.
    pub spec: RuleSpec,
}

fn spec(v: serde_json::Value) -> RuleSpec {
    serde_json::from_value(v).expect("presets are valid rule specs")
}

/// The presets for these goals.
pub fn for_goals(g: &Goals) -> Vec<Preset> {
    let roas = g.target_roas.unwrap_or(Decimal::from(4));
    let mut change = json!({"amount": "20", "unit": "PERCENTAGE"});
    if let Some(max) = g.max_daily_budget {
        change["limit"] = json!(max.to_string());
    }
    let mut out = vec![Preset {
        slug: "roas_above_4x_3_days",
        name: "Scale when ROAS holds above target",
        spec: spec(json!({
            "entity_type": "CAMPAIGN",
            "evaluation_spec": {"filters": [
                {"field": "roas", "operator": "GREATER_THAN", "value": roas.to_string(), "time_preset": "LAST_3D"}
            ]},
            "execution_spec": {"execution_type": "CHANGE_BUDGET", "change_spec": change, "action_frequency": 1440},
            "schedule_spec": {"schedule_type": "DAILY"}
        })),
    }];
    if let Some(cpa) = g.target_cpa {
        out.push(Preset {
            slug: "cpa_above_target_7_days",
            name: "Trim when cost per result is above target",
            spec: spec(json!({
                "entity_type": "CAMPAIGN",
                "evaluation_spec": {"filters": [
                    {"field": "cpa", "operator": "GREATER_THAN", "value": cpa.to_string(), "time_preset": "LAST_7D"}
                ]},
                "execution_spec": {"execution_type": "CHANGE_BUDGET",
                                   "change_spec": {"amount": "-20", "unit": "PERCENTAGE"}, "action_frequency": 4320},
                "schedule_spec": {"schedule_type": "DAILY"}
            })),
        });
    }
    out.push(Preset {
        slug: "ctr_decline_15_percent",
        name: "Refresh a creative that tires",
        spec: spec(json!({
            "entity_type": "AD",
            "evaluation_spec": {"filters": [
                {"field": "ctr", "operator": "CHANGED_BY_PCT", "value": -15, "time_preset": "LAST_7D"}
            ]},
            "execution_spec": {"execution_type": "CREATIVE_REFRESH", "action_frequency": 10080},
            "schedule_spec": {"schedule_type": "DAILY"}
        })),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Fields;

    #[test]
    fn goals_give_valid_rules_named_by_their_slugs() {
        let g = Goals::from_json(
            &json!({"target_cpa": "400.00", "target_roas": "3.5", "max_daily_budget": "5000"}),
        );
        let presets = for_goals(&g);
        let slugs: Vec<_> = presets.iter().map(|p| p.slug).collect();
        assert_eq!(
            slugs,
            [
                "roas_above_4x_3_days",
                "cpa_above_target_7_days",
                "ctr_decline_15_percent"
            ]
        );
        for p in &presets {
            let mut f = Fields::default();
            p.spec.check(&mut f);
            assert!(f.finish().is_ok(), "{}", p.slug);
        }
        let scale = &presets[0].spec;
        assert_eq!(scale.trigger_slug(), "roas_greater_than_3.5_last_3d");
        assert_eq!(
            scale.execution_spec.change_spec.as_ref().unwrap().limit,
            Some(Decimal::from(5000))
        );
        assert_eq!(
            for_goals(&Goals::default()).len(),
            2,
            "no CPA preset without a target CPA"
        );
    }
}
