//! What a report says, decided once and drawn twice (HTML and PDF): the headline, the
//! campaigns against their goals, the charts, the best and worst creatives, the
//! breakdowns, what the optimizer did and the credits used, as tables of formatted text.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use shared::repo::report_figures::{CampaignLine, CreativeLine, Figures, Sums};
use uuid::Uuid;

use crate::charts::Chart;
use crate::numbers::{Grouping, money, percent, times};
use crate::thumbnail::Thumb;

/// Creatives with fewer impressions are not ranked: their rates say little yet.
pub const MIN_IMPRESSIONS_TO_RANK: i64 = 1000;
/// How many creatives are shown as best, and as worst.
pub const RANKED: usize = 3;

/// Rows of formatted cells under named columns.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Said instead of the table when it has no rows.
    pub empty: String,
}

/// One creative shown with its thumbnail.
#[derive(Clone, Debug)]
pub struct Card {
    pub title: String,
    pub lines: Vec<String>,
    pub thumb: Option<Thumb>,
}

#[derive(Clone, Debug)]
pub struct Document {
    pub title: String,
    pub business: String,
    pub period: String,
    pub headline: Vec<(String, String)>,
    pub campaigns: Table,
    pub charts: Vec<Chart>,
    pub best: Vec<Card>,
    pub worst: Vec<Card>,
    pub creatives_note: String,
    pub breakdowns: Vec<(String, Table)>,
    pub optimizations: Table,
    pub notes: Vec<String>,
}

/// The headline figures as stored with the report (amounts as decimal strings).
pub fn summary(f: &Figures) -> Value {
    let t = f.totals();
    json!({
        "currency": f.currency,
        "spend": t.spend.to_string(),
        "impressions": t.impressions,
        "clicks": t.clicks,
        "conversions": t.conversions,
        "conversion_value": t.conversion_value.to_string(),
        "cost_per_result": t.cost_per_result().map(|d| d.to_string()),
        "campaigns": f.campaigns.len(),
        "credits_used": f.credits_used,
    })
}

/// Ranks the creatives with enough impressions: results at the lowest cost first, then
/// (without results) the highest CTR. Returns (best, worst, how many were too small).
pub fn rank(creatives: &[CreativeLine]) -> (Vec<&CreativeLine>, Vec<&CreativeLine>, usize) {
    let mut ranked: Vec<&CreativeLine> = creatives
        .iter()
        .filter(|c| c.sums.impressions >= MIN_IMPRESSIONS_TO_RANK)
        .collect();
    let too_small = creatives.len() - ranked.len();
    ranked.sort_by(|a, b| {
        let key = |c: &CreativeLine| {
            (
                c.sums.cost_per_result().is_none(),
                c.sums.cost_per_result().unwrap_or(Decimal::MAX),
            )
        };
        key(a).cmp(&key(b)).then_with(|| {
            let (ca, cb) = (a.sums.ctr_percent(), b.sums.ctr_percent());
            cb.partial_cmp(&ca).unwrap_or(std::cmp::Ordering::Equal)
        })
    });
    let best: Vec<_> = ranked.iter().take(RANKED).copied().collect();
    let rest = ranked.len() - best.len();
    let worst: Vec<_> = ranked
        .iter()
        .rev()
        .take(RANKED.min(rest))
        .copied()
        .collect();
    (best, worst, too_small)
}

/// How the campaign did against the goal its owner set.
pub fn against_goal(c: &CampaignLine) -> String {
    let s = &c.sums;
    if let Some(target) = c.goals.target_cpa {
        return match s.cost_per_result() {
            Some(cpa) if cpa <= target => format!(
                "Cost per result {} within target {}",
                money(cpa, &c.currency),
                money(target, &c.currency)
            ),
            Some(cpa) => format!(
                "Cost per result {} above target {}",
                money(cpa, &c.currency),
                money(target, &c.currency)
            ),
            None => format!(
                "No results yet (target {} per result)",
                money(target, &c.currency)
            ),
        };
    }
    if let Some(target) = c.goals.target_roas {
        return match s.roas() {
            Some(r) if r >= target => format!("ROAS {} meets target {}", times(r), times(target)),
            Some(r) => format!("ROAS {} below target {}", times(r), times(target)),
            None => format!("No spend yet (target ROAS {})", times(target)),
        };
    }
    "No goal set".into()
}

fn metric_cells(s: &Sums, currency: &str, g: Grouping) -> Vec<String> {
    vec![
        money(s.spend, currency),
        g.count(s.impressions),
        g.count(s.clicks),
        s.ctr_percent().map(percent).unwrap_or_else(|| "–".into()),
        g.count(s.conversions),
        s.cost_per_result()
            .map(|d| money(d, currency))
            .unwrap_or_else(|| "–".into()),
    ]
}

const METRIC_COLUMNS: [&str; 6] = [
    "Spend",
    "Impressions",
    "Clicks",
    "CTR",
    "Results",
    "Cost per result",
];

fn campaigns_table(f: &Figures, g: Grouping) -> Table {
    let mut columns = vec!["Campaign".to_owned(), "Status".to_owned()];
    columns.extend(METRIC_COLUMNS.map(String::from));
    columns.push("Against goal".into());
    let rows = f
        .campaigns
        .iter()
        .map(|c| {
            let mut row = vec![c.name.clone(), c.status.clone()];
            row.extend(metric_cells(&c.sums, &c.currency, g));
            row.push(against_goal(c));
            row
        })
        .collect();
    Table {
        columns,
        rows,
        empty: "No campaign was live or delivered in this period.".into(),
    }
}

fn card(c: &CreativeLine, currency: &str, g: Grouping, thumbs: &HashMap<Uuid, Thumb>) -> Card {
    let s = &c.sums;
    let mut lines = vec![
        format!("{} in {}", c.asset_type, c.campaign_name),
        format!(
            "{} impressions, CTR {}",
            g.count(s.impressions),
            s.ctr_percent().map(percent).unwrap_or_else(|| "–".into())
        ),
        format!("{} spent", money(s.spend, currency)),
    ];
    lines.push(match s.cost_per_result() {
        Some(cpr) => format!(
            "{} results at {} each",
            g.count(s.conversions),
            money(cpr, currency)
        ),
        None => "No results".into(),
    });
    Card {
        title: c
            .filename
            .clone()
            .unwrap_or_else(|| format!("Creative {}", &c.asset_id.to_string()[..8])),
        lines,
        thumb: thumbs.get(&c.asset_id).cloned(),
    }
}

fn breakdown_tables(f: &Figures, g: Grouping) -> Vec<(String, Table)> {
    [
        ("platform", "By platform"),
        ("placement", "By placement"),
        ("age", "By age"),
        ("gender", "By gender"),
    ]
    .into_iter()
    .map(|(dimension, title)| {
        let mut columns = vec![title.trim_start_matches("By ").to_owned()];
        columns[0] = capitalise(&columns[0]);
        columns.extend(METRIC_COLUMNS.map(String::from));
        let rows = f
            .breakdowns
            .iter()
            .filter(|b| b.dimension == dimension)
            .map(|b| {
                let mut row = vec![b.value.clone()];
                row.extend(metric_cells(&b.sums, &f.currency, g));
                row
            })
            .collect();
        (
            title.to_owned(),
            Table {
                columns,
                rows,
                empty: format!("Meta reported no {dimension} breakdown for this period."),
            },
        )
    })
    .collect()
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn optimizations_table(f: &Figures) -> Table {
    Table {
        columns: ["When", "Campaign", "Action", "Why", "Outcome"]
            .map(String::from)
            .to_vec(),
        rows: f
            .optimizations
            .iter()
            .map(|o| {
                vec![
                    o.optimized_at.format("%d %b %H:%M UTC").to_string(),
                    o.campaign_name.clone(),
                    o.optimization_type.clone().unwrap_or_default(),
                    o.trigger_condition.clone().unwrap_or_default(),
                    match (o.success, &o.impact_description) {
                        (_, Some(impact)) => impact.clone(),
                        (Some(true), None) => "applied".into(),
                        (Some(false), None) => "failed".into(),
                        (None, None) => "skipped".into(),
                    },
                ]
            })
            .collect(),
        empty: "The optimizer made no change in this period.".into(),
    }
}

/// The whole report, ready to draw.
pub fn document(
    f: &Figures,
    weekly: bool,
    charts: Vec<Chart>,
    thumbs: &HashMap<Uuid, Thumb>,
) -> Document {
    let g = Grouping::for_currency(&f.currency);
    let t = f.totals();
    let business = f
        .business_name
        .clone()
        .unwrap_or_else(|| "Your business".into());
    let (best, worst, too_small) = rank(&f.creatives);
    let mut notes = Vec::new();
    let others: Vec<&str> = f
        .campaigns
        .iter()
        .filter(|c| c.currency != f.currency)
        .map(|c| c.name.as_str())
        .collect();
    if !others.is_empty() {
        notes.push(format!(
            "Not in the totals, charts and breakdowns (another currency than {}): {}.",
            f.currency,
            others.join(", ")
        ));
    }
    Document {
        title: if weekly {
            "Weekly performance report".into()
        } else {
            "Performance report".into()
        },
        business,
        period: format!(
            "{} – {}",
            f.period.0.format("%d %b %Y"),
            f.period.1.format("%d %b %Y")
        ),
        headline: vec![
            ("Spend".into(), money(t.spend, &f.currency)),
            ("Results".into(), g.count(t.conversions)),
            (
                "Cost per result".into(),
                t.cost_per_result()
                    .map(|d| money(d, &f.currency))
                    .unwrap_or_else(|| "–".into()),
            ),
            (
                "CTR".into(),
                t.ctr_percent().map(percent).unwrap_or_else(|| "–".into()),
            ),
            (
                "ROAS".into(),
                t.roas().map(times).unwrap_or_else(|| "–".into()),
            ),
            ("AI credits used".into(), g.count(f.credits_used)),
        ],
        campaigns: campaigns_table(f, g),
        charts,
        best: best
            .iter()
            .map(|c| card(c, &f.currency, g, thumbs))
            .collect(),
        worst: worst
            .iter()
            .map(|c| card(c, &f.currency, g, thumbs))
            .collect(),
        creatives_note: match (f.creatives.len(), too_small) {
            (0, _) => "No creative delivered in this period.".into(),
            (_, 0) => format!(
                "Ranked by cost per result, then CTR; creatives need {} impressions to be ranked.",
                g.count(MIN_IMPRESSIONS_TO_RANK)
            ),
            (_, n) => format!(
                "Ranked by cost per result, then CTR; {n} creative(s) with fewer than {} impressions are not ranked yet.",
                g.count(MIN_IMPRESSIONS_TO_RANK)
            ),
        },
        breakdowns: breakdown_tables(f, g),
        optimizations: optimizations_table(f),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::repo::report_figures::Goals;

    fn sums(impressions: i64, clicks: i64, spend: &str, conversions: i64) -> Sums {
        Sums {
            impressions,
            clicks,
            spend: spend.parse().unwrap(),
            conversions,
            conversion_value: Decimal::ZERO,
        }
    }

    fn creative(name: &str, s: Sums) -> CreativeLine {
        CreativeLine {
            asset_id: Uuid::new_v4(),
            campaign_name: "C".into(),
            asset_type: "image".into(),
            filename: Some(name.into()),
            file_url: None,
            content_type: None,
            sums: s,
        }
    }

    #[test]
    fn creatives_rank_by_cost_per_result_then_ctr_and_small_ones_are_not_ranked() {
        let all = vec![
            creative("cheap", sums(5000, 50, "100", 10)),
            creative("dear", sums(5000, 50, "900", 3)),
            creative("clicky", sums(5000, 400, "300", 0)),
            creative("dull", sums(5000, 5, "300", 0)),
            creative("tiny", sums(300, 30, "5", 3)),
        ];
        let (best, worst, small) = rank(&all);
        let names = |v: &[&CreativeLine]| -> Vec<String> {
            v.iter().map(|c| c.filename.clone().unwrap()).collect()
        };
        assert_eq!(names(&best), ["cheap", "dear", "clicky"]);
        assert_eq!(names(&worst), ["dull"]);
        assert_eq!(small, 1);
    }

    #[test]
    fn a_campaign_is_judged_against_the_goal_its_owner_set() {
        let mut c = CampaignLine {
            id: Uuid::nil(),
            name: "Diwali".into(),
            status: "active".into(),
            purpose: "sales".into(),
            currency: "INR".into(),
            goals: Goals {
                target_cpa: Some("400".parse().unwrap()),
                target_roas: None,
                max_daily_budget: None,
            },
            sums: sums(10_000, 200, "1220", 4),
        };
        assert_eq!(
            against_goal(&c),
            "Cost per result ₹305.00 within target ₹400.00"
        );
        c.sums.conversions = 2;
        assert_eq!(
            against_goal(&c),
            "Cost per result ₹610.00 above target ₹400.00"
        );
        c.goals = Goals::default();
        assert_eq!(against_goal(&c), "No goal set");
    }
}
