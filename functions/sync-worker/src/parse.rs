//! Meta insights rows to `performance_analytics` rows. Metrics arrive as strings;
//! conversions as `actions` / `action_values` lists of `{action_type, value}`. Meta
//! reports one purchase under several overlapping action types (omni_purchase,
//! purchase, offsite_conversion.fb_pixel_purchase), so the first present of a purpose's
//! types is counted, never their sum. ROAS comes from purchase values.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;
use shared::domain::campaign::Purpose;
use shared::repo::insights::InsightRow;
use uuid::Uuid;

const PURCHASES: &[&str] = &[
    "omni_purchase",
    "purchase",
    "offsite_conversion.fb_pixel_purchase",
];
const LEADS: &[&str] = &[
    "lead",
    "onsite_conversion.lead_grouped",
    "offsite_conversion.fb_pixel_lead",
];
const INSTALLS: &[&str] = &["omni_app_install", "mobile_app_install", "app_install"];
const ENGAGEMENT: &[&str] = &["post_engagement"];

/// The action types that count as conversions for a purpose, in order of preference.
pub fn conversion_types(p: Purpose) -> &'static [&'static str] {
    match p {
        Purpose::Sales | Purpose::Retargeting => PURCHASES,
        Purpose::LeadGeneration => LEADS,
        Purpose::AppInstalls => INSTALLS,
        Purpose::EventPromotion => ENGAGEMENT,
        Purpose::BrandAwareness | Purpose::StoreVisits => &[],
    }
}

fn action(list: &Value, types: &[&str]) -> Option<String> {
    let list = list.as_array()?;
    types.iter().find_map(|t| {
        list.iter().find(|a| a["action_type"] == *t).and_then(|a| {
            a["value"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| a["value"].as_f64().map(|v| v.to_string()))
        })
    })
}

fn count(v: &Value) -> Result<i64, String> {
    match v {
        Value::Null => Ok(0),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .or_else(|_| s.trim().parse::<f64>().map(|f| f.round() as i64))
            .map_err(|_| format!("not a count: {s}")),
        Value::Number(n) => n.as_i64().ok_or_else(|| format!("not a count: {n}")),
        other => Err(format!("not a count: {other}")),
    }
}

fn money(v: &Value) -> Result<Decimal, String> {
    match v {
        Value::Null => Ok(Decimal::ZERO),
        Value::String(s) => s
            .trim()
            .parse::<Decimal>()
            .map(|d| d.round_dp(2))
            .map_err(|_| format!("not an amount: {s}")),
        Value::Number(n) => n
            .to_string()
            .parse::<Decimal>()
            .map(|d| d.round_dp(2))
            .map_err(|_| format!("not an amount: {n}")),
        other => Err(format!("not an amount: {other}")),
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// "13:00:00 - 13:59:59" → 13.
pub fn hour_of(raw: &str) -> Option<i32> {
    raw.get(..2)?.parse().ok().filter(|h| (0..24).contains(h))
}

/// One Meta insights row for our campaign `campaign` with `purpose`.
pub fn row(raw: &Value, campaign: Uuid, purpose: Purpose) -> Result<InsightRow, String> {
    let date = raw["date_start"]
        .as_str()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or("the row has no date_start")?;
    let hour = match raw["hourly_stats_aggregated_by_advertiser_time_zone"].as_str() {
        Some(h) => Some(hour_of(h).ok_or_else(|| format!("unreadable hour {h}"))?),
        None => None,
    };
    let conversions = action(&raw["actions"], conversion_types(purpose))
        .map_or(Ok(0), |v| count(&Value::String(v)))?;
    let value = action(&raw["action_values"], PURCHASES)
        .map_or(Ok(Decimal::ZERO), |v| money(&Value::String(v)))?;
    Ok(InsightRow {
        campaign_id: campaign,
        date,
        hour,
        platform: text(&raw["publisher_platform"]),
        placement: text(&raw["platform_position"]),
        age_range: text(&raw["age"]),
        gender: text(&raw["gender"]),
        location: text(&raw["region"]),
        impressions: count(&raw["impressions"])?,
        clicks: count(&raw["clicks"])?,
        spend: money(&raw["spend"])?,
        conversions,
        conversion_value: value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_and_action_lists_become_numbers() {
        let raw = json!({
            "campaign_id": "23850000000000001", "date_start": "2026-11-24", "date_stop": "2026-11-24",
            "impressions": "12034", "clicks": "311", "spend": "1523.456",
            "actions": [{"action_type": "link_click", "value": "311"},
                        {"action_type": "offsite_conversion.fb_pixel_purchase", "value": "9"},
                        {"action_type": "omni_purchase", "value": "9"},
                        {"action_type": "lead", "value": "17"}],
            "action_values": [{"action_type": "omni_purchase", "value": "6750.50"},
                              {"action_type": "offsite_conversion.fb_pixel_purchase", "value": "6750.50"}],
            "publisher_platform": "instagram", "platform_position": "story"
        });
        let id = Uuid::new_v4();
        let r = row(&raw, id, Purpose::Sales).unwrap();
        assert_eq!(
            (r.impressions, r.clicks, r.conversions),
            (12034, 311, 9),
            "purchases counted once"
        );
        assert_eq!(
            (r.spend.to_string(), r.conversion_value.to_string()),
            ("1523.46".into(), "6750.50".into())
        );
        assert_eq!(
            (r.platform.as_deref(), r.placement.as_deref(), r.hour),
            (Some("instagram"), Some("story"), None)
        );
        let leads = row(&raw, id, Purpose::LeadGeneration).unwrap();
        assert_eq!(leads.conversions, 17, "a lead campaign counts leads");
        assert_eq!(
            row(&raw, id, Purpose::BrandAwareness).unwrap().conversions,
            0
        );
    }

    #[test]
    fn hourly_rows_carry_their_hour_and_bad_numbers_are_errors() {
        let raw = json!({"date_start": "2026-11-24", "impressions": "5", "clicks": "0", "spend": "0.40",
                         "hourly_stats_aggregated_by_advertiser_time_zone": "07:00:00 - 07:59:59"});
        assert_eq!(
            row(&raw, Uuid::new_v4(), Purpose::Sales).unwrap().hour,
            Some(7)
        );
        let bad = json!({"date_start": "2026-11-24", "impressions": "many"});
        assert!(row(&bad, Uuid::new_v4(), Purpose::Sales).is_err());
        assert!(row(&json!({}), Uuid::new_v4(), Purpose::Sales).is_err());
    }
}
