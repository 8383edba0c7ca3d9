//! Warm handlers: `GET /v1/campaigns` (50 items) and `GET /v1/campaigns/{id}/performance`
//! (30 days) called in-process through the production pool, `concurrency` at a time,
//! against pgbench running the same statements (tenant `set_config`, the live-account
//! check, the queries) over the same number of connections.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lambda_http::http::Method;
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use shared::auth::AccessTokens;
use shared::config::DbConfig;
use shared::db::Db;
use uuid::Uuid;

use crate::stats;

const SECRET: &[u8] = b"bench-secret-bench-secret-bench-secret!!";

/// A bearer token for `user`, signed with the secret the bench's functions are given.
pub fn token_for(user: Uuid) -> String {
    AccessTokens::new(SECRET, 3600)
        .issue(shared::domain::UserId(user))
        .expect("token")
}

fn request(path: &str, token: &str) -> Request {
    let mut req = Request::new(Body::Empty);
    *req.method_mut() = Method::GET;
    *req.uri_mut() = path.parse().expect("path");
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    req
}

async fn drive<F, Fut>(concurrency: usize, seconds: u64, call: F) -> Value
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let call = Arc::new(call);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let call = call.clone();
        tasks.spawn(async move {
            let mut samples = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                assert!(call().await, "a benchmark request failed");
                samples.push(t.elapsed());
            }
            samples
        });
    }
    let mut all = Vec::new();
    while let Some(s) = tasks.join_next().await {
        all.extend(s.expect("bench task"));
    }
    stats::summary(all, started.elapsed())
}

/// pgbench's throughput for `script` with `clients` connections for `seconds`.
fn pgbench(url: &str, script: &str, clients: usize, seconds: u64) -> Value {
    let path = std::env::temp_dir().join(format!("adpilot-bench-{}.sql", Uuid::new_v4().simple()));
    std::fs::write(&path, script).expect("pgbench script");
    let pgbench = ["/usr/lib/postgresql/15/bin/pgbench", "pgbench"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists() || *p == "pgbench")
        .unwrap_or("pgbench");
    let out = std::process::Command::new(pgbench)
        .args([
            "-n",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
            "-f",
        ])
        .arg(&path)
        .arg(url)
        .output()
        .expect("run pgbench");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let tps = text
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse::<f64>().ok());
    let latency = text
        .lines()
        .find(|l| l.starts_with("latency average"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<f64>().ok());
    json!({"tps": tps, "latency_avg_ms": latency, "stderr": String::from_utf8_lossy(&out.stderr).lines().last()})
}

fn tenant_prelude(user: Uuid) -> String {
    format!(
        "BEGIN;\nSELECT set_config('app.current_user_id', '{user}', true);\n\
         SELECT deleted_at IS NULL AND is_active FROM users WHERE id = '{user}';\n"
    )
}

const CAMPAIGN_COLUMNS: &str = "id, name, purpose, objective, status, approval_status, currency, daily_budget, total_budget, \
    start_date, end_date, target_audience, audience_size_estimate, ai_optimization_enabled, optimization_goals, \
    meta_campaign_id, total_spend, total_impressions, total_clicks, total_conversions, created_at, updated_at";

const SUMS: &str = "coalesce(sum(impressions), 0)::int8 AS impressions, coalesce(sum(clicks), 0)::int8 AS clicks, \
    coalesce(sum(spend), 0)::numeric(14,2) AS spend, coalesce(sum(conversions), 0)::int8 AS conversions, \
    coalesce(sum(conversion_value), 0)::numeric(14,2) AS conversion_value, \
    CASE WHEN sum(impressions) > 0 THEN round(sum(clicks)::numeric / sum(impressions), 6) END AS ctr, \
    CASE WHEN sum(clicks) > 0 THEN round(sum(spend) / sum(clicks), 4) END AS cpc, \
    CASE WHEN sum(conversions) > 0 THEN round(sum(spend) / sum(conversions), 4) END AS cpa, \
    CASE WHEN sum(spend) > 0 THEN round(sum(conversion_value) / sum(spend), 4) END AS roas";

pub async fn run(
    app_url: &str,
    owner_url: &str,
    user: Uuid,
    campaign: Uuid,
    concurrency: usize,
    seconds: u64,
) -> Value {
    // Long enough for the end-to-end case that follows this program.
    let token = token_for(user);
    let cfg = DbConfig {
        database_url: app_url.to_owned(),
        password: None,
        pool_size: concurrency,
        statement_timeout_ms: 5000,
    };
    let aws = shared::aws::sdk_config().await;
    let campaigns_state = Arc::new(campaigns::State {
        db: Db::connect(&cfg).expect("pool"),
        tokens: AccessTokens::new(SECRET, 900),
        graph: shared::meta::Graph::new("http://127.0.0.1:9/v25.0", "bench", "bench"),
        cipher: shared::crypto::TokenCipher::parse(
            "b:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )
        .expect("key"),
        storage: shared::aws::storage::Storage::new(shared::aws::s3(&aws), "bench"),
        relay: shared::aws::relay::Relay::new(shared::aws::sqs(&aws), Default::default()),
    });
    let analytics_state = Arc::new(shared::http::Context {
        db: Db::connect(&cfg).expect("pool"),
        tokens: AccessTokens::new(SECRET, 900),
    });
    let to = chrono::Utc::now().date_naive();
    let from = to - chrono::Duration::days(29);
    let list_path = "/v1/campaigns?limit=50".to_owned();
    let perf_path =
        format!("/v1/campaigns/{campaign}/performance?from={from}&to={to}&breakdown=platform");

    let (s, t, p) = (campaigns_state.clone(), token.clone(), list_path.clone());
    // One warm-up call each, as a warm Lambda instance would have had.
    assert_eq!(campaigns::handle(&s, request(&p, &t)).await.status(), 200);
    let list = drive(concurrency, seconds, move || {
        let (s, t, p) = (s.clone(), t.clone(), p.clone());
        async move { campaigns::handle(&s, request(&p, &t)).await.status() == 200 }
    })
    .await;
    let (s, t, p) = (analytics_state.clone(), token.clone(), perf_path.clone());
    assert_eq!(analytics::handle(&s, request(&p, &t)).await.status(), 200);
    let perf = drive(concurrency, seconds, move || {
        let (s, t, p) = (s.clone(), t.clone(), p.clone());
        async move { analytics::handle(&s, request(&p, &t)).await.status() == 200 }
    })
    .await;

    let list_sql = format!(
        "{}SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE deleted_at IS NULL AND user_id = '{user}' \
         ORDER BY created_at DESC, id DESC LIMIT 51;\nCOMMIT;\n",
        tenant_prelude(user)
    );
    let perf_sql = format!(
        "{}SELECT id FROM campaigns WHERE id = '{campaign}' AND deleted_at IS NULL;\n\
         SELECT date, hour, platform AS key, {SUMS} FROM performance_analytics WHERE campaign_id = '{campaign}' \
         AND date BETWEEN '{from}' AND '{to}' AND hour IS NULL AND platform IS NOT NULL AND age_range IS NULL \
         AND gender IS NULL AND location IS NULL GROUP BY date, hour, platform ORDER BY date, hour NULLS FIRST, key NULLS FIRST;\n\
         SELECT {SUMS} FROM performance_analytics WHERE campaign_id = '{campaign}' AND date BETWEEN '{from}' AND '{to}' \
         AND hour IS NULL AND platform IS NULL AND placement IS NULL AND age_range IS NULL AND gender IS NULL AND location IS NULL;\n\
         COMMIT;\n",
        tenant_prelude(user)
    );
    let pg_list = pgbench(app_url, &list_sql, concurrency, seconds);
    let pg_perf = pgbench(app_url, &perf_sql, concurrency, seconds);
    let _ = owner_url;
    let ratio = |h: &Value, p: &Value| {
        let (h, p) = (
            h["rps"].as_f64().unwrap_or(0.0),
            p["tps"].as_f64().unwrap_or(0.0),
        );
        if p > 0.0 {
            (h / p * 100.0).round() / 100.0
        } else {
            0.0
        }
    };
    json!({
        "token": token,
        "user": user,
        "campaign": campaign,
        "concurrency": concurrency,
        "seconds": seconds,
        "list_campaigns": {"handler": list, "pgbench": pg_list, "ratio": ratio(&list, &pg_list)},
        "campaign_performance": {"handler": perf, "pgbench": pg_perf, "ratio": ratio(&perf, &pg_perf)},
    })
}
