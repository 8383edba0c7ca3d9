//! Meta's review of our ads, read with every sync: each ad's `effective_status` and
//! `ad_review_feedback` from the ad account's ads list, grouped by our campaign, so a
//! campaign's `approval_status` follows Meta (pending while ads are in review, approved
//! when they deliver, rejected with Meta's reasons when one is disapproved).

use std::collections::HashMap;

use shared::domain::campaign::Purpose;
use shared::meta::GraphError;
use shared::repo::insights::AdState;
use uuid::Uuid;

use crate::State;
use crate::reading::{Calls, account};

/// An ad of the account with the Meta campaign it belongs to.
pub struct ListedAd {
    pub campaign_id: String,
    pub state: AdState,
}

/// Every ad of the account with its status and review feedback.
pub async fn pull(
    state: &State,
    token: &str,
    act: &str,
    calls: &mut Calls,
) -> Result<Vec<ListedAd>, GraphError> {
    let rows = account(state, token, act)
        .ads("id,campaign_id,effective_status,ad_review_feedback", calls)
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(ListedAd {
                campaign_id: r["campaign_id"].as_str()?.to_owned(),
                state: AdState {
                    ad_id: r["id"].as_str()?.to_owned(),
                    effective_status: r["effective_status"].as_str().unwrap_or("").to_owned(),
                    feedback: r
                        .get("ad_review_feedback")
                        .filter(|f| !f.is_null())
                        .cloned(),
                },
            })
        })
        .collect())
}

/// The ads of each of our campaigns (ads of campaigns made outside Adpilot are left out).
pub fn by_campaign(
    ads: Vec<ListedAd>,
    campaigns: &HashMap<String, (Uuid, Purpose)>,
) -> HashMap<Uuid, Vec<AdState>> {
    let mut out: HashMap<Uuid, Vec<AdState>> = HashMap::new();
    for ad in ads {
        if let Some((ours, _)) = campaigns.get(&ad.campaign_id) {
            out.entry(*ours).or_default().push(ad.state);
        }
    }
    out
}
