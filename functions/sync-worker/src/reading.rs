//! What every read of one sync shares: the ad account read with the user's token, the
//! window of days pulled, and the call meter that stops a sync within its hourly budget
//! or when Meta's usage headers say so.

use chrono::Duration;
use serde_json::{Value, json};
use shared::meta::ads::AdAccount;
use shared::meta::reads::Meter;
use shared::meta::{ErrorKind, GraphError, Usage};

use crate::State;

/// Days before today that are pulled again every hour.
pub const WINDOW_DAYS: i64 = 28;

/// Calls made in this sync and the last usage Meta reported.
pub struct Calls {
    pub made: i32,
    pub budget: i32,
    pub usage: Option<Usage>,
}

impl Calls {
    pub fn usage_json(&self) -> Option<Value> {
        self.usage.as_ref().map(|u| {
            json!({"business_use_case": u.business_use_case, "ad_account": u.ad_account,
                   "insights_throttle": u.insights_throttle, "max_util_pct": u.max_util_pct()})
        })
    }
}

impl Meter for Calls {
    fn count(&mut self, usage: Usage) -> Result<(), GraphError> {
        self.made += 1;
        let pct = usage.max_util_pct();
        let wait = usage.regain_access_minutes();
        // Keep the last answer that reported usage (not every endpoint sends the headers).
        if usage != Usage::default() {
            self.usage = Some(usage);
        }
        if pct >= 95.0 || wait > 0 || self.made >= self.budget {
            return Err(GraphError {
                kind: ErrorKind::RateLimited,
                status: 200,
                code: 0,
                subcode: None,
                message: format!(
                    "usage at {pct:.0}% after {} calls; pausing this account",
                    self.made
                ),
            });
        }
        Ok(())
    }
}

/// The ad account, read with the user's token.
pub fn account<'a>(state: &'a State, token: &'a str, act: &'a str) -> AdAccount<'a> {
    AdAccount {
        graph: &state.graph,
        token,
        act,
    }
}

/// The `time_range` of a sync: the account's today and the days before it.
pub fn window(today: chrono::NaiveDate) -> Value {
    json!({"since": (today - Duration::days(WINDOW_DAYS)).to_string(), "until": today.to_string()})
}
