//! Meta webhooks: the subscription challenge only with the right verify token; only
//! correctly signed deliveries are stored; a redelivery is stored (and queued) once.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request};
use meta_webhook::State;
use shared::aws::relay::Relay;
use shared::testing::TestDb;
use shared::testing::api::reply;

const SECRET: &str = "test-meta-app-secret";
/// A delivery and its signature, computed independently with Python's hmac module.
const BODY: &str = r#"{"object":"ad_account","entry":[{"id":"act_1234567890","time":1764000000,"changes":[{"field":"in_process_ad_objects","value":{"id":"23850000000000001","level":"CAMPAIGN","status_name":"PAUSED"}}]}]}"#;
const SIGNATURE: &str = "6b53a4129327f7777e2d95a2e6e096ede5558315a382292419b5007bd4e7c548";

async fn app(db: &TestDb) -> (State, aws_sdk_sqs::Client, String) {
    let (sqs, url) = shared::testing::queue("meta-events").await;
    let queues = [(
        <shared::messages::MetaEvent as shared::messages::Message>::TOPIC.to_owned(),
        url.clone(),
    )]
    .into();
    let state = State {
        db: db.worker(),
        app_secret: SECRET.into(),
        verify_token: "the-verify-token".into(),
        relay: Relay::new(sqs.clone(), queues),
    };
    (state, sqs, url)
}

fn get(query: &str) -> Request {
    let mut req = Request::new(Body::Empty);
    *req.uri_mut() = format!("/webhooks/meta?{query}").parse().unwrap();
    req
}

fn post(body: &str, signature: Option<&str>) -> Request {
    let mut req = Request::new(Body::Text(body.to_owned()));
    *req.method_mut() = Method::POST;
    *req.uri_mut() = "/webhooks/meta".parse().unwrap();
    if let Some(sig) = signature {
        req.headers_mut()
            .insert("x-hub-signature-256", sig.parse().unwrap());
    }
    req
}

#[tokio::test]
async fn the_challenge_is_answered_only_with_the_verify_token() {
    let db = TestDb::fresh().await;
    let (state, _, _) = app(&db).await;
    let res = meta_webhook::handle(
        &state,
        get("hub.mode=subscribe&hub.verify_token=the-verify-token&hub.challenge=1158201444"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/plain");
    assert!(matches!(res.body(), Body::Text(t) if t == "1158201444"));
    for query in [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        "hub.mode=unsubscribe&hub.verify_token=the-verify-token&hub.challenge=1",
        "hub.challenge=1",
    ] {
        let r = reply(meta_webhook::handle(&state, get(query)).await);
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{query}");
    }
}

#[tokio::test]
async fn only_signed_deliveries_are_stored_and_a_redelivery_once() {
    let db = TestDb::fresh().await;
    let (state, sqs, url) = app(&db).await;
    let tampered = BODY.replace("PAUSED", "ACTIVE");
    for (body, sig) in [
        (BODY, None),
        (BODY, Some("sha256=".to_owned() + &"0".repeat(64))),
        (BODY, Some(SIGNATURE.to_owned())), // no sha256= prefix
        (tampered.as_str(), Some(format!("sha256={SIGNATURE}"))),
    ] {
        let r = reply(meta_webhook::handle(&state, post(body, sig.as_deref())).await);
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNAUTHORIZED, "invalid_signature"),
            "{sig:?}"
        );
    }
    assert_eq!(stored(&db).await, 0, "nothing stored");

    let sig = format!("sha256={SIGNATURE}");
    let first = reply(meta_webhook::handle(&state, post(BODY, Some(&sig))).await);
    assert_eq!(
        (first.status, first.body["new"].as_i64()),
        (StatusCode::OK, Some(1))
    );
    let again = reply(meta_webhook::handle(&state, post(BODY, Some(&sig))).await);
    assert_eq!(
        (again.status, again.body["new"].as_i64()),
        (StatusCode::OK, Some(0)),
        "a redelivery is acknowledged"
    );
    assert_eq!(stored(&db).await, 1);

    let got = shared::testing::received(&sqs, &url).await;
    assert_eq!(got.len(), 1, "queued once, at once");
    assert!(got[0]["webhook_event_id"].is_string());

    let not_a_delivery = r#"{"hello":"world"}"#;
    let sig = format!(
        "sha256={}",
        shared::signature::hmac_sha256_hex(SECRET.as_bytes(), not_a_delivery.as_bytes())
    );
    let r = reply(meta_webhook::handle(&state, post(not_a_delivery, Some(&sig))).await);
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

async fn stored(db: &TestDb) -> i64 {
    db.superuser()
        .await
        .query_one("SELECT count(*) FROM meta_webhook_events", &[])
        .await
        .unwrap()
        .get(0)
}
