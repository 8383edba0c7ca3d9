//! A launch's progress on Meta: every object made so far (page, campaign, ad set, and per
//! campaign asset its media, thumbnail, creative and ad), stored as JSON on the campaign
//! so a retry resumes instead of duplicating.

use serde::Serialize;
use utoipa::ToSchema;

/// How far a launch got: every Meta object made so far, so a retry resumes instead of
/// duplicating. Stored as JSON in `campaigns.meta_launch`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct LaunchProgress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The Facebook page the ads run as.
    pub page_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The Meta campaign.
    pub campaign_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The Meta ad set.
    pub adset_id: Option<String>,
    /// Per campaign asset (by asset id): its media, creative and ad on Meta.
    #[serde(default)]
    pub ads: std::collections::BTreeMap<String, AdProgress>,
    /// Everything was switched on: the campaign is live.
    #[serde(default)]
    pub activated: bool,
    /// Why the last attempt stopped, in Meta's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// One creative's objects on Meta.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct AdProgress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The uploaded image's hash.
    pub image_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The uploaded video's id.
    pub video_id: Option<String>,
    /// The video's thumbnail on Meta (a video ad needs one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The Meta creative.
    pub creative_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The Meta ad.
    pub ad_id: Option<String>,
}

impl LaunchProgress {
    /// The progress stored in `campaigns.meta_launch`, if any (and readable).
    pub fn from_stored(v: Option<serde_json::Value>) -> Option<Self> {
        v.and_then(|v| serde_json::from_value(v).ok())
    }

    /// The ids of every ad made so far.
    pub fn ad_ids(&self) -> Vec<String> {
        self.ads.values().filter_map(|a| a.ad_id.clone()).collect()
    }
}
