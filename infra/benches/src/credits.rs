//! Credits under contention: `spenders` concurrent tasks spend one credit at a time
//! (the real `credits::spend`: one conditional UPDATE plus the usage row, in a tenant
//! transaction) on one account with `limit` credits until refused. Exactly `limit` must
//! succeed. Baseline: the same number of plain UPDATEs without the condition or the row.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::{Value, json};
use shared::config::DbConfig;
use shared::db::Db;
use shared::domain::UserId;
use shared::domain::asset::AssetType;
use shared::repo::credits;
use tokio_postgres::Client;
use uuid::Uuid;

pub async fn run(admin: &Client, app_url: &str, spenders: usize, limit: i32) -> Value {
    let user = Uuid::new_v4();
    admin
        .batch_execute(&format!(
            "INSERT INTO users (id, email, password_hash) VALUES ('{user}', 'credits-{user}@example.com', 'x');
             INSERT INTO subscriptions (user_id, tier, price, status, current_period_start, current_period_end,
                                        monthly_ai_credits_limit)
             VALUES ('{user}', 'business', 0, 'active', now() - interval '1 day', now() + interval '29 days', {limit});
             UPDATE system_config SET value = '{{\"imagen\": 1000000, \"veo\": 1000000}}' WHERE key = 'ai_service_limits';"
        ))
        .await
        .unwrap();
    let db = Arc::new(
        Db::connect(&DbConfig {
            database_url: app_url.to_owned(),
            password: None,
            pool_size: spenders,
            statement_timeout_ms: 30_000,
        })
        .expect("pool"),
    );
    let ok = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..spenders {
        let (db, ok, refused) = (db.clone(), ok.clone(), refused.clone());
        tasks.spawn(async move {
            loop {
                let spent = db
                    .tenant(UserId(user), async |t| {
                        credits::spend(t, AssetType::Image, Uuid::new_v4(), &json!({})).await
                    })
                    .await;
                match spent {
                    Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                    Err(shared::AppError::PaymentRequired { .. }) => {
                        refused.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    Err(e) => panic!("spend failed: {e}"),
                };
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let spend_s = started.elapsed().as_secs_f64();
    let succeeded = ok.load(Ordering::Relaxed);
    let row = admin
        .query_one(
            "SELECT monthly_ai_credits_used, (SELECT coalesce(sum(credits_consumed), 0)::int8 FROM usage_logs WHERE user_id = $1) \
             FROM subscriptions WHERE user_id = $1",
            &[&user],
        )
        .await
        .unwrap();
    let (used, logged): (i32, i64) = (row.get(0), row.get(1));

    // Baseline: the same number of unconditional increments, same concurrency.
    admin
        .execute(
            "UPDATE subscriptions SET monthly_ai_credits_used = 0 WHERE user_id = $1",
            &[&user],
        )
        .await
        .unwrap();
    let left = Arc::new(AtomicUsize::new(limit as usize));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..spenders {
        let (db, left) = (db.clone(), left.clone());
        tasks.spawn(async move {
            while left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                db.tenant(UserId(user), async |t| {
                    credits::bench_plain_increment(t).await
                })
                .await
                .expect("plain update");
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let plain_s = started.elapsed().as_secs_f64();
    let per_s = |n: f64, s: f64| (n / s * 10.0).round() / 10.0;
    json!({
        "spenders": spenders,
        "limit": limit,
        "succeeded": succeeded,
        "refused": refused.load(Ordering::Relaxed),
        "credits_used": used,
        "usage_rows_sum": logged,
        "correct": succeeded == limit as usize && used == limit && logged == i64::from(limit),
        "spends_per_s": per_s(succeeded as f64, spend_s),
        "plain_updates_per_s": per_s(f64::from(limit), plain_s),
        "ratio": ((plain_s / spend_s) * 100.0).round() / 100.0,
    })
}
