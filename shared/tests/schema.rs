//! The schema as specified: the seed's tables and columns with the fixes of DESIGN.md,
//! applied by the migration library, idempotently.

use shared::db::migrate;
use shared::testing::TestDb;

/// Every column of the seed: table, column, Postgres type, and the default it must have
/// ("-" for none). Timestamps are timestamptz; money and ratios are numeric.
const SEED_COLUMNS: &str = "
users id uuid gen_random_uuid()
users email varchar -
users password_hash varchar -
users first_name varchar -
users last_name varchar -
users phone varchar -
users subscription_tier varchar 'starter'
users subscription_status varchar 'trial'
users trial_ends_at timestamptz -
users last_login timestamptz -
users is_active bool true
users created_at timestamptz now()
users updated_at timestamptz now()
business_profiles id uuid gen_random_uuid()
business_profiles user_id uuid -
business_profiles business_name varchar -
business_profiles business_type varchar -
business_profiles industry varchar -
business_profiles website_url text -
business_profiles business_address text -
business_profiles target_audience_description text -
business_profiles monthly_budget_range varchar -
business_profiles created_at timestamptz now()
business_profiles updated_at timestamptz now()
meta_accounts id uuid gen_random_uuid()
meta_accounts user_id uuid -
meta_accounts meta_user_id varchar -
meta_accounts access_token text -
meta_accounts refresh_token text -
meta_accounts token_expires_at timestamptz -
meta_accounts permissions jsonb -
meta_accounts ad_account_ids _text -
meta_accounts connection_status varchar 'active'
meta_accounts last_sync timestamptz -
meta_accounts created_at timestamptz now()
meta_accounts updated_at timestamptz now()
creative_assets id uuid gen_random_uuid()
creative_assets user_id uuid -
creative_assets asset_type varchar -
creative_assets file_url text -
creative_assets file_size int8 -
creative_assets filename varchar -
creative_assets format varchar -
creative_assets dimensions jsonb -
creative_assets prompt text -
creative_assets style varchar -
creative_assets ai_model varchar -
creative_assets generation_time int4 -
creative_assets tags _text '{}'
creative_assets is_favorite bool false
creative_assets usage_count int4 0
creative_assets status varchar 'active'
creative_assets created_at timestamptz now()
creative_assets updated_at timestamptz now()
brand_profiles id uuid gen_random_uuid()
brand_profiles user_id uuid -
brand_profiles website_url text -
brand_profiles website_analysis jsonb -
brand_profiles logo_url text -
brand_profiles color_palette jsonb -
brand_profiles typography jsonb -
brand_profiles brand_voice jsonb -
brand_profiles messaging_patterns jsonb -
brand_profiles social_media_analysis jsonb -
brand_profiles ai_generated_guidelines jsonb -
brand_profiles last_analysis timestamptz -
brand_profiles analysis_version int4 1
brand_profiles created_at timestamptz now()
brand_profiles updated_at timestamptz now()
campaigns id uuid gen_random_uuid()
campaigns user_id uuid -
campaigns meta_campaign_id varchar -
campaigns name varchar -
campaigns purpose varchar -
campaigns objective varchar -
campaigns daily_budget numeric -
campaigns total_budget numeric -
campaigns start_date date -
campaigns end_date date -
campaigns target_audience jsonb -
campaigns audience_size_estimate jsonb -
campaigns status varchar 'draft'
campaigns approval_status varchar 'pending'
campaigns ai_optimization_enabled bool true
campaigns optimization_goals jsonb -
campaigns total_spend numeric 0
campaigns total_impressions int8 0
campaigns total_clicks int8 0
campaigns total_conversions int8 0
campaigns created_at timestamptz now()
campaigns updated_at timestamptz now()
campaign_assets id uuid gen_random_uuid()
campaign_assets campaign_id uuid -
campaign_assets asset_id uuid -
campaign_assets asset_role varchar 'primary'
campaign_assets is_active bool true
campaign_assets performance_score numeric -
campaign_assets created_at timestamptz now()
performance_analytics id uuid gen_random_uuid()
performance_analytics campaign_id uuid -
performance_analytics date date -
performance_analytics hour int4 -
performance_analytics impressions int8 0
performance_analytics clicks int8 0
performance_analytics spend numeric 0
performance_analytics conversions int8 0
performance_analytics ctr numeric -
performance_analytics cpc numeric -
performance_analytics cpa numeric -
performance_analytics roas numeric -
performance_analytics platform varchar -
performance_analytics placement varchar -
performance_analytics age_range varchar -
performance_analytics gender varchar -
performance_analytics location varchar -
performance_analytics created_at timestamptz now()
ai_optimization_logs id uuid gen_random_uuid()
ai_optimization_logs campaign_id uuid -
ai_optimization_logs optimization_type varchar -
ai_optimization_logs trigger_condition varchar -
ai_optimization_logs before_values jsonb -
ai_optimization_logs after_values jsonb -
ai_optimization_logs success bool -
ai_optimization_logs impact_description text -
ai_optimization_logs performance_change jsonb -
ai_optimization_logs optimized_at timestamptz now()
subscriptions id uuid gen_random_uuid()
subscriptions user_id uuid -
subscriptions tier varchar -
subscriptions billing_cycle varchar 'monthly'
subscriptions price numeric -
subscriptions currency varchar 'INR'
subscriptions payment_method varchar -
subscriptions payment_method_id varchar -
subscriptions status varchar 'active'
subscriptions current_period_start timestamptz -
subscriptions current_period_end timestamptz -
subscriptions cancel_at_period_end bool false
subscriptions monthly_ai_credits_used int4 0
subscriptions monthly_ai_credits_limit int4 -
subscriptions created_at timestamptz now()
subscriptions updated_at timestamptz now()
usage_logs id uuid gen_random_uuid()
usage_logs user_id uuid -
usage_logs feature varchar -
usage_logs credits_consumed int4 1
usage_logs resource_id uuid -
usage_logs metadata jsonb -
usage_logs logged_at timestamptz now()
background_jobs id uuid gen_random_uuid()
background_jobs job_type varchar -
background_jobs user_id uuid -
background_jobs campaign_id uuid -
background_jobs parameters jsonb -
background_jobs status varchar 'pending'
background_jobs result jsonb -
background_jobs error_message text -
background_jobs scheduled_at timestamptz now()
background_jobs started_at timestamptz -
background_jobs completed_at timestamptz -
background_jobs created_at timestamptz now()
system_config key varchar -
system_config value jsonb -
system_config description text -
system_config updated_at timestamptz now()
";

/// The seed's CHECK constraints: table, column, and every value it allows.
const SEED_CHECKS: &[(&str, &str, &[&str])] = &[
    (
        "users",
        "subscription_tier",
        &["starter", "professional", "business"],
    ),
    (
        "users",
        "subscription_status",
        &["active", "cancelled", "expired", "trial"],
    ),
    (
        "meta_accounts",
        "connection_status",
        &["active", "expired", "revoked", "error"],
    ),
    ("creative_assets", "asset_type", &["image", "video"]),
    (
        "creative_assets",
        "status",
        &["active", "deleted", "processing", "failed"],
    ),
    (
        "campaigns",
        "purpose",
        &[
            "lead_generation",
            "sales",
            "brand_awareness",
            "app_installs",
            "event_promotion",
            "store_visits",
            "retargeting",
        ],
    ),
    (
        "campaigns",
        "status",
        &[
            "draft",
            "review",
            "active",
            "paused",
            "completed",
            "cancelled",
        ],
    ),
    (
        "campaigns",
        "approval_status",
        &["pending", "approved", "rejected"],
    ),
    (
        "subscriptions",
        "tier",
        &["starter", "professional", "business"],
    ),
    ("subscriptions", "billing_cycle", &["monthly", "annual"]),
    (
        "subscriptions",
        "status",
        &["active", "cancelled", "expired", "past_due"],
    ),
    (
        "background_jobs",
        "status",
        &["pending", "running", "completed", "failed", "cancelled"],
    ),
];

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_again_as_a_no_op() {
    let db = TestDb::empty().await;
    let first = migrate(&db.owner_url()).await.unwrap();
    assert_eq!(
        first.len(),
        std::fs::read_dir("../migrations").unwrap().count()
    );
    let second = migrate(&db.owner_url()).await.unwrap();
    assert!(second.is_empty(), "second run applied {second:?}");
}

#[tokio::test]
async fn every_seed_column_exists_with_its_type_and_default() {
    let db = TestDb::fresh().await;
    let su = db.superuser().await;
    for line in SEED_COLUMNS.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.splitn(4, ' ');
        let (table, column, udt, default) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let row = su
            .query_opt(
                "SELECT udt_name::text, column_default FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2",
                &[&table, &column],
            )
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{table}.{column} is missing"));
        let (got_udt, got_default): (String, Option<String>) = (row.get(0), row.get(1));
        assert_eq!(got_udt, udt, "{table}.{column} type");
        match default {
            "-" => assert!(
                got_default.is_none(),
                "{table}.{column} should have no default, has {got_default:?}"
            ),
            want => {
                let got = got_default.unwrap_or_else(|| panic!("{table}.{column} has no default"));
                assert!(
                    got.starts_with(want),
                    "{table}.{column} default {got:?}, want {want}"
                );
            }
        }
    }
}

#[tokio::test]
async fn every_seed_check_constraint_allows_exactly_its_values() {
    let db = TestDb::fresh().await;
    let su = db.superuser().await;
    for (table, column, allowed) in SEED_CHECKS {
        let defs: Vec<String> = su
            .query(
                "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c \
                 WHERE c.conrelid = $1::text::regclass AND c.contype = 'c'",
                &[table],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .filter(|d: &String| {
                d.contains(&format!("({column})")) || d.contains(&format!("({column})::text"))
            })
            .collect();
        let complete = defs
            .iter()
            .any(|def| allowed.iter().all(|v| def.contains(&format!("'{v}'"))));
        assert!(
            complete,
            "no CHECK on {table}.{column} allowing all of {allowed:?}: {defs:?}"
        );
    }
}

#[tokio::test]
async fn no_timestamp_is_without_time_zone() {
    let db = TestDb::fresh().await;
    let naive: Vec<String> = db
        .superuser()
        .await
        .query(
            "SELECT table_name || '.' || column_name FROM information_schema.columns \
             WHERE table_schema = 'public' AND data_type = 'timestamp without time zone'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(naive.is_empty(), "naive timestamps: {naive:?}");
}

#[tokio::test]
async fn system_config_defaults_survive_a_rerun_without_overwriting_edits() {
    let db = TestDb::fresh().await;
    let su = db.superuser().await;
    su.batch_execute(
        "UPDATE system_config SET value = '{\"calls_per_hour\": 150}' WHERE key = 'meta_api_rate_limits';
         DELETE FROM system_config WHERE key = 'ai_service_limits';",
    )
    .await
    .unwrap();
    // Re-running migrations is a no-op; re-running the seeding restores a missing
    // default and keeps the operator's edit.
    assert!(migrate(&db.owner_url()).await.unwrap().is_empty());
    su.batch_execute("SELECT seed_system_config()")
        .await
        .unwrap();
    let get = async |key: &str| -> serde_json::Value {
        su.query_one("SELECT value FROM system_config WHERE key = $1", &[&key])
            .await
            .unwrap()
            .get(0)
    };
    assert_eq!(
        get("ai_service_limits").await,
        serde_json::json!({"imagen": 100, "veo": 50})
    );
    assert_eq!(
        get("meta_api_rate_limits").await,
        serde_json::json!({"calls_per_hour": 150})
    );
    assert_eq!(
        get("subscription_features").await,
        serde_json::json!({"starter": {"ai_credits": 50}, "professional": {"ai_credits": 200}, "business": {"ai_credits": 400}})
    );
}

#[tokio::test]
async fn updated_at_is_kept_by_trigger() {
    let db = TestDb::fresh().await;
    let su = db.superuser().await;
    su.batch_execute(
        "INSERT INTO users (id, email, password_hash) VALUES ('00000000-0000-0000-0000-0000000000a1', 'a@example.com', 'h');
         UPDATE users SET updated_at = '2000-01-01', first_name = 'Asha' WHERE email = 'a@example.com';",
    )
    .await
    .unwrap();
    let fresh: bool = su
        .query_one(
            "SELECT updated_at > now() - interval '1 minute' FROM users",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(fresh, "updated_at was not set by the trigger");
}

#[tokio::test]
async fn email_is_unique_whatever_its_case_among_live_accounts() {
    let db = TestDb::fresh().await;
    let su = db.superuser().await;
    su.batch_execute("INSERT INTO users (email, password_hash) VALUES ('asha@example.com', 'h')")
        .await
        .unwrap();
    let dup = su
        .batch_execute("INSERT INTO users (email, password_hash) VALUES ('ASHA@example.com', 'h')")
        .await;
    assert!(
        dup.is_err(),
        "the seed's lower-case rule or the unique index must refuse it"
    );
    let dup = su
        .execute(
            "INSERT INTO users (email, password_hash) VALUES (lower('ASHA@Example.com'), 'h')",
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(
        dup.as_db_error().unwrap().constraint(),
        Some("users_email_key")
    );
    // A deleted account frees its address.
    su.batch_execute(
        "UPDATE users SET deleted_at = now() WHERE email = 'asha@example.com';
         INSERT INTO users (email, password_hash) VALUES ('asha@example.com', 'h2');",
    )
    .await
    .unwrap();
}
