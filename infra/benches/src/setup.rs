//! The bench's own database: created fresh, migrated, and filled with a user, campaigns
//! and performance rows shaped like the sync writes them.

use chrono::{Duration, NaiveDate, Utc};
use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

pub struct Bench {
    pub admin_url: String,
    pub owner_url: String,
    /// The cross-tenant role's login, as webhooks and workers use it.
    pub worker_url: String,
    pub app_url: String,
    pub db: String,
}

/// A two-connection pool's settings for `url`, statements allowed `statement_timeout_ms`.
pub fn db_config(url: &str, statement_timeout_ms: u64) -> shared::config::DbConfig {
    shared::config::DbConfig {
        database_url: url.to_owned(),
        password: None,
        pool_size: 2,
        statement_timeout_ms,
    }
}

pub async fn connect(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(conn);
    client
}

/// `base` is `postgres://user@host:port`; the database is recreated.
pub async fn fresh(base: &str, superuser: &str, db: &str) -> Bench {
    let admin_url = format!(
        "{base_su}/postgres",
        base_su = base.replacen("://", &format!("://{superuser}@"), 1)
    );
    let admin = connect(&admin_url).await;
    for sql in [
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'adpilot_owner') THEN
             CREATE ROLE adpilot_owner LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS; END IF; END $$"
            .to_owned(),
        format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        format!("CREATE DATABASE {db} OWNER adpilot_owner"),
    ] {
        admin
            .simple_query(&sql)
            .await
            .expect("create bench database");
    }
    let url = |role: &str| format!("{}/{db}", base.replacen("://", &format!("://{role}@"), 1));
    let owner_url = url("adpilot_owner");
    shared::db::migrate(&owner_url).await.expect("migrate");
    Bench {
        admin_url: url(superuser),
        owner_url,
        worker_url: url("adpilot_worker"),
        app_url: url("adpilot_app"),
        db: db.to_owned(),
    }
}

/// A user with a live trial, `campaigns` campaigns, and `days` days of rows (daily
/// totals plus platform, age/gender and region breakdowns) for the first campaign.
pub async fn user_with_campaigns(admin: &Client, campaigns: usize, days: i64) -> (Uuid, Vec<Uuid>) {
    let user = Uuid::new_v4();
    admin
        .batch_execute(&format!(
            "INSERT INTO users (id, email, password_hash) VALUES ('{user}', 'bench-{user}@example.com', 'x');
             INSERT INTO subscriptions (user_id, tier, price, status, current_period_start, current_period_end,
                                        monthly_ai_credits_limit)
             VALUES ('{user}', 'business', 0, 'active', now() - interval '1 day', now() + interval '29 days', 400);
             INSERT INTO campaigns (user_id, name, purpose, daily_budget, status, target_audience, created_at)
             SELECT '{user}', 'Campaign ' || g, 'sales', 1500, 'active',
                    '{{\"geo_locations\": {{\"countries\": [\"IN\"]}}, \"age_min\": 21}}', now() - g * interval '1 minute'
             FROM generate_series(1, {campaigns}) g;"
        ))
        .await
        .expect("seed campaigns");
    let ids: Vec<Uuid> = admin
        .query(
            "SELECT id FROM campaigns WHERE user_id = $1 ORDER BY created_at DESC",
            &[&user],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let today = Utc::now().date_naive();
    let from: NaiveDate = today - Duration::days(days - 1);
    admin
        .execute(
            "INSERT INTO performance_analytics (campaign_id, date, platform, placement, age_range, gender, location,
                                                impressions, clicks, spend, conversions, conversion_value)
             SELECT $1, d::date, b.platform, b.placement, b.age, b.gender, b.location,
                    1000 + (random() * 9000)::int, 10 + (random() * 200)::int, round((100 + random() * 900)::numeric, 2),
                    (random() * 10)::int, round((random() * 5000)::numeric, 2)
             FROM generate_series($2::date, $3::date, interval '1 day') d,
                  (VALUES (NULL, NULL, NULL, NULL, NULL), ('facebook', 'feed', NULL, NULL, NULL),
                          ('instagram', 'story', NULL, NULL, NULL), ('instagram', 'stream', NULL, NULL, NULL),
                          (NULL, NULL, '25-34', 'female', NULL), (NULL, NULL, '35-44', 'male', NULL),
                          (NULL, NULL, NULL, NULL, 'Maharashtra'), (NULL, NULL, NULL, NULL, 'Karnataka'))
                  AS b(platform, placement, age, gender, location)",
            &[&ids[0], &from, &today],
        )
        .await
        .expect("seed performance");
    admin.batch_execute("ANALYZE").await.unwrap();
    (user, ids)
}
