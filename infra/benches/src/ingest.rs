//! Ingestion: insights rows/s through the sync worker's upsert path (`insights::upsert`
//! in its production batches, one worker transaction like one sync) into the partitioned
//! `performance_analytics`, against `COPY` of the same rows into the same table.

use std::time::Instant;

use chrono::{Duration, Utc};
use futures_util::SinkExt;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use shared::config::DbConfig;
use shared::db::WorkerDb;
use shared::repo::insights::{self, InsightRow};
use tokio_postgres::Client;
use uuid::Uuid;

/// platform, placement, age range, gender, location.
type Breakdown = [Option<&'static str>; 5];

const BREAKDOWNS: [Breakdown; 8] = [
    [None, None, None, None, None],
    [Some("facebook"), Some("feed"), None, None, None],
    [Some("instagram"), Some("story"), None, None, None],
    [Some("instagram"), Some("stream"), None, None, None],
    [None, None, Some("25-34"), Some("female"), None],
    [None, None, Some("35-44"), Some("male"), None],
    [None, None, None, None, Some("Maharashtra")],
    [None, None, None, None, Some("Karnataka")],
];

/// `rows` rows across `campaigns`, 29 days and the eight breakdown shapes a sync writes.
fn rows(campaigns: &[Uuid], rows: usize) -> Vec<InsightRow> {
    let today = Utc::now().date_naive();
    let mut out = Vec::with_capacity(rows);
    'fill: for day in 0..29 {
        for c in campaigns {
            for (i, b) in BREAKDOWNS.iter().enumerate() {
                if out.len() >= rows {
                    break 'fill;
                }
                let n = day * 31 + i as i64 * 7;
                out.push(InsightRow {
                    campaign_id: *c,
                    date: today - Duration::days(day),
                    hour: None,
                    platform: b[0].map(str::to_owned),
                    placement: b[1].map(str::to_owned),
                    age_range: b[2].map(str::to_owned),
                    gender: b[3].map(str::to_owned),
                    location: b[4].map(str::to_owned),
                    impressions: 1000 + n,
                    clicks: 10 + n % 90,
                    spend: Decimal::new(10_000 + n * 17, 2),
                    conversions: n % 7,
                    conversion_value: Decimal::new(n * 1_234, 2),
                });
            }
        }
    }
    out
}

fn field(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "\\N".into())
}

async fn copy(client: &Client, rows: &[InsightRow]) {
    let sink = client
        .copy_in(
            "COPY performance_analytics (campaign_id, date, hour, platform, placement, age_range, gender, location, \
                                         impressions, clicks, spend, conversions, conversion_value) FROM STDIN",
        )
        .await
        .expect("copy in");
    let mut sink = Box::pin(sink);
    let mut buf = String::with_capacity(rows.len() * 120);
    for r in rows {
        buf.push_str(&format!(
            "{}\t{}\t\\N\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            r.campaign_id,
            r.date,
            field(&r.platform),
            field(&r.placement),
            field(&r.age_range),
            field(&r.gender),
            field(&r.location),
            r.impressions,
            r.clicks,
            r.spend,
            r.conversions,
            r.conversion_value
        ));
    }
    sink.send(bytes::Bytes::from(buf)).await.expect("copy data");
    sink.as_mut().finish().await.expect("copy finish");
}

pub async fn run(admin: &Client, worker_url: &str, campaigns: &[Uuid], n: usize) -> Value {
    let data = rows(campaigns, n);
    let worker = WorkerDb::connect(&DbConfig {
        database_url: worker_url.to_owned(),
        password: None,
        pool_size: 1,
        statement_timeout_ms: 600_000,
    })
    .expect("worker pool");
    admin
        .batch_execute("TRUNCATE performance_analytics")
        .await
        .unwrap();
    let t = Instant::now();
    let changed = worker
        .run("bench-ingest", async |w| insights::upsert(w, &data).await)
        .await
        .expect("upsert");
    let upsert_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let again = worker
        .run("bench-ingest-again", async |w| {
            insights::upsert(w, &data).await
        })
        .await
        .expect("upsert again");
    let rerun_s = t.elapsed().as_secs_f64();
    admin
        .batch_execute("TRUNCATE performance_analytics")
        .await
        .unwrap();
    let t = Instant::now();
    copy(admin, &data).await;
    let copy_s = t.elapsed().as_secs_f64();
    let per_s = |secs: f64| (data.len() as f64 / secs).round();
    json!({
        "rows": data.len(),
        "batch": insights::BATCH,
        "upsert_rows_per_s": per_s(upsert_s),
        "upsert_changed": changed,
        "rerun_rows_per_s": per_s(rerun_s),
        "rerun_changed": again,
        "copy_rows_per_s": per_s(copy_s),
        "ratio": ((copy_s / upsert_s) * 100.0).round() / 100.0,
    })
}
