//! The insights sync against a local server speaking the Graph API's wire format: string
//! metrics and action lists land as the right numbers; pages are followed and the large
//! pulls go through async report runs; a second run of the same window changes nothing;
//! daily and hourly rows coexist; throttling answers and codes 17, 613 and 80004 bring
//! the message back later with the job saying why; 190 expires the connection; an
//! unreadable message is reported failed (to end in the DLQ); webhook events apply once.

use aws_lambda_events::event::sqs::SqsMessage;
use chrono::Utc;
use serde_json::{Value, json};
use shared::aws::LazyClient;
use shared::meta::Graph;
use shared::repo::meta_accounts::token_binding;
use shared::testing::TestDb;
use shared::testing::api::{TestUser, cipher};
use sync_worker::{Outcome, State, process};
use wiremock::matchers::{body_string_contains, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct World {
    db: TestDb,
    graph: MockServer,
    state: State,
    user: TestUser,
    connection: uuid::Uuid,
    campaign: uuid::Uuid,
}

const META_CAMPAIGN: &str = "23850000000000001";

async fn world() -> World {
    let db = TestDb::fresh().await;
    let graph = MockServer::start().await;
    let state = State {
        db: db.worker(),
        graph: Graph::new(&format!("{}/v25.0", graph.uri()), "1234567", "app-secret"),
        cipher: cipher(),
        sqs: LazyClient::ready(shared::aws::sqs(&shared::aws::sdk_config().await)),
        report_poll: std::time::Duration::from_millis(10),
    };
    let user = TestUser::create(&db, "owner@example.com").await;
    let (connection, campaign) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    db.superuser()
        .await
        .batch_execute(&format!(
            "INSERT INTO meta_accounts (id, user_id, meta_user_id, access_token) VALUES ('{connection}', '{u}', 'fb1', '{t}');
             INSERT INTO meta_ad_accounts (meta_account_id, user_id, ad_account_id, account_status, currency)
                  VALUES ('{connection}', '{u}', 'act_1', 1, 'INR');
             INSERT INTO campaigns (id, user_id, name, purpose, daily_budget, status, meta_campaign_id, meta_ad_account_id)
                  VALUES ('{campaign}', '{u}', 'Winter chai', 'sales', 1500, 'active', '{META_CAMPAIGN}', 'act_1');",
            u = user.id,
            t = cipher().seal("EAAGtoken", &token_binding(user.id.0, "fb1")),
        ))
        .await
        .unwrap();
    World {
        db,
        graph,
        state,
        user,
        connection,
        campaign,
    }
}

async fn message(w: &World, receive_count: u32) -> SqsMessage {
    let job: uuid::Uuid = w
        .db
        .superuser()
        .await
        .query_one(
            "INSERT INTO background_jobs (job_type, user_id, parameters) VALUES ('meta_sync', $1, '{}') RETURNING id",
            &[&w.user.id.0],
        )
        .await
        .unwrap()
        .get(0);
    raw(&json!({"job_id": job, "user_id": w.user.id, "connection_id": w.connection, "ad_account_id": "act_1"}).to_string(), receive_count)
}

fn raw(body: &str, receive_count: u32) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some("m1".into());
    m.body = Some(body.into());
    m.attributes
        .insert("ApproximateReceiveCount".into(), receive_count.to_string());
    m
}

fn day(offset: i64) -> String {
    (Utc::now().date_naive() - chrono::Duration::days(offset)).to_string()
}

fn row(date: &str, extra: Value) -> Value {
    let mut r = json!({
        "campaign_id": META_CAMPAIGN, "campaign_name": "Winter chai", "date_start": date, "date_stop": date,
        "impressions": "10000", "clicks": "250", "spend": "1200.50",
        "actions": [{"action_type": "link_click", "value": "250"},
                    {"action_type": "omni_purchase", "value": "6"},
                    {"action_type": "offsite_conversion.fb_pixel_purchase", "value": "6"}],
        "action_values": [{"action_type": "omni_purchase", "value": "4800.00"}]
    });
    for (k, v) in extra.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

/// Meta's side: sync pulls (the first one paged), async runs for region and hourly, and
/// the ads list: one of ours in review, one of a campaign made outside Adpilot.
async fn insights(g: &MockServer) {
    ads(g, "PENDING_REVIEW", None).await;
    Mock::given(method("GET"))
        .and(path("/v25.0/act_1/insights"))
        .and(query_param("level", "ad"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .with_priority(2)
        .mount(g)
        .await;
    let next = format!("{}/v25.0/act_1/insights?after=PAGE2&limit=500", g.uri());
    Mock::given(method("GET")).and(path("/v25.0/act_1/insights")).and(query_param("after", "PAGE2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [row(&day(0), json!({"impressions": "400", "clicks": "9", "spend": "50.00", "actions": [], "action_values": []}))]})))
        .with_priority(1).mount(g).await;
    Mock::given(method("GET")).and(path("/v25.0/act_1/insights")).and(query_param("breakdowns", "publisher_platform,platform_position"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            row(&day(1), json!({"publisher_platform": "facebook", "platform_position": "feed", "impressions": "6000", "spend": "700.30"})),
            row(&day(1), json!({"publisher_platform": "instagram", "platform_position": "story", "impressions": "4000", "spend": "500.20"}))]})))
        .with_priority(2).mount(g).await;
    Mock::given(method("GET"))
        .and(path("/v25.0/act_1/insights"))
        .and(query_param("breakdowns", "age,gender"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            row(&day(1), json!({"age": "25-34", "gender": "female"}))]})))
        .with_priority(2)
        .mount(g)
        .await;
    Mock::given(method("GET")).and(path("/v25.0/act_1/insights"))
        .respond_with(ResponseTemplate::new(200)
            .insert_header("x-business-use-case-usage", r#"{"1098765432":[{"type":"ads_insights","call_count":12,"total_cputime":5,"total_time":7,"estimated_time_to_regain_access":0}]}"#)
            .insert_header("x-ad-account-usage", r#"{"acc_id_util_pct":8.5,"reset_time_duration":0}"#)
            .insert_header("x-fb-ads-insights-throttle", r#"{"app_id_util_pct":3,"acc_id_util_pct":9}"#)
            .set_body_json(json!({"data": [row(&day(1), json!({}))], "paging": {"cursors": {"after": "PAGE2"}, "next": next}})))
        .with_priority(3).mount(g).await;
    for (breakdown, run) in [
        ("region", "6001"),
        ("hourly_stats_aggregated_by_advertiser_time_zone", "6002"),
    ] {
        Mock::given(method("POST"))
            .and(path("/v25.0/act_1/insights"))
            .and(body_string_contains(format!("breakdowns={breakdown}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"report_run_id": run})))
            .mount(g)
            .await;
        Mock::given(method("GET")).and(path(format!("/v25.0/{run}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": run, "async_status": "Job Completed", "async_percent_completion": 100}))).mount(g).await;
    }
    Mock::given(method("GET"))
        .and(path("/v25.0/6001/insights"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [row(&day(1), json!({"region": "Maharashtra"}))]})),
        )
        .mount(g)
        .await;
    Mock::given(method("GET")).and(path("/v25.0/6002/insights"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            row(&day(1), json!({"hourly_stats_aggregated_by_advertiser_time_zone": "09:00:00 - 09:59:59", "impressions": "800", "spend": "90.00"})),
            row(&day(1), json!({"hourly_stats_aggregated_by_advertiser_time_zone": "10:00:00 - 10:59:59", "impressions": "900", "spend": "95.00"}))]})))
        .mount(g).await;
}

/// The account's ads as Meta lists them: ours with `status` (and `feedback`); and its
/// ad sets, ours still learning.
async fn ads(g: &MockServer, status: &str, feedback: Option<Value>) {
    Mock::given(method("GET"))
        .and(path("/v25.0/act_1/insights"))
        .and(query_param("fields", "campaign_id,reach,impressions,frequency,date_start,date_stop"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"campaign_id": META_CAMPAIGN, "reach": "2500", "impressions": "10000", "frequency": "4.0",
             "date_start": day(7), "date_stop": day(1)},
            {"campaign_id": "23859999999999990", "reach": "10", "impressions": "12", "frequency": "1.2",
             "date_start": day(7), "date_stop": day(1)}]})))
        .with_priority(1)
        .mount(g)
        .await;
    Mock::given(method("GET"))
        .and(path("/v25.0/act_1/adsets"))
        .and(query_param("fields", "id,campaign_id,effective_status,learning_stage_info"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": "23850000000000002", "campaign_id": META_CAMPAIGN, "effective_status": "ACTIVE",
             "learning_stage_info": {"status": "LEARNING", "conversions": 12, "last_sig_edit_ts": 1764547200}},
            {"id": "23859999999999998", "campaign_id": "23859999999999990", "effective_status": "ACTIVE",
             "learning_stage_info": {"status": "SUCCESS"}}]})))
        .mount(g)
        .await;
    Mock::given(method("GET"))
        .and(path("/v25.0/act_1/ads"))
        .and(query_param("fields", "id,campaign_id,effective_status,ad_review_feedback"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": "23850000000000004", "campaign_id": META_CAMPAIGN, "effective_status": status,
             "ad_review_feedback": feedback},
            {"id": "23859999999999999", "campaign_id": "23859999999999990", "effective_status": "DISAPPROVED"}]})))
        .mount(g)
        .await;
}

async fn rows(
    w: &World,
) -> Vec<(
    String,
    Option<i32>,
    Option<String>,
    i64,
    String,
    i64,
    String,
)> {
    w.db.superuser().await
        .query("SELECT date::text, hour, coalesce(platform, age_range, location), impressions, spend::text, conversions, \
                       conversion_value::text FROM performance_analytics ORDER BY date, hour NULLS FIRST, 3 NULLS FIRST", &[])
        .await.unwrap().iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6)))
        .collect()
}

async fn job_of(w: &World) -> (String, Option<String>) {
    let r = w
        .db
        .superuser()
        .await
        .query_one(
            "SELECT status, error_message FROM background_jobs ORDER BY created_at DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1))
}

#[tokio::test]
async fn insights_land_as_numbers_and_a_second_run_changes_nothing() {
    let w = world().await;
    insights(&w.graph).await;
    let outcome = process(&w.state, &message(&w, 1).await).await;
    assert_eq!(outcome, Outcome::Done("8 rows, 8 changed".into()));
    let stage: Option<String> =
        w.db.superuser()
            .await
            .query_one("SELECT meta_learning_stage FROM campaigns", &[])
            .await
            .unwrap()
            .get(0);
    assert_eq!(
        stage.as_deref(),
        Some("LEARNING"),
        "Meta's learning stage of our ad set is kept on the campaign"
    );
    let reach: Vec<(String, String, i64, i64)> =
        w.db.superuser()
            .await
            .query(
                "SELECT since::text, until::text, reach, impressions FROM campaign_reach",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
    assert_eq!(
        reach,
        [(day(7), day(1), 2500, 10_000)],
        "each window's reach as Meta counted it, for our campaigns only"
    );
    let asked = w
        .graph
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "time_ranges")
                .map(|(_, v)| v.into_owned())
        })
        .expect("the reach is asked for per window");
    let ranges: Vec<Value> = serde_json::from_str(&asked).unwrap();
    assert_eq!(ranges.len(), 10);
    assert!(ranges.contains(&json!({"since": day(7), "until": day(1)})));
    let got = rows(&w).await;
    let (yesterday, today) = (day(1), day(0));
    let daily = got
        .iter()
        .find(|r| r.0 == yesterday && r.1.is_none() && r.2.is_none())
        .unwrap();
    assert_eq!(
        (daily.3, daily.4.as_str(), daily.5, daily.6.as_str()),
        (10000, "1200.50", 6, "4800.00"),
        "strings parsed; purchases counted once; value from action_values"
    );
    let hourly: Vec<_> = got
        .iter()
        .filter(|r| r.1.is_some())
        .map(|r| (r.1, r.3))
        .collect();
    assert_eq!(
        hourly,
        [(Some(9), 800), (Some(10), 900)],
        "hourly rows beside the daily one"
    );
    let mut breakdowns: Vec<&str> = got.iter().filter_map(|r| r.2.as_deref()).collect();
    breakdowns.sort_unstable();
    assert_eq!(
        breakdowns,
        ["25-34", "Maharashtra", "facebook", "instagram"]
    );
    assert!(
        got.iter().any(|r| r.0 == today && r.3 == 400),
        "the second page was followed"
    );

    let totals =
        w.db.superuser()
            .await
            .query_one(
                "SELECT total_impressions, total_spend::text, total_conversions FROM campaigns",
                &[],
            )
            .await
            .unwrap();
    assert_eq!(
        (
            totals.get::<_, i64>(0),
            totals.get::<_, String>(1),
            totals.get::<_, i64>(2)
        ),
        (10400, "1250.50".into(), 6)
    );
    let usage: Value =
        w.db.superuser()
            .await
            .query_one("SELECT last_usage FROM meta_rate_windows", &[])
            .await
            .unwrap()
            .get(0);
    assert_eq!(
        usage["ad_account"]["acc_id_util_pct"], 8.5,
        "usage headers are kept"
    );

    let before: Vec<String> =
        w.db.superuser()
            .await
            .query(
                "SELECT updated_at::text FROM performance_analytics ORDER BY id",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    let again = process(&w.state, &message(&w, 1).await).await;
    assert_eq!(again, Outcome::Done("8 rows, 0 changed".into()));
    let after: Vec<String> =
        w.db.superuser()
            .await
            .query(
                "SELECT updated_at::text FROM performance_analytics ORDER BY id",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    assert_eq!(before, after, "re-running the window touches nothing");
    assert_eq!(rows(&w).await, got);
    assert_eq!(job_of(&w).await.0, "completed");
}

#[tokio::test]
async fn throttling_codes_bring_the_message_back_later_and_say_why() {
    for code in [17, 613, 80004] {
        let w = world().await;
        Mock::given(method("GET")).and(path("/v25.0/act_1/insights"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
                "message": "(#17) User request limit reached", "type": "OAuthException", "code": code,
                "error_subcode": 2446079, "fbtrace_id": "T"}})))
            .mount(&w.graph).await;
        let Outcome::Retry { after_seconds, .. } = process(&w.state, &message(&w, 1).await).await
        else {
            panic!("code {code}: expected a delayed retry");
        };
        assert!(after_seconds >= 60, "code {code}: {after_seconds}");
        let (status, why) = job_of(&w).await;
        assert_eq!(status, "running");
        assert!(
            why.unwrap()
                .contains(&format!("throttled by Meta (code {code})"))
        );
        let throttled: bool =
            w.db.superuser()
                .await
                .query_one("SELECT throttled_until > now() FROM meta_rate_windows", &[])
                .await
                .unwrap()
                .get(0);
        assert!(throttled, "code {code}: the account waits");
        let later = process(&w.state, &message(&w, 1).await).await;
        assert!(
            matches!(later, Outcome::Retry { .. }),
            "while throttled no call is made"
        );
    }
}

#[tokio::test]
async fn high_usage_headers_pause_the_account() {
    let w = world().await;
    Mock::given(method("GET"))
        .and(path("/v25.0/act_1/insights"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "x-ad-account-usage",
                    r#"{"acc_id_util_pct":97,"reset_time_duration":120}"#,
                )
                .set_body_json(json!({"data": []})),
        )
        .mount(&w.graph)
        .await;
    let outcome = process(&w.state, &message(&w, 1).await).await;
    assert!(matches!(outcome, Outcome::Retry { .. }), "{outcome:?}");
    assert_eq!(
        w.graph.received_requests().await.unwrap().len(),
        1,
        "stopped after the answer that said 97 %"
    );
}

#[tokio::test]
async fn an_expired_token_marks_the_connection_and_stops() {
    let w = world().await;
    Mock::given(method("GET"))
        .and(path("/v25.0/act_1/insights"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "Error validating access token: Session has expired on Tuesday, 24-Nov-26.",
            "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "E"}})))
        .mount(&w.graph)
        .await;
    assert_eq!(
        process(&w.state, &message(&w, 1).await).await,
        Outcome::Done("connection expired".into())
    );
    let status: String =
        w.db.superuser()
            .await
            .query_one("SELECT connection_status FROM meta_accounts", &[])
            .await
            .unwrap()
            .get(0);
    assert_eq!(status, "expired");
    let (job, why) = job_of(&w).await;
    assert_eq!(job, "failed");
    assert!(why.unwrap().contains("reconnect"));
    let next = process(&w.state, &message(&w, 1).await).await;
    assert_eq!(next, Outcome::Done("connection expired".into()));
    assert_eq!(
        w.db.told(w.user.id.0).await,
        [(
            "meta_connection".to_owned(),
            "Your Meta connection has expired".to_owned(),
            true
        )],
        "told once"
    );
    assert_eq!(
        w.graph.received_requests().await.unwrap().len(),
        1,
        "no more calls until the user reconnects"
    );
}

#[tokio::test]
async fn outages_retry_and_the_last_attempt_fails_the_job() {
    let w = world().await;
    Mock::given(method("GET")).and(path("/v25.0/act_1/insights"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": {
            "message": "An unknown error occurred", "type": "OAuthException", "code": 1, "fbtrace_id": "U"}})))
        .mount(&w.graph).await;
    let m = message(&w, 1).await;
    assert!(matches!(
        process(&w.state, &m).await,
        Outcome::Retry {
            after_seconds: 30,
            ..
        }
    ));
    assert_eq!(job_of(&w).await.0, "running");
    let mut last = m.clone();
    last.attributes.insert(
        "ApproximateReceiveCount".into(),
        sync_worker::MAX_ATTEMPTS.to_string(),
    );
    assert!(
        matches!(process(&w.state, &last).await, Outcome::Done(_)),
        "the job records the failure; the message is not left for the DLQ"
    );
    let (status, why) = job_of(&w).await;
    assert_eq!(status, "failed");
    assert!(why.unwrap().starts_with("gave up after 5 attempts"));
    assert!(
        matches!(
            process(&w.state, &raw("not json", 1)).await,
            Outcome::Retry { .. }
        ),
        "a poison message fails every time"
    );
}

#[tokio::test]
async fn webhook_status_changes_apply_once() {
    let w = world().await;
    let id: uuid::Uuid = w.db.superuser().await
        .query_one(
            "INSERT INTO meta_webhook_events (dedupe_key, object, entry_id, field, value, event_time) \
             VALUES ('k1', 'ad_account', 'act_1', 'in_process_ad_objects', \
                     $1, now()) RETURNING id",
            &[&json!({"id": META_CAMPAIGN, "level": "CAMPAIGN", "status_name": "PAUSED"})],
        )
        .await.unwrap().get(0);
    let m = raw(&json!({"webhook_event_id": id}).to_string(), 1);
    let Outcome::Done(what) = process(&w.state, &m).await else {
        panic!()
    };
    assert!(what.contains("is now paused"), "{what}");
    let status: String =
        w.db.superuser()
            .await
            .query_one("SELECT status FROM campaigns WHERE id = $1", &[&w.campaign])
            .await
            .unwrap()
            .get(0);
    assert_eq!(status, "paused");
    assert_eq!(
        process(&w.state, &m).await,
        Outcome::Done("already applied".into())
    );
}

/// Stores a campaign status event of `META_CAMPAIGN` that happened `minutes_ago` and
/// applies it; what the worker said.
async fn status_event(w: &World, key: &str, status: &str, minutes_ago: i32) -> String {
    let id: uuid::Uuid = w.db.superuser().await
        .query_one(
            "INSERT INTO meta_webhook_events (dedupe_key, object, entry_id, field, value, event_time) \
             VALUES ($1, 'ad_account', 'act_1', 'in_process_ad_objects', $2, now() - make_interval(mins => $3)) RETURNING id",
            &[&key, &json!({"id": META_CAMPAIGN, "level": "CAMPAIGN", "status_name": status}), &minutes_ago],
        )
        .await.unwrap().get(0);
    let m = raw(&json!({"webhook_event_id": id}).to_string(), 1);
    let Outcome::Done(what) = process(&w.state, &m).await else {
        panic!()
    };
    what
}

async fn campaign_status(w: &World) -> String {
    w.db.superuser()
        .await
        .query_one("SELECT status FROM campaigns WHERE id = $1", &[&w.campaign])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_late_active_event_does_not_revive_a_campaign_paused_after_it() {
    let w = world().await;
    status_event(&w, "paused-now", "PAUSED", 0).await;
    assert_eq!(campaign_status(&w).await, "paused");
    let what = status_event(&w, "active-earlier", "ACTIVE", 10).await;
    assert!(what.contains("older than its last status change"), "{what}");
    assert_eq!(campaign_status(&w).await, "paused");
}

#[tokio::test]
async fn no_meta_event_revives_a_cancelled_campaign() {
    let w = world().await;
    w.db.superuser()
        .await
        .execute(
            "UPDATE campaigns SET status = 'cancelled', meta_status_at = now() - interval '1 hour' WHERE id = $1",
            &[&w.campaign],
        )
        .await
        .unwrap();
    let what = status_event(&w, "active-later", "ACTIVE", 0).await;
    assert!(what.contains("stays cancelled"), "{what}");
    assert_eq!(campaign_status(&w).await, "cancelled");
}

#[tokio::test]
async fn status_events_delivered_out_of_order_end_as_the_newest_says() {
    let w = world().await;
    // Happened: paused (30 min ago), resumed (20), paused (10); delivered newest first.
    for (key, status, ago) in [
        ("c", "PAUSED", 10),
        ("a", "PAUSED", 30),
        ("b", "ACTIVE", 20),
    ] {
        status_event(&w, key, status, ago).await;
    }
    assert_eq!(campaign_status(&w).await, "paused");
}

async fn approval(w: &World) -> (String, Value) {
    let r =
        w.db.superuser()
            .await
            .query_one(
                "SELECT approval_status, ad_review FROM campaigns WHERE id = $1",
                &[&w.campaign],
            )
            .await
            .unwrap();
    (
        r.get(0),
        r.get::<_, Option<Value>>(1).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_disapproved_ad_makes_its_campaign_rejected_with_metas_feedback() {
    let w = world().await;
    let feedback = json!({"global": {"Misleading Claims": "Ads can't make unrealistic claims."}});
    ads(&w.graph, "DISAPPROVED", Some(feedback.clone())).await;
    insights(&w.graph).await; // its own ads mock comes second: the first one answers
    process(&w.state, &message(&w, 1).await).await;
    let (status, review) = approval(&w).await;
    assert_eq!(status, "rejected");
    assert_eq!(
        review,
        json!([{"asset_id": null, "ad_id": "23850000000000004", "effective_status": "DISAPPROVED",
                "feedback": feedback}]),
        "only our ads, with Meta's words"
    );
    process(&w.state, &message(&w, 1).await).await;
    let told: Vec<(String, String)> =
        w.db.superuser()
            .await
            .query(
                "SELECT category, body FROM notifications WHERE user_id = $1",
                &[&w.user.id.0],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    assert_eq!(told.len(), 1, "told once, with Meta's reasons: {told:?}");
    assert_eq!(told[0].0, "ad_review");
    assert!(
        told[0]
            .1
            .contains("Misleading Claims: Ads can't make unrealistic claims."),
        "{told:?}"
    );
}

#[tokio::test]
async fn ads_in_review_keep_the_campaign_pending_and_delivering_ads_approve_it() {
    let w = world().await;
    insights(&w.graph).await;
    process(&w.state, &message(&w, 1).await).await;
    assert_eq!(approval(&w).await.0, "pending");
    w.graph.reset().await;
    ads(&w.graph, "ACTIVE", None).await;
    insights(&w.graph).await;
    process(&w.state, &message(&w, 1).await).await;
    assert_eq!(approval(&w).await.0, "approved");
}

/// Two creatives of the campaign on Meta: ads …04 (hero) and …05 (offer); their ids.
async fn two_creatives(w: &World) -> (uuid::Uuid, uuid::Uuid) {
    let (hero, offer) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let launch = json!({"campaign_id": META_CAMPAIGN, "activated": true, "ads": {
        hero.to_string(): {"image_hash": "h1", "creative_id": "c1", "ad_id": "23850000000000004"},
        offer.to_string(): {"image_hash": "h2", "creative_id": "c2", "ad_id": "23850000000000005"}}});
    let su = w.db.superuser().await;
    for a in [hero, offer] {
        su.execute(
            "INSERT INTO creative_assets (id, user_id, asset_type, status, format, filename, file_url) \
             VALUES ($1, $2, 'image', 'active', '1:1', 'x.png', 'https://assets.example/x.png')",
            &[&a, &w.user.id.0],
        )
        .await
        .unwrap();
        su.execute(
            "INSERT INTO campaign_assets (campaign_id, asset_id, asset_role) VALUES ($1, $2, 'primary')",
            &[&w.campaign, &a],
        )
        .await
        .unwrap();
    }
    su.execute(
        "UPDATE campaigns SET meta_launch = $2 WHERE id = $1",
        &[&w.campaign, &launch],
    )
    .await
    .unwrap();
    (hero, offer)
}

fn ad_row(ad: &str, date: &str, impressions: i64, clicks: i64, spend: &str) -> Value {
    json!({"ad_id": ad, "campaign_id": META_CAMPAIGN, "date_start": date, "date_stop": date,
           "impressions": impressions.to_string(), "clicks": clicks.to_string(), "spend": spend,
           "actions": [{"action_type": "link_click", "value": clicks.to_string()}]})
}

#[tokio::test]
async fn each_creative_gets_its_own_daily_numbers_and_a_score_against_its_campaign() {
    let w = world().await;
    let (hero, offer) = two_creatives(&w).await;
    Mock::given(method("GET"))
        .and(path("/v25.0/act_1/insights"))
        .and(query_param("level", "ad"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            ad_row("23850000000000004", &day(1), 8000, 240, "600.00"),
            ad_row("23850000000000004", &day(0), 4000, 110, "300.00"),
            ad_row("23850000000000005", &day(1), 8000, 40, "600.00"),
            ad_row("23859999999999999", &day(1), 9000, 90, "100.00")]})))
        .with_priority(1)
        .mount(&w.graph)
        .await;
    insights(&w.graph).await;
    process(&w.state, &message(&w, 1).await).await;
    let su = w.db.superuser().await;
    let days: Vec<(uuid::Uuid, i64, String)> = su
        .query(
            "SELECT asset_id, impressions, spend::text FROM creative_performance ORDER BY asset_id = $1 DESC, date",
            &[&hero],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        days,
        [
            (hero, 8000, "600.00".into()),
            (hero, 4000, "300.00".into()),
            (offer, 8000, "600.00".into())
        ],
        "our ads only, per asset and day"
    );
    let score = |a: uuid::Uuid| {
        let su = &su;
        async move {
            su.query_one(
                "SELECT performance_score::float8 FROM campaign_assets WHERE asset_id = $1",
                &[&a],
            )
            .await
            .unwrap()
            .get::<_, Option<f64>>(0)
        }
    };
    let (h, o) = (score(hero).await.unwrap(), score(offer).await.unwrap());
    assert!(
        h > 2.5 && o < 2.5,
        "the clicked creative scores higher: {h} vs {o}"
    );
    // A second run of the same window changes nothing.
    process(&w.state, &message(&w, 1).await).await;
    let n: i64 = su
        .query_one("SELECT count(*) FROM creative_performance", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 3);
}

#[tokio::test]
async fn the_sync_window_ends_on_the_ad_accounts_own_today() {
    let w = world().await;
    w.db.superuser()
        .await
        .execute(
            "UPDATE meta_ad_accounts SET timezone_offset_hours = 14",
            &[],
        )
        .await
        .unwrap();
    insights(&w.graph).await;
    process(&w.state, &message(&w, 1).await).await;
    let local = shared::repo::meta_accounts::local_date(Utc::now(), Some(14.into()));
    let asked: Vec<Value> = w
        .graph
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter_map(|r| {
            url::form_urlencoded::parse(r.url.query().unwrap_or("").as_bytes())
                .find(|(k, _)| k == "time_range")
                .map(|(_, v)| serde_json::from_str(&v).unwrap())
        })
        .collect();
    assert!(!asked.is_empty());
    for range in asked {
        assert_eq!(range["until"], local.to_string(), "{range}");
    }
}

#[tokio::test]
async fn a_paging_url_to_another_host_is_never_sent_the_token() {
    let w = world().await;
    let elsewhere = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .expect(0)
        .mount(&elsewhere)
        .await;
    ads(&w.graph, "ACTIVE", None).await;
    let next = format!("{}/v25.0/act_1/insights?after=PAGE2", elsewhere.uri());
    Mock::given(method("GET"))
        .and(path("/v25.0/act_1/insights"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"data": [row(&day(1), json!({}))], "paging": {"next": next}}),
            ),
        )
        .mount(&w.graph)
        .await;
    let outcome = process(&w.state, &message(&w, 1).await).await;
    assert_eq!(outcome, Outcome::Done("refused".into()));
    let (status, error) = job_of(&w).await;
    assert_eq!(status, "failed");
    assert!(error.unwrap().contains("points outside the Graph API"));
}

#[tokio::test]
async fn a_sync_still_throttled_at_its_last_delivery_fails_its_job_instead_of_vanishing_into_the_dlq()
 {
    let w = world().await;
    Mock::given(method("GET"))
        .and(path("/v25.0/act_1/insights"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "(#17) User request limit reached", "type": "OAuthException", "code": 17,
            "error_subcode": 2446079, "fbtrace_id": "T"}})))
        .mount(&w.graph)
        .await;
    let last = message(&w, sync_worker::MAX_ATTEMPTS).await;
    let Outcome::Done(why) = process(&w.state, &last).await else {
        panic!("the last delivery is not retried");
    };
    assert!(
        why.starts_with("gave up: gave up after 5 deliveries"),
        "{why}"
    );
    let (status, error) = job_of(&w).await;
    assert_eq!(status, "failed");
    assert!(error.unwrap().contains("User request limit reached"));
}
