//! One optimizer pass at scale: `campaigns` launched campaigns (500 per owner and ad
//! account) with goals, so each gets the three preset rules, 125 days of insights (eight
//! rows a day: the daily total and seven breakdowns — 10 M rows at 10,000 campaigns)
//! and 28 days of one running creative's results. The pass is the production path,
//! `optimizer::run::run` on every queued daily run, rules in dry run so that nothing is
//! sent to Meta (its calls are network-bound and capped at 200 an hour per account; the
//! claim a live action adds is one locked read). Its time and database work per campaign
//! (transactions, rows read, buffers, from `pg_stat_database`) sit beside one plain SQL
//! aggregate reading the same windows for every campaign at once.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{Datelike, Months, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};
use shared::config::DbConfig;
use shared::db::{Db, WorkerDb};
use shared::domain::UserId;
use shared::messages::Optimize;
use shared::repo::{optimizer_runs, rules};
use shared::rules::presets;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::setup::{Bench, connect};

pub const PER_ACCOUNT: usize = 500;
pub const DAYS: i64 = 125;
pub const CREATIVE_DAYS: i64 = 28;

/// Owners, accounts, campaigns (one in four winning, losing, tiny or steady), insights.
async fn fill(admin: &Client, campaigns: usize) -> (usize, Duration) {
    let today = Utc::now().date_naive();
    let from = today - chrono::Duration::days(DAYS - 1);
    let first_month = NaiveDate::from_ymd_opt(from.year(), from.month(), 1).unwrap();
    let mut m = first_month;
    while m <= today {
        admin
            .execute("SELECT create_performance_partition($1)", &[&m])
            .await
            .unwrap();
        m = m + Months::new(1);
    }
    let owners = campaigns.div_ceil(PER_ACCOUNT);
    let started = Instant::now();
    admin
        .batch_execute(&format!(
            "SELECT setseed(0.42);
             CREATE TEMP TABLE owners AS
               SELECT o, gen_random_uuid() AS user_id, gen_random_uuid() AS meta_account_id,
                      'act_' || (900000000 + o) AS account FROM generate_series(1, {owners}) o;
             INSERT INTO users (id, email, password_hash) SELECT user_id, 'optimizer-' || o || '@example.com', 'x' FROM owners;
             INSERT INTO meta_accounts (id, user_id, meta_user_id, access_token)
               SELECT meta_account_id, user_id, 'fb' || o, 'sealed' FROM owners;
             INSERT INTO meta_ad_accounts (meta_account_id, user_id, ad_account_id, account_status, currency,
                                           last_sync_at, timezone_offset_hours)
               SELECT meta_account_id, user_id, account, 1, 'INR', now(), 0 FROM owners;
             INSERT INTO campaigns (user_id, name, purpose, daily_budget, status, approval_status, meta_campaign_id,
                                    meta_adset_id, meta_ad_account_id, last_synced_at, ai_optimization_enabled,
                                    optimization_goals, created_at)
               SELECT w.user_id, 'Opt ' || g, 'sales', 1000, 'active', 'approved', 'mc-' || g, 'as-' || g, w.account,
                      now(), true, '{{\"target_cpa\": \"150\", \"target_roas\": \"4\", \"max_daily_budget\": \"5000\"}}',
                      now() - interval '130 days'
               FROM generate_series(1, {campaigns}) g JOIN owners w ON w.o = (g - 1) / {PER_ACCOUNT} + 1;
             INSERT INTO creative_assets (user_id, asset_type, format, file_url, filename, content_type)
               SELECT c.user_id, 'image', '1:1', 's3://bench/' || c.id || '.png', c.id || '.png', 'image/png' FROM campaigns c;
             INSERT INTO creative_assets (user_id, asset_type, format, file_url, filename, content_type)
               SELECT user_id, 'image', '1:1', 's3://bench/spare-' || o || '-' || n || '.png', 'spare.png', 'image/png'
               FROM owners, generate_series(1, 5) n;
             INSERT INTO campaign_assets (campaign_id, asset_id)
               SELECT c.id, a.id FROM campaigns c JOIN creative_assets a ON a.file_url = 's3://bench/' || c.id || '.png';
             -- Launched long ago: their creatives' attachment is no recent edit.
             UPDATE campaign_edits SET edited_at = now() - interval '120 days';
             ANALYZE campaigns; ANALYZE creative_assets; ANALYZE campaign_assets;"
        ))
        .await
        .expect("seed optimizer owners and campaigns");
    // Kind 0 wins (ROAS about 5), 1 costs too much per result, 2 is tiny (300 impressions
    // a week), 3 holds steady; creatives of kinds 0 and 1 lose half their CTR this week.
    admin
        .batch_execute(&format!(
            "SELECT setseed(0.42);
             INSERT INTO performance_analytics (campaign_id, date, platform, placement, age_range, gender, location,
                                                impressions, clicks, spend, conversions, conversion_value)
             SELECT c.id, d::date, b.platform, b.placement, b.age, b.gender, b.location,
                    CASE k.kind WHEN 2 THEN 40 + (random() * 10)::int ELSE 3000 + (random() * 2000)::int END,
                    CASE k.kind WHEN 2 THEN 1 ELSE 40 + (random() * 40)::int END,
                    CASE k.kind WHEN 2 THEN 20 ELSE round((900 + random() * 200)::numeric, 2) END,
                    CASE k.kind WHEN 1 THEN (random() * 2)::int WHEN 2 THEN 0 ELSE 8 + (random() * 4)::int END,
                    CASE k.kind WHEN 0 THEN round((4800 + random() * 1200)::numeric, 2)
                                WHEN 3 THEN round((1800 + random() * 600)::numeric, 2) ELSE 0 END
             FROM campaigns c
             CROSS JOIN LATERAL (SELECT substring(c.name FROM 5)::int % 4 AS kind) k
             CROSS JOIN generate_series('{from}'::date, '{today}'::date, interval '1 day') d
             CROSS JOIN (VALUES (NULL, NULL, NULL, NULL, NULL), ('facebook', 'feed', NULL, NULL, NULL),
                          ('instagram', 'story', NULL, NULL, NULL), ('instagram', 'stream', NULL, NULL, NULL),
                          (NULL, NULL, '25-34', 'female', NULL), (NULL, NULL, '35-44', 'male', NULL),
                          (NULL, NULL, NULL, NULL, 'Maharashtra'), (NULL, NULL, NULL, NULL, 'Karnataka'))
                  AS b(platform, placement, age, gender, location)
             WHERE c.name LIKE 'Opt %';
             INSERT INTO creative_performance (campaign_id, asset_id, date, meta_ad_id, impressions, clicks, spend,
                                               conversions, conversion_value)
             SELECT u.campaign_id, u.asset_id, d::date, 'ad-' || u.campaign_id, 3000,
                    CASE WHEN k.kind < 2 AND d > '{today}'::date - 8 THEN 30 ELSE 60 END + (random() * 6)::int,
                    900, 8, 4000
             FROM campaign_assets u JOIN campaigns c ON c.id = u.campaign_id
             CROSS JOIN LATERAL (SELECT substring(c.name FROM 5)::int % 4 AS kind) k
             CROSS JOIN generate_series('{today}'::date - {CREATIVE_DAYS}, '{today}'::date - 1, interval '1 day') d
             WHERE c.name LIKE 'Opt %';",
            today = today,
        ))
        .await
        .expect("seed optimizer insights");
    let load = started.elapsed();
    admin.batch_execute("VACUUM ANALYZE").await.expect("vacuum");
    (owners, load)
}

/// Every campaign's preset rules, written as the daily run writes them, then set to dry run.
async fn presets_in_dry_run(db: &Db, admin: &Client) {
    let rows = admin
        .query(
            "SELECT user_id, id, optimization_goals FROM campaigns WHERE name LIKE 'Opt %' ORDER BY user_id",
            &[],
        )
        .await
        .unwrap();
    let mut by_owner: BTreeMap<Uuid, Vec<(Uuid, Value)>> = BTreeMap::new();
    for r in rows {
        by_owner
            .entry(r.get(0))
            .or_default()
            .push((r.get(1), r.get(2)));
    }
    for (user, campaigns) in by_owner {
        db.tenant(UserId(user), async |t| {
            for (campaign, goals) in &campaigns {
                let p = presets::for_goals(&presets::Goals::from_json(goals));
                rules::ensure_presets(t, user, *campaign, &p).await?;
            }
            Ok(())
        })
        .await
        .expect("presets");
    }
    admin
        .batch_execute("UPDATE optimization_rules SET dry_run = true; ANALYZE optimization_rules")
        .await
        .unwrap();
}

/// The daily runs the hourly tick queues at 06:00 in the accounts' time zone.
async fn queued_runs(worker: &WorkerDb, admin: &Client) -> Vec<Optimize> {
    let six = Utc.from_utc_datetime(&Utc::now().date_naive().and_hms_opt(6, 30, 0).unwrap());
    let ids = worker
        .run("bench-tick", async |w| optimizer_runs::hourly(w, six).await)
        .await
        .expect("tick");
    let mut runs: Vec<Optimize> = Vec::new();
    for id in ids {
        let payload: Value = admin
            .query_one("SELECT payload FROM outbox WHERE id = $1", &[&id])
            .await
            .unwrap()
            .get(0);
        runs.push(serde_json::from_value(payload).expect("an Optimize message"));
    }
    runs.retain(|r| r.trigger == "daily");
    runs
}

/// Database-wide counters, read after the backends that did the work have exited.
async fn counters(admin_url: &str, db: &str) -> BTreeMap<&'static str, i64> {
    let c = connect(admin_url).await;
    let r = c
        .query_one(
            "SELECT xact_commit + xact_rollback, tup_returned, tup_fetched, tup_inserted + tup_updated + tup_deleted,
                    blks_hit, blks_read
               FROM pg_stat_database WHERE datname = $1",
            &[&db],
        )
        .await
        .unwrap();
    [
        "transactions",
        "rows_scanned",
        "rows_fetched",
        "rows_written",
        "buffers_hit",
        "buffers_read",
    ]
    .into_iter()
    .enumerate()
    .map(|(i, k)| (k, r.get::<_, i64>(i)))
    .collect()
}

/// Counters of a piece of work: its connections are closed (so their statistics are
/// flushed) before the second reading.
async fn measured<F: std::future::Future<Output = ()>>(
    bench: &Bench,
    work: F,
) -> (Duration, BTreeMap<&'static str, i64>) {
    // A backend flushes its statistics at most once a second; let the setup's settle.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = counters(&bench.admin_url, &bench.db).await;
    let started = Instant::now();
    work.await;
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = counters(&bench.admin_url, &bench.db).await;
    let delta = after
        .iter()
        .map(|(k, v)| (*k, v - before.get(k).copied().unwrap_or(0)))
        .collect();
    (took, delta)
}

fn per_campaign(total: &BTreeMap<&'static str, i64>, campaigns: usize) -> Value {
    let n = campaigns.max(1) as f64;
    total
        .iter()
        .map(|(k, v)| (k.to_string(), json!((*v as f64 / n * 10.0).round() / 10.0)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The baseline: the windows the presets read (LAST_3D and LAST_7D of the daily totals,
/// first day of delivery; this week's and last week's creative results) for every
/// campaign, in one statement.
fn baseline_sql(today: NaiveDate) -> String {
    let d = |n: i64| today - chrono::Duration::days(n);
    format!(
        "WITH campaign AS (
           SELECT campaign_id, min(date) FILTER (WHERE impressions > 0) AS first_day,
                  sum(impressions) FILTER (WHERE date >= '{d3}'), sum(spend) FILTER (WHERE date >= '{d3}'),
                  sum(conversion_value) FILTER (WHERE date >= '{d3}'),
                  sum(impressions) FILTER (WHERE date >= '{d7}'), sum(spend) FILTER (WHERE date >= '{d7}'),
                  sum(conversions) FILTER (WHERE date >= '{d7}')
             FROM performance_analytics
            WHERE date <= '{d1}' AND hour IS NULL AND platform IS NULL AND placement IS NULL
              AND age_range IS NULL AND gender IS NULL AND location IS NULL
            GROUP BY campaign_id),
         creative AS (
           SELECT campaign_id, asset_id,
                  sum(impressions) FILTER (WHERE date >= '{d7}'), sum(clicks) FILTER (WHERE date >= '{d7}'),
                  sum(impressions) FILTER (WHERE date < '{d7}'), sum(clicks) FILTER (WHERE date < '{d7}')
             FROM creative_performance WHERE date BETWEEN '{d14}' AND '{d1}'
            GROUP BY campaign_id, asset_id)
         SELECT count(*) FROM campaign c LEFT JOIN creative r USING (campaign_id)",
        d1 = d(1),
        d3 = d(3),
        d7 = d(7),
        d14 = d(14),
    )
}

fn config(url: &str) -> DbConfig {
    crate::setup::db_config(url, 60_000)
}

/// The optimizer as its Lambda builds it, Meta at an address that refuses connections.
async fn optimizer_state(bench: &Bench) -> optimizer::State {
    let aws = shared::aws::sdk_config().await;
    optimizer::State {
        db: Db::connect(&config(&bench.app_url)).expect("pool"),
        worker: WorkerDb::connect(&config(&bench.worker_url)).expect("pool"),
        graph: shared::meta::Graph::new("http://127.0.0.1:9/v25.0", "bench", "bench"),
        cipher: shared::crypto::TokenCipher::parse(
            "b:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )
        .expect("key"),
        storage: shared::aws::storage::Storage::new(shared::aws::s3(&aws), "bench"),
        relay: shared::aws::relay::Relay::new(shared::aws::sqs(&aws), Default::default()),
        sqs: shared::aws::LazyClient::ready(shared::aws::sqs(&aws)),
    }
}

fn rounded(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

/// The pass and its baseline. Every connection used for the setup is closed before the
/// pass starts, and the pass's own before the baseline, so each reading is its own work.
pub async fn run(bench: &Bench, campaigns: usize) -> Value {
    let (owners, load, rows, runs) = {
        let admin = connect(&bench.admin_url).await;
        let (owners, load) = fill(&admin, campaigns).await;
        let rows: i64 = admin
            .query_one("SELECT count(*) FROM performance_analytics", &[])
            .await
            .unwrap()
            .get(0);
        let setup = optimizer_state(bench).await;
        presets_in_dry_run(&setup.db, &admin).await;
        let runs = queued_runs(&setup.worker, &admin).await;
        assert_eq!(runs.len(), owners, "one daily run per ad account");
        (owners, load, rows, runs)
    };

    let mut per_account = Vec::new();
    let (pass, work) = measured(bench, async {
        let state = optimizer_state(bench).await;
        for msg in &runs {
            let t = Instant::now();
            optimizer::run::run(&state, msg)
                .await
                .expect("an optimizer run");
            per_account.push(t.elapsed());
        }
    })
    .await;
    let admin = connect(&bench.admin_url).await;
    let tally = decisions(&admin).await;
    drop(admin);
    // The accounts keep UTC, so their day is the UTC day.
    let sql = baseline_sql(Utc::now().date_naive());
    let (base, base_work) = measured(bench, async {
        let c = connect(&bench.admin_url).await;
        c.simple_query(&sql).await.expect("baseline aggregate");
    })
    .await;
    let ms_per = |d: Duration| rounded(d.as_secs_f64() * 1e3 / campaigns as f64, 3);
    json!({
        "campaigns": campaigns,
        "accounts": owners,
        "rows": rows,
        "creative_rows": campaigns as i64 * CREATIVE_DAYS,
        "load_seconds": rounded(load.as_secs_f64(), 1),
        "decisions": tally.values().sum::<i64>(),
        "by_decision": tally,
        "pass_seconds": rounded(pass.as_secs_f64(), 2),
        "ms_per_campaign": ms_per(pass),
        "account_run": crate::stats::summary(per_account, pass),
        "work_per_campaign": per_campaign(&work, campaigns),
        "baseline_seconds": rounded(base.as_secs_f64(), 3),
        "baseline_ms_per_campaign": ms_per(base),
        "baseline_work_per_campaign": per_campaign(&base_work, campaigns),
        "time_ratio": rounded(pass.as_secs_f64() / base.as_secs_f64().max(1e-9), 1),
    })
}

/// The pass's decisions by outcome and skip reason.
async fn decisions(admin: &Client) -> BTreeMap<String, i64> {
    admin
        .query(
            "SELECT decision || coalesce(' ' || split_part(skip_reason, ':', 1), ''), count(*)
               FROM ai_optimization_logs GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}
