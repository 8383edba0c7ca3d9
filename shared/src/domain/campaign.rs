//! Campaign rules: purposes and the Meta objective each implies, INR budgets, the
//! targeting spec in Meta's own field names, and the allowed status transitions.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Fields, Invalid};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
/// What the owner wants from a campaign; it picks Meta's objective and what counts as a result.
pub enum Purpose {
    /// Leads (forms, calls, messages).
    LeadGeneration,
    /// Purchases on the owner's site.
    Sales,
    /// Reach and recall.
    BrandAwareness,
    /// Installs of the owner's app.
    AppInstalls,
    /// People at an event.
    EventPromotion,
    /// Visits to the owner's shop.
    StoreVisits,
    /// Purchases from people who already know the business.
    Retargeting,
}

/// Meta Marketing API campaign objectives (ODAX).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[allow(clippy::enum_variant_names)]
pub enum Objective {
    #[serde(rename = "OUTCOME_AWARENESS")]
    /// Awareness.
    OutcomeAwareness,
    #[serde(rename = "OUTCOME_TRAFFIC")]
    /// Traffic.
    OutcomeTraffic,
    #[serde(rename = "OUTCOME_ENGAGEMENT")]
    /// Engagement.
    OutcomeEngagement,
    #[serde(rename = "OUTCOME_LEADS")]
    /// Leads.
    OutcomeLeads,
    #[serde(rename = "OUTCOME_APP_PROMOTION")]
    /// App promotion.
    OutcomeAppPromotion,
    #[serde(rename = "OUTCOME_SALES")]
    /// Sales.
    OutcomeSales,
}

impl Purpose {
    /// The objective a purpose implies when the client does not choose one.
    pub fn default_objective(self) -> Objective {
        match self {
            Self::LeadGeneration => Objective::OutcomeLeads,
            Self::Sales | Self::Retargeting => Objective::OutcomeSales,
            Self::BrandAwareness | Self::StoreVisits => Objective::OutcomeAwareness,
            Self::AppInstalls => Objective::OutcomeAppPromotion,
            Self::EventPromotion => Objective::OutcomeEngagement,
        }
    }
}

string_enum!(Purpose);
string_enum!(Objective);
string_enum!(CampaignStatus);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
/// A campaign's status in Adpilot (Meta's own statuses follow it).
pub enum CampaignStatus {
    /// Being written; nothing on Meta.
    Draft,
    /// On Meta, in Meta's ad review.
    Review,
    /// Delivering.
    Active,
    /// Stopped by the owner or the optimizer; it can resume.
    Paused,
    /// Finished: it ran its course and delivers no more.
    Completed,
    /// Stopped for good.
    Cancelled,
}

/// What changing a campaign's status takes. A campaign that exists on Meta changes there
/// first, through these statuses in order; one that does not changes only here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaStatus {
    /// `ACTIVE`.
    Active,
    /// `PAUSED`.
    Paused,
    /// `ARCHIVED`.
    Archived,
}

impl MetaStatus {
    /// Meta's spelling.
    pub fn as_meta(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Paused => "PAUSED",
            Self::Archived => "ARCHIVED",
        }
    }
}

/// Why a status change is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusRefusal {
    /// Not an edge of the lifecycle.
    NotAllowed,
    /// Only launching makes a campaign active for the first time.
    LaunchRequired,
    /// Resuming needs the campaign on Meta.
    NotOnMeta,
}

impl CampaignStatus {
    /// draft → review; launching makes it active; active ⇄ paused; active or paused →
    /// completed; anything not cancelled → cancelled. For a campaign on Meta
    /// (`on_meta`), the Meta statuses to set first, in order: pausing pauses, resuming
    /// activates, completing or cancelling pauses and then archives (spend history is
    /// kept; archived objects stop delivering for good).
    pub fn change(self, next: Self, on_meta: bool) -> Result<&'static [MetaStatus], StatusRefusal> {
        use CampaignStatus::*;
        const NONE: &[MetaStatus] = &[];
        const PAUSE: &[MetaStatus] = &[MetaStatus::Paused];
        const ACTIVATE: &[MetaStatus] = &[MetaStatus::Active];
        const STOP: &[MetaStatus] = &[MetaStatus::Paused, MetaStatus::Archived];
        let steps = match (self, next) {
            (Draft, Review) => NONE,
            (Draft | Review, Active) => return Err(StatusRefusal::LaunchRequired),
            (Active, Paused) => PAUSE,
            (Paused, Active) if !on_meta => return Err(StatusRefusal::NotOnMeta),
            (Paused, Active) => ACTIVATE,
            (Active | Paused, Completed) => STOP,
            (Completed, Cancelled) => NONE,
            (Draft | Review | Active | Paused, Cancelled) => STOP,
            _ => return Err(StatusRefusal::NotAllowed),
        };
        Ok(if on_meta { steps } else { NONE })
    }

    /// The status a Meta status event moves a campaign to, if any. Meta can pause or
    /// resume a campaign (someone used Ads Manager) and archive or delete it; it can never
    /// revive a campaign that was completed or cancelled here, nor make an unlaunched one
    /// active (only the launch does that).
    pub fn follow_meta(self, meta_status: &str) -> Option<Self> {
        use CampaignStatus::*;
        let next = match (self, meta_status) {
            (Paused, "ACTIVE") => Active,
            (Active, "PAUSED" | "CAMPAIGN_PAUSED") => Paused,
            (Active | Paused, "ARCHIVED" | "DELETED") => Cancelled,
            _ => return None,
        };
        Some(next)
    }

    /// What a delete does on Meta: archived there (history kept), whatever the status.
    pub const DELETE_ON_META: &'static [MetaStatus] = &[MetaStatus::Paused, MetaStatus::Archived];
}

/// Meta's review of a campaign's ads, as one verdict: `rejected` as soon as any ad is
/// DISAPPROVED (the owner must act, Meta's feedback says why), `pending` while any is
/// still being reviewed, `approved` once they deliver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// Some ad is still in review.
    Pending,
    /// Every ad passed review.
    Approved,
    /// Some ad was disapproved.
    Rejected,
}

string_enum!(Approval);

impl Approval {
    /// The verdict for the ads' `effective_status` values (None: no ads to judge).
    pub fn of_ads<'a>(statuses: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        let mut verdict = None;
        for s in statuses {
            let this = match s {
                "DISAPPROVED" => return Some(Self::Rejected),
                "PENDING_REVIEW" | "IN_PROCESS" | "PREAPPROVED" => Self::Pending,
                "DELETED" | "ARCHIVED" => continue,
                _ => Self::Approved,
            };
            verdict = Some(match (verdict, this) {
                (Some(Self::Pending), _) | (_, Self::Pending) => Self::Pending,
                _ => this,
            });
        }
        verdict
    }
}

/// An amount of INR: positive, at most two decimals, below ₹10,000,000,000.
pub fn inr(raw: &str) -> Result<Decimal, Invalid> {
    super::money::Currency::INR.amount(raw)
}

/// Meta's targeting spec, in Meta's field names.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetAudience {
    #[schema(minimum = 13, maximum = 65)]
    /// Youngest age, 13–65.
    pub age_min: Option<u8>,
    #[schema(minimum = 13, maximum = 65)]
    /// Oldest age, 13–65.
    pub age_max: Option<u8>,
    /// 1 = male, 2 = female; empty or absent for all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub genders: Vec<u8>,
    /// Where the people are; India when absent.
    pub geo_locations: Option<GeoLocations>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// Interests, any of which qualifies.
    pub interests: Vec<Interest>,
    /// Meta's Advantage+ audience: Meta may reach beyond these settings when it expects
    /// better results (they become suggestions, ages below age_min excepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advantage_audience: Option<bool>,
}

impl TargetAudience {
    /// As Meta's targeting spec: interests go into `flexible_spec`, Advantage+ audience
    /// into `targeting_automation`, unset fields are left out (not sent as null), and
    /// India is the place when none is given.
    pub fn to_meta(&self) -> serde_json::Value {
        let mut t = serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({}));
        if let Some(o) = t.as_object_mut() {
            o.retain(|_, v| !v.is_null());
            if let Some(interests) = o.remove("interests") {
                o.insert(
                    "flexible_spec".into(),
                    serde_json::json!([{ "interests": interests }]),
                );
            }
            if let Some(on) = o.remove("advantage_audience") {
                let flag = i32::from(on == serde_json::Value::Bool(true));
                o.insert(
                    "targeting_automation".into(),
                    serde_json::json!({ "advantage_audience": flag }),
                );
            }
        }
        if t.get("geo_locations")
            .is_none_or(serde_json::Value::is_null)
        {
            t["geo_locations"] = serde_json::json!({"countries": ["IN"]});
        }
        t
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
/// Places, in Meta's form.
pub struct GeoLocations {
    /// ISO 3166-1 alpha-2 codes, e.g. "IN".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// Regions (states), by Meta key.
    pub regions: Vec<GeoKey>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// Cities, by Meta key, with a radius.
    pub cities: Vec<City>,
}

/// A Meta location key (from the Targeting Search API), e.g. a region "1728".
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GeoKey {
    #[schema(pattern = "^[0-9]{1,20}$")]
    /// The key.
    pub key: String,
    /// Its name, for people.
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
/// A city by its Meta key, with the radius around it.
pub struct City {
    #[schema(pattern = "^[0-9]{1,20}$")]
    /// The key.
    pub key: String,
    /// Its name, for people.
    pub name: Option<String>,
    /// 10–50 miles or 17–80 kilometres around the city.
    pub radius: Option<u16>,
    /// Miles or kilometres, for `radius`.
    pub distance_unit: Option<DistanceUnit>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
/// The unit of a city's radius.
pub enum DistanceUnit {
    /// Miles.
    Mile,
    /// Kilometres.
    Kilometer,
}

/// A Meta interest, by its id and name.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Interest {
    #[schema(pattern = "^[0-9]{1,20}$", example = "6003139266461")]
    /// Meta's interest id.
    pub id: String,
    #[schema(max_length = 200)]
    /// Its name.
    pub name: String,
}

fn numeric_key(raw: &str) -> bool {
    !raw.is_empty() && raw.len() <= 20 && raw.bytes().all(|b| b.is_ascii_digit())
}

impl TargetAudience {
    /// Reports every rule the spec breaks, under `target_audience.<path>`.
    pub fn check(&self, f: &mut Fields) {
        let p = |s: &str| format!("target_audience.{s}");
        let mut bad = |field: String, code: &'static str, msg: String| {
            f.check::<()>(&field, Err(Invalid::new(code, msg)));
        };
        for (name, age) in [("age_min", self.age_min), ("age_max", self.age_max)] {
            if let Some(a) = age.filter(|a| !(13..=65).contains(a)) {
                bad(p(name), "out_of_range", format!("{a} is not within 13–65"));
            }
        }
        if let (Some(lo), Some(hi)) = (self.age_min, self.age_max)
            && lo > hi
        {
            bad(
                p("age_max"),
                "out_of_range",
                "must be at least age_min".into(),
            );
        }
        if self.genders.iter().any(|g| !matches!(g, 1 | 2)) || self.genders.len() > 2 {
            bad(
                p("genders"),
                "invalid",
                "use [1] (men), [2] (women) or [1, 2]".into(),
            );
        }
        match &self.geo_locations {
            None => bad(
                p("geo_locations"),
                "required",
                "Meta needs at least one location".into(),
            ),
            Some(geo) => {
                if geo.countries.is_empty() && geo.regions.is_empty() && geo.cities.is_empty() {
                    bad(
                        p("geo_locations"),
                        "required",
                        "give at least one country, region or city".into(),
                    );
                }
                for (i, c) in geo.countries.iter().enumerate() {
                    if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                        bad(
                            p(&format!("geo_locations.countries[{i}]")),
                            "invalid_country",
                            "use an ISO code like IN".into(),
                        );
                    }
                }
                for (i, r) in geo.regions.iter().enumerate() {
                    if !numeric_key(&r.key) {
                        bad(
                            p(&format!("geo_locations.regions[{i}].key")),
                            "invalid_key",
                            "must be a Meta location key".into(),
                        );
                    }
                }
                for (i, c) in geo.cities.iter().enumerate() {
                    if !numeric_key(&c.key) {
                        bad(
                            p(&format!("geo_locations.cities[{i}].key")),
                            "invalid_key",
                            "must be a Meta location key".into(),
                        );
                    }
                    let range = match c.distance_unit.unwrap_or(DistanceUnit::Kilometer) {
                        DistanceUnit::Mile => 10..=50,
                        DistanceUnit::Kilometer => 17..=80,
                    };
                    if c.radius.is_some_and(|r| !range.contains(&r)) {
                        bad(
                            p(&format!("geo_locations.cities[{i}].radius")),
                            "out_of_range",
                            format!("must be within {range:?}"),
                        );
                    }
                }
                if geo.countries.len() + geo.regions.len() + geo.cities.len() > 200 {
                    bad(
                        p("geo_locations"),
                        "too_many",
                        "at most 200 locations".into(),
                    );
                }
            }
        }
        if self.interests.len() > 100 {
            bad(p("interests"), "too_many", "at most 100 interests".into());
        }
        for (i, it) in self.interests.iter().enumerate() {
            if !numeric_key(&it.id) {
                bad(
                    p(&format!("interests[{i}].id")),
                    "invalid_key",
                    "must be a Meta interest id".into(),
                );
            }
            if it.name.trim().is_empty() || it.name.chars().count() > 200 {
                bad(
                    p(&format!("interests[{i}].name")),
                    "invalid",
                    "must be 1–200 characters".into(),
                );
            }
        }
    }
}

/// The app an app-installs campaign promotes: its Meta app id and its store page.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotedApp {
    /// The app's id on Meta (from the Meta app dashboard).
    #[schema(pattern = "^[0-9]{1,20}$", example = "1234567890123")]
    pub application_id: String,
    /// Its Google Play or App Store page.
    #[schema(example = "https://play.google.com/store/apps/details?id=com.chaipoint.app")]
    pub object_store_url: String,
}

impl PromotedApp {
    /// Records what is wrong with the app's id or store URL.
    pub fn check(&self, f: &mut Fields) {
        if !numeric_key(&self.application_id) {
            f.check::<()>(
                "promoted_app.application_id",
                Err(Invalid::new(
                    "invalid_key",
                    "must be the app's numeric Meta id",
                )),
            );
        }
        let store = [
            "https://play.google.com/store/apps/",
            "https://apps.apple.com/",
            "https://itunes.apple.com/",
        ];
        if !store.iter().any(|p| self.object_store_url.starts_with(p))
            || self.object_store_url.len() > 500
        {
            f.check::<()>(
                "promoted_app.object_store_url",
                Err(Invalid::new(
                    "invalid_url",
                    "must be the app's Google Play or App Store page (https)",
                )),
            );
        }
    }
}

/// What the optimizer aims for.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptimizationGoals {
    /// Target cost per acquisition in INR, e.g. "250.00".
    #[schema(value_type = Option<String>, example = "250.00")]
    pub target_cpa: Option<String>,
    /// Target return on ad spend, e.g. "3.5".
    #[schema(value_type = Option<String>, example = "3.5")]
    pub target_roas: Option<String>,
    /// The daily budget the optimizer never raises the campaign above, e.g. "5000.00".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "5000.00")]
    pub max_daily_budget: Option<String>,
}

impl OptimizationGoals {
    /// Records what is wrong with each goal.
    pub fn check(&self, f: &mut Fields) {
        if let Some(cpa) = &self.target_cpa {
            f.check("optimization_goals.target_cpa", inr(cpa));
        }
        if let Some(max) = &self.max_daily_budget {
            f.check("optimization_goals.max_daily_budget", inr(max));
        }
        if let Some(roas) = &self.target_roas {
            let ok = roas
                .parse::<Decimal>()
                .is_ok_and(|r| r > Decimal::ZERO && r < Decimal::from(1000));
            if !ok {
                f.check::<()>(
                    "optimization_goals.target_roas",
                    Err(Invalid::new(
                        "invalid",
                        "must be a ratio above 0 and below 1000",
                    )),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_purpose_implies_its_objective() {
        use Objective::*;
        use Purpose::*;
        let table = [
            (LeadGeneration, OutcomeLeads),
            (Sales, OutcomeSales),
            (Retargeting, OutcomeSales),
            (BrandAwareness, OutcomeAwareness),
            (AppInstalls, OutcomeAppPromotion),
            (EventPromotion, OutcomeEngagement),
            (StoreVisits, OutcomeAwareness),
        ];
        for (purpose, objective) in table {
            assert_eq!(purpose.default_objective(), objective, "{purpose:?}");
        }
        assert_eq!(OutcomeLeads.as_str(), "OUTCOME_LEADS");
    }

    #[test]
    fn status_moves_only_along_the_lifecycle() {
        use CampaignStatus::*;
        // Reachable at all (launching counts) for a campaign on Meta.
        let reachable = |from: CampaignStatus, to| {
            matches!(
                from.change(to, true),
                Ok(_) | Err(StatusRefusal::LaunchRequired)
            )
        };
        for (from, to) in [
            (Draft, Review),
            (Review, Active),
            (Active, Paused),
            (Paused, Active),
            (Paused, Completed),
            (Completed, Cancelled),
        ] {
            assert!(reachable(from, to), "{from:?} → {to:?}");
        }
        for (from, to) in [
            (Active, Draft),
            (Completed, Active),
            (Cancelled, Draft),
            (Cancelled, Cancelled),
            (Review, Draft),
        ] {
            assert!(!reachable(from, to), "{from:?} → {to:?}");
        }
    }

    #[test]
    fn each_edge_of_a_campaign_on_meta_says_what_meta_must_do_first() {
        use CampaignStatus::*;
        use MetaStatus::{Active as MActive, Archived, Paused as MPaused};
        let table: [(CampaignStatus, CampaignStatus, &[MetaStatus]); 9] = [
            (Draft, Review, &[]),
            (Active, Paused, &[MPaused]),
            (Paused, Active, &[MActive]),
            (Active, Completed, &[MPaused, Archived]),
            (Paused, Completed, &[MPaused, Archived]),
            (Active, Cancelled, &[MPaused, Archived]),
            (Paused, Cancelled, &[MPaused, Archived]),
            (Draft, Cancelled, &[MPaused, Archived]),
            (Completed, Cancelled, &[]),
        ];
        for (from, to, steps) in table {
            assert_eq!(from.change(to, true), Ok(steps), "{from:?} → {to:?}");
        }
    }

    #[test]
    fn one_disapproved_ad_rejects_and_one_in_review_keeps_the_campaign_pending() {
        assert_eq!(
            Approval::of_ads(["ACTIVE", "DISAPPROVED", "PENDING_REVIEW"]),
            Some(Approval::Rejected)
        );
        assert_eq!(
            Approval::of_ads(["ACTIVE", "PENDING_REVIEW"]),
            Some(Approval::Pending)
        );
        assert_eq!(Approval::of_ads(["IN_PROCESS"]), Some(Approval::Pending));
        assert_eq!(
            Approval::of_ads(["ACTIVE", "PAUSED", "CAMPAIGN_PAUSED"]),
            Some(Approval::Approved)
        );
        assert_eq!(Approval::of_ads(["ARCHIVED"]), None);
        assert_eq!(Approval::of_ads([]), None);
    }

    #[test]
    fn a_meta_status_event_never_revives_a_stopped_campaign() {
        use CampaignStatus::*;
        assert_eq!(Paused.follow_meta("ACTIVE"), Some(Active));
        assert_eq!(Active.follow_meta("PAUSED"), Some(Paused));
        assert_eq!(Active.follow_meta("CAMPAIGN_PAUSED"), Some(Paused));
        assert_eq!(Paused.follow_meta("ARCHIVED"), Some(Cancelled));
        assert_eq!(Active.follow_meta("DELETED"), Some(Cancelled));
        for stopped in [Cancelled, Completed, Draft, Review] {
            assert_eq!(stopped.follow_meta("ACTIVE"), None, "{stopped:?}");
        }
        assert_eq!(Active.follow_meta("ACTIVE"), None);
        assert_eq!(Active.follow_meta("IN_PROCESS"), None);
    }

    #[test]
    fn a_campaign_not_on_meta_changes_only_here_and_never_becomes_active_without_a_launch() {
        use CampaignStatus::*;
        assert_eq!(Draft.change(Cancelled, false), Ok(&[][..]));
        assert_eq!(Review.change(Cancelled, false), Ok(&[][..]));
        for from in [Draft, Review] {
            for on_meta in [false, true] {
                assert_eq!(
                    from.change(Active, on_meta),
                    Err(StatusRefusal::LaunchRequired)
                );
            }
        }
        assert_eq!(Paused.change(Active, false), Err(StatusRefusal::NotOnMeta));
        assert_eq!(
            Cancelled.change(Active, true),
            Err(StatusRefusal::NotAllowed)
        );
        assert_eq!(
            Completed.change(Paused, true),
            Err(StatusRefusal::NotAllowed)
        );
    }

    #[test]
    fn budgets_are_positive_inr_with_two_decimals() {
        assert_eq!(inr("1500").unwrap().to_string(), "1500");
        assert_eq!(inr("99.50").unwrap().to_string(), "99.50");
        for bad in ["0", "-5", "1.005", "abc", "10000000000"] {
            assert!(inr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn targeting_rules_name_the_offending_path() {
        let spec: TargetAudience = serde_json::from_value(serde_json::json!({
            "age_min": 30, "age_max": 20, "genders": [3],
            "geo_locations": {"countries": ["india"], "cities": [{"key": "2420605", "radius": 5, "distance_unit": "mile"}]},
            "interests": [{"id": "abc", "name": "Yoga"}]
        }))
        .unwrap();
        let mut f = Fields::default();
        spec.check(&mut f);
        let crate::AppError::Validation(errors) = f.finish().unwrap_err() else {
            panic!()
        };
        let names: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            names,
            [
                "target_audience.age_max",
                "target_audience.genders",
                "target_audience.geo_locations.countries[0]",
                "target_audience.geo_locations.cities[0].radius",
                "target_audience.interests[0].id"
            ]
        );
    }
}
