//! The optimizer acting, against a real database and a Graph API server on loopback:
//! a budget raised once — not twice, also when two runs race — when ROAS held above 4
//! for three days; a dry run that sends nothing; the owner's edit winning over a run
//! already under way; and a rule whose changes keep failing on Meta turning itself off
//! and telling its owner.

use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use shared::aws::LazyClient;
use shared::aws::relay::Relay;
use shared::domain::metrics::Sums;
use shared::messages::Optimize;
use shared::meta::Graph;
use shared::repo::insights::{self, InsightRow};
use shared::repo::meta_accounts::token_binding;
use shared::repo::optimizer_runs;
use shared::testing::TestDb;
use shared::testing::api::{TestUser, cipher};
use uuid::Uuid;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct World {
    db: TestDb,
    meta: MockServer,
    state: optimizer::State,
    user: TestUser,
    campaign: Uuid,
}

const ACCOUNT: &str = "act_1234567890";

/// A day at ROAS 5 on 30,000 impressions (cost per result 100).
fn roas_five() -> Sums {
    Sums {
        impressions: 30_000,
        clicks: 600,
        spend: Decimal::from(3000),
        conversions: 30,
        conversion_value: Decimal::from(15_000),
    }
}

/// A launched campaign (ad set `as-1`, 1,000 a day) on a connected ad account, synced
/// just now, with three days of ROAS 5 on 30,000 impressions a day.
async fn world() -> World {
    let db = TestDb::fresh().await;
    let meta = MockServer::start().await;
    let aws = shared::aws::sdk_config().await;
    let state = optimizer::State {
        db: db.db(),
        worker: db.worker(),
        graph: Graph::new(&format!("{}/v25.0", meta.uri()), "1234567", "app-secret"),
        cipher: cipher(),
        storage: shared::testing::storage().await,
        relay: Relay::new(shared::aws::sqs(&aws), Default::default()),
        sqs: LazyClient::ready(shared::aws::sqs(&aws)),
    };
    let user = TestUser::create(&db, "owner@example.com").await;
    let campaign = Uuid::new_v4();
    db.superuser()
        .await
        .batch_execute(&format!(
            "INSERT INTO meta_accounts (id, user_id, meta_user_id, access_token) VALUES ('{c}', '{u}', 'fb1', '{token}');
             INSERT INTO meta_ad_accounts (meta_account_id, user_id, ad_account_id, account_status, currency)
                  VALUES ('{c}', '{u}', '{ACCOUNT}', 1, 'INR');
             INSERT INTO campaigns (id, user_id, name, purpose, daily_budget, status, approval_status,
                                    meta_campaign_id, meta_adset_id, meta_ad_account_id, last_synced_at)
                  VALUES ('{campaign}', '{u}', 'Winter chai', 'sales', 1000, 'active', 'approved',
                          'mc-1', 'as-1', '{ACCOUNT}', now());",
            c = Uuid::new_v4(),
            u = user.id,
            token = cipher().seal("EAAGuser-token", &token_binding(user.id.0, "fb1")),
        ))
        .await
        .unwrap();
    let today = Utc::now().date_naive();
    let rows: Vec<InsightRow> = (1..=6)
        .map(|n| InsightRow::daily_total(campaign, today - Duration::days(n), &roas_five()))
        .collect();
    db.worker()
        .run("seed", async |t| insights::upsert(t, &rows).await)
        .await
        .unwrap();
    World {
        db,
        meta,
        state,
        user,
        campaign,
    }
}

impl World {
    async fn rule(&self, dry_run: bool) -> Uuid {
        let spec = json!({
            "entity_type": "CAMPAIGN",
            "evaluation_spec": {"filters": [
                {"field": "roas", "operator": "GREATER_THAN", "value": 4, "time_preset": "LAST_3D"}
            ]},
            "execution_spec": {"execution_type": "CHANGE_BUDGET",
                               "change_spec": {"amount": "20", "unit": "PERCENTAGE"}},
            "schedule_spec": {"schedule_type": "AFTER_SYNC"}
        });
        self.insert_rule(
            "Scale winners",
            &spec,
            "roas_greater_than_4_last_3d",
            dry_run,
        )
        .await
    }

    /// A rule of the owner's, written as stored (its entity type from `spec`).
    async fn insert_rule(&self, name: &str, spec: &Value, trigger: &str, dry_run: bool) -> Uuid {
        let id = Uuid::new_v4();
        self.db
            .superuser()
            .await
            .execute(
                "INSERT INTO optimization_rules (id, user_id, name, entity_type, spec, trigger_condition, dry_run) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&id, &self.user.id.0, &name, &spec["entity_type"].as_str(), spec, &trigger, &dry_run],
            )
            .await
            .unwrap();
        id
    }

    /// A run as a completed sync queues it.
    async fn queued_run(&self) -> Optimize {
        let user = self.user.id.0;
        let outbox = self
            .db
            .worker()
            .run("sync-done", async |w| {
                optimizer_runs::after_sync(w, user, ACCOUNT).await
            })
            .await
            .unwrap()
            .expect("a run is queued for AFTER_SYNC rules");
        let payload: Value = self
            .db
            .superuser()
            .await
            .query_one("SELECT payload FROM outbox WHERE id = $1", &[&outbox])
            .await
            .unwrap()
            .get(0);
        serde_json::from_value(payload).unwrap()
    }

    async fn budget_accepted(&self, times: u64) {
        Mock::given(method("POST"))
            .and(path("/v25.0/as-1"))
            .and(body_string_contains("daily_budget=120000"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
            .expect(times)
            .mount(&self.meta)
            .await;
    }

    /// A scaling rule that ran once and raised the budget to 1,200 on Meta.
    async fn raised(&self) {
        self.rule(false).await;
        self.budget_accepted(1).await;
        optimizer::run::run(&self.state, &self.queued_run().await)
            .await
            .unwrap();
    }

    async fn decisions(&self) -> Vec<(String, Option<String>)> {
        self.db
            .superuser()
            .await
            .query(
                "SELECT decision, skip_reason FROM ai_optimization_logs WHERE campaign_id = $1 ORDER BY optimized_at, id",
                &[&self.campaign],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    }

    async fn budget(&self) -> Decimal {
        self.db
            .superuser()
            .await
            .query_one(
                "SELECT daily_budget FROM campaigns WHERE id = $1",
                &[&self.campaign],
            )
            .await
            .unwrap()
            .get(0)
    }
}

#[tokio::test]
async fn the_budget_is_raised_once_not_twice_when_roas_held_above_four_for_three_days() {
    let w = world().await;
    w.rule(false).await;
    w.budget_accepted(1).await;
    let first = w.queued_run().await;
    optimizer::run::run(&w.state, &first).await.unwrap();
    let second = w.queued_run().await;
    optimizer::run::run(&w.state, &second).await.unwrap();
    // A redelivered message for a finished run does nothing either.
    optimizer::run::run(&w.state, &first).await.unwrap();

    assert_eq!(w.budget().await, Decimal::from(1200));
    let d = w.decisions().await;
    assert_eq!(d[0], ("applied".into(), None));
    assert_eq!(
        d[1],
        (
            "skipped".into(),
            Some("learning_phase:recent_significant_edit".into())
        ),
        "its own change restarts the clock"
    );
    assert_eq!(d.len(), 2);
    let told = w.db.told(w.user.id.0).await;
    assert_eq!(
        told,
        [(
            "optimization".into(),
            "Budget changed for Winter chai".into(),
            true
        )]
    );
    let row = w
        .db
        .superuser()
        .await
        .query_one(
            "SELECT before_values, after_values, success, follow_up_at > now() + interval '2 days', rule_version \
               FROM ai_optimization_logs WHERE decision = 'applied'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Value>(0)["daily_budget"], "1000.00");
    assert_eq!(
        row.get::<_, Value>(1),
        json!({"action": "budget", "from": "1000.00", "to": "1200.00"})
    );
    assert_eq!(
        (
            row.get::<_, bool>(2),
            row.get::<_, bool>(3),
            row.get::<_, i32>(4)
        ),
        (true, true, 1)
    );
    let source: String =
        w.db.superuser()
            .await
            .query_one(
                "SELECT source FROM campaign_edits WHERE campaign_id = $1 AND kind = 'budget'",
                &[&w.campaign],
            )
            .await
            .unwrap()
            .get(0);
    assert_eq!(source, "optimizer");
}

#[tokio::test]
async fn two_runs_racing_raise_the_budget_once() {
    let w = world().await;
    w.rule(false).await;
    w.budget_accepted(1).await;
    let (a, b) = (w.queued_run().await, w.queued_run().await);
    let (ra, rb) = tokio::join!(
        optimizer::run::run(&w.state, &a),
        optimizer::run::run(&w.state, &b)
    );
    ra.unwrap();
    rb.unwrap();
    assert_eq!(w.budget().await, Decimal::from(1200));
    let applied = w
        .decisions()
        .await
        .iter()
        .filter(|d| d.0 == "applied")
        .count();
    assert_eq!(applied, 1);
}

#[tokio::test]
async fn a_dry_run_logs_what_it_would_do_and_sends_nothing() {
    let w = world().await;
    w.rule(true).await;
    w.budget_accepted(0).await;
    optimizer::run::run(&w.state, &w.queued_run().await)
        .await
        .unwrap();
    assert_eq!(w.decisions().await, [("dry_run".into(), None)]);
    assert_eq!(w.budget().await, Decimal::from(1000));
}

#[tokio::test]
async fn the_owners_edit_after_the_run_began_wins() {
    let w = world().await;
    let rule_id = w.rule(false).await;
    w.budget_accepted(0).await;
    let began = Utc::now();
    let rule = w
        .state
        .db
        .tenant(w.user.id, async |t| {
            shared::repo::rules::get(t, rule_id).await
        })
        .await
        .unwrap()
        .unwrap();
    let judged = w
        .state
        .db
        .tenant(w.user.id, async |t| {
            rules::judge::judge(t, &rule, Some(ACCOUNT), began).await
        })
        .await
        .unwrap();
    // Meanwhile the owner sets the budget by hand.
    w.db.superuser()
        .await
        .execute(
            "UPDATE campaigns SET daily_budget = 800 WHERE id = $1",
            &[&w.campaign],
        )
        .await
        .unwrap();
    let outcome = optimizer::act::settle(&w.state, &rule, judged[0].clone(), began)
        .await
        .unwrap();
    assert_eq!(outcome, "skipped");
    assert_eq!(
        w.decisions().await,
        [("skipped".into(), Some("user_edited".into()))]
    );
    assert_eq!(w.budget().await, Decimal::from(800));
}

#[tokio::test]
async fn a_rule_whose_changes_keep_failing_on_meta_turns_itself_off_and_says_so() {
    let w = world().await;
    let rule = w.rule(false).await;
    Mock::given(method("POST"))
        .and(path("/v25.0/as-1"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100}
        })))
        .mount(&w.meta)
        .await;
    for _ in 0..4 {
        optimizer::run::run(&w.state, &w.queued_run().await)
            .await
            .unwrap();
    }
    let d = w.decisions().await;
    assert_eq!(d.iter().filter(|x| x.0 == "failed").count(), 4, "{d:?}");
    assert_eq!(
        w.budget().await,
        Decimal::from(1000),
        "nothing changed here when Meta refused"
    );
    let (status, reason): (String, Option<String>) = {
        let r =
            w.db.superuser()
                .await
                .query_one(
                    "SELECT status, disabled_reason FROM optimization_rules WHERE id = $1",
                    &[&rule],
                )
                .await
                .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(status, "DISABLED");
    assert_eq!(
        reason.as_deref(),
        Some("4 of its last 4 actions failed on Meta")
    );
    let told = w.db.told(w.user.id.0).await;
    assert_eq!(
        told,
        [(
            "optimization".into(),
            "Rule \"Scale winners\" turned itself off".into(),
            true
        )]
    );
    let error: String =
        w.db.superuser()
            .await
            .query_one(
                "SELECT meta_error FROM ai_optimization_logs WHERE decision = 'failed' LIMIT 1",
                &[],
            )
            .await
            .unwrap()
            .get(0);
    assert!(error.contains("Invalid parameter"), "{error}");
}

#[tokio::test]
async fn three_days_after_a_budget_rise_its_effect_is_measured_and_said_plainly() {
    let w = world().await;
    w.raised().await;
    // Pretend the rise was five days ago, and the three days after it cost less per result.
    w.db.superuser()
        .await
        .execute(
            "UPDATE ai_optimization_logs SET optimized_at = now() - interval '5 days', \
                    follow_up_at = now() - interval '1 hour' WHERE decision = 'applied'",
            &[],
        )
        .await
        .unwrap();
    let today = Utc::now().date_naive();
    let better: Vec<InsightRow> = (2..=4)
        .map(|n| {
            InsightRow::daily_total(
                w.campaign,
                today - Duration::days(n),
                &Sums {
                    impressions: 36_000,
                    clicks: 700,
                    spend: Decimal::from(3000),
                    conversions: 40,
                    conversion_value: Decimal::from(18_000),
                },
            )
        })
        .collect();
    w.db.worker()
        .run("seed", async |t| insights::upsert(t, &better).await)
        .await
        .unwrap();
    assert_eq!(optimizer::follow_ups(&w.state).await.unwrap(), 1);
    assert_eq!(
        optimizer::follow_ups(&w.state).await.unwrap(),
        0,
        "measured once"
    );
    let row = w
        .db
        .superuser()
        .await
        .query_one(
            "SELECT impact_description, performance_change FROM ai_optimization_logs WHERE decision = 'applied'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, String>(0),
        "Cost per result fell from ₹100.00 to ₹75.00 after the budget rose 20 %."
    );
    let change: Value = row.get(1);
    assert_eq!(change["change_pct"]["cpa"], "-25.0");
    assert_eq!(change["window_days"], 3);
}

fn rules_api(w: &World) -> rules::State {
    rules::State {
        ctx: shared::testing::api::context(&w.db),
        graph: Graph::new(&format!("{}/v25.0", w.meta.uri()), "1234567", "app-secret"),
        cipher: cipher(),
    }
}

async fn revert(w: &World, api: &rules::State, id: Uuid) -> shared::testing::api::Reply {
    let req = shared::testing::api::request(
        lambda_http::http::Method::POST,
        &format!("/v1/optimizations/{id}/revert"),
        None,
        Some(&w.user.token),
    );
    shared::testing::api::reply(rules::handle(api, req).await)
}

async fn applied(w: &World) -> Uuid {
    w.db.superuser()
        .await
        .query_one(
            "SELECT id FROM ai_optimization_logs WHERE decision = 'applied'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn revert_restores_the_budget_on_meta_once_and_logs_it() {
    let w = world().await;
    w.raised().await;
    Mock::given(method("POST"))
        .and(path("/v25.0/as-1"))
        .and(body_string_contains("daily_budget=100000"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&w.meta)
        .await;
    let api = rules_api(&w);
    let id = applied(&w).await;
    let (first, second) = tokio::join!(revert(&w, &api, id), revert(&w, &api, id));
    let mut statuses = [first.status.as_u16(), second.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} {}", first.body, second.body);
    let done = if first.status == 200 { &first } else { &second };
    assert_eq!(
        done.body["undo"],
        json!({"action": "budget", "from": "1200.00", "to": "1000.00"})
    );
    assert_eq!(w.budget().await, Decimal::from(1000));
    let d = w.decisions().await;
    assert_eq!(d.last().unwrap().0, "reverted");
    let again = revert(&w, &api, id).await;
    assert_eq!(
        (again.status.as_u16(), again.code()),
        (409, "not_revertible")
    );
}

#[tokio::test]
async fn a_budget_the_owner_changed_after_the_action_is_not_reverted() {
    let w = world().await;
    w.raised().await;
    w.db.superuser()
        .await
        .execute(
            "UPDATE campaigns SET daily_budget = 1500 WHERE id = $1",
            &[&w.campaign],
        )
        .await
        .unwrap();
    let api = rules_api(&w);
    let r = revert(&w, &api, applied(&w).await).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "changed_since"));
    assert_eq!(w.budget().await, Decimal::from(1500));
}

#[tokio::test]
async fn a_campaign_with_goals_gets_preset_rules_that_scale_it_within_its_maximum() {
    let w = world().await;
    w.db.superuser()
        .await
        .execute(
            "UPDATE campaigns SET optimization_goals = '{\"target_roas\": \"4\", \"max_daily_budget\": \"1100.00\"}' \
              WHERE id = $1",
            &[&w.campaign],
        )
        .await
        .unwrap();
    // The budget edit above is the owner's own, older than three days by the time it counts.
    w.db.superuser()
        .await
        .execute(
            "UPDATE campaign_edits SET edited_at = now() - interval '4 days'",
            &[],
        )
        .await
        .unwrap();
    Mock::given(method("POST"))
        .and(path("/v25.0/as-1"))
        .and(body_string_contains("daily_budget=110000"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&w.meta)
        .await;
    let six = Utc::now()
        .date_naive()
        .and_hms_opt(6, 30, 0)
        .unwrap()
        .and_utc();
    for _ in 0..2 {
        let outboxes =
            w.db.worker()
                .run("tick", async |t| optimizer_runs::hourly(t, six).await)
                .await
                .unwrap();
        assert_eq!(outboxes.len(), 1, "one daily run for the account at 06:00");
        let payload: Value =
            w.db.superuser()
                .await
                .query_one("SELECT payload FROM outbox WHERE id = $1", &[&outboxes[0]])
                .await
                .unwrap()
                .get(0);
        let run: Optimize = serde_json::from_value(payload).unwrap();
        optimizer::run::run(&w.state, &run).await.unwrap();
    }
    let presets: Vec<String> =
        w.db.superuser()
            .await
            .query("SELECT preset FROM optimization_rules ORDER BY preset", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    assert_eq!(presets, ["ctr_decline_15_percent", "roas_above_4x_3_days"]);
    assert_eq!(w.budget().await, "1100.00".parse::<Decimal>().unwrap());
    let trigger: String =
        w.db.superuser()
            .await
            .query_one(
                "SELECT trigger_condition FROM ai_optimization_logs WHERE decision = 'applied'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
    assert_eq!(trigger, "roas_above_4x_3_days");
}

#[tokio::test]
async fn an_audience_widens_on_meta_within_the_owners_bounds_once_and_is_stored_as_the_optimizers_edit()
 {
    let w = world().await;
    let su = w.db.superuser().await;
    su.batch_execute(&format!(
        "UPDATE campaigns SET target_audience = '{{\"age_min\": 25, \"age_max\": 34, \"genders\": [2],
                                                  \"geo_locations\": {{\"countries\": [\"IN\"]}}}}' WHERE id = '{}';
         UPDATE campaign_edits SET edited_at = now() - interval '10 days';",
        w.campaign
    ))
    .await
    .unwrap();
    let spec = json!({
        "entity_type": "CAMPAIGN",
        "evaluation_spec": {"filters": [
            {"field": "roas", "operator": "GREATER_THAN", "value": 4, "time_preset": "LAST_3D"}
        ]},
        "execution_spec": {"execution_type": "AUDIENCE_EXPANSION", "action_frequency": 10,
                           "audience_spec": {"advantage_audience": true, "age_min": 21, "age_max": 45,
                                             "all_genders": true}},
        "schedule_spec": {"schedule_type": "AFTER_SYNC"}
    });
    w.insert_rule("Reach further", &spec, "roas_greater_than_4_last_3d", false)
        .await;
    Mock::given(method("POST"))
        .and(path("/v25.0/as-1"))
        .and(body_string_contains("targeting="))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&w.meta)
        .await;

    optimizer::run::run(&w.state, &w.queued_run().await)
        .await
        .unwrap();
    optimizer::run::run(&w.state, &w.queued_run().await)
        .await
        .unwrap();

    let sent = w.meta.received_requests().await.unwrap();
    let form: std::collections::HashMap<String, String> =
        form_urlencoded::parse(&sent[0].body).into_owned().collect();
    let targeting: Value = serde_json::from_str(&form["targeting"]).unwrap();
    assert_eq!(targeting["targeting_automation"]["advantage_audience"], 1);
    assert_eq!(
        (targeting["age_min"].clone(), targeting["age_max"].clone()),
        (json!(21), json!(45))
    );
    assert!(
        targeting.get("genders").is_none(),
        "both genders: {targeting}"
    );
    assert_eq!(targeting["geo_locations"]["countries"][0], "IN");

    let stored: Value = su
        .query_one(
            "SELECT target_audience FROM campaigns WHERE id = $1",
            &[&w.campaign],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        stored,
        json!({"age_min": 21, "age_max": 45, "geo_locations": {"countries": ["IN"]}, "advantage_audience": true})
    );
    assert_eq!(
        w.decisions().await,
        [
            ("applied".into(), None),
            (
                "skipped".into(),
                Some("learning_phase:recent_significant_edit".into())
            )
        ],
        "the widening restarts Meta's learning, so the next run waits"
    );
    let edit: (String, String) = su
        .query_one(
            "SELECT kind, source FROM campaign_edits WHERE campaign_id = $1 ORDER BY edited_at DESC LIMIT 1",
            &[&w.campaign],
        )
        .await
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert_eq!(edit, ("targeting".into(), "optimizer".into()));
    let told = w.db.told(w.user.id.0).await;
    assert_eq!(told[0].1, "Audience widened for Winter chai");
}

/// The campaign's one creative ("hero", 4:5, ad `ad-hero`) whose CTR halved this week
/// on 30,000 impressions a day, and an AD rule that refreshes it, spending credits on a
/// replacement when the library has none.
async fn tiring_creative_with_generation_allowed(w: &World) -> Uuid {
    let hero = Uuid::new_v4();
    let su = w.db.superuser().await;
    su.batch_execute(&format!(
        "INSERT INTO creative_assets (id, user_id, asset_type, format, file_url, filename, content_type)
              VALUES ('{hero}', '{u}', 'image', '4:5', 's3://assets/hero.png', 'hero.png', 'image/png');
         INSERT INTO campaign_assets (campaign_id, asset_id) VALUES ('{c}', '{hero}');
         UPDATE campaign_edits SET edited_at = now() - interval '30 days';
         INSERT INTO creative_performance (campaign_id, asset_id, date, meta_ad_id, impressions, clicks, spend,
                                           conversions, conversion_value)
              SELECT '{c}', '{hero}', d::date, 'ad-hero', 30000, CASE WHEN d > current_date - 8 THEN 300 ELSE 600 END,
                     3000, 30, 15000
                FROM generate_series(current_date - 14, current_date - 1, interval '1 day') d;",
        u = w.user.id.0,
        c = w.campaign,
    ))
    .await
    .unwrap();
    let spec = json!({
        "entity_type": "AD",
        "evaluation_spec": {"filters": [
            {"field": "ctr", "operator": "CHANGED_BY_PCT", "value": -15, "time_preset": "LAST_7D"}
        ]},
        "execution_spec": {"execution_type": "CREATIVE_REFRESH", "refresh_spec": {"allow_generation": true}},
        "schedule_spec": {"schedule_type": "AFTER_SYNC"}
    });
    w.insert_rule(
        "Refresh tired creatives",
        &spec,
        "ctr_changed_by_pct_-15_last_7d",
        false,
    )
    .await;
    hero
}

async fn credits_used(w: &World) -> i32 {
    w.db.superuser()
        .await
        .query_one(
            "SELECT monthly_ai_credits_used FROM subscriptions WHERE user_id = $1",
            &[&w.user.id.0],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_refresh_with_no_unused_creative_spends_credits_on_one_replacement_once_even_when_runs_race()
 {
    let w = world().await;
    tiring_creative_with_generation_allowed(&w).await;
    let (a, b) = (w.queued_run().await, w.queued_run().await);
    let (ra, rb) = tokio::join!(
        optimizer::run::run(&w.state, &a),
        optimizer::run::run(&w.state, &b)
    );
    ra.unwrap();
    rb.unwrap();
    optimizer::run::run(&w.state, &w.queued_run().await)
        .await
        .unwrap();

    let su = w.db.superuser().await;
    let jobs: Vec<Value> = su
        .query(
            "SELECT parameters FROM background_jobs WHERE job_type = 'image_generation'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        jobs.len(),
        1,
        "one replacement, however many runs: {jobs:?}"
    );
    assert_eq!(jobs[0]["format"], "4:5", "in the tired creative's format");
    assert_eq!(jobs[0]["use_brand"], true);
    assert!(jobs[0]["prompt"].as_str().unwrap().contains("Winter chai"));
    assert_eq!(credits_used(&w).await, 1, "one image's credits");
    let log = su
        .query_one(
            "SELECT decision, success, after_values FROM ai_optimization_logs WHERE decision <> 'skipped'",
            &[],
        )
        .await
        .unwrap();
    let after: Value = log.get(2);
    assert_eq!(
        (log.get::<_, String>(0), log.get::<_, Option<bool>>(1)),
        ("applied".into(), None),
        "waiting for its creative"
    );
    assert_eq!(after["generate"], true);
    assert_eq!(after["generating"], jobs[0]["asset_id"]);
    assert_eq!(after["credits_spent"], 1);
}

#[tokio::test]
async fn a_refresh_whose_generated_creative_failed_fails_once_and_its_credits_come_back() {
    let w = world().await;
    let hero = tiring_creative_with_generation_allowed(&w).await;
    optimizer::run::run(&w.state, &w.queued_run().await)
        .await
        .unwrap();
    // The generation worker gives up on the image (it refunds the credits as it does so).
    let su = w.db.superuser().await;
    let asset: Uuid = su
        .query_one(
            "SELECT (after_values->>'generating')::uuid FROM ai_optimization_logs WHERE decision = 'applied'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let user = w.user.id.0;
    w.db.worker()
        .run("give-up", async |t| {
            shared::repo::generations::undo_asset(
                t,
                user,
                shared::domain::asset::AssetType::Image,
                shared::domain::AssetId(asset),
                "the model refused the prompt",
            )
            .await
        })
        .await
        .unwrap();

    assert_eq!(
        optimizer::refresh::finish_generated(&w.state)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        optimizer::refresh::finish_generated(&w.state)
            .await
            .unwrap(),
        0,
        "settled once"
    );
    let (decision, error): (String, String) = su
        .query_one(
            "SELECT decision, meta_error FROM ai_optimization_logs WHERE decision <> 'skipped'",
            &[],
        )
        .await
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert_eq!(decision, "failed");
    assert!(error.contains("the model refused the prompt"), "{error}");
    assert_eq!(credits_used(&w).await, 0, "refunded");
    let active: bool = su
        .query_one(
            "SELECT is_active FROM campaign_assets WHERE asset_id = $1",
            &[&hero],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        active,
        "the tired creative keeps running: nothing replaced it"
    );
}
