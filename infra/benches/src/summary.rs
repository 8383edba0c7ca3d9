//! The owner's summary at scale: `GET /v1/analytics/summary`'s read
//! (`analytics::summary` through `Db::tenant`, from the daily rollup) for the account
//! owning every analytics row, against the raw-row summary it replaced as the baseline
//! (the same transaction shape, summing `performance_analytics` on every call).
//! The rollup is first filled the way maintenance repairs it, and that is timed too.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use serde_json::{Value, json};
use shared::config::DbConfig;
use shared::db::{Db, WorkerDb};
use shared::domain::UserId;
use shared::repo::sql::daily_totals_of;
use shared::repo::{analytics, insights};
use tokio_postgres::Client;
use uuid::Uuid;

use crate::setup::{Bench, connect};
use crate::stats;

/// The summary before the rollup: per campaign, then in total, from the raw rows' daily
/// totals (the filter the repositories use).
fn raw_queries() -> (String, String) {
    let daily = daily_totals_of("pa");
    let sums = "coalesce(sum(pa.impressions), 0)::int8, coalesce(sum(pa.clicks), 0)::int8, \
        coalesce(sum(pa.spend), 0), coalesce(sum(pa.conversions), 0)::int8, coalesce(sum(pa.conversion_value), 0)";
    (
        format!(
            "SELECT c.id, c.name, c.status, {sums} FROM campaigns c LEFT JOIN performance_analytics pa \
             ON pa.campaign_id = c.id AND pa.date BETWEEN $2 AND $3 AND {daily} \
             WHERE c.user_id = $1 AND c.deleted_at IS NULL \
             GROUP BY c.id ORDER BY c.created_at DESC, c.id DESC LIMIT 1000"
        ),
        format!(
            "SELECT {sums} FROM performance_analytics pa JOIN campaigns c ON c.id = pa.campaign_id \
             WHERE c.user_id = $1 AND c.deleted_at IS NULL AND pa.date BETWEEN $2 AND $3 AND {daily}"
        ),
    )
}

fn config(url: &str) -> DbConfig {
    crate::setup::db_config(url, 600_000)
}

/// Fills `campaign_daily_totals` and `campaign_weekly_totals` from the raw rows in one
/// maintenance rebuild; returns the days and the weeks written.
async fn fill_rollup(bench: &Bench) -> ((u64, u64), Duration) {
    let worker = WorkerDb::connect(&config(&bench.worker_url)).expect("worker pool");
    let started = Instant::now();
    let rebuilt = worker
        .run("bench rollup fill", async |w| {
            insights::rebuild_daily_totals(w).await
        })
        .await
        .expect("rebuild the rollup");
    ((rebuilt.written, rebuilt.weeks_written), started.elapsed())
}

/// The summary as the handler reads it; returns the campaigns listed.
async fn rollup_summary(db: &Db, user: Uuid, from: NaiveDate, to: NaiveDate) -> usize {
    let (campaigns, _) = db
        .tenant(UserId(user), async |t| {
            analytics::summary(t, from, to).await
        })
        .await
        .expect("summary from the rollup");
    campaigns.len()
}

/// The old summary: the same tenant transaction (scope, live check), raw rows summed.
async fn raw_summary(
    app: &mut Client,
    (per_campaign, total): &(String, String),
    user: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> usize {
    let tx = app.transaction().await.unwrap();
    tx.execute(
        "SELECT set_config('app.current_user_id', $1, true)",
        &[&user.to_string()],
    )
    .await
    .unwrap();
    tx.query_one(
        "SELECT deleted_at IS NULL AND is_active FROM users WHERE id = $1",
        &[&user],
    )
    .await
    .unwrap();
    let per = tx.query(per_campaign, &[&user, &from, &to]).await.unwrap();
    tx.query_one(total, &[&user, &from, &to]).await.unwrap();
    tx.commit().await.unwrap();
    per.len()
}

async fn timed<F: AsyncFnMut() -> usize>(runs: usize, mut read: F) -> (Value, usize) {
    let mut samples = Vec::with_capacity(runs);
    let mut listed = 0;
    let started = Instant::now();
    for _ in 0..runs {
        let t = Instant::now();
        listed = read().await;
        samples.push(t.elapsed());
    }
    (stats::summary(samples, started.elapsed()), listed)
}

/// The summary over `days` days ending today, `runs` times each way, for `user`.
pub async fn run(bench: &Bench, admin: &Client, user: Uuid, days: i64, runs: usize) -> Value {
    let ((rollup_rows, weekly_rows), fill) = fill_rollup(bench).await;
    admin
        .batch_execute("VACUUM ANALYZE campaign_daily_totals, campaign_weekly_totals")
        .await
        .unwrap();
    let to = Utc::now().date_naive();
    let from = to - chrono::Duration::days(days - 1);
    let db = Db::connect(&config(&bench.app_url)).expect("app pool");
    rollup_summary(&db, user, from, to).await;
    let (rollup, listed) = timed(runs, async || rollup_summary(&db, user, from, to).await).await;
    let mut app = connect(&bench.app_url).await;
    let raw_sql = raw_queries();
    raw_summary(&mut app, &raw_sql, user, from, to).await;
    let (raw, raw_listed) = timed(runs.min(50), async || {
        raw_summary(&mut app, &raw_sql, user, from, to).await
    })
    .await;
    assert_eq!(listed, raw_listed, "both summaries list the same campaigns");
    let p99 = rollup["p99_ms"].as_f64().unwrap_or(f64::MAX);
    json!({
        "days": days,
        "campaigns_listed": listed,
        "rollup_rows": rollup_rows,
        "weekly_rows": weekly_rows,
        "rollup_fill_seconds": (fill.as_secs_f64() * 10.0).round() / 10.0,
        "rollup": rollup,
        "raw": raw,
        "ratio": (raw["p50_ms"].as_f64().unwrap_or(0.0) / rollup["p50_ms"].as_f64().unwrap_or(1.0).max(0.01) * 10.0).round() / 10.0,
        "p99_target_ms": 20.0,
        "p99_ok": p99 <= 20.0,
    })
}
