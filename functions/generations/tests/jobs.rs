//! `GET /v1/jobs/{id}`: a user follows their own jobs, and only theirs.

use generations::State;
use lambda_http::http::{Method, StatusCode};
use shared::aws::relay::Relay;
use shared::testing::TestDb;
use shared::testing::api::{TestUser, context, reply, request};

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
