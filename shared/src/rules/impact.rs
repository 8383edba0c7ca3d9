//! What an applied action changed, measured afterwards: the same metrics over a window
//! of equal length before and after the action, as `performance_change`, and one plain
//! sentence for the owner ("cost per result fell from ₹412.00 to ₹305.00 after the
//! budget rose 20 %"). Judged on the metric that has data on both sides: cost per
//! result, else ROAS, else CTR.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::evaluate::value_of;
use crate::domain::metrics::Sums;
use crate::domain::rule::Metric;

fn money(v: Decimal, currency: &str) -> String {
    let v = v.round_dp(2);
    match currency {
        "INR" => format!("₹{v:.2}"),
        "USD" => format!("${v:.2}"),
        "EUR" => format!("€{v:.2}"),
        other => format!("{other} {v:.2}"),
    }
}

fn pct(before: Decimal, after: Decimal) -> Option<Decimal> {
    (!before.is_zero()).then(|| ((after - before) / before * Decimal::from(100)).round_dp(1))
}

fn figures(s: &Sums) -> Value {
    json!({
        "spend": s.spend, "impressions": s.impressions, "clicks": s.clicks,
        "conversions": s.conversions, "conversion_value": s.conversion_value,
        "cpa": value_of(s, Metric::Cpa).map(|v| v.round_dp(2)),
        "roas": value_of(s, Metric::Roas).map(|v| v.round_dp(2)),
        "ctr": value_of(s, Metric::Ctr).map(|v| v.round_dp(4)),
    })
}

/// What the action was, in words: "the budget rose 20 %", "the campaign was paused".
pub fn action_words(after_values: &Value) -> String {
    match after_values["action"].as_str() {
        Some("budget") => {
            let from: Option<Decimal> = after_values["from"].as_str().and_then(|s| s.parse().ok());
            let to: Option<Decimal> = after_values["to"].as_str().and_then(|s| s.parse().ok());
            match (from, to) {
                (Some(f), Some(t)) if !f.is_zero() => {
                    let p = ((t - f) / f * Decimal::from(100)).round_dp(0);
                    if p >= Decimal::ZERO {
                        format!("the budget rose {p} %")
                    } else {
                        format!("the budget fell {} %", -p)
                    }
                }
                _ => "the budget changed".into(),
            }
        }
        Some("pause") => "it was paused".into(),
        Some("unpause") => "it was resumed".into(),
        Some("creative_refresh") => "the creative was refreshed".into(),
        Some("audience_expansion") => "the audience widened".into(),
        _ => "the change".into(),
    }
}

/// `performance_change` and `impact_description` of an action.
pub fn measure(
    before: &Sums,
    after: &Sums,
    days: i64,
    currency: &str,
    action: &str,
) -> (Value, String) {
    let change = json!({
        "window_days": days,
        "before": figures(before),
        "after": figures(after),
        "change_pct": {
            "spend": pct(before.spend, after.spend),
            "cpa": value_of(before, Metric::Cpa).zip(value_of(after, Metric::Cpa)).and_then(|(b, a)| pct(b, a)),
            "roas": value_of(before, Metric::Roas).zip(value_of(after, Metric::Roas)).and_then(|(b, a)| pct(b, a)),
            "ctr": value_of(before, Metric::Ctr).zip(value_of(after, Metric::Ctr)).and_then(|(b, a)| pct(b, a)),
        }
    });
    let verb = |b: Decimal, a: Decimal| {
        if a < b {
            "fell"
        } else if a > b {
            "rose"
        } else {
            "stayed"
        }
    };
    let sentence = if let (Some(b), Some(a)) =
        (value_of(before, Metric::Cpa), value_of(after, Metric::Cpa))
    {
        format!(
            "Cost per result {} from {} to {} after {action}.",
            verb(b, a),
            money(b, currency),
            money(a, currency)
        )
    } else if let (Some(b), Some(a)) = (
        value_of(before, Metric::Roas),
        value_of(after, Metric::Roas),
    ) {
        format!(
            "ROAS {} from {:.2} to {:.2} after {action}.",
            verb(b, a),
            b.round_dp(2),
            a.round_dp(2)
        )
    } else if let (Some(b), Some(a)) = (value_of(before, Metric::Ctr), value_of(after, Metric::Ctr))
    {
        let (b, a) = (b * Decimal::from(100), a * Decimal::from(100));
        format!(
            "CTR {} from {:.2} % to {:.2} % after {action}.",
            verb(b, a),
            b.round_dp(2),
            a.round_dp(2)
        )
    } else {
        format!("Not enough delivery on both sides of {action} to measure its effect.")
    };
    (change, sentence)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(impressions: i64, clicks: i64, spend: &str, conversions: i64, value: &str) -> Sums {
        Sums {
            impressions,
            clicks,
            spend: spend.parse().unwrap(),
            conversions,
            conversion_value: value.parse().unwrap(),
        }
    }

    #[test]
    fn the_effect_reads_as_one_sentence_with_the_numbers_behind_it() {
        let action = action_words(&json!({"action": "budget", "from": "1000.00", "to": "1200.00"}));
        assert_eq!(action, "the budget rose 20 %");
        let (change, sentence) = measure(
            &sums(30_000, 600, "4120", 10, "20000"),
            &sums(36_000, 700, "4880", 16, "26000"),
            3,
            "INR",
            &action,
        );
        assert_eq!(
            sentence,
            "Cost per result fell from ₹412.00 to ₹305.00 after the budget rose 20 %."
        );
        assert_eq!(change["change_pct"]["cpa"], "-26.0");
        assert_eq!(change["before"]["conversions"], 10);
        let (_, none) = measure(
            &Sums::default(),
            &Sums::default(),
            3,
            "INR",
            "it was paused",
        );
        assert_eq!(
            none,
            "Not enough delivery on both sides of it was paused to measure its effect."
        );
    }
}
