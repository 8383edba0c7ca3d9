//! The query parameters the analytics routes share: a date range and enum choices.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use shared::domain::{Fields, Invalid};
use shared::http::Query;

/// The longest range one request may cover.
pub const MAX_RANGE_DAYS: i64 = 400;
/// The default range: the last 30 days, today included.
const DEFAULT_DAYS: i64 = 30;

/// `from`/`to` (inclusive dates), defaulting to the last 30 days, at most 400 days apart.
pub(crate) fn date_range(q: &Query, f: &mut Fields) -> (NaiveDate, NaiveDate) {
    date_range_at(q, f, Utc::now())
}

/// Insights days are the ad account's own days, and an account can be up to 14 hours
/// ahead of UTC: an Indian account's day starts at 18:30 UTC. So the default `to` is the
/// latest date anywhere (an account behind UTC simply has no row for it yet), and the
/// default `from` is 30 days before UTC's today.
fn date_range_at(q: &Query, f: &mut Fields, now: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
    let latest_today = (now + Duration::hours(14)).date_naive();
    let given_to = q.parse::<NaiveDate>(f, "to", "a date like 2026-11-30");
    let to = given_to.unwrap_or(latest_today);
    let from = q
        .parse::<NaiveDate>(f, "from", "a date like 2026-11-01")
        .unwrap_or_else(|| match given_to {
            Some(to) => to - Duration::days(DEFAULT_DAYS - 1),
            None => now.date_naive() - Duration::days(DEFAULT_DAYS - 1),
        });
    if to < from {
        f.check::<()>(
            "to",
            Err(Invalid::new("out_of_range", "must not be before from")),
        );
    } else if (to - from).num_days() >= MAX_RANGE_DAYS {
        f.check::<()>(
            "to",
            Err(Invalid::new(
                "range_too_long",
                format!("ranges cover at most {MAX_RANGE_DAYS} days"),
            )),
        );
    }
    (from, to)
}

pub(crate) fn choice<T: serde::de::DeserializeOwned>(
    q: &Query,
    f: &mut Fields,
    key: &str,
    default: T,
    allowed: &str,
) -> T {
    let Some(raw) = q.one(f, key).map(str::to_owned) else {
        return default;
    };
    f.check(
        key,
        serde_json::from_value(serde_json::Value::String(raw))
            .map_err(|_| Invalid::new("invalid", format!("must be one of {allowed}"))),
    )
    .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_range_reaches_the_day_an_account_ahead_of_utc_is_already_in() {
        let req = lambda_http::Request::default();
        let q = Query::of(&req);
        let mut f = Fields::default();
        // 20:36 UTC on 1 December is 02:06 on 2 December in India.
        let now = "2026-12-01T20:36:00Z".parse().unwrap();
        let (from, to) = date_range_at(&q, &mut f, now);
        assert_eq!(
            (from.to_string(), to.to_string()),
            ("2026-11-02".into(), "2026-12-02".into())
        );
        assert!(f.finish().is_ok());
    }
}
