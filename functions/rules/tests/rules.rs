//! Rules over HTTP against a real database: written in Meta's names and checked part by
//! part, scoped to the owner's campaigns, versioned; and previewed on real insights —
//! a budget raise when ROAS held above 4 for three days on real volume, and each guard
//! (the same ratios on 300 impressions, stale data, a recent edit) as its named skip,
//! with nothing logged or sent.

use chrono::{Duration, Utc};
use lambda_http::http::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use shared::domain::metrics::Sums;
use shared::repo::insights::{self, InsightRow};
use shared::testing::TestDb;
use shared::testing::api::{Reply, TestUser, context, reply, request};
use uuid::Uuid;

struct World {
    db: TestDb,
    state: rules::State,
    user: TestUser,
}

async fn world() -> World {
    let db = TestDb::fresh().await;
    let state = rules::State {
        ctx: context(&db),
        graph: shared::meta::Graph::new("http://127.0.0.1:9/v25.0", "1", "app-secret"),
        cipher: shared::testing::api::cipher(),
    };
    let user = TestUser::create(&db, "owner@example.com").await;
    World { db, state, user }
}

async fn call(w: &World, method: Method, path: &str, body: Option<Value>) -> Reply {
    let req = request(method, path, body.as_ref(), Some(&w.user.token));
    reply(rules::handle(&w.state, req).await)
}

/// A launched campaign with a 1,000 daily budget, synced `synced_hours_ago`, and three
/// days of delivery at ROAS 5 with `impressions` a day.
async fn campaign(w: &World, impressions: i64, synced_hours_ago: i64) -> Uuid {
    let id = Uuid::new_v4();
    let u = w.user.id.0;
    w.db.superuser()
        .await
        .batch_execute(&format!(
            "INSERT INTO campaigns (id, user_id, name, purpose, daily_budget, status, approval_status,
                                    meta_campaign_id, meta_adset_id, last_synced_at)
             VALUES ('{id}', '{u}', 'Winter chai', 'sales', 1000, 'active', 'approved', 'mc-{id}', 'as-{id}',
                     now() - interval '{synced_hours_ago} hours')"
        ))
        .await
        .unwrap();
    let today = Utc::now().date_naive();
    let rows: Vec<InsightRow> = (1..=6)
        .map(|n| {
            InsightRow::daily_total(
                id,
                today - Duration::days(n),
                &Sums {
                    impressions,
                    clicks: impressions / 50,
                    spend: Decimal::from(impressions / 10),
                    conversions: (impressions / 1000).max(1),
                    conversion_value: Decimal::from(impressions / 2),
                },
            )
        })
        .collect();
    w.db.worker()
        .run("seed", async |t| insights::upsert(t, &rows).await)
        .await
        .unwrap();
    id
}

fn scale_up(campaign: Option<Uuid>) -> Value {
    json!({
        "name": "Scale winners",
        "campaign_id": campaign,
        "entity_type": "CAMPAIGN",
        "evaluation_spec": {"filters": [
            {"field": "roas", "operator": "GREATER_THAN", "value": 4, "time_preset": "LAST_3D"}
        ]},
        "execution_spec": {"execution_type": "CHANGE_BUDGET",
                           "change_spec": {"amount": "20", "unit": "PERCENTAGE"}}
    })
}

async fn preview(w: &World, rule: &str) -> Value {
    let r = call(w, Method::POST, &format!("/v1/rules/{rule}/preview"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

#[tokio::test]
async fn a_rule_in_metas_names_is_stored_versioned_and_listed() {
    let w = world().await;
    let c = campaign(&w, 30_000, 0).await;
    let made = call(&w, Method::POST, "/v1/rules", Some(scale_up(Some(c)))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(
        made.body["trigger_condition"],
        "roas_greater_than_4_last_3d"
    );
    assert_eq!(made.body["status"], "ENABLED");
    assert_eq!(made.body["version"], 1);
    assert_eq!(made.body["execution_spec"]["action_frequency"], 1440);
    let id = made.id();

    let list = call(&w, Method::GET, &format!("/v1/rules?campaign_id={c}"), None).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);

    let patched = call(
        &w,
        Method::PATCH,
        &format!("/v1/rules/{id}"),
        Some(json!({"status": "DISABLED", "version": 1})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(
        (
            patched.body["status"].as_str(),
            patched.body["version"].as_i64()
        ),
        (Some("DISABLED"), Some(2))
    );
    let stale = call(
        &w,
        Method::PATCH,
        &format!("/v1/rules/{id}"),
        Some(json!({"name": "x", "version": 1})),
    )
    .await;
    assert_eq!(
        (stale.status, stale.code()),
        (StatusCode::CONFLICT, "version_mismatch")
    );

    assert_eq!(
        call(&w, Method::DELETE, &format!("/v1/rules/{id}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&w, Method::GET, &format!("/v1/rules/{id}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn every_invalid_part_of_a_rule_is_named_and_nothing_is_stored() {
    let w = world().await;
    let other = TestUser::create(&w.db, "other@example.com").await;
    let theirs = Uuid::new_v4();
    w.db.superuser()
        .await
        .batch_execute(&format!(
            "INSERT INTO campaigns (id, user_id, name, purpose) VALUES ('{theirs}', '{}', 'Theirs', 'sales')",
            other.id.0
        ))
        .await
        .unwrap();
    let r = call(
        &w,
        Method::POST,
        "/v1/rules",
        Some(json!({
            "name": " ",
            "campaign_id": theirs,
            "entity_type": "CAMPAIGN",
            "evaluation_spec": {"filters": [
                {"field": "frequency", "operator": "GREATER_THAN", "value": 3, "time_preset": "LIFETIME"},
                {"field": "ctr", "operator": "IN_RANGE", "value": [0.02]}
            ]},
            "execution_spec": {"execution_type": "CHANGE_BUDGET"}
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.fields(),
        [
            "name",
            "evaluation_spec.filters[0].time_preset",
            "evaluation_spec.filters[1].value",
            "execution_spec.change_spec",
            "campaign_id"
        ]
    );
    let typo = call(
        &w,
        Method::POST,
        "/v1/rules",
        Some(json!({
            "name": "Typo", "entity_type": "CAMPAIGN",
            "evaluation_spec": {"filters": [{"field": "roas", "operator": "BIGGER", "value": 4}]},
            "execution_spec": {"execution_type": "PAUSE"}
        })),
    )
    .await;
    assert_eq!(typo.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        typo.fields()[0].starts_with("evaluation_spec.filters"),
        "{:?}",
        typo.fields()
    );
    let n: i64 =
        w.db.superuser()
            .await
            .query_one("SELECT count(*) FROM optimization_rules", &[])
            .await
            .unwrap()
            .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn preview_raises_the_budget_twenty_percent_when_roas_held_above_four_on_real_volume() {
    let w = world().await;
    let c = campaign(&w, 30_000, 0).await;
    let id = call(&w, Method::POST, "/v1/rules", Some(scale_up(Some(c))))
        .await
        .id();
    let p = preview(&w, &id).await;
    assert_eq!(
        (
            p["evaluated"].as_i64(),
            p["matched"].as_i64(),
            p["would_act"].as_i64()
        ),
        (Some(1), Some(1), Some(1)),
        "{p}"
    );
    let e = &p["entities"][0];
    assert_eq!(e["decision"], "act");
    assert_eq!(
        e["change"],
        json!({"action": "budget", "from": "1000.00", "to": "1200.00"})
    );
    let reading = &e["evaluation"]["readings"][0];
    assert_eq!(reading["value"], "5");
    assert_eq!(reading["impressions"], 90_000);
    let logged: i64 =
        w.db.superuser()
            .await
            .query_one("SELECT count(*) FROM ai_optimization_logs", &[])
            .await
            .unwrap()
            .get(0);
    assert_eq!(logged, 0, "a preview logs nothing");
}

#[tokio::test]
async fn the_same_ratios_from_three_hundred_impressions_decide_nothing() {
    let w = world().await;
    let c = campaign(&w, 100, 0).await;
    let id = call(&w, Method::POST, "/v1/rules", Some(scale_up(Some(c))))
        .await
        .id();
    let p = preview(&w, &id).await;
    assert_eq!(p["would_act"], 0);
    assert_eq!(p["skipped"], json!({"not_enough_data": 1}));
    assert_eq!(p["entities"][0]["detail"], "insufficient_impressions");
    assert_eq!(
        p["entities"][0]["evaluation"]["readings"][0]["impressions"],
        300
    );
}

#[tokio::test]
async fn stale_data_and_a_recent_edit_by_the_owner_each_stop_a_budget_change() {
    let w = world().await;
    let stale = campaign(&w, 30_000, 4).await;
    let edited = campaign(&w, 30_000, 0).await;
    // The owner changes the budget themselves: a significant edit, recorded by the database.
    w.db.superuser()
        .await
        .execute(
            "UPDATE campaigns SET daily_budget = 900 WHERE id = $1",
            &[&edited],
        )
        .await
        .unwrap();
    let all = call(&w, Method::POST, "/v1/rules", Some(scale_up(None)))
        .await
        .id();
    let p = preview(&w, &all).await;
    assert_eq!(
        p["skipped"],
        json!({"learning_phase": 1, "stale_data": 1}),
        "{p}"
    );
    let reason_of = |c: Uuid| {
        p["entities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["campaign_id"] == c.to_string())
            .map(|e| e["reason"].clone())
            .unwrap()
    };
    assert_eq!(reason_of(stale), "stale_data");
    assert_eq!(reason_of(edited), "learning_phase");
}

#[tokio::test]
async fn a_campaigns_decision_log_is_its_owners_alone() {
    let w = world().await;
    let c = campaign(&w, 30_000, 0).await;
    w.db.superuser().await
        .execute(
            "INSERT INTO ai_optimization_logs (campaign_id, user_id, optimization_type, trigger_condition, decision, skip_reason) \
             VALUES ($1, $2, 'budget_change', 'roas_greater_than_4_last_3d', 'skipped', 'learning_phase')",
            &[&c, &w.user.id.0],
        )
        .await
        .unwrap();
    let log = call(
        &w,
        Method::GET,
        &format!("/v1/campaigns/{c}/optimizations?decision=skipped"),
        None,
    )
    .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    assert_eq!(log.body["items"][0]["skip_reason"], "learning_phase");
    let bad = call(
        &w,
        Method::GET,
        &format!("/v1/campaigns/{c}/optimizations?decision=maybe"),
        None,
    )
    .await;
    assert_eq!(bad.fields(), ["decision"]);
    let other = TestUser::create(&w.db, "other@example.com").await;
    let req = request(
        Method::GET,
        &format!("/v1/campaigns/{c}/optimizations"),
        None,
        Some(&other.token),
    );
    assert_eq!(
        reply(rules::handle(&w.state, req).await).status,
        StatusCode::NOT_FOUND
    );
}
