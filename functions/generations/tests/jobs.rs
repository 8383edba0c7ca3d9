//! Jobs: a user follows, lists and cancels their own jobs, and only theirs; cancelling
//! a generation refunds its credits once, however often and however simultaneously it
//! is asked.

use generations::State;
use lambda_http::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::aws::relay::Relay;
use shared::testing::TestDb;
use shared::testing::api::{Reply, TestUser, context, reply, request};

async fn app(db: &TestDb) -> State {
    State {
        ctx: context(db),
        relay: Relay::new(
            shared::aws::sqs(&shared::aws::sdk_config().await),
            Default::default(),
        ),
    }
}

async fn call(state: &State, m: Method, path: &str, body: Option<Value>, user: &TestUser) -> Reply {
    reply(generations::handle(state, request(m, path, body.as_ref(), Some(&user.token))).await)
}

async fn insert_job(
    db: &TestDb,
    user: &TestUser,
    job_type: &str,
    status: &str,
    minutes_ago: i32,
) -> uuid::Uuid {
    db.superuser()
        .await
        .query_one(
            "INSERT INTO background_jobs (job_type, user_id, status, created_at) \
             VALUES ($1, $2, $3, now() - make_interval(mins => $4)) RETURNING id",
            &[&job_type, &user.id.0, &status, &minutes_ago],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_user_sees_their_jobs_status_and_no_one_elses() {
    let db = TestDb::fresh().await;
    let state = State {
        ctx: context(&db),
        relay: Relay::new(
            shared::aws::sqs(&shared::aws::sdk_config().await),
            Default::default(),
        ),
    };
    let owner = TestUser::create(&db, "owner@example.com").await;
    let other = TestUser::create(&db, "other@example.com").await;
    let job: uuid::Uuid = db
        .superuser()
        .await
        .query_one(
            "INSERT INTO background_jobs (job_type, user_id, status, progress, parameters, error_message, started_at)
             VALUES ('brand_analysis', $1, 'failed', 40, '{\"website_url\": \"https://x.example\"}', 'site unreachable', now())
             RETURNING id",
            &[&owner.id.0],
        )
        .await
        .unwrap()
        .get(0);
    let path = format!("/v1/jobs/{job}");

    let r = reply(
        generations::handle(
            &state,
            request(Method::GET, &path, None, Some(&owner.token)),
        )
        .await,
    );
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (r.body["status"].as_str(), r.body["progress"].as_i64()),
        (Some("failed"), Some(40))
    );
    assert_eq!(r.body["error_message"], "site unreachable");
    assert!(r.body["started_at"].is_string() && r.body["completed_at"].is_null());

    let r = reply(
        generations::handle(
            &state,
            request(Method::GET, &path, None, Some(&other.token)),
        )
        .await,
    );
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = reply(
        generations::handle(
            &state,
            request(Method::GET, "/v1/jobs/nope", None, Some(&owner.token)),
        )
        .await,
    );
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = reply(generations::handle(&state, request(Method::GET, &path, None, None)).await);
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn jobs_are_listed_newest_first_in_pages_and_filtered_by_type_and_status() {
    let db = TestDb::fresh().await;
    let state = app(&db).await;
    let owner = TestUser::create(&db, "owner@example.com").await;
    let other = TestUser::create(&db, "other@example.com").await;
    let newest = insert_job(&db, &owner, "meta_sync", "completed", 1).await;
    let middle = insert_job(&db, &owner, "image_generation", "running", 2).await;
    let oldest = insert_job(&db, &owner, "image_generation", "failed", 3).await;
    insert_job(&db, &other, "image_generation", "running", 0).await;

    let r = call(&state, Method::GET, "/v1/jobs?limit=2", None, &owner).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ids = |r: &Reply| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&r), [newest.to_string(), middle.to_string()]);
    let cursor = r.body["next_cursor"].as_str().unwrap().to_owned();
    let r = call(
        &state,
        Method::GET,
        &format!("/v1/jobs?limit=2&cursor={cursor}"),
        None,
        &owner,
    )
    .await;
    assert_eq!(ids(&r), [oldest.to_string()]);
    assert!(r.body["next_cursor"].is_null());

    let r = call(
        &state,
        Method::GET,
        "/v1/jobs?type=image_generation&status=running",
        None,
        &owner,
    )
    .await;
    assert_eq!(
        ids(&r),
        [middle.to_string()],
        "only mine, of that type and status"
    );
    let r = call(
        &state,
        Method::GET,
        "/v1/jobs?status=stuck&type=DROP%20TABLE&sort=x",
        None,
        &owner,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, ["sort", "status", "type"]);
}

async fn credits_used(db: &TestDb, user: &TestUser) -> i32 {
    db.superuser()
        .await
        .query_one(
            "SELECT monthly_ai_credits_used FROM subscriptions WHERE user_id = $1 AND is_current",
            &[&user.id.0],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn cancelling_a_queued_generation_twice_at_once_refunds_its_credits_exactly_once() {
    let db = TestDb::fresh().await;
    let state = app(&db).await;
    let owner = TestUser::create(&db, "owner@example.com").await;
    let r = call(
        &state,
        Method::POST,
        "/v1/generations",
        Some(json!({"type": "video", "prompt": "a chef tossing noodles", "format": "9:16"})),
        &owner,
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(credits_used(&db, &owner).await, 5);
    let path = format!("/v1/jobs/{}/cancel", r.body["job_id"].as_str().unwrap());
    let asset = r.body["asset_id"].as_str().unwrap().to_owned();

    let (a, b) = tokio::join!(
        call(&state, Method::POST, &path, None, &owner),
        call(&state, Method::POST, &path, None, &owner)
    );
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK));
    let refunded =
        a.body["credits_refunded"].as_i64().unwrap() + b.body["credits_refunded"].as_i64().unwrap();
    assert_eq!(
        refunded, 5,
        "one of the two refunds, the other finds it done"
    );
    assert_eq!(a.body["job"]["status"], "cancelled");
    assert_eq!(credits_used(&db, &owner).await, 0);
    let again = call(&state, Method::POST, &path, None, &owner).await;
    assert_eq!(
        (again.status, again.body["credits_refunded"].as_i64()),
        (StatusCode::OK, Some(0))
    );
    assert_eq!(credits_used(&db, &owner).await, 0);
    let status: String = db
        .superuser()
        .await
        .query_one(
            "SELECT status FROM creative_assets WHERE id::text = $1",
            &[&asset],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "failed");

    let other = TestUser::create(&db, "other@example.com").await;
    assert_eq!(
        call(&state, Method::POST, &path, None, &other).await.status,
        StatusCode::NOT_FOUND
    );
    let done = insert_job(&db, &owner, "meta_sync", "completed", 0).await;
    let r = call(
        &state,
        Method::POST,
        &format!("/v1/jobs/{done}/cancel"),
        None,
        &owner,
    )
    .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "job_finished"));
}
