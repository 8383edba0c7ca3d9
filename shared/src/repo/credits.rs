//! AI credits: spending is one conditional UPDATE on the current subscription
//! (`used + cost <= limit`) plus the `usage_logs` row, in the caller's transaction, so
//! concurrent requests can never overspend; a refund is a negative row tied to the same
//! resource, which a unique index lets exist at most once.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::db::{Tenant, Tx};
use crate::domain::asset::AssetType;
use crate::domain::notification::{Category, Notice};
use crate::error::AppError;
use crate::repo::{notifications, system_config};

/// The `usage_logs.feature` a generation of `kind` is charged under.
pub fn feature(kind: AssetType) -> &'static str {
    match kind {
        AssetType::Image => "image_generation",
        AssetType::Video => "video_generation",
    }
}

/// What a successful charge took and left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spent {
    pub credits: i32,
    pub remaining: i32,
}

/// Subscription states in which credits may be spent (a trial only until it ends).
const SPENDABLE: &str =
    "(status IN ('active', 'past_due') OR (status = 'trial' AND current_period_end > now()))";

/// Charges one generation of `kind` for `resource`: refuses with 402 when the credits
/// left do not cover it (or the subscription does not allow spending) and with 429 when
/// the user's daily limit for the model is reached. On refusal nothing is written (the
/// caller's transaction rolls back).
pub async fn spend(
    t: &Tenant<'_>,
    kind: AssetType,
    resource: Uuid,
    metadata: &Value,
) -> Result<Spent, AppError> {
    let cost = system_config::credit_cost(t, kind).await?;
    let sql = format!(
        "UPDATE subscriptions SET monthly_ai_credits_used = monthly_ai_credits_used + $1 \
         WHERE is_current AND monthly_ai_credits_used + $1 <= monthly_ai_credits_limit AND {SPENDABLE} \
         RETURNING monthly_ai_credits_limit - monthly_ai_credits_used, id, monthly_ai_credits_limit, \
                   monthly_ai_credits_used, credits_month_start"
    );
    let Some(row) = t.tx().query_opt(&sql, &[&cost]).await? else {
        return Err(refusal(t, kind, cost).await?);
    };
    let (limit, used): (i32, i32) = (row.get(2), row.get(3));
    for percent in crossed(used - cost, used, limit) {
        tell_credits_used(t, row.get(1), row.get(4), percent, limit).await?;
    }
    // The UPDATE holds the subscription's row lock until commit, so concurrent spenders
    // of this user count today's charges one after another.
    check_daily_limit(t, kind).await?;
    t.tx()
        .execute(
            "INSERT INTO usage_logs (user_id, feature, credits_consumed, resource_id, metadata) \
             VALUES ($1, $2, $3, $4, $5)",
            &[&t.user().0, &feature(kind), &cost, &resource, metadata],
        )
        .await?;
    Ok(Spent {
        credits: cost,
        remaining: row.get(0),
    })
}

/// The thresholds (80 % and 100 % of the month's credits) a charge from `before` to
/// `after` used credits crosses.
pub fn crossed(before: i32, after: i32, limit: i32) -> Vec<i32> {
    [80, 100]
        .into_iter()
        .filter(|p| limit > 0 && before * 100 < p * limit && after * 100 >= p * limit)
        .collect()
}

/// The owner hears once per credit month that 80 % or all of its credits are used, in the
/// transaction that spent them.
async fn tell_credits_used(
    t: &Tenant<'_>,
    subscription: Uuid,
    month_start: DateTime<Utc>,
    percent: i32,
    limit: i32,
) -> Result<(), AppError> {
    let (title, body) = if percent >= 100 {
        (
            "You have used all of this month's credits".to_owned(),
            format!(
                "All {limit} credits of this month are used. Upgrade your plan to keep generating ads before the month renews."
            ),
        )
    } else {
        (
            format!("You have used {percent}% of this month's credits"),
            format!("{percent}% of your {limit} monthly credits are used."),
        )
    };
    let notice = Notice {
        category: Category::Credits,
        event_key: format!(
            "credits:{subscription}:{}:{percent}",
            month_start.date_naive()
        ),
        title,
        body,
        link: Some("/billing".into()),
    };
    notifications::notify(t, t.user().0, &notice).await?;
    Ok(())
}

/// Why a charge was refused, as the 402 the client sees.
async fn refusal(t: &Tenant<'_>, kind: AssetType, cost: i32) -> Result<AppError, AppError> {
    let sql = format!(
        "SELECT status, monthly_ai_credits_limit - monthly_ai_credits_used, current_period_end, {SPENDABLE} \
         FROM subscriptions WHERE is_current"
    );
    let row = t
        .tx()
        .query_opt(&sql, &[])
        .await?
        .ok_or_else(|| AppError::Internal("account has no current subscription".into()))?;
    let (status, left, ends, spendable): (String, i32, DateTime<Utc>, bool) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let left = left.max(0);
    Ok(if spendable {
        AppError::PaymentRequired {
            detail: format!(
                "A {} costs {cost} credit(s) and {left} are left until {}. Upgrade your plan for more.",
                kind.as_str(),
                ends.format("%Y-%m-%d")
            ),
            credits_remaining: left,
        }
    } else {
        AppError::PaymentRequired {
            detail: format!(
                "Your subscription is {}{}; subscribe to a plan to generate.",
                if status == "trial" { "an expired " } else { "" },
                if status == "trial" {
                    "trial".into()
                } else {
                    status
                }
            ),
            credits_remaining: 0,
        }
    })
}

/// The start of the next UTC day, when daily limits lift.
pub fn next_day(now: DateTime<Utc>) -> DateTime<Utc> {
    (now.date_naive() + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
}

async fn check_daily_limit(t: &Tenant<'_>, kind: AssetType) -> Result<(), AppError> {
    let limit = system_config::daily_limit(t, kind).await?;
    let now = Utc::now();
    let today = next_day(now) - Duration::days(1);
    let used: i64 = t
        .tx()
        .query_one(
            "SELECT count(*) FROM usage_logs \
             WHERE user_id = $1 AND feature = $2 AND credits_consumed > 0 AND logged_at >= $3",
            &[&t.user().0, &feature(kind), &today],
        )
        .await?
        .get(0);
    if used >= i64::from(limit) {
        return Err(AppError::RateLimited {
            code: "daily_limit_reached",
            detail: format!(
                "You have started {used} {} generation(s) today, the daily limit. It resets at midnight UTC.",
                kind.as_str()
            ),
            retry_at: next_day(now),
        });
    }
    Ok(())
}

/// Gives back what `resource`'s charge took, once: a second call (a redelivered
/// message) finds the refund row already there and changes nothing. The credits go back
/// to the credit month of the charge: a charge from before the current month (whose
/// credits were reset since: a new period, or a new month of an annual plan) is recorded as refunded but gives nothing to spend now. Returns the
/// credits given back to the current period.
pub async fn refund(
    t: &impl Tx,
    user: Uuid,
    kind: AssetType,
    resource: Uuid,
    reason: &str,
) -> Result<i32, AppError> {
    let row = t
        .tx()
        .query_one(
            "WITH charge AS ( \
                 SELECT credits_consumed, logged_at FROM usage_logs \
                 WHERE user_id = $1 AND feature = $2 AND resource_id = $3 AND credits_consumed > 0 LIMIT 1), \
             refund AS ( \
                 INSERT INTO usage_logs (user_id, feature, credits_consumed, resource_id, metadata) \
                 SELECT $1, $2, -credits_consumed, $3, jsonb_build_object('refund', true, 'reason', $4::text) \
                 FROM charge \
                 ON CONFLICT (resource_id, feature) WHERE credits_consumed < 0 DO NOTHING \
                 RETURNING -credits_consumed AS credits), \
             given AS ( \
                 UPDATE subscriptions s \
                    SET monthly_ai_credits_used = greatest(0, s.monthly_ai_credits_used - refund.credits) \
                   FROM refund, charge \
                  WHERE s.user_id = $1 AND s.is_current AND charge.logged_at >= s.credits_month_start \
                 RETURNING refund.credits) \
             SELECT coalesce((SELECT credits FROM given), 0)",
            &[&user, &feature(kind), &resource, &reason],
        )
        .await?;
    Ok(row.get(0))
}

/// The benchmark's baseline: one unconditional increment of the current subscription's
/// usage (no limit check, no usage row). Not for product code.
pub async fn bench_plain_increment(t: &Tenant<'_>) -> Result<(), AppError> {
    t.tx()
        .execute(
            "UPDATE subscriptions SET monthly_ai_credits_used = monthly_ai_credits_used + 1 WHERE is_current",
            &[],
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod crossing_tests {
    use super::crossed;

    #[test]
    fn each_threshold_is_crossed_by_exactly_one_charge() {
        assert_eq!(crossed(39, 40, 50), [80]);
        assert_eq!(crossed(40, 41, 50), Vec::<i32>::new());
        assert_eq!(crossed(45, 50, 50), [100]);
        assert_eq!(crossed(35, 50, 50), [80, 100], "a video can cross both");
        assert_eq!(crossed(0, 1, 0), Vec::<i32>::new());
    }
}
