//! Meta's learning phase, read with every sync: each active ad set's
//! `learning_stage_info.status` (LEARNING, SUCCESS, or FAIL for "learning limited"),
//! kept on our campaign so the optimizer leaves a learning campaign alone on Meta's word,
//! not only on our own edit log. Meta gives it only for active ad sets on eligible
//! accounts; without it the stage is cleared and the edit log decides.

use std::collections::HashMap;

use shared::domain::campaign::Purpose;
use shared::meta::GraphError;
use uuid::Uuid;

use crate::State;
use crate::reading::{Calls, account};

/// An ad set's learning stage, with the Meta campaign it belongs to.
#[derive(Debug, PartialEq)]
pub struct Stage {
    pub campaign_id: String,
    pub status: Option<String>,
}

/// Meta's stages, known ones only (anything else reads as unknown).
pub fn stage_of(row: &serde_json::Value) -> Option<Stage> {
    let status = row["learning_stage_info"]["status"]
        .as_str()
        .filter(|s| matches!(*s, "LEARNING" | "SUCCESS" | "FAIL"))
        .map(str::to_owned);
    Some(Stage {
        campaign_id: row["campaign_id"].as_str()?.to_owned(),
        status,
    })
}

/// Every ad set of the account with its learning stage.
pub async fn pull(
    state: &State,
    token: &str,
    act: &str,
    calls: &mut Calls,
) -> Result<Vec<Stage>, GraphError> {
    let rows = account(state, token, act)
        .adsets("id,campaign_id,effective_status,learning_stage_info", calls)
        .await?;
    Ok(rows.iter().filter_map(stage_of).collect())
}

/// Our campaigns' stages: LEARNING when any of its ad sets learns, else the first known.
pub fn by_campaign(
    stages: Vec<Stage>,
    campaigns: &HashMap<String, (Uuid, Purpose)>,
) -> HashMap<Uuid, Option<String>> {
    let mut out: HashMap<Uuid, Option<String>> = HashMap::new();
    for s in stages {
        let Some((ours, _)) = campaigns.get(&s.campaign_id) else {
            continue;
        };
        let entry = out.entry(*ours).or_default();
        if entry.as_deref() != Some("LEARNING") && s.status.is_some() {
            *entry = s.status;
        }
    }
    for (ours, _) in campaigns.values() {
        out.entry(*ours).or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_campaign_learns_while_any_of_its_ad_sets_does_and_unknown_stages_are_unknown() {
        let ours = Uuid::new_v4();
        let other = Uuid::new_v4();
        let campaigns = HashMap::from([
            ("mc-1".to_owned(), (ours, Purpose::Sales)),
            ("mc-2".to_owned(), (other, Purpose::Sales)),
        ]);
        let rows = [
            json!({"id": "as-1", "campaign_id": "mc-1", "learning_stage_info": {"status": "SUCCESS"}}),
            json!({"id": "as-2", "campaign_id": "mc-1", "learning_stage_info": {"status": "LEARNING"}}),
            json!({"id": "as-3", "campaign_id": "mc-2", "learning_stage_info": {"status": "SOMETHING_NEW"}}),
            json!({"id": "as-4", "campaign_id": "mc-9", "learning_stage_info": {"status": "FAIL"}}),
        ];
        let stages = rows.iter().filter_map(stage_of).collect();
        let by = by_campaign(stages, &campaigns);
        assert_eq!(by[&ours].as_deref(), Some("LEARNING"));
        assert_eq!(by[&other], None);
        assert_eq!(
            by.len(),
            2,
            "ad sets of campaigns made outside Adpilot are left out"
        );
    }
}
