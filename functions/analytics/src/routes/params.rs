//! The query parameters the analytics routes share: a date range and enum choices.

use chrono::{Duration, NaiveDate, Utc};
use shared::domain::{Fields, Invalid};
use shared::http::Query;

/// The longest range one request may cover.
pub const MAX_RANGE_DAYS: i64 = 400;
/// The default range: the last 30 days, today included.
const DEFAULT_DAYS: i64 = 30;

/// `from`/`to` (inclusive dates), defaulting to the last 30 days, at most 400 days apart.
pub(crate) fn date_range(q: &Query, f: &mut Fields) -> (NaiveDate, NaiveDate) {
    let today = Utc::now().date_naive();
    let to = q
        .parse::<NaiveDate>(f, "to", "a date like 2026-11-30")
        .unwrap_or(today);
    let from = q
        .parse::<NaiveDate>(f, "from", "a date like 2026-11-01")
        .unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
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
