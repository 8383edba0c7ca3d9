//! Row-level security as the app role: with no user set nothing is visible or
//! writable; user A never sees or changes user B's rows in any tenant table, including
//! the tables scoped through their campaign; the app role cannot switch RLS off.

use shared::testing::TestDb;
use tokio_postgres::Client;

const A: &str = "00000000-0000-0000-0000-00000000000a";
const B: &str = "00000000-0000-0000-0000-00000000000b";

/// Every tenant table and how to count one user's rows in it.
const TENANT_TABLES: &[&str] = &[
    "users",
    "refresh_tokens",
    "subscriptions",
    "usage_logs",
    "business_profiles",
    "brand_profiles",
    "meta_accounts",
    "creative_assets",
    "campaigns",
    "campaign_assets",
    "performance_analytics",
    "campaign_daily_totals",
    "campaign_weekly_totals",
    "ai_optimization_logs",
    "background_jobs",
];

/// Gives user `u` (suffix `s`) one row in every tenant table, as an operator would.
fn seed_user(u: &str, s: &str) -> String {
    format!(
        "INSERT INTO users (id, email, password_hash) VALUES ('{u}', 'user{s}@example.com', 'h');
         INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
              VALUES ('{u}', gen_random_uuid(), 'hash{s}'::bytea, now() + interval '1 day');
         INSERT INTO subscriptions (user_id, tier, price, status, current_period_start, current_period_end, monthly_ai_credits_limit)
              VALUES ('{u}', 'starter', 0, 'trial', now(), now() + interval '14 days', 50);
         INSERT INTO usage_logs (user_id, feature) VALUES ('{u}', 'image_generation');
         INSERT INTO business_profiles (user_id, business_name) VALUES ('{u}', 'Shop {s}');
         INSERT INTO brand_profiles (user_id, website_url) VALUES ('{u}', 'https://{s}.example.com');
         INSERT INTO meta_accounts (user_id, meta_user_id, access_token) VALUES ('{u}', 'meta{s}', 'k1:sealed');
         INSERT INTO creative_assets (id, user_id, asset_type, file_url, format)
              VALUES ('{u}'::uuid, '{u}', 'image', 's3://bucket/{s}.png', '1:1');
         INSERT INTO campaigns (id, user_id, name, purpose) VALUES ('{u}'::uuid, '{u}', 'Campaign {s}', 'sales');
         INSERT INTO campaign_assets (campaign_id, asset_id) VALUES ('{u}', '{u}');
         INSERT INTO performance_analytics (campaign_id, date, impressions) VALUES ('{u}', current_date, 100);
         INSERT INTO campaign_daily_totals (campaign_id, date, user_id, impressions, clicks, spend, conversions, conversion_value)
              VALUES ('{u}', current_date, '{u}', 100, 0, 0, 0, 0);
         INSERT INTO campaign_weekly_totals (campaign_id, week, user_id, impressions, clicks, spend, conversions, conversion_value)
              VALUES ('{u}', date_trunc('week', current_date)::date, '{u}', 100, 0, 0, 0, 0);
         INSERT INTO ai_optimization_logs (campaign_id, optimization_type) VALUES ('{u}', 'budget_increase');
         INSERT INTO background_jobs (job_type, user_id, scheduled_at) VALUES ('sync_performance', '{u}', now());"
    )
}

async fn two_tenants() -> (TestDb, Client) {
    let db = TestDb::fresh().await;
    let su = db.superuser().await;
    su.batch_execute(&(seed_user(A, "a") + &seed_user(B, "b")))
        .await
        .unwrap();
    let app = db.app_client().await;
    (db, app)
}

async fn count_as(app: &Client, user: Option<&str>, table: &str) -> i64 {
    app.batch_execute("BEGIN").await.unwrap();
    if let Some(u) = user {
        app.execute("SELECT set_config('app.current_user_id', $1, true)", &[&u])
            .await
            .unwrap();
    }
    let n = app
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0);
    app.batch_execute("COMMIT").await.unwrap();
    n
}

#[tokio::test]
async fn with_no_user_set_the_app_role_sees_nothing() {
    let (_db, app) = two_tenants().await;
    for table in TENANT_TABLES {
        assert_eq!(
            count_as(&app, None, table).await,
            0,
            "{table} visible with no user set"
        );
    }
}

#[tokio::test]
async fn after_a_tenant_transaction_ends_the_setting_is_empty_and_still_sees_nothing() {
    let (_db, app) = two_tenants().await;
    assert_eq!(count_as(&app, Some(A), "campaigns").await, 1);
    // Same session, new transaction: the setting reads '' now, not NULL.
    assert_eq!(count_as(&app, None, "campaigns").await, 0);
}

#[tokio::test]
async fn each_user_sees_exactly_their_own_row_in_every_tenant_table() {
    let (_db, app) = two_tenants().await;
    for table in TENANT_TABLES {
        for user in [A, B] {
            assert_eq!(
                count_as(&app, Some(user), table).await,
                1,
                "{table} as {user}"
            );
        }
    }
}

#[tokio::test]
async fn with_no_user_set_inserts_are_refused() {
    let (_db, app) = two_tenants().await;
    let err = app
        .batch_execute(&format!(
            "INSERT INTO campaigns (user_id, name, purpose) VALUES ('{A}', 'x', 'sales')"
        ))
        .await
        .unwrap_err();
    assert!(message(&err).contains("row-level security"), "{err}");
}

/// The server's message for a database error.
fn message(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map_or_else(|| e.to_string(), |d| d.message().to_owned())
}

async fn as_user(app: &Client, user: &str, sql: &str) -> Result<u64, tokio_postgres::Error> {
    app.batch_execute("BEGIN").await?;
    app.execute(
        "SELECT set_config('app.current_user_id', $1, true)",
        &[&user],
    )
    .await?;
    let r = app.execute(sql, &[]).await;
    app.batch_execute(if r.is_ok() { "COMMIT" } else { "ROLLBACK" })
        .await?;
    r
}

#[tokio::test]
async fn user_a_cannot_change_or_create_user_b_rows() {
    let (db, app) = two_tenants().await;
    for table in [
        "business_profiles",
        "brand_profiles",
        "creative_assets",
        "campaigns",
        "subscriptions",
    ] {
        // A column the app role may write in each (subscriptions: only a few).
        let set = if table == "subscriptions" {
            "status = status"
        } else {
            "updated_at = now()"
        };
        let n = as_user(
            &app,
            A,
            &format!("UPDATE {table} SET {set} WHERE user_id = '{B}'"),
        )
        .await
        .unwrap();
        assert_eq!(n, 0, "A updated B's {table}");
    }
    let n = as_user(
        &app,
        A,
        &format!("DELETE FROM campaign_assets WHERE campaign_id = '{B}'"),
    )
    .await
    .unwrap();
    assert_eq!(n, 0);
    let n = as_user(
        &app,
        A,
        &format!("UPDATE users SET first_name = 'pwned' WHERE id = '{B}'"),
    )
    .await
    .unwrap();
    assert_eq!(n, 0);

    let forged = [
        format!("INSERT INTO campaigns (user_id, name, purpose) VALUES ('{B}', 'forged', 'sales')"),
        format!("INSERT INTO usage_logs (user_id, feature) VALUES ('{B}', 'image_generation')"),
        // A's campaign with B's asset, and B's campaign with A's asset.
        format!(
            "INSERT INTO campaign_assets (campaign_id, asset_id, asset_role) VALUES ('{A}', '{B}', 'test')"
        ),
        format!(
            "INSERT INTO campaign_assets (campaign_id, asset_id, asset_role) VALUES ('{B}', '{A}', 'test')"
        ),
        format!(
            "INSERT INTO outbox (user_id, topic, payload) VALUES ('{B}', 'generation', '{{}}')"
        ),
    ];
    for sql in forged {
        let err = as_user(&app, A, &sql).await.unwrap_err();
        assert!(message(&err).contains("row-level security"), "{sql}: {err}");
    }
    // Analytics are written by the sync worker only.
    let err = as_user(
        &app,
        A,
        &format!(
            "INSERT INTO performance_analytics (campaign_id, date) VALUES ('{A}', current_date)"
        ),
    )
    .await
    .unwrap_err();
    assert!(message(&err).contains("permission denied"), "{err}");

    let b_name: String = db
        .superuser()
        .await
        .query_one(
            &format!("SELECT coalesce(first_name, '') FROM users WHERE id = '{B}'"),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(b_name, "");
}

#[tokio::test]
async fn the_app_role_cannot_switch_row_level_security_off() {
    let (_db, app) = two_tenants().await;
    for sql in [
        "ALTER TABLE campaigns DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE campaigns NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON campaigns",
        "SET ROLE adpilot_worker",
        "SET row_security = off; SELECT * FROM campaigns",
    ] {
        assert!(
            app.batch_execute(sql).await.is_err(),
            "app role could: {sql}"
        );
    }
    let bypass: bool = app
        .query_one(
            "SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!bypass);
}

#[tokio::test]
async fn the_app_role_cannot_write_passwords_emails_tiers_or_credit_limits_even_its_own() {
    let (db, app) = two_tenants().await;
    for sql in [
        "UPDATE users SET password_hash = 'attacker-chosen'",
        "UPDATE users SET email = 'someone@else.example'",
        "UPDATE users SET subscription_tier = 'enterprise'",
        "UPDATE subscriptions SET monthly_ai_credits_limit = 1000000",
        "UPDATE subscriptions SET tier = 'enterprise', price = 0",
        "UPDATE subscriptions SET is_current = true",
    ] {
        let r = as_user(&app, A, sql).await;
        assert!(
            r.as_ref()
                .is_err_and(|e| e.to_string().contains("permission denied")
                    || e.as_db_error().is_some_and(|d| d.code().code() == "42501")),
            "{sql}: {r:?}"
        );
    }
    // What the API does write still works, and the user's tier follows its subscription.
    for sql in [
        "UPDATE users SET first_name = 'Asha', phone = '+911234567890', last_login = now()",
        "UPDATE subscriptions SET monthly_ai_credits_used = monthly_ai_credits_used + 1, status = 'cancelled'",
    ] {
        assert_eq!(as_user(&app, A, sql).await.unwrap(), 1, "{sql}");
    }
    let status: String = db
        .superuser()
        .await
        .query_one(
            &format!("SELECT subscription_status FROM users WHERE id = '{A}'"),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "cancelled");
}

#[tokio::test]
async fn a_worker_logs_in_as_itself_and_cannot_reset_its_way_to_the_owner() {
    let db = TestDb::fresh().await;
    let worker = shared::testing::connect(&db.worker_url()).await;
    for sql in [
        "RESET ROLE; CREATE TABLE stolen (id int)",
        "SET ROLE adpilot_owner",
        "ALTER TABLE campaigns DISABLE ROW LEVEL SECURITY",
        "UPDATE refinery_schema_history SET version = 0",
    ] {
        assert!(
            worker.batch_execute(sql).await.is_err(),
            "the worker could: {sql}"
        );
    }
    worker.batch_execute("RESET ROLE").await.unwrap();
    let r = worker
        .query_one("SELECT current_user::text, session_user::text", &[])
        .await
        .unwrap();
    assert_eq!(
        (r.get::<_, String>(0), r.get::<_, String>(1)),
        ("adpilot_worker".into(), "adpilot_worker".into())
    );
}

#[tokio::test]
async fn a_worker_pool_with_the_owners_credentials_is_refused_at_init() {
    let db = TestDb::fresh().await;
    let err = shared::db::WorkerDb::connect(&shared::testing::db_config(db.owner_url()))
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("must log in as adpilot_worker"),
        "{err}"
    );
}
