//! The Marketing API's ad objects behind typed calls: campaigns, ad sets, media,
//! creatives and ads of one ad account, their status and budgets, and the account's
//! minimum budgets. Every object Adpilot creates carries a tag with our own id in its
//! name (`… [adpilot:<id>]`), and every create first looks the tag up, so a crash
//! between Meta's answer and our commit, or a second launch, finds the object it already
//! made instead of making (and paying for) another.

use serde_json::{Value, json};

use super::graph::{ErrorKind, Graph, GraphError, Reply};
use crate::domain::campaign::MetaStatus;

/// The marker that names our object in Meta: `[adpilot:<key>]`.
pub fn tag(key: &str) -> String {
    format!("[adpilot:{key}]")
}

/// A name with our tag at the end, cut so the whole stays within Meta's 400 characters.
pub fn tagged(name: &str, key: &str) -> String {
    let tag = tag(key);
    let room = 400usize.saturating_sub(tag.len() + 1);
    let name: String = name.chars().take(room).collect();
    format!("{name} {tag}")
}

/// How an ad set spends: per day or over its lifetime, in the account currency's minor
/// units (Meta's offset already applied).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// `daily_budget`.
    Daily(i64),
    /// `lifetime_budget`.
    Lifetime(i64),
}

impl Budget {
    fn param(self) -> (&'static str, String) {
        match self {
            Self::Daily(v) => ("daily_budget", v.to_string()),
            Self::Lifetime(v) => ("lifetime_budget", v.to_string()),
        }
    }
}

/// A campaign to create (always PAUSED: activation is a separate, last step).
pub struct CampaignSpec<'a> {
    /// Our id, tagged into the name so a retry finds the object.
    pub key: &'a str,
    /// The name (the tag is appended).
    pub name: &'a str,
    /// Meta's objective (`OUTCOME_SALES`, `OUTCOME_TRAFFIC`, …).
    pub objective: &'a str,
}

/// An ad set to create, PAUSED.
pub struct AdSetSpec<'a> {
    /// Our id, tagged into the name.
    pub key: &'a str,
    /// The name (the tag is appended).
    pub name: &'a str,
    /// The Meta campaign it belongs to.
    pub campaign_id: &'a str,
    /// What Meta optimises delivery for (`OFFSITE_CONVERSIONS`, `LINK_CLICKS`, …).
    pub optimization_goal: &'a str,
    /// Meta's targeting spec.
    pub targeting: &'a Value,
    /// Daily or lifetime, minor units.
    pub budget: Budget,
    /// ISO 8601 start.
    pub start_time: String,
    /// ISO 8601 end; none runs until paused.
    pub end_time: Option<String>,
    /// What conversions or installs are counted against (pixel and event, or the app).
    pub promoted_object: Option<Value>,
}

/// What a creative shows.
pub enum Media<'a> {
    /// An uploaded image.
    Image {
        /// Meta's image hash.
        hash: &'a str,
    },
    /// A video with the thumbnail Meta shows before it plays.
    Video {
        /// Meta's video id.
        id: &'a str,
        /// The thumbnail's URL.
        thumbnail: &'a str,
    },
}

/// An ad creative to create: the page's post with the media, link and text.
pub struct CreativeSpec<'a> {
    /// Our id, tagged into the name.
    pub key: &'a str,
    /// The name (the tag is appended).
    pub name: &'a str,
    /// The Facebook page the ad runs as.
    pub page_id: &'a str,
    /// The image or video.
    pub media: Media<'a>,
    /// Where the call to action leads.
    pub link: &'a str,
    /// The ad's text.
    pub message: &'a str,
}

/// An ad to create, PAUSED: the creative in the ad set.
pub struct AdSpec<'a> {
    /// Our id, tagged into the name.
    pub key: &'a str,
    /// The name (the tag is appended).
    pub name: &'a str,
    /// The Meta ad set it runs in.
    pub adset_id: &'a str,
    /// The Meta creative it shows.
    pub creative_id: &'a str,
}

/// The ad-object edges of an ad account.
#[derive(Clone, Copy, Debug)]
enum Edge {
    Campaigns,
    AdSets,
    AdCreatives,
    Ads,
    AdVideos,
}

impl Edge {
    fn path(self) -> &'static str {
        match self {
            Self::Campaigns => "campaigns",
            Self::AdSets => "adsets",
            Self::AdCreatives => "adcreatives",
            Self::Ads => "ads",
            Self::AdVideos => "advideos",
        }
    }

    /// The field that carries the name (videos have a title).
    fn name_field(self) -> &'static str {
        match self {
            Self::AdVideos => "title",
            _ => "name",
        }
    }
}

/// The optimisation goal's minimum daily budget class (Meta's `minimum_budgets` fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MinimumBudgetClass {
    /// `min_daily_budget_imp`: reach and impressions goals.
    Impressions,
    /// `min_daily_budget_high_freq`: goals with many events (link clicks, views).
    HighFrequency,
    /// `min_daily_budget_low_freq`: goals with few events (conversions, installs).
    LowFrequency,
    /// `min_daily_budget_video_views`.
    VideoViews,
}

impl MinimumBudgetClass {
    /// The class Meta applies to an ad set optimised for `goal`.
    pub fn for_goal(goal: &str) -> Self {
        match goal {
            "REACH" | "IMPRESSIONS" => Self::Impressions,
            "THRUPLAY" | "VIDEO_VIEWS" => Self::VideoViews,
            // Meta: "low frequency actions like mobile app installs, offer claims".
            "OFFSITE_CONVERSIONS" | "APP_INSTALLS" | "LEAD_GENERATION" => Self::LowFrequency,
            _ => Self::HighFrequency,
        }
    }

    fn field(self) -> &'static str {
        match self {
            Self::Impressions => "min_daily_budget_imp",
            Self::HighFrequency => "min_daily_budget_high_freq",
            Self::LowFrequency => "min_daily_budget_low_freq",
            Self::VideoViews => "min_daily_budget_video_views",
        }
    }
}

fn unexpected(what: &str) -> GraphError {
    GraphError {
        kind: ErrorKind::Transient,
        status: 200,
        code: 0,
        subcode: None,
        message: format!("Meta's answer had no {what}"),
    }
}

fn id_of(reply: &Reply) -> Result<String, GraphError> {
    reply.body["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| unexpected("id"))
}

/// One ad account, acted on with one user's token.
pub struct AdAccount<'a> {
    /// The Graph API client.
    pub graph: &'a Graph,
    /// The user's access token (opened from its sealed form just before use).
    pub token: &'a str,
    /// `act_<digits>`.
    pub act: &'a str,
}

impl AdAccount<'_> {
    /// The id of our object on `edge` whose name carries `key`'s tag, if Meta has one
    /// (deleted ones are not looked at).
    async fn find(&self, edge: Edge, key: &str) -> Result<Option<String>, GraphError> {
        let filtering =
            json!([{"field": edge.name_field(), "operator": "CONTAIN", "value": tag(key)}]);
        let reply = self
            .graph
            .get(
                &format!("{}/{}", self.act, edge.path()),
                self.token,
                &[
                    ("fields", format!("id,{}", edge.name_field())),
                    ("filtering", filtering.to_string()),
                    ("limit", "5".into()),
                ],
            )
            .await?;
        let wanted = tag(key);
        Ok(reply.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| {
                o[edge.name_field()]
                    .as_str()
                    .is_some_and(|n| n.contains(&wanted))
            })
            .and_then(|o| o["id"].as_str().map(str::to_owned)))
    }

    /// Finds our object by its tag, or creates it with `params` (which name it with the tag).
    async fn ensure(
        &self,
        edge: Edge,
        key: &str,
        params: &[(&str, String)],
    ) -> Result<String, GraphError> {
        if let Some(id) = self.find(edge, key).await? {
            tracing::info!(
                act = self.act,
                edge = edge.path(),
                key,
                id,
                "found on Meta; not created again"
            );
            return Ok(id);
        }
        let reply = self
            .graph
            .post(&format!("{}/{}", self.act, edge.path()), self.token, params)
            .await?;
        id_of(&reply)
    }

    /// Our campaign `c` on Meta (PAUSED): the existing one with its tag, or a new one; its id.
    pub async fn campaign(&self, c: &CampaignSpec<'_>) -> Result<String, GraphError> {
        self.ensure(
            Edge::Campaigns,
            c.key,
            &[
                ("name", tagged(c.name, c.key)),
                ("objective", c.objective.to_owned()),
                ("status", "PAUSED".into()),
                ("special_ad_categories", "[]".into()),
                ("is_adset_budget_sharing_enabled", "false".into()),
            ],
        )
        .await
    }

    /// Our ad set `a` on Meta (PAUSED): the existing one with its tag, or a new one; its id.
    pub async fn adset(&self, a: &AdSetSpec<'_>) -> Result<String, GraphError> {
        let mut params = vec![
            ("name", tagged(a.name, a.key)),
            ("campaign_id", a.campaign_id.to_owned()),
            ("billing_event", "IMPRESSIONS".into()),
            ("optimization_goal", a.optimization_goal.to_owned()),
            ("bid_strategy", "LOWEST_COST_WITHOUT_CAP".into()),
            ("targeting", a.targeting.to_string()),
            ("status", "PAUSED".into()),
            ("start_time", a.start_time.clone()),
            a.budget.param(),
        ];
        if let Some(end) = &a.end_time {
            params.push(("end_time", end.clone()));
        }
        if let Some(p) = &a.promoted_object {
            params.push(("promoted_object", p.to_string()));
        }
        self.ensure(Edge::AdSets, a.key, &params).await
    }

    /// Uploads an image; Meta names it by the hash of its bytes, so the same bytes give
    /// the same hash however often they are sent.
    pub async fn image(&self, base64_bytes: String) -> Result<String, GraphError> {
        let made = self
            .graph
            .post(
                &format!("{}/adimages", self.act),
                self.token,
                &[("bytes", base64_bytes)],
            )
            .await?;
        made.body["images"]
            .as_object()
            .and_then(|m| m.values().next())
            .and_then(|i| i["hash"].as_str().map(str::to_owned))
            .ok_or_else(|| unexpected("image hash"))
    }

    /// Has Meta fetch a video from `file_url` (a short-lived presigned URL).
    pub async fn video(&self, key: &str, file_url: String) -> Result<String, GraphError> {
        self.ensure(
            Edge::AdVideos,
            key,
            &[("file_url", file_url), ("title", tagged("video", key))],
        )
        .await
    }

    /// Our creative `c` on Meta: the existing one with its tag, or a new one; its id.
    pub async fn creative(&self, c: &CreativeSpec<'_>) -> Result<String, GraphError> {
        let cta = json!({"type": "LEARN_MORE", "value": {"link": c.link}});
        let spec = match c.media {
            Media::Video { id, thumbnail } => json!({"page_id": c.page_id, "video_data": {
                "video_id": id, "image_url": thumbnail, "message": c.message, "call_to_action": cta}}),
            Media::Image { hash } => json!({"page_id": c.page_id, "link_data": {
                "image_hash": hash, "link": c.link, "message": c.message, "call_to_action": cta}}),
        };
        self.ensure(
            Edge::AdCreatives,
            c.key,
            &[
                ("name", tagged(c.name, c.key)),
                ("object_story_spec", spec.to_string()),
            ],
        )
        .await
    }

    /// Our ad `a` on Meta (PAUSED): the existing one with its tag, or a new one; its id.
    pub async fn ad(&self, a: &AdSpec<'_>) -> Result<String, GraphError> {
        self.ensure(
            Edge::Ads,
            a.key,
            &[
                ("name", tagged(a.name, a.key)),
                ("adset_id", a.adset_id.to_owned()),
                (
                    "creative",
                    json!({"creative_id": a.creative_id}).to_string(),
                ),
                ("status", "PAUSED".into()),
            ],
        )
        .await
    }

    /// The account's pixels (`/act_{id}/adspixels`): the first one, if any.
    pub async fn first_pixel(&self) -> Result<Option<String>, GraphError> {
        let reply = self
            .graph
            .get(
                &format!("{}/adspixels", self.act),
                self.token,
                &[("fields", "id,name".into())],
            )
            .await?;
        Ok(reply.body["data"][0]["id"].as_str().map(str::to_owned))
    }

    /// The preferred thumbnail of an uploaded video (`/{video_id}/thumbnails`), once
    /// Meta has made them.
    pub async fn video_thumbnail(&self, video: &str) -> Result<Option<String>, GraphError> {
        let reply = self
            .graph
            .get(
                &format!("{video}/thumbnails"),
                self.token,
                &[("fields", "uri,is_preferred".into())],
            )
            .await?;
        let all = reply.body["data"].as_array().cloned().unwrap_or_default();
        Ok(all
            .iter()
            .find(|t| t["is_preferred"] == json!(true))
            .or_else(|| all.first())
            .and_then(|t| t["uri"].as_str().map(str::to_owned)))
    }

    /// The smallest daily budget (minor units) Meta accepts on this account for the class,
    /// if Meta states one for the account's currency.
    pub async fn minimum_daily_budget(
        &self,
        class: MinimumBudgetClass,
        currency: &str,
    ) -> Result<Option<i64>, GraphError> {
        let reply = self
            .graph
            .get(&format!("{}/minimum_budgets", self.act), self.token, &[])
            .await?;
        Ok(reply.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["currency"].as_str() == Some(currency))
            .and_then(|m| m[class.field()].as_i64()))
    }
}

/// One point of Meta's daily outcomes curve: what a daily spend (minor units) buys.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct CurvePoint {
    /// Daily spend, minor units.
    pub spend: i64,
    /// People reached a day.
    pub reach: i64,
    /// Impressions a day.
    pub impressions: i64,
    /// Estimated results (for the optimisation goal) a day.
    pub actions: f64,
}

/// Meta's delivery estimate for a targeting and optimisation goal.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryEstimate {
    /// The smallest audience Meta estimates.
    pub audience_lower: i64,
    /// The largest audience Meta estimates.
    pub audience_upper: i64,
    /// Whether Meta's estimate is final (`estimate_ready`).
    pub ready: bool,
    /// Spend against results, by daily spend.
    pub curve: Vec<CurvePoint>,
}

impl DeliveryEstimate {
    /// The curve at a daily spend (minor units), interpolated between Meta's points and
    /// held at the last one beyond it; None without a curve.
    pub fn at(&self, spend: i64) -> Option<CurvePoint> {
        let mut points = self.curve.clone();
        points.sort_by_key(|p| p.spend);
        let first = *points.first()?;
        if spend <= first.spend {
            return Some(first);
        }
        for w in points.windows(2) {
            let (a, b) = (w[0], w[1]);
            if spend <= b.spend && b.spend > a.spend {
                let f = (spend - a.spend) as f64 / (b.spend - a.spend) as f64;
                let lerp = |x: i64, y: i64| x + ((y - x) as f64 * f).round() as i64;
                return Some(CurvePoint {
                    spend,
                    reach: lerp(a.reach, b.reach),
                    impressions: lerp(a.impressions, b.impressions),
                    actions: a.actions + (b.actions - a.actions) * f,
                });
            }
        }
        points.last().copied()
    }
}

impl AdAccount<'_> {
    /// `/act_{id}/delivery_estimate` for a targeting spec and optimisation goal.
    pub async fn delivery_estimate(
        &self,
        targeting: &Value,
        goal: &str,
        promoted_object: Option<&Value>,
    ) -> Result<DeliveryEstimate, GraphError> {
        let mut params = vec![
            ("targeting_spec", targeting.to_string()),
            ("optimization_goal", goal.to_owned()),
        ];
        if let Some(p) = promoted_object {
            params.push(("promoted_object", p.to_string()));
        }
        let reply = self
            .graph
            .get(
                &format!("{}/delivery_estimate", self.act),
                self.token,
                &params,
            )
            .await?;
        let e = &reply.body["data"][0];
        if !e.is_object() {
            return Err(unexpected("delivery estimate"));
        }
        let int = |v: &Value| {
            v.as_i64()
                .or_else(|| v.as_f64().map(|f| f as i64))
                .unwrap_or(0)
        };
        Ok(DeliveryEstimate {
            audience_lower: int(&e["estimate_mau_lower_bound"]),
            audience_upper: int(&e["estimate_mau_upper_bound"]),
            ready: e["estimate_ready"].as_bool().unwrap_or(false),
            curve: e["daily_outcomes_curve"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| CurvePoint {
                    spend: int(&p["spend"]),
                    reach: int(&p["reach"]),
                    impressions: int(&p["impressions"]),
                    actions: p["actions"].as_f64().unwrap_or(0.0),
                })
                .collect(),
        })
    }
}

/// The first Facebook Page the user can advertise as.
pub async fn first_page(graph: &Graph, token: &str) -> Result<String, GraphError> {
    let pages = graph
        .get("me/accounts", token, &[("fields", "id,name".into())])
        .await?;
    pages.body["data"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| GraphError {
            kind: ErrorKind::Refused,
            status: 400,
            code: 0,
            subcode: None,
            message: "your Meta account has no Facebook Page to run ads as".into(),
        })
}

/// Sets an object's status and checks Meta confirmed it.
pub async fn set_status(
    graph: &Graph,
    token: &str,
    object: &str,
    status: MetaStatus,
) -> Result<(), GraphError> {
    let reply = graph
        .post(object, token, &[("status", status.as_meta().into())])
        .await?;
    confirmed(&reply, status.as_meta())
}

/// Changes fields of a launched object (name, targeting, end_time, …) and checks Meta
/// confirmed it.
pub async fn update(
    graph: &Graph,
    token: &str,
    object: &str,
    fields: &[(&str, String)],
) -> Result<(), GraphError> {
    let reply = graph.post(object, token, fields).await?;
    confirmed(&reply, "the object")
}

/// Sets an ad set's budget and checks Meta confirmed it.
pub async fn set_budget(
    graph: &Graph,
    token: &str,
    adset: &str,
    budget: Budget,
) -> Result<(), GraphError> {
    let reply = graph.post(adset, token, &[budget.param()]).await?;
    confirmed(&reply, "the budget")
}

fn confirmed(reply: &Reply, what: &str) -> Result<(), GraphError> {
    if reply.body["success"] == json!(true) {
        Ok(())
    } else {
        Err(GraphError {
            kind: ErrorKind::Transient,
            status: 200,
            code: 0,
            subcode: None,
            message: format!("Meta did not confirm the change to {what}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tagged_name_ends_with_our_id_and_fits_meta() {
        assert_eq!(tagged("Winter chai", "c1"), "Winter chai [adpilot:c1]");
        let long = "x".repeat(500);
        let t = tagged(&long, "c1");
        assert!(t.chars().count() <= 400 && t.ends_with("[adpilot:c1]"));
    }

    #[test]
    fn the_outcomes_curve_is_read_between_its_points_and_held_beyond_them() {
        let p = |spend, reach, actions| CurvePoint {
            spend,
            reach,
            impressions: reach * 2,
            actions,
        };
        let e = DeliveryEstimate {
            audience_lower: 1,
            audience_upper: 2,
            ready: true,
            curve: vec![
                p(10_000, 2_000, 40.0),
                p(0, 0, 0.0),
                p(50_000, 6_000, 120.0),
            ],
        };
        assert_eq!(e.at(5_000), Some(p(5_000, 1_000, 20.0)));
        assert_eq!(e.at(30_000), Some(p(30_000, 4_000, 80.0)));
        assert_eq!(e.at(90_000), Some(p(50_000, 6_000, 120.0)));
        let empty = DeliveryEstimate { curve: vec![], ..e };
        assert_eq!(empty.at(1), None);
    }

    #[test]
    fn goals_map_to_their_minimum_budget_class() {
        use MinimumBudgetClass::*;
        assert_eq!(MinimumBudgetClass::for_goal("REACH"), Impressions);
        assert_eq!(MinimumBudgetClass::for_goal("LINK_CLICKS"), HighFrequency);
        assert_eq!(
            MinimumBudgetClass::for_goal("OFFSITE_CONVERSIONS"),
            LowFrequency
        );
    }
}
