//! Each campaign's unique reach over the windows rules can read it in (yesterday, the
//! last 3, 7, 14 and 28 whole days, and the window of equal length before each), in one
//! insights call with `time_ranges`: Meta counts a person once per window, so reach is
//! never a sum of days. The windows are the optimizer's own (`optimizer_facts::days_of`
//! on the account's today), so a rule finds exactly the window it asks for.

use std::collections::HashMap;

use chrono::NaiveDate;
use shared::domain::campaign::Purpose;
use shared::domain::rule::TimePreset;
use shared::meta::GraphError;
use shared::repo::insights::ReachRow;
use shared::repo::optimizer_facts::days_of;
use shared::rules::evaluate::WindowKey;
use uuid::Uuid;

use crate::State;
use crate::reading::{Calls, account};

/// The windows asked about on `today`, oldest first.
pub fn windows(today: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out: Vec<(NaiveDate, NaiveDate)> = TimePreset::WITH_REACH
        .iter()
        .flat_map(|preset| {
            [false, true].map(|previous| {
                let key = WindowKey {
                    preset: *preset,
                    include_today: false,
                    previous,
                };
                days_of(key, today, None)
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

pub async fn pull(
    state: &State,
    token: &str,
    act: &str,
    today: NaiveDate,
    calls: &mut Calls,
) -> Result<Vec<serde_json::Value>, GraphError> {
    account(state, token, act)
        .reach_over(&windows(today), calls)
        .await
}

fn count(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::String(s) => s.parse().ok(),
        serde_json::Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// Meta's rows as our campaigns' reach per window; rows of campaigns made outside
/// Adpilot, or without a reach, are left out.
pub fn rows(
    raw: &[serde_json::Value],
    campaigns: &HashMap<String, (Uuid, Purpose)>,
) -> Result<Vec<ReachRow>, String> {
    let mut out = Vec::new();
    for r in raw {
        let Some((campaign, _)) = r["campaign_id"].as_str().and_then(|id| campaigns.get(id)) else {
            continue;
        };
        let Some(reach) = count(&r["reach"]) else {
            continue;
        };
        let day = |k: &str| -> Result<NaiveDate, String> {
            r[k].as_str()
                .and_then(|d| d.parse().ok())
                .ok_or_else(|| format!("reach row without {k}: {r}"))
        };
        out.push(ReachRow {
            campaign_id: *campaign,
            since: day("date_start")?,
            until: day("date_stop")?,
            reach,
            impressions: count(&r["impressions"]).unwrap_or(0),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_windows_are_the_optimizers_whole_days_each_with_the_one_before() {
        let today: NaiveDate = "2026-12-02".parse().unwrap();
        let w = windows(today);
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert!(w.contains(&(d("2026-12-01"), d("2026-12-01"))), "yesterday");
        assert!(
            w.contains(&(d("2026-11-30"), d("2026-11-30"))),
            "the day before"
        );
        assert!(
            w.contains(&(d("2026-11-25"), d("2026-12-01"))),
            "last 7 days"
        );
        assert!(
            w.contains(&(d("2026-11-18"), d("2026-11-24"))),
            "the 7 before"
        );
        assert!(
            w.contains(&(d("2026-10-07"), d("2026-11-03"))),
            "the 28 before the last 28"
        );
        assert_eq!(w.len(), 10);
    }

    #[test]
    fn reach_rows_name_their_window_and_skip_campaigns_made_elsewhere() {
        let ours = Uuid::new_v4();
        let campaigns = HashMap::from([("mc-1".to_owned(), (ours, Purpose::Sales))]);
        let raw = [
            json!({"campaign_id": "mc-1", "reach": "2500", "impressions": "10000", "frequency": "4.0",
                   "date_start": "2026-11-25", "date_stop": "2026-12-01"}),
            json!({"campaign_id": "mc-9", "reach": "10", "impressions": "10",
                   "date_start": "2026-11-25", "date_stop": "2026-12-01"}),
        ];
        let rows = rows(&raw, &campaigns).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].reach, rows[0].impressions), (2500, 10_000));
        assert_eq!(rows[0].since.to_string(), "2026-11-25");
    }
}
