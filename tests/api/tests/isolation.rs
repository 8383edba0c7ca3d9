//! Tenant isolation across the whole API: user A has data in every table; user B calls
//! every documented route with A's ids and gets 404s or their own (empty) lists — never
//! A's data — and A's rows are unchanged afterwards. The same probes run directly as the
//! app role with B's id set return nothing of A's.

use lambda_http::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::aws::relay::Relay;
use shared::testing::TestDb;
use shared::testing::api::{Reply, TestUser, cipher, context, reply, request, tokens};

/// A Graph client pointed nowhere: no route reaches Meta for another user's ids.
fn graph() -> shared::meta::Graph {
    shared::meta::Graph::new("http://127.0.0.1:9/v25.0", "1", "app-secret")
}

struct Api {
    auth: auth::State,
    profiles: profiles::State,
    assets: assets::State,
    campaigns: campaigns::State,
    analytics: analytics::State,
    generations: generations::State,
    billing: billing::State,
    billing_webhook: billing_webhook::State,
    meta_accounts: meta_accounts::State,
    meta_webhook: meta_webhook::State,
    notifications: notifications::State,
    reports: reports::State,
    rules: rules::State,
    doc: String,
}

impl Api {
    async fn new(db: &TestDb) -> Self {
        Self {
            auth: auth::State {
                db: db.db(),
                tokens: tokens(),
                refresh_ttl_days: 30,
                trial_days: 14,
                ip_limit_per_minute: 1000,
            },
            profiles: profiles::State {
                ctx: context(db),
                relay: Relay::new(
                    shared::aws::sqs(&shared::aws::sdk_config().await),
                    Default::default(),
                ),
            },
            assets: assets::State {
                db: db.db(),
                tokens: tokens(),
                storage: shared::testing::storage().await,
            },
            campaigns: campaigns::State {
                db: db.db(),
                tokens: tokens(),
                graph: graph(),
                cipher: cipher(),
                storage: shared::testing::storage().await,
                relay: Relay::new(
                    shared::aws::sqs(&shared::aws::sdk_config().await),
                    Default::default(),
                ),
            },
            meta_accounts: meta_accounts::State {
                ctx: context(db),
                graph: graph(),
                cipher: cipher(),
                state_secret: b"state-secret".to_vec(),
                redirect_uri: "https://app.adpilot.example/meta/connected".into(),
            },
            meta_webhook: meta_webhook::State {
                db: db.worker(),
                app_secret: "app-secret".into(),
                verify_token: "verify".into(),
                relay: Relay::new(
                    shared::aws::sqs(&shared::aws::sdk_config().await),
                    Default::default(),
                ),
            },
            analytics: analytics::State {
                db: db.db(),
                tokens: tokens(),
            },
            generations: generations::State {
                ctx: context(db),
                relay: Relay::new(
                    shared::aws::sqs(&shared::aws::sdk_config().await),
                    Default::default(),
                ),
            },
            billing: billing::State {
                ctx: context(db),
                gateways: unreachable_gateways(),
                return_url: "https://app.example/billing".into(),
            },
            billing_webhook: billing_webhook::State {
                db: db.worker(),
                webhook_secret: "whsec".into(),
                stripe_webhook_secret: "whsec_stripe".into(),
                gateways: unreachable_gateways(),
            },
            notifications: notifications::State {
                ctx: context(db),
                signer: notifications::unsubscribe::Signer::new(
                    b"isolation-test-secret-long-enough-0",
                ),
            },
            reports: reports::State {
                ctx: context(db),
                storage: shared::testing::storage().await,
                relay: Relay::new(
                    shared::aws::sqs(&shared::aws::sdk_config().await),
                    Default::default(),
                ),
            },
            rules: rules::State {
                ctx: context(db),
                graph: graph(),
                cipher: cipher(),
            },
            doc: openapi::document().to_json().unwrap(),
        }
    }

    /// Sends the request to the function template.yaml wires the path to.
    async fn call(&self, method: Method, path: &str, token: &str) -> Reply {
        let body = json!({});
        let req = request(method, path, Some(&body), Some(token));
        let p = path.split('?').next().unwrap();
        let res = if p.starts_with("/v1/auth") || p == "/v1/me" {
            auth::handle(&self.auth, req).await
        } else if p.starts_with("/v1/business-profile") || p.starts_with("/v1/brand-profile") {
            profiles::handle(&self.profiles, req).await
        } else if p.starts_with("/v1/assets") {
            assets::handle(&self.assets, req).await
        } else if p.starts_with("/v1/rules")
            || p.starts_with("/v1/optimizations")
            || p.ends_with("/optimizations")
        {
            rules::handle(&self.rules, req).await
        } else if p.starts_with("/v1/analytics") || p.ends_with("/performance") {
            analytics::handle(&self.analytics, req).await
        } else if p.starts_with("/v1/campaigns") {
            campaigns::handle(&self.campaigns, req).await
        } else if p.starts_with("/v1/jobs") || p.starts_with("/v1/generations") {
            generations::handle(&self.generations, req).await
        } else if p.starts_with("/v1/usage")
            || p.starts_with("/v1/plans")
            || p.starts_with("/v1/subscription")
        {
            billing::handle(&self.billing, req).await
        } else if p.starts_with("/webhooks/razorpay") || p.starts_with("/webhooks/stripe") {
            billing_webhook::handle(&self.billing_webhook, req).await
        } else if p.starts_with("/v1/meta") {
            meta_accounts::handle(&self.meta_accounts, req).await
        } else if p.starts_with("/webhooks/meta") {
            meta_webhook::handle(&self.meta_webhook, req).await
        } else if p.starts_with("/v1/notification") {
            notifications::handle(&self.notifications, req).await
        } else if p.starts_with("/v1/reports") {
            reports::handle(&self.reports, req).await
        } else {
            openapi::handle(&self.doc, req).await
        };
        reply(res)
    }
}

/// A's ids, and strings that only A's data contains.
struct Alpha {
    user: TestUser,
    asset: String,
    campaign: String,
    job: String,
    connection: String,
    notification: String,
    report: String,
    rule: String,
    optimization: String,
    markers: Vec<String>,
}

async fn alpha(db: &TestDb) -> Alpha {
    let user = TestUser::create(db, "alpha-owner@example.com").await;
    let report = uuid::Uuid::new_v4();
    let rule = uuid::Uuid::new_v4();
    let optimization = uuid::Uuid::new_v4();
    let (asset, campaign, job, connection, notification) = (
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
    );
    let u = user.id;
    db.superuser()
        .await
        .batch_execute(&format!(
            "INSERT INTO business_profiles (user_id, business_name) VALUES ('{u}', 'Alpha Foods Secret');
             INSERT INTO brand_profiles (user_id, logo_url) VALUES ('{u}', 'https://alpha-secret.example/logo.png');
             INSERT INTO meta_accounts (id, user_id, meta_user_id, access_token) VALUES ('{connection}', '{u}', 'alpha-meta', 'k1:sealed');
             INSERT INTO meta_ad_accounts (meta_account_id, user_id, ad_account_id, name, account_status, currency)
                  VALUES ('{connection}', '{u}', 'act_777000777', 'Alpha Secret Ads', 1, 'INR');
             INSERT INTO creative_assets (id, user_id, asset_type, status, file_url, format, filename, tags)
                  VALUES ('{asset}', '{u}', 'image', 'active', 's3://b/alpha.png', '1:1', 'alpha-secret.png', '{{alphatag}}');
             INSERT INTO campaigns (id, user_id, name, purpose, daily_budget, status)
                  VALUES ('{campaign}', '{u}', 'Alpha Secret Campaign', 'sales', 100, 'paused');
             INSERT INTO campaign_assets (campaign_id, asset_id) VALUES ('{campaign}', '{asset}');
             INSERT INTO performance_analytics (campaign_id, date, impressions) VALUES ('{campaign}', current_date, 777777);
             INSERT INTO campaign_daily_totals (campaign_id, date, user_id, impressions, clicks, spend, conversions, conversion_value)
                  VALUES ('{campaign}', current_date, '{u}', 777777, 0, 0, 0, 0);
             INSERT INTO campaign_weekly_totals (campaign_id, week, user_id, impressions, clicks, spend, conversions, conversion_value)
                  VALUES ('{campaign}', date_trunc('week', current_date)::date, '{u}', 777777, 0, 0, 0, 0);
             INSERT INTO ai_optimization_logs (campaign_id, optimization_type) VALUES ('{campaign}', 'budget_increase');
             INSERT INTO background_jobs (id, job_type, user_id) VALUES ('{job}', 'brand_analysis', '{u}');
             INSERT INTO usage_logs (user_id, feature, credits_consumed) VALUES ('{u}', 'alpha_secret_feature', 3);
             INSERT INTO outbox (user_id, topic, payload) VALUES ('{u}', 'brand-analysis', '{{}}');
             INSERT INTO notifications (id, user_id, category, event_key, title, body)
                  VALUES ('{notification}', '{u}', 'generation', 'alpha:1', 'Alpha secret notice', 'alpha-secret body');
             INSERT INTO notification_emails (notification_id, user_id) VALUES ('{notification}', '{u}');
             INSERT INTO notification_preferences (user_id, category, email) VALUES ('{u}', 'report', false);
             INSERT INTO reports (id, user_id, job_id, kind, period_start, period_end, timezone, status, html_key, pdf_key, summary)
                  VALUES ('{report}', '{u}', '{job}', 'weekly', current_date - 7, current_date - 1, 'Asia/Kolkata', 'ready',
                          'reports/alpha-secret/report.html', 'reports/alpha-secret/report.pdf', '{{\"spend\": \"777777\"}}');
             INSERT INTO optimization_rules (id, user_id, campaign_id, name, entity_type, spec, trigger_condition)
                  VALUES ('{rule}', '{u}', '{campaign}', 'Alpha secret rule', 'CAMPAIGN',
                          '{{\"entity_type\": \"CAMPAIGN\", \"evaluation_spec\": {{\"filters\": [{{\"field\": \"spend\", \"operator\": \"GREATER_THAN\", \"value\": 1}}]}}, \"execution_spec\": {{\"execution_type\": \"NOTIFICATION\"}}}}',
                          'alpha_secret_trigger');
             INSERT INTO ai_optimization_logs (id, campaign_id, user_id, rule_id, optimization_type, trigger_condition, decision,
                                               success, before_values, after_values)
                  VALUES ('{optimization}', '{campaign}', '{u}', '{rule}', 'budget_change', 'alpha_secret_trigger', 'applied', true,
                          '{{\"daily_budget\": \"100.00\"}}', '{{\"action\": \"budget\", \"from\": \"80.00\", \"to\": \"100.00\"}}');"
        ))
        .await
        .unwrap();
    let markers = [
        u.to_string(),
        asset.to_string(),
        campaign.to_string(),
        job.to_string(),
        "Alpha Foods Secret".into(),
        "alpha-secret".into(),
        "Alpha Secret Campaign".into(),
        "alphatag".into(),
        "alpha_secret_feature".into(),
        "777777".into(),
        "act_777000777".into(),
        "alpha-meta".into(),
        connection.to_string(),
        notification.to_string(),
        "Alpha secret notice".into(),
        report.to_string(),
        rule.to_string(),
        "Alpha secret rule".into(),
        "alpha_secret_trigger".into(),
    ]
    .into();
    Alpha {
        user,
        asset: asset.to_string(),
        campaign: campaign.to_string(),
        job: job.to_string(),
        connection: connection.to_string(),
        notification: notification.to_string(),
        report: report.to_string(),
        rule: rule.to_string(),
        optimization: optimization.to_string(),
        markers,
    }
}

/// Every row of A's, as JSON, to compare before and after.
async fn snapshot(db: &TestDb, a: &Alpha) -> Vec<String> {
    let su = db.superuser().await;
    let mut out = Vec::new();
    for (table, filter) in [
        ("users", format!("id = '{}'", a.user.id)),
        ("business_profiles", format!("user_id = '{}'", a.user.id)),
        ("brand_profiles", format!("user_id = '{}'", a.user.id)),
        ("creative_assets", format!("user_id = '{}'", a.user.id)),
        ("campaigns", format!("user_id = '{}'", a.user.id)),
        ("campaign_assets", format!("campaign_id = '{}'", a.campaign)),
        (
            "performance_analytics",
            format!("campaign_id = '{}'", a.campaign),
        ),
        ("background_jobs", format!("user_id = '{}'", a.user.id)),
        ("subscriptions", format!("user_id = '{}'", a.user.id)),
        ("usage_logs", format!("user_id = '{}'", a.user.id)),
        ("meta_accounts", format!("user_id = '{}'", a.user.id)),
        ("meta_ad_accounts", format!("user_id = '{}'", a.user.id)),
        ("notifications", format!("user_id = '{}'", a.user.id)),
        (
            "notification_preferences",
            format!("user_id = '{}'", a.user.id),
        ),
        ("notification_emails", format!("user_id = '{}'", a.user.id)),
        ("reports", format!("user_id = '{}'", a.user.id)),
        ("optimization_rules", format!("user_id = '{}'", a.user.id)),
        (
            "ai_optimization_logs",
            format!("campaign_id = '{}'", a.campaign),
        ),
    ] {
        for row in su
            .query(
                &format!("SELECT row_to_json(t)::text FROM {table} t WHERE {filter} ORDER BY 1"),
                &[],
            )
            .await
            .unwrap()
        {
            out.push(row.get(0));
        }
    }
    out
}

fn with_ids(route: &str, a: &Alpha) -> String {
    let path = route.split_once(' ').unwrap().1;
    let path = path
        .replace("{asset_id}", &a.asset)
        .replace("{ad_account_id}", "act_777000777");
    if path.starts_with("/v1/assets/") {
        path.replace("{id}", &a.asset)
    } else if path.starts_with("/v1/jobs/") {
        path.replace("{id}", &a.job)
    } else if path.starts_with("/v1/meta-accounts/") {
        path.replace("{id}", &a.connection)
    } else if path.starts_with("/v1/notifications/") {
        path.replace("{id}", &a.notification)
    } else if path.starts_with("/v1/reports/") {
        path.replace("{id}", &a.report)
    } else if path.starts_with("/v1/rules/") {
        path.replace("{id}", &a.rule)
    } else if path.starts_with("/v1/optimizations/") {
        path.replace("{id}", &a.optimization)
    } else {
        path.replace("{id}", &a.campaign)
    }
}

#[tokio::test]
async fn no_route_shows_or_changes_another_users_data() {
    let db = TestDb::fresh().await;
    let api = Api::new(&db).await;
    let a = alpha(&db).await;
    let b = TestUser::create(&db, "bravo@example.com").await;
    let before = snapshot(&db, &a).await;

    let doc: Value = serde_json::from_str(&api.doc).unwrap();
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let route = format!("{} {path}", method.to_uppercase());
            if route == "DELETE /v1/me" {
                continue; // B deleting B's own account says nothing about A.
            }
            let url = with_ids(&route, &a);
            let r = api
                .call(method.to_uppercase().parse().unwrap(), &url, &b.token)
                .await;
            let body = r.body.to_string();
            assert!(r.status.as_u16() < 500, "{route}: {}", r.status);
            if path.contains('{') {
                assert_eq!(r.status, StatusCode::NOT_FOUND, "{route} with A's ids");
            }
            for marker in &a.markers {
                assert!(!body.contains(marker.as_str()), "{route} leaked {marker}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} routes checked");
    assert_eq!(snapshot(&db, &a).await, before, "A's data changed");

    // A still sees everything of theirs through the same routes.
    let mine = api
        .call(
            Method::GET,
            &format!("/v1/campaigns/{}", a.campaign),
            &a.user.token,
        )
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    let perf = api
        .call(
            Method::GET,
            &format!("/v1/campaigns/{}/performance", a.campaign),
            &a.user.token,
        )
        .await;
    assert_eq!(perf.body["totals"]["impressions"], 777777);
}

#[tokio::test]
async fn the_app_role_with_another_users_id_set_finds_none_of_a_s_rows() {
    let db = TestDb::fresh().await;
    let a = alpha(&db).await;
    let b = TestUser::create(&db, "bravo@example.com").await;
    let app = db.app_client().await;
    app.batch_execute("BEGIN").await.unwrap();
    app.execute(
        "SELECT set_config('app.current_user_id', $1, true)",
        &[&b.id.to_string()],
    )
    .await
    .unwrap();
    for (table, filter) in [
        ("users", format!("id = '{}'", a.user.id)),
        ("business_profiles", format!("user_id = '{}'", a.user.id)),
        ("brand_profiles", format!("user_id = '{}'", a.user.id)),
        ("meta_accounts", format!("user_id = '{}'", a.user.id)),
        ("creative_assets", format!("id = '{}'", a.asset)),
        ("campaigns", format!("id = '{}'", a.campaign)),
        ("campaign_assets", format!("campaign_id = '{}'", a.campaign)),
        (
            "performance_analytics",
            format!("campaign_id = '{}'", a.campaign),
        ),
        (
            "ai_optimization_logs",
            format!("campaign_id = '{}'", a.campaign),
        ),
        ("background_jobs", format!("id = '{}'", a.job)),
        ("subscriptions", format!("user_id = '{}'", a.user.id)),
        ("usage_logs", format!("user_id = '{}'", a.user.id)),
        ("refresh_tokens", format!("user_id = '{}'", a.user.id)),
        ("notifications", format!("id = '{}'", a.notification)),
        (
            "notification_preferences",
            format!("user_id = '{}'", a.user.id),
        ),
        ("notification_emails", format!("user_id = '{}'", a.user.id)),
        ("reports", format!("id = '{}'", a.report)),
        ("optimization_rules", format!("id = '{}'", a.rule)),
        ("campaign_edits", format!("campaign_id = '{}'", a.campaign)),
    ] {
        let n: i64 = app
            .query_one(&format!("SELECT count(*) FROM {table} WHERE {filter}"), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "{table}");
    }
    app.batch_execute("COMMIT").await.unwrap();
}

/// Payment providers at an address nothing listens on.
fn unreachable_gateways() -> billing::billing::Gateways {
    billing::billing::Gateways {
        razorpay: billing::billing::Razorpay::new("http://127.0.0.1:9", "rzp_test", "secret"),
        stripe: billing::billing::Stripe::new("http://127.0.0.1:9", "sk_test"),
    }
}
