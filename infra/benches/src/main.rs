//! `adpilot-bench`: the database-side benchmark cases of `infra/bench` — warm handlers
//! against pgbench, ingestion against COPY, analytics at scale with and without
//! partition pruning, the owner's summary from the daily rollup against the raw rows,
//! one optimizer pass against one aggregate of the same reads, credits
//! under contention against plain updates. Each case runs
//! its baseline in the same process, on the same database, right after it.
//!
//!     adpilot-bench --pg postgres://127.0.0.1:5432 --superuser postgres --scale 1 --out results.json

#![recursion_limit = "256"]

mod credits;
mod ingest;
mod optimizer_pass;
mod scale;
mod setup;
mod stats;
mod summary;
mod warm;

use serde_json::json;

struct Args {
    pg: String,
    superuser: String,
    scale: f64,
    out: String,
    /// Only this case (`optimizer`), merged into the report at `out` if it exists.
    only: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        pg: "postgres://127.0.0.1:5432".into(),
        superuser: "postgres".into(),
        scale: 1.0,
        out: "bench-db.json".into(),
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--pg" => a.pg = value,
            "--superuser" => a.superuser = value,
            "--scale" => a.scale = value.parse().expect("--scale is a number"),
            "--out" => a.out = value,
            "--only" => a.only = Some(value),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn log(msg: &str) {
    eprintln!("[bench] {msg}");
}

/// One optimizer pass over `10,000 × scale` campaigns (at least eight).
async fn optimizer_case(bench: &setup::Bench, s: f64) -> serde_json::Value {
    let campaigns = ((10_000.0 * s) as usize).max(8);
    log(&format!(
        "one optimizer pass over {campaigns} campaigns, {} analytics rows (and one aggregate)",
        campaigns as i64 * optimizer_pass::DAYS * 8
    ));
    optimizer_pass::run(bench, campaigns).await
}

/// Analytics over `10 M × scale` rows in 24 monthly partitions (pruned and not), then
/// the owner's 30-day summary from the daily rollup (and from the raw rows).
async fn analytics_case(
    bench: &setup::Bench,
    admin: &tokio_postgres::Client,
    s: f64,
) -> (serde_json::Value, serde_json::Value) {
    let rows = ((10_000_000.0 * s) as u64).max(10_000);
    let runs = ((200.0 * s) as usize).clamp(20, 200);
    log(&format!(
        "analytics over {rows} rows in 24 monthly partitions"
    ));
    admin
        .batch_execute(
            "TRUNCATE performance_analytics, campaign_daily_totals, campaign_weekly_totals",
        )
        .await
        .unwrap();
    let (analytics, owner) = scale::run(admin, rows, runs).await;
    log("the owner's 30-day summary from the daily rollup (and from the raw rows)");
    let summary = summary::run(bench, admin, owner, 30, runs).await;
    (analytics, summary)
}

#[tokio::main]
async fn main() {
    let a = args();
    let s = a.scale;
    let bench = setup::fresh(&a.pg, &a.superuser, "adpilot_bench").await;
    if let Some(only) = &a.only {
        let mut report: serde_json::Value = std::fs::read_to_string(&a.out)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_else(|| json!({ "scale": s }));
        match only.as_str() {
            "optimizer" => report["optimizer_pass"] = optimizer_case(&bench, s).await,
            "analytics" => {
                let admin = setup::connect(&bench.admin_url).await;
                let (analytics, summary) = analytics_case(&bench, &admin, s).await;
                report["analytics_at_scale"] = analytics;
                report["summary_at_scale"] = summary;
            }
            "fixture" => {
                let admin = setup::connect(&bench.admin_url).await;
                let (user, campaigns) = setup::user_with_campaigns(&admin, 50, 30).await;
                report["fixture"] =
                    json!({ "token": warm::token_for(user), "campaign": campaigns[0] });
            }
            other => panic!("--only takes optimizer, analytics or fixture, not {other}"),
        }
        std::fs::write(&a.out, serde_json::to_string_pretty(&report).unwrap())
            .expect("write results");
        log(&format!("merged the {only} case into {}", a.out));
        return;
    }
    let admin = setup::connect(&bench.admin_url).await;
    let (user, campaigns) = setup::user_with_campaigns(&admin, 50, 30).await;

    let seconds = ((10.0 * s).round() as u64).clamp(1, 30);
    log(&format!(
        "warm handlers, 8 concurrent, {seconds} s each (and pgbench)"
    ));
    let warm = warm::run(
        &bench.app_url,
        &bench.owner_url,
        user,
        campaigns[0],
        8,
        seconds,
    )
    .await;

    let rows = ((200_000.0 * s) as usize).max(200);
    log(&format!(
        "ingestion of {rows} rows (upsert path, then COPY)"
    ));
    let many: Vec<uuid::Uuid> = {
        let need = rows.div_ceil(29 * 8).max(1);
        admin
            .batch_execute(&format!(
                "INSERT INTO campaigns (user_id, name, purpose, daily_budget, status)
                 SELECT '{user}', 'Ingest ' || g, 'sales', 1000, 'active' FROM generate_series(1, {need}) g"
            ))
            .await
            .unwrap();
        admin
            .query(
                "SELECT id FROM campaigns WHERE name LIKE 'Ingest %' ORDER BY name",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let ingest = ingest::run(&admin, &bench.worker_url, &many, rows).await;

    let (analytics, summary) = analytics_case(&bench, &admin, s).await;

    admin
        .batch_execute(
            "TRUNCATE performance_analytics, campaign_daily_totals, campaign_weekly_totals",
        )
        .await
        .unwrap();
    let optimizer = optimizer_case(&bench, s).await;

    let limit = ((2_000.0 * s) as i32).max(64);
    log(&format!("credits: 64 spenders on {limit} credits"));
    let credits = credits::run(&admin, &bench.app_url, 64, limit).await;

    let report = json!({
        "scale": s,
        "warm_handler": warm,
        "ingestion": ingest,
        "analytics_at_scale": analytics,
        "summary_at_scale": summary,
        "optimizer_pass": optimizer,
        "credits_contention": credits,
    });
    std::fs::write(&a.out, serde_json::to_string_pretty(&report).unwrap()).expect("write results");
    drop(admin);
    log(&format!("wrote {}", a.out));
    let _ = bench.db;
}
