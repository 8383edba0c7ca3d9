//! Each creative's own results: Meta's ad-level insights for the same window as the
//! campaign pulls, one row per ad and day, credited to the campaign asset the ad shows
//! (from the launch progress) and scored against its campaign after the write.

use std::collections::HashMap;

use shared::domain::campaign::Purpose;
use shared::meta::GraphError;
use shared::meta::reads::{InsightsQuery, Level};
use shared::repo::creative_results::CreativeDay;
use uuid::Uuid;

use crate::State;
use crate::reading::{Calls, account, window};

const FIELDS: &str =
    "ad_id,campaign_id,impressions,clicks,spend,actions,action_values,date_start,date_stop";

/// Ad-level daily rows of the account over the sync window, as Meta sends them.
pub async fn pull(
    state: &State,
    token: &str,
    act: &str,
    today: chrono::NaiveDate,
    calls: &mut Calls,
) -> Result<Vec<serde_json::Value>, GraphError> {
    let query = InsightsQuery {
        level: Level::Ad,
        fields: FIELDS,
        breakdowns: "",
        time_range: window(today),
        run_async: false,
        poll: state.report_poll,
    };
    account(state, token, act).insights(&query, calls).await
}

/// The rows of our ads as creative days (ads Adpilot did not make are skipped).
pub fn days(
    rows: &[serde_json::Value],
    ads: &HashMap<String, (Uuid, Uuid, Purpose)>,
) -> Result<Vec<CreativeDay>, String> {
    let mut out = Vec::new();
    for r in rows {
        let Some((campaign, asset, purpose)) = r["ad_id"].as_str().and_then(|id| ads.get(id))
        else {
            continue;
        };
        let row = crate::parse::row(r, *campaign, *purpose)?;
        out.push(CreativeDay {
            campaign_id: *campaign,
            asset_id: *asset,
            meta_ad_id: r["ad_id"].as_str().unwrap_or_default().to_owned(),
            date: row.date,
            impressions: row.impressions,
            clicks: row.clicks,
            spend: row.spend,
            conversions: row.conversions,
            conversion_value: row.conversion_value,
        });
    }
    Ok(out)
}
