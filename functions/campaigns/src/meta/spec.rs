//! How a campaign looks on Meta: the optimisation goal its objective implies, what its ad
//! set promotes (the pixel's event or the app), its targeting spec, its budget in the
//! currency's minor units and its schedule. Pure functions of the campaign, shared by
//! launch, lifecycle and the delivery estimate.

use chrono::{NaiveDate, Utc};
use serde_json::{Value, json};
use shared::domain::campaign::Objective;
use shared::domain::money::Currency;
use shared::meta::ads::Budget;
use shared::repo::campaigns::Campaign;

/// Meta's ad set optimisation goal for an objective: sales and leads optimise for the
/// pixel's purchase or lead event, app promotion for installs (a launch refuses them
/// without a pixel or app rather than quietly buying clicks).
pub fn optimization_goal(o: Objective) -> &'static str {
    match o {
        Objective::OutcomeAwareness => "REACH",
        Objective::OutcomeEngagement => "POST_ENGAGEMENT",
        Objective::OutcomeSales | Objective::OutcomeLeads => "OFFSITE_CONVERSIONS",
        Objective::OutcomeAppPromotion => "APP_INSTALLS",
        Objective::OutcomeTraffic => "LINK_CLICKS",
    }
}

/// The pixel event a conversion objective counts.
pub fn pixel_event(o: Objective) -> Option<&'static str> {
    match o {
        Objective::OutcomeSales => Some("PURCHASE"),
        Objective::OutcomeLeads => Some("LEAD"),
        _ => None,
    }
}

/// The ad set's `promoted_object` for a campaign, given its ad account's pixel: the
/// pixel's purchase or lead event, the app, or nothing; None also when it is missing.
pub fn promoted_object(c: &Campaign, pixel: Option<&str>) -> Option<Value> {
    if c.objective == Objective::OutcomeAppPromotion {
        return c.promoted_app.as_ref().map(|app| {
            json!({"application_id": app.application_id, "object_store_url": app.object_store_url})
        });
    }
    Some(json!({"pixel_id": pixel?, "custom_event_type": pixel_event(c.objective)?}))
}

/// `target_audience` as Meta's targeting spec (`TargetAudience::to_meta`; no audience:
/// India).
pub fn targeting(c: &Campaign) -> Value {
    c.target_audience
        .as_ref()
        .map(|a| a.to_meta())
        .unwrap_or_else(|| json!({"geo_locations": {"countries": ["IN"]}}))
}

pub fn day_start(d: NaiveDate) -> String {
    d.and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .to_rfc3339()
}

/// The campaign's budget in Meta's minor units of `currency`.
pub fn budget(c: &Campaign, currency: Currency) -> Option<Budget> {
    match (c.daily_budget, c.total_budget) {
        (Some(d), _) => Some(Budget::Daily(currency.to_minor(d))),
        (None, Some(t)) => Some(Budget::Lifetime(currency.to_minor(t))),
        (None, None) => None,
    }
}

/// The first and last day the ad set runs (a lifetime budget runs 30 days by default).
pub fn schedule(c: &Campaign) -> (NaiveDate, Option<NaiveDate>) {
    let start = c.start_date.unwrap_or_else(|| Utc::now().date_naive());
    let end = match (c.daily_budget, c.end_date) {
        (Some(_), end) => end,
        (None, end) => Some(end.unwrap_or(start + chrono::Duration::days(29))),
    };
    (start, end)
}
