//! Judging a rule's conditions on an entity's numbers, three-valued: a condition holds,
//! does not, or cannot be judged yet — a missing metric (no conversions, no spend), too
//! few impressions behind a ratio, a trend that is not significant. Only a rule whose
//! conditions all hold acts; one that cannot be judged is skipped with the reason of its
//! first unjudgeable condition. Every reading keeps its value, its target and the
//! denominators behind it, for the decision log.

use std::collections::HashMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::Serialize;

use super::stats::{poisson_upper, probability_lower};
use crate::domain::metrics::{Reach, Sums};
use crate::domain::rule::{Condition, Filter, Metric, Operator, RuleSpec, Target, TimePreset};

/// Ratios (ctr, cpc, cpa, roas) are not judged on fewer impressions in a window.
pub const MIN_IMPRESSIONS: i64 = 1000;
/// How sure a trend or a cost must be before the optimizer acts on it.
pub const CONFIDENCE: f64 = 0.95;

/// One window of insights a condition reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WindowKey {
    /// The window's length and end (`LAST_3D`, `LAST_7D`, …).
    pub preset: TimePreset,
    /// Whether today (still incomplete) is in it.
    pub include_today: bool,
    /// The window of equal length just before (for trends).
    pub previous: bool,
}

/// What is known of one entity: its windows' sums (and, for a campaign, its reach per
/// window as Meta counted it) and its own attributes.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// Sums per window read.
    pub windows: HashMap<WindowKey, Sums>,
    /// The campaign's reach per window, as Meta counted it.
    pub reach: HashMap<WindowKey, Reach>,
    /// The entity's daily budget, for budget conditions.
    pub daily_budget: Option<Decimal>,
    /// Hours since launch, for age conditions.
    pub hours_since_launch: Option<Decimal>,
}

/// Every window the rule's conditions read.
pub fn windows_needed(spec: &RuleSpec) -> Vec<WindowKey> {
    let mut keys = Vec::new();
    for c in spec.conditions() {
        let mut reads = vec![c.field];
        if let Some(r) = &c.value_ref {
            reads.push(r.field);
        }
        if reads.iter().all(|m| m.is_attribute()) {
            continue;
        }
        let key = WindowKey {
            preset: c.time_preset,
            include_today: c.include_today,
            previous: false,
        };
        keys.push(key);
        if c.operator == Operator::ChangedByPct {
            keys.push(WindowKey {
                previous: true,
                ..key
            });
        }
    }
    keys.sort_by_key(|k| format!("{k:?}"));
    keys.dedup();
    keys
}

/// Whether any condition reads reach or frequency (then the campaign's reach per window
/// is looked up too).
pub fn reads_reach(spec: &RuleSpec) -> bool {
    spec.conditions()
        .iter()
        .any(|c| c.field.is_reach() || c.value_ref.as_ref().is_some_and(|r| r.field.is_reach()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
/// A condition's (or a rule's) verdict: unknown when the numbers cannot support one.
pub enum Truth {
    /// The condition is true.
    Holds,
    /// The condition is false.
    Fails,
    /// Not enough to judge (see `Reading::why`).
    Unknown,
}

/// One condition as judged, with the numbers behind it.
#[derive(Clone, Debug, Serialize)]
pub struct Reading {
    /// The condition as written (`roas_greater_than_4_last_3d`).
    pub condition: String,
    /// Its verdict.
    pub truth: Truth,
    /// Why it could not be judged: no_data, no_reach (not synced for the window),
    /// insufficient_impressions, no_conversions, no_baseline, not_significant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<&'static str>,
    /// The value read, when there is one.
    pub value: Option<Decimal>,
    /// What it was compared with.
    pub target: Option<String>,
    /// For trends: the previous window's value, the change in percent and the posterior
    /// probability of the direction asked for (rates only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The change against the previous window, in percent.
    pub change_pct: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The probability the change is real in the direction asked.
    pub probability: Option<f64>,
    /// For cost-per-result limits: the Poisson multiple spend had to exceed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poisson_m: Option<f64>,
    /// The denominators: the window's sums.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impressions: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Clicks in the window.
    pub clicks: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Conversions in the window.
    pub conversions: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Spend in the window.
    pub spend: Option<Decimal>,
    /// For reach and frequency: the people reached in the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reach: Option<i64>,
}

impl Reading {
    fn new(c: &Condition) -> Self {
        Self {
            condition: c.slug(),
            truth: Truth::Unknown,
            why: None,
            value: None,
            target: None,
            previous: None,
            change_pct: None,
            probability: None,
            poisson_m: None,
            impressions: None,
            clicks: None,
            conversions: None,
            spend: None,
            reach: None,
        }
    }

    fn unknown(mut self, why: &'static str) -> Self {
        self.truth = Truth::Unknown;
        self.why = Some(why);
        self
    }

    fn judged(mut self, holds: bool) -> Self {
        self.truth = if holds { Truth::Holds } else { Truth::Fails };
        self
    }

    fn with_reach(mut self, r: &Reach) -> Self {
        self.reach = Some(r.reach);
        self.impressions = Some(r.impressions);
        self
    }

    fn with_sums(mut self, s: &Sums) -> Self {
        self.impressions = Some(s.impressions);
        self.clicks = Some(s.clicks);
        self.conversions = Some(s.conversions);
        self.spend = Some(s.spend);
        self
    }
}

/// The rule judged on one entity.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    /// The top-level filters together: fails if one fails, else unknown if one is unknown.
    pub truth: Truth,
    /// Each condition's reading.
    pub readings: Vec<Reading>,
}

impl Evaluation {
    /// Why the rule could not be judged (the first unjudgeable condition's reason).
    pub fn unknown_because(&self) -> Option<&'static str> {
        (self.truth == Truth::Unknown)
            .then(|| self.readings.iter().find_map(|r| r.why))
            .flatten()
    }
}

fn ratio(n: Decimal, d: Decimal) -> Option<Decimal> {
    (!d.is_zero()).then(|| n / d)
}

/// A metric's exact value over a window; ratios missing when their divisor is zero.
pub fn value_of(s: &Sums, m: Metric) -> Option<Decimal> {
    let (imp, clicks, conv) = (
        Decimal::from(s.impressions),
        Decimal::from(s.clicks),
        Decimal::from(s.conversions),
    );
    match m {
        Metric::Spend => Some(s.spend),
        Metric::Impressions => Some(imp),
        Metric::Clicks => Some(clicks),
        Metric::Conversions => Some(conv),
        Metric::ConversionValue => Some(s.conversion_value),
        Metric::Ctr => ratio(clicks, imp),
        Metric::Cpc => ratio(s.spend, clicks),
        Metric::Cpa => ratio(s.spend, conv),
        Metric::Roas => ratio(s.conversion_value, s.spend),
        Metric::Reach | Metric::Frequency | Metric::DailyBudget | Metric::HoursSinceLaunch => None,
    }
}

/// Metrics judged only on enough impressions (`MIN_IMPRESSIONS`).
fn is_ratio(m: Metric) -> bool {
    matches!(
        m,
        Metric::Ctr | Metric::Cpc | Metric::Cpa | Metric::Roas | Metric::Frequency
    )
}

/// Reach or frequency over a window.
pub fn reach_value(r: &Reach, m: Metric) -> Option<Decimal> {
    match m {
        Metric::Reach => Some(Decimal::from(r.reach)),
        Metric::Frequency => ratio(Decimal::from(r.impressions), Decimal::from(r.reach)),
        _ => None,
    }
}

fn key(c: &Condition, previous: bool) -> WindowKey {
    WindowKey {
        preset: c.time_preset,
        include_today: c.include_today,
        previous,
    }
}

/// `m` over the condition's window (or the one before it).
fn read(facts: &Facts, c: &Condition, previous: bool, m: Metric) -> Option<Decimal> {
    match m {
        Metric::DailyBudget => facts.daily_budget,
        Metric::HoursSinceLaunch => facts.hours_since_launch,
        Metric::Reach | Metric::Frequency => reach_value(facts.reach.get(&key(c, previous))?, m),
        _ => value_of(facts.windows.get(&key(c, previous))?, m),
    }
}

/// The impressions behind the condition's field in a window (Meta's count for reach
/// and frequency, our sums otherwise).
fn impressions_behind(facts: &Facts, c: &Condition, previous: bool) -> Option<i64> {
    if c.field.is_reach() {
        facts.reach.get(&key(c, previous)).map(|r| r.impressions)
    } else {
        facts.windows.get(&key(c, previous)).map(|s| s.impressions)
    }
}

/// Judges every condition and combines them (all of the top-level filters).
pub fn evaluate(spec: &RuleSpec, facts: &Facts) -> Evaluation {
    let mut readings = Vec::new();
    let truth = all(&spec.evaluation_spec.filters, facts, &mut readings);
    Evaluation { truth, readings }
}

fn all(filters: &[Filter], facts: &Facts, out: &mut Vec<Reading>) -> Truth {
    let truths: Vec<Truth> = filters.iter().map(|f| one(f, facts, out)).collect();
    if truths.contains(&Truth::Fails) {
        Truth::Fails
    } else if truths.contains(&Truth::Unknown) {
        Truth::Unknown
    } else {
        Truth::Holds
    }
}

fn any(filters: &[Filter], facts: &Facts, out: &mut Vec<Reading>) -> Truth {
    let truths: Vec<Truth> = filters.iter().map(|f| one(f, facts, out)).collect();
    if truths.contains(&Truth::Holds) {
        Truth::Holds
    } else if truths.contains(&Truth::Unknown) {
        Truth::Unknown
    } else {
        Truth::Fails
    }
}

fn one(f: &Filter, facts: &Facts, out: &mut Vec<Reading>) -> Truth {
    match f {
        Filter::AllOf { all_of } => all(all_of, facts, out),
        Filter::AnyOf { any_of } => any(any_of, facts, out),
        Filter::Condition(c) => {
            let r = condition(c, facts);
            let t = r.truth;
            out.push(r);
            t
        }
    }
}

fn window<'a>(facts: &'a Facts, c: &Condition, previous: bool) -> Option<&'a Sums> {
    facts.windows.get(&key(c, previous))
}

/// One condition, with the small-number guards.
pub fn condition(c: &Condition, facts: &Facts) -> Reading {
    let mut r = Reading::new(c);
    let sums = window(facts, c, false);
    if let Some(s) = sums {
        r = r.with_sums(s);
    }
    if c.field.is_reach() {
        match facts.reach.get(&key(c, false)) {
            Some(reach) => r = r.with_reach(reach),
            None => return r.unknown("no_reach"),
        }
    } else if !c.field.is_attribute() && sums.is_none() {
        return r.unknown("no_data");
    }
    if is_ratio(c.field) && impressions_behind(facts, c, false).is_some_and(|n| n < MIN_IMPRESSIONS)
    {
        return r.unknown("insufficient_impressions");
    }
    if c.operator == Operator::ChangedByPct {
        return trend(c, facts, r);
    }
    let target = match c.target() {
        Ok(Target::One(v)) => Some((v, None)),
        Ok(Target::Range(lo, hi)) => Some((lo, Some(hi))),
        Ok(Target::Ref(vr)) => read(facts, c, false, vr.field).map(|v| (v * vr.multiplier, None)),
        Err(_) => None,
    };
    let Some((lo, hi)) = target else {
        return r.unknown("no_data");
    };
    r.target = Some(match hi {
        Some(hi) => format!("[{}, {}]", lo.normalize(), hi.normalize()),
        None => lo.normalize().to_string(),
    });
    if c.field == Metric::Cpa && c.operator == Operator::GreaterThan {
        return poisson_cost(sums.expect("a window"), lo, r);
    }
    let Some(value) = read(facts, c, false, c.field) else {
        let why = if c.field == Metric::Cpa {
            "no_conversions"
        } else {
            "no_data"
        };
        return r.unknown(why);
    };
    r.value = Some(value.round_dp(6));
    let holds = match (c.operator, hi) {
        (Operator::GreaterThan, _) => value > lo,
        (Operator::LessThan, _) => value < lo,
        (Operator::Equal, _) => value == lo,
        (Operator::NotEqual, _) => value != lo,
        (Operator::InRange, Some(hi)) => lo <= value && value <= hi,
        (Operator::NotInRange, Some(hi)) => value < lo || value > hi,
        _ => return r.unknown("no_data"),
    };
    r.judged(holds)
}

/// "Cost per result above `target`": holds only when the spend bought clearly too few
/// results — more than m(k) × target spent with k results, m the 95 % Poisson upper
/// bound (3.00 at none, 4.74 at one, …) — so one unlucky day is not a verdict.
fn poisson_cost(s: &Sums, target: Decimal, mut r: Reading) -> Reading {
    let k = s.conversions.max(0) as u64;
    let m = poisson_upper(k, CONFIDENCE);
    r.value = value_of(s, Metric::Cpa).map(|v| v.round_dp(4));
    r.poisson_m = Some((m * 100.0).round() / 100.0);
    let bound = Decimal::from_f64(m).unwrap_or(Decimal::MAX) * target;
    if s.spend > bound {
        r.judged(true)
    } else if s.spend > target * Decimal::from(k.max(1)) {
        // Above target on its face, but not yet beyond doubt.
        r.unknown("not_significant")
    } else {
        r.judged(false)
    }
}

/// Trends: the window against the previous one of equal length. A rate's change must
/// also be likely (posterior probability ≥ 95 % in the direction asked), not just large.
fn trend(c: &Condition, facts: &Facts, mut r: Reading) -> Reading {
    let Some(before_impressions) = impressions_behind(facts, c, true) else {
        return r.unknown("no_baseline");
    };
    if is_ratio(c.field) && before_impressions < MIN_IMPRESSIONS {
        return r.unknown("insufficient_impressions");
    }
    let Ok(Target::One(threshold)) = c.target() else {
        return r.unknown("no_data");
    };
    r.target = Some(format!("{}%", threshold.normalize()));
    let (Some(v1), Some(v0)) = (
        read(facts, c, false, c.field),
        read(facts, c, true, c.field),
    ) else {
        return r.unknown("no_data");
    };
    r.value = Some(v1.round_dp(6));
    r.previous = Some(v0.round_dp(6));
    if v0.is_zero() {
        return r.unknown("no_baseline");
    }
    let pct = (v1 - v0) / v0 * Decimal::from(100);
    r.change_pct = Some(pct.round_dp(2));
    let moved = if threshold < Decimal::ZERO {
        pct <= threshold
    } else {
        pct >= threshold
    };
    if !moved {
        return r.judged(false);
    }
    if let (Metric::Ctr, Some(now), Some(before)) =
        (c.field, window(facts, c, false), window(facts, c, true))
    {
        let (recent, earlier) = (
            (now.clicks.max(0) as u64, now.impressions.max(0) as u64),
            (
                before.clicks.max(0) as u64,
                before.impressions.max(0) as u64,
            ),
        );
        let p_lower = probability_lower(recent, earlier);
        let p = if threshold < Decimal::ZERO {
            p_lower
        } else {
            1.0 - p_lower
        };
        r.probability = Some((p * 10_000.0).round() / 10_000.0);
        if p < CONFIDENCE {
            return r.unknown("not_significant");
        }
    }
    r.judged(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rule::RuleSpec;
    use serde_json::json;

    fn spec(filters: serde_json::Value) -> RuleSpec {
        serde_json::from_value(json!({
            "entity_type": "CAMPAIGN",
            "evaluation_spec": {"filters": filters},
            "execution_spec": {"execution_type": "NOTIFICATION"}
        }))
        .unwrap()
    }

    fn sums(impressions: i64, clicks: i64, spend: &str, conversions: i64, value: &str) -> Sums {
        Sums {
            impressions,
            clicks,
            spend: spend.parse().unwrap(),
            conversions,
            conversion_value: value.parse().unwrap(),
        }
    }

    fn facts(preset: TimePreset, now: Sums, before: Option<Sums>) -> Facts {
        let key = WindowKey {
            preset,
            include_today: false,
            previous: false,
        };
        let mut windows = HashMap::from([(key, now)]);
        if let Some(b) = before {
            windows.insert(
                WindowKey {
                    previous: true,
                    ..key
                },
                b,
            );
        }
        Facts {
            windows,
            reach: HashMap::new(),
            daily_budget: Some(Decimal::from(1000)),
            hours_since_launch: Some(Decimal::from(200)),
        }
    }

    #[test]
    fn roas_above_four_for_three_days_holds_on_real_volume_and_not_on_three_hundred_impressions() {
        let rule = spec(
            json!([{"field": "roas", "operator": "GREATER_THAN", "value": 4, "time_preset": "LAST_3D"}]),
        );
        let big = evaluate(
            &rule,
            &facts(
                TimePreset::Last3d,
                sums(30_000, 600, "3000", 30, "15000"),
                None,
            ),
        );
        assert_eq!(big.truth, Truth::Holds);
        assert_eq!(big.readings[0].value, Some(Decimal::from(5)));
        let small = evaluate(
            &rule,
            &facts(TimePreset::Last3d, sums(300, 6, "30", 1, "150"), None),
        );
        assert_eq!(small.truth, Truth::Unknown);
        assert_eq!(small.unknown_because(), Some("insufficient_impressions"));
    }

    #[test]
    fn cpa_below_a_target_never_holds_at_zero_conversions() {
        let rule = spec(json!([{"field": "cpa", "operator": "LESS_THAN", "value": 400}]));
        let e = evaluate(
            &rule,
            &facts(TimePreset::Last7d, sums(5_000, 50, "900", 0, "0"), None),
        );
        assert_eq!(
            (e.truth, e.unknown_because()),
            (Truth::Unknown, Some("no_conversions"))
        );
    }

    #[test]
    fn cpa_above_a_target_needs_the_poisson_multiple_of_spend() {
        let rule = spec(json!([{"field": "cpa", "operator": "GREATER_THAN", "value": 400}]));
        let judge = |spend: &str, k: i64| {
            evaluate(
                &rule,
                &facts(TimePreset::Last7d, sums(10_000, 100, spend, k, "0"), None),
            )
        };
        // No conversions: 1,190 spent is under 3.00 × 400, 1,210 is over it.
        assert_eq!(judge("1190", 0).unknown_because(), Some("not_significant"));
        assert_eq!(judge("1210", 0).truth, Truth::Holds);
        // One conversion: CPA 1,500 is "above 400", but 1,500 < 4.74 × 400 = 1,896.
        assert_eq!(judge("1500", 1).unknown_because(), Some("not_significant"));
        assert_eq!(judge("1900", 1).truth, Truth::Holds);
        assert_eq!(judge("1900", 1).readings[0].poisson_m, Some(4.74));
        // Well under target: fails outright.
        assert_eq!(judge("300", 3).truth, Truth::Fails);
    }

    #[test]
    fn a_ctr_decline_acts_when_it_is_real_and_not_on_noise() {
        let rule = spec(json!([{"field": "ctr", "operator": "CHANGED_BY_PCT", "value": -15}]));
        let real = evaluate(
            &rule,
            &facts(
                TimePreset::Last7d,
                sums(20_000, 240, "100", 0, "0"),
                Some(sums(20_000, 400, "100", 0, "0")),
            ),
        );
        assert_eq!(real.truth, Truth::Holds);
        assert_eq!(real.readings[0].change_pct, Some(Decimal::from(-40)));
        let noisy = evaluate(
            &rule,
            &facts(
                TimePreset::Last7d,
                sums(1_200, 16, "100", 0, "0"),
                Some(sums(1_200, 20, "100", 0, "0")),
            ),
        );
        assert_eq!(noisy.unknown_because(), Some("not_significant"));
        let rising = evaluate(
            &rule,
            &facts(
                TimePreset::Last7d,
                sums(20_000, 420, "100", 0, "0"),
                Some(sums(20_000, 400, "100", 0, "0")),
            ),
        );
        assert_eq!(rising.truth, Truth::Fails);
    }

    #[test]
    fn frequency_is_metas_reach_of_the_window_judged_on_enough_impressions_and_never_guessed() {
        let rule = spec(json!([
            {"field": "frequency", "operator": "GREATER_THAN", "value": 3, "time_preset": "LAST_7D"}
        ]));
        let key = WindowKey {
            preset: TimePreset::Last7d,
            include_today: false,
            previous: false,
        };
        let daily = sums(40_000, 400, "4000", 10, "9000");
        let mut f = facts(TimePreset::Last7d, daily.clone(), None);
        assert_eq!(
            evaluate(&rule, &f).unknown_because(),
            Some("no_reach"),
            "days' reach cannot be added up"
        );
        f.reach.insert(
            key,
            Reach {
                reach: 10_000,
                impressions: 40_000,
            },
        );
        let e = evaluate(&rule, &f);
        assert_eq!(e.truth, Truth::Holds);
        assert_eq!(e.readings[0].value, Some(Decimal::from(4)));
        assert_eq!(e.readings[0].reach, Some(10_000));
        f.reach.insert(
            key,
            Reach {
                reach: 100,
                impressions: 400,
            },
        );
        assert_eq!(
            evaluate(&rule, &f).unknown_because(),
            Some("insufficient_impressions")
        );

        let climbing = spec(json!([
            {"field": "frequency", "operator": "CHANGED_BY_PCT", "value": 30, "time_preset": "LAST_7D"}
        ]));
        let mut f = facts(TimePreset::Last7d, daily.clone(), Some(daily));
        f.reach.insert(
            key,
            Reach {
                reach: 10_000,
                impressions: 40_000,
            },
        );
        assert_eq!(
            evaluate(&climbing, &f).unknown_because(),
            Some("no_baseline")
        );
        f.reach.insert(
            WindowKey {
                previous: true,
                ..key
            },
            Reach {
                reach: 20_000,
                impressions: 40_000,
            },
        );
        let e = evaluate(&climbing, &f);
        assert_eq!(e.truth, Truth::Holds, "2.0 → 4.0 a person: +100 %");
        assert_eq!(e.readings[0].change_pct, Some(Decimal::from(100)));
    }

    #[test]
    fn groups_combine_three_valued_and_value_ref_reads_the_entity() {
        let rule = spec(json!([{"any_of": [
            {"field": "cpa", "operator": "LESS_THAN", "value": 100},
            {"field": "spend", "operator": "GREATER_THAN", "value_ref": {"field": "daily_budget", "multiplier": 2}}
        ]}]));
        let f = facts(TimePreset::Last7d, sums(5_000, 50, "2500", 0, "0"), None);
        let e = evaluate(&rule, &f);
        assert_eq!(
            e.truth,
            Truth::Holds,
            "spend 2,500 > 2 × 1,000 even though cpa is unknown"
        );
        assert_eq!(e.readings[1].target.as_deref(), Some("2000"));
        let f = facts(TimePreset::Last7d, sums(5_000, 50, "1500", 0, "0"), None);
        assert_eq!(evaluate(&rule, &f).truth, Truth::Unknown);
        assert_eq!(windows_needed(&rule).len(), 1);
    }
}
