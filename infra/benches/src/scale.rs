//! Analytics at scale: the 30-day per-campaign rollup with a breakdown, over `rows` rows
//! across 24 monthly partitions — p50/p99 with partition pruning (the default) and with
//! `enable_partition_pruning = off` as the baseline, and both plans (EXPLAIN ANALYZE).

use std::time::{Duration, Instant};

use chrono::{Datelike, Months, NaiveDate, Utc};
use serde_json::{Value, json};
use tokio_postgres::Client;
use uuid::Uuid;

use crate::stats;

/// Fills 24 months (this one and the 23 before) with `rows` rows spread over campaigns
/// of one user, eight breakdown rows per campaign and day. Returns (user, a campaign).
pub async fn fill(admin: &Client, rows: u64) -> (Uuid, Uuid, Duration) {
    let today = Utc::now().date_naive();
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap() - Months::new(23);
    for m in 0..24 {
        admin
            .execute(
                "SELECT create_performance_partition($1)",
                &[&(first + Months::new(m))],
            )
            .await
            .unwrap();
    }
    let days = (today - first).num_days() + 1;
    let campaigns = (rows / (days as u64 * 8)).max(1);
    let user = Uuid::new_v4();
    admin
        .batch_execute(&format!(
            "INSERT INTO users (id, email, password_hash) VALUES ('{user}', 'scale-{user}@example.com', 'x');
             INSERT INTO campaigns (user_id, name, purpose, daily_budget, status)
             SELECT '{user}', 'Scale ' || g, 'sales', 1000, 'active' FROM generate_series(1, {campaigns}) g;"
        ))
        .await
        .unwrap();
    let started = Instant::now();
    admin
        .execute(
            "INSERT INTO performance_analytics (campaign_id, date, platform, placement, age_range, gender, location,
                                                impressions, clicks, spend, conversions, conversion_value)
             SELECT c.id, d::date, b.platform, b.placement, b.age, b.gender, b.location,
                    1000 + (random() * 9000)::int, 10 + (random() * 200)::int, round((100 + random() * 900)::numeric, 2),
                    (random() * 10)::int, round((random() * 5000)::numeric, 2)
             FROM campaigns c, generate_series($1::date, $2::date, interval '1 day') d,
                  (VALUES (NULL, NULL, NULL, NULL, NULL), ('facebook', 'feed', NULL, NULL, NULL),
                          ('instagram', 'story', NULL, NULL, NULL), ('instagram', 'stream', NULL, NULL, NULL),
                          (NULL, NULL, '25-34', 'female', NULL), (NULL, NULL, '35-44', 'male', NULL),
                          (NULL, NULL, NULL, NULL, 'Maharashtra'), (NULL, NULL, NULL, NULL, 'Karnataka'))
                  AS b(platform, placement, age, gender, location)
             WHERE c.user_id = $3",
            &[&first, &today, &user],
        )
        .await
        .unwrap();
    let load = started.elapsed();
    admin
        .batch_execute("VACUUM ANALYZE performance_analytics")
        .await
        .unwrap();
    let campaign: Uuid = admin
        .query_one(
            "SELECT id FROM campaigns WHERE user_id = $1 ORDER BY name LIMIT 1",
            &[&user],
        )
        .await
        .unwrap()
        .get(0);
    (user, campaign, load)
}

fn rollup(campaign: Uuid, from: NaiveDate, to: NaiveDate) -> String {
    format!(
        "SELECT date, platform AS key, sum(impressions)::int8, sum(clicks)::int8, sum(spend), sum(conversions)::int8, \
                CASE WHEN sum(spend) > 0 THEN round(sum(conversion_value) / sum(spend), 4) END AS roas \
         FROM performance_analytics WHERE campaign_id = '{campaign}' AND date BETWEEN '{from}' AND '{to}' \
           AND hour IS NULL AND platform IS NOT NULL AND age_range IS NULL AND gender IS NULL AND location IS NULL \
         GROUP BY date, platform ORDER BY date, key"
    )
}

async fn time(client: &Client, sql: &str, runs: usize) -> Value {
    let mut samples = Vec::with_capacity(runs);
    let started = Instant::now();
    for _ in 0..runs {
        let t = Instant::now();
        client.simple_query(sql).await.expect("rollup");
        samples.push(t.elapsed());
    }
    stats::summary(samples, started.elapsed())
}

async fn explain(client: &Client, sql: &str) -> String {
    client
        .simple_query(&format!("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}"))
        .await
        .unwrap()
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The rollup case; also returns the user owning every row, for the summary case.
pub async fn run(admin: &Client, rows: u64, runs: usize) -> (Value, Uuid) {
    let (user, campaign, load) = fill(admin, rows).await;
    let total: i64 = admin
        .query_one("SELECT count(*) FROM performance_analytics", &[])
        .await
        .unwrap()
        .get(0);
    let to = Utc::now().date_naive();
    let sql = rollup(campaign, to - chrono::Duration::days(29), to);
    let pruned = time(admin, &sql, runs).await;
    let plan = explain(admin, &sql).await;
    admin
        .batch_execute("SET enable_partition_pruning = off")
        .await
        .unwrap();
    let unpruned = time(admin, &sql, runs.min(50)).await;
    let plan_unpruned = explain(admin, &sql).await;
    admin
        .batch_execute("RESET enable_partition_pruning")
        .await
        .unwrap();
    let partitions_scanned = plan
        .lines()
        .filter(|l| l.contains("performance_analytics_y"))
        .count();
    let report = json!({
        "rows": total,
        "load_seconds": (load.as_secs_f64() * 10.0).round() / 10.0,
        "pruned": pruned,
        "unpruned": unpruned,
        "p99_target_ms": 20.0,
        "p99_ok": pruned["p99_ms"].as_f64().unwrap_or(f64::MAX) <= 20.0,
        "partitions_in_plan": partitions_scanned,
        "index_used": plan.contains("Index"),
        "explain": plan,
        "explain_unpruned": plan_unpruned,
    });
    (report, user)
}
