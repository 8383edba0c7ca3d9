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
use tokio_postgres::{Client, Statement};
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

/// What was tried for a constant-cost read, built in the bench's database only: every
/// campaign's running totals for every day from its first daily total to its last, and
/// each campaign's span (first, last day and the totals through the last), so a range is
/// the difference of two rows. Not in the schema: keeping it would rewrite every later
/// day of a campaign on each sync of an earlier one. Returns the rows written.
async fn build_running_totals(admin: &Client) -> u64 {
    admin
        .batch_execute(
            "DROP TABLE IF EXISTS bench_running_totals, bench_running_spans;
             CREATE TABLE bench_running_totals AS
               SELECT campaign_id, date, user_id,
                      sum(impressions) OVER w AS impressions, sum(clicks) OVER w AS clicks, sum(spend) OVER w AS spend,
                      sum(conversions) OVER w AS conversions, sum(conversion_value) OVER w AS conversion_value
               FROM (SELECT s.campaign_id, g::date AS date, s.user_id, coalesce(d.impressions, 0) AS impressions,
                            coalesce(d.clicks, 0) AS clicks, coalesce(d.spend, 0) AS spend,
                            coalesce(d.conversions, 0) AS conversions, coalesce(d.conversion_value, 0) AS conversion_value
                     FROM (SELECT campaign_id, user_id, min(date) AS first, max(date) AS last
                           FROM campaign_daily_totals GROUP BY 1, 2) s
                     CROSS JOIN generate_series(s.first, s.last, interval '1 day') g
                     LEFT JOIN campaign_daily_totals d ON d.campaign_id = s.campaign_id AND d.date = g::date) days
               WINDOW w AS (PARTITION BY campaign_id ORDER BY date);
             ALTER TABLE bench_running_totals ADD PRIMARY KEY (campaign_id, date);
             CREATE INDEX ON bench_running_totals (user_id, date)
               INCLUDE (campaign_id, impressions, clicks, spend, conversions, conversion_value);
             CREATE TABLE bench_running_spans AS
               SELECT DISTINCT ON (campaign_id) campaign_id, user_id, date AS last,
                      (SELECT min(date) FROM bench_running_totals f WHERE f.campaign_id = r.campaign_id) AS first,
                      impressions, clicks, spend, conversions, conversion_value
               FROM bench_running_totals r ORDER BY campaign_id, date DESC;
             ALTER TABLE bench_running_spans ADD PRIMARY KEY (campaign_id);
             CREATE INDEX ON bench_running_spans (user_id);
             GRANT SELECT ON bench_running_totals, bench_running_spans TO adpilot_app;",
        )
        .await
        .expect("running totals");
    // On its own: VACUUM cannot run in the implicit transaction of a batch.
    admin
        .batch_execute("VACUUM ANALYZE bench_running_totals, bench_running_spans")
        .await
        .expect("vacuum the running totals");
    let rows: i64 = admin
        .query_one("SELECT count(*) FROM bench_running_totals", &[])
        .await
        .unwrap()
        .get(0);
    rows as u64
}

/// The summary's read from the running totals (`$1` user, `$2`–`$3` the range): each campaign's figures are its running
/// totals at the range's end (or its last day) less those of the day before the start.
const RUNNING_SUMMARY: &str = "WITH e AS (SELECT * FROM bench_running_totals WHERE user_id = $1 AND date = $3),      s AS (SELECT * FROM bench_running_totals WHERE user_id = $1 AND date = $2::date - 1),      per AS (SELECT sp.campaign_id,         CASE WHEN $3 >= sp.last THEN sp.impressions ELSE coalesce(e.impressions, 0) END           - CASE WHEN $2::date - 1 >= sp.last THEN sp.impressions ELSE coalesce(s.impressions, 0) END AS impressions,         CASE WHEN $3 >= sp.last THEN sp.clicks ELSE coalesce(e.clicks, 0) END           - CASE WHEN $2::date - 1 >= sp.last THEN sp.clicks ELSE coalesce(s.clicks, 0) END AS clicks,         CASE WHEN $3 >= sp.last THEN sp.spend ELSE coalesce(e.spend, 0) END           - CASE WHEN $2::date - 1 >= sp.last THEN sp.spend ELSE coalesce(s.spend, 0) END AS spend,         CASE WHEN $3 >= sp.last THEN sp.conversions ELSE coalesce(e.conversions, 0) END           - CASE WHEN $2::date - 1 >= sp.last THEN sp.conversions ELSE coalesce(s.conversions, 0) END AS conversions,         CASE WHEN $3 >= sp.last THEN sp.conversion_value ELSE coalesce(e.conversion_value, 0) END           - CASE WHEN $2::date - 1 >= sp.last THEN sp.conversion_value ELSE coalesce(s.conversion_value, 0) END AS conversion_value         FROM bench_running_spans sp LEFT JOIN e USING (campaign_id) LEFT JOIN s USING (campaign_id)         WHERE sp.user_id = $1),      live AS (SELECT c.id, c.name, c.status, c.created_at, coalesce(p.impressions, 0)::int8 AS impressions,         coalesce(p.clicks, 0)::int8 AS clicks, coalesce(p.spend, 0)::numeric(14,2) AS spend,         coalesce(p.conversions, 0)::int8 AS conversions, coalesce(p.conversion_value, 0)::numeric(14,2) AS conversion_value         FROM campaigns c LEFT JOIN per p ON p.campaign_id = c.id WHERE c.user_id = $1 AND c.deleted_at IS NULL)      (SELECT false AS whole, created_at, id, name, status, impressions, clicks, spend, conversions, conversion_value,         CASE WHEN impressions > 0 THEN round(clicks::numeric / impressions, 6) END AS ctr,         CASE WHEN clicks > 0 THEN round(spend / clicks, 4) END AS cpc,         CASE WHEN conversions > 0 THEN round(spend / conversions, 4) END AS cpa,         CASE WHEN spend > 0 THEN round(conversion_value / spend, 4) END AS roas       FROM live ORDER BY created_at DESC, id DESC LIMIT 1000)      UNION ALL      SELECT true, NULL, NULL, NULL, NULL, sum(impressions)::int8, sum(clicks)::int8, sum(spend), sum(conversions)::int8,         sum(conversion_value), NULL, NULL, NULL, NULL FROM live      ORDER BY whole, created_at DESC, id DESC";

/// A transaction shaped like `Db::tenant`'s: the user's scope set and the live-account
/// check made, on a plain connection.
async fn tenant_transaction(app: &mut Client, user: Uuid) -> tokio_postgres::Transaction<'_> {
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
    tx
}

/// The running-totals summary in the handler's transaction shape (scope, live check);
/// returns the campaigns listed and the total impressions, to check it against the
/// rollup's.
async fn running_summary(
    app: &mut Client,
    read: &Statement,
    user: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> (usize, i64) {
    let tx = tenant_transaction(app, user).await;
    let rows = tx.query(read, &[&user, &from, &to]).await.unwrap();
    tx.commit().await.unwrap();
    let total = rows
        .iter()
        .find(|r| r.get::<_, bool>("whole"))
        .map_or(0, |r| r.get("impressions"));
    (rows.len() - 1, total)
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
    let tx = tenant_transaction(app, user).await;
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
    let running_rows = build_running_totals(admin).await;
    let (_, rollup_total) = db
        .tenant(UserId(user), async |t| {
            analytics::summary(t, from, to).await
        })
        .await
        .expect("summary from the rollup");
    // Prepared once, as the pool's statement cache does for the handler's read.
    let read = app.prepare(RUNNING_SUMMARY).await.expect("prepare");
    let (_, running_total) = running_summary(&mut app, &read, user, from, to).await;
    assert_eq!(
        running_total, rollup_total.impressions,
        "the running totals sum what the rollup sums"
    );
    let (running, _) = timed(runs, async || {
        running_summary(&mut app, &read, user, from, to).await.0
    })
    .await;
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
        "running_rows": running_rows,
        "running": running,
        "raw": raw,
        "ratio": (raw["p50_ms"].as_f64().unwrap_or(0.0) / rollup["p50_ms"].as_f64().unwrap_or(1.0).max(0.01) * 10.0).round() / 10.0,
        "p99_target_ms": 20.0,
        "p99_ok": p99 <= 20.0,
    })
}
