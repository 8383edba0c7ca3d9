//! The generation worker against a local HTTP server speaking Google's wire format
//! (exact requests asserted): an image lands in S3 as real, decodable media of exactly
//! the asked format; a video is started, polled and downloaded; a permanent failure
//! fails the asset and job and refunds once even when delivered twice; a transient one
//! is retried with a delay and, after the last attempt, given up with a refund.

use shared::aws::LazyClient;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use base64::Engine;
use generation_worker::google::Google;
use generation_worker::{MAX_ATTEMPTS, Outcome, State, handle, process};
use lambda_http::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::aws::relay::Relay;
use shared::aws::storage::Storage;
use shared::testing::TestDb;
use shared::testing::api::{TestUser, context, reply, request};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// An invocation deadline that never gets near.
fn far() -> Instant {
    Instant::now() + Duration::from_secs(300)
}

struct World {
    db: TestDb,
    google: MockServer,
    state: State,
    storage: Storage,
    user: TestUser,
}

async fn world() -> World {
    let db = TestDb::fresh().await;
    let google = MockServer::start().await;
    let storage = shared::testing::storage().await;
    let aws = shared::aws::sdk_config().await;
    let state = State {
        db: db.db(),
        storage: storage.clone(),
        google: Google::new(&format!("{}/v1beta", google.uri()), "test-api-key", "").unwrap(),
        sqs: LazyClient::ready(shared::aws::sqs(&aws)),
        poll_every: Duration::from_millis(20),
        poll_for: Duration::from_secs(2),
        message_budget: Duration::from_secs(10),
    };
    let user = TestUser::create(&db, "owner@example.com").await;
    World {
        db,
        google,
        state,
        storage,
        user,
    }
}

/// The generations function (the API side of a generation), on the same database.
async fn api(w: &World) -> generations::State {
    generations::State {
        ctx: context(&w.db),
        relay: Relay::new(w.state.sqs.get().await.clone(), Default::default()),
    }
}

/// Asks for a generation through the real endpoint and returns the queue message it made.
async fn requested(w: &World, body: Value) -> SqsMessage {
    let api = api(w).await;
    let r = reply(
        generations::handle(
            &api,
            request(
                Method::POST,
                "/v1/generations",
                Some(&body),
                Some(&w.user.token),
            ),
        )
        .await,
    );
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let payload: Value =
        w.db.superuser()
            .await
            .query_one("SELECT payload FROM outbox ORDER BY id DESC LIMIT 1", &[])
            .await
            .unwrap()
            .get(0);
    message(&payload.to_string(), 1)
}

fn message(body: &str, receive_count: u32) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(format!("msg-{receive_count}"));
    m.body = Some(body.to_owned());
    m.attributes
        .insert("ApproximateReceiveCount".into(), receive_count.to_string());
    m
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = png::Encoder::new(&mut out, w, h);
    e.set_color(png::ColorType::Rgb);
    e.set_depth(png::BitDepth::Eight);
    let mut writer = e.write_header().unwrap();
    writer
        .write_image_data(&vec![200; (w * h * 3) as usize])
        .unwrap();
    writer.finish().unwrap();
    out
}

fn gemini_image(bytes: &[u8]) -> Value {
    json!({"candidates": [{"content": {"role": "model", "parts": [
        {"text": "Here is your image"},
        {"inlineData": {"mimeType": "image/png", "data": base64::engine::general_purpose::STANDARD.encode(bytes)}}
    ]}, "finishReason": "STOP"}], "modelVersion": "gemini-2.5-flash-image"})
}

struct AssetRow {
    status: String,
    width: Option<i64>,
    height: Option<i64>,
    file_url: Option<String>,
    failure: Option<String>,
    job_status: String,
    job_error: Option<String>,
}

async fn asset(w: &World) -> AssetRow {
    let r = w
        .db
        .superuser()
        .await
        .query_one(
            "SELECT a.status, (a.dimensions->>'width')::int8, (a.dimensions->>'height')::int8, a.file_url, a.failure_reason, \
                    j.status, j.error_message \
             FROM creative_assets a JOIN background_jobs j ON j.parameters->>'asset_id' = a.id::text",
            &[],
        )
        .await
        .unwrap();
    AssetRow {
        status: r.get(0),
        width: r.get(1),
        height: r.get(2),
        file_url: r.get(3),
        failure: r.get(4),
        job_status: r.get(5),
        job_error: r.get(6),
    }
}

async fn credits(w: &World) -> (i32, i64, i64) {
    let r =
        w.db.superuser()
            .await
            .query_one(
                "SELECT (SELECT monthly_ai_credits_used FROM subscriptions WHERE is_current), \
                    (SELECT coalesce(sum(credits_consumed), 0)::int8 FROM usage_logs), \
                    (SELECT count(*) FROM usage_logs WHERE credits_consumed < 0)",
                &[],
            )
            .await
            .unwrap();
    (r.get(0), r.get(1), r.get(2))
}

/// Veo's side: starting a video answers operation `op`, and polling it answers `done`
/// (a finished operation naming the video's URI) or not yet.
async fn veo(w: &World, op: &str, finished: Option<&str>) {
    Mock::given(method("POST"))
        .and(path(
            "/v1beta/models/veo-3.0-generate-001:predictLongRunning",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": op})))
        .mount(&w.google)
        .await;
    let poll = match finished {
        None => json!({"name": op, "done": false}),
        Some(uri) => json!({"name": op, "done": true, "response": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": {"generatedSamples": [{"video": {"uri": uri}}]}}}),
    };
    Mock::given(method("GET"))
        .and(path(format!("/v1beta/{op}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(poll))
        .mount(&w.google)
        .await;
}

/// The asset and its job failed, and the credits came back once; the job's error.
async fn failed_and_refunded(w: &World) -> String {
    let a = asset(w).await;
    assert_eq!(
        (a.status.as_str(), a.job_status.as_str()),
        ("failed", "failed")
    );
    assert_eq!(credits(w).await, (0, 0, 1), "refunded once");
    a.job_error.unwrap_or_default()
}

#[tokio::test]
async fn an_image_is_generated_cropped_to_four_by_five_and_stored() {
    let w = world().await;
    Mock::given(method("POST"))
        .and(path("/v1beta/models/gemini-2.5-flash-image:generateContent"))
        .and(header("x-goog-api-key", "test-api-key"))
        .and(body_partial_json(json!({"generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "3:4"}}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(gemini_image(&png(96, 128))))
        .expect(1)
        .mount(&w.google)
        .await;
    w.db.superuser()
        .await
        .execute(
            "INSERT INTO brand_profiles (user_id, color_palette, brand_voice) VALUES ($1, '{\"primary\": \"#B22222\"}', '{\"tone\": \"friendly\"}')",
            &[&w.user.id.0],
        )
        .await
        .unwrap();
    let msg = requested(&w, json!({"type": "image", "prompt": "a bowl of biryani", "format": "4:5", "style": "photo", "use_brand": true})).await;

    assert_eq!(
        process(&w.state, &msg, far()).await,
        Outcome::done("generated")
    );
    let a = asset(&w).await;
    assert_eq!(
        (a.status.as_str(), a.width, a.height),
        ("active", Some(96), Some(120))
    );
    assert_eq!(a.job_status, "completed");

    let sent: Value = w.google.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    let prompt = sent["contents"][0]["parts"][0]["text"].as_str().unwrap();
    assert!(prompt.starts_with("a bowl of biryani"), "{prompt}");
    assert!(
        prompt.contains("Style: photo.")
            && prompt.contains("primary #B22222")
            && prompt.contains("friendly"),
        "{prompt}"
    );

    let key = w
        .storage
        .key_of(a.file_url.as_deref().unwrap())
        .unwrap()
        .to_owned();
    assert!(
        key.starts_with(&format!("generated/{}/", w.user.id)),
        "{key}"
    );
    let size = w.storage.size(&key).await.unwrap().unwrap();
    let stored = w.storage.read_range(&key, 0, size as u64).await.unwrap();
    let mut decoder = png::Decoder::new(std::io::Cursor::new(stored))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; decoder.output_buffer_size().unwrap()];
    let frame = decoder.next_frame(&mut pixels).unwrap();
    assert_eq!(
        (frame.width, frame.height),
        (96, 120),
        "decoded: exactly 4:5"
    );

    assert_eq!(
        process(&w.state, &msg, far()).await,
        Outcome::done("the job is already finished"),
        "redelivery is a no-op"
    );
    assert_eq!(
        w.db.told(w.user.id.0).await,
        [(
            "generation".to_owned(),
            "Your image is ready".to_owned(),
            true
        )]
    );
    assert_eq!(credits(&w).await, (1, 1, 0));
}

#[tokio::test]
async fn a_video_is_started_polled_and_downloaded() {
    let w = world().await;
    let op = "models/veo-3.0-generate-001/operations/op123";
    Mock::given(method("POST"))
        .and(path(
            "/v1beta/models/veo-3.0-generate-001:predictLongRunning",
        ))
        .and(body_partial_json(
            json!({"instances": [{}], "parameters": {"aspectRatio": "16:9"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": op})))
        .expect(1)
        .mount(&w.google)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1beta/{op}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": op, "done": false})))
        .up_to_n_times(2)
        .mount(&w.google)
        .await;
    let uri = format!("{}/v1beta/files/vid123:download?alt=media", w.google.uri());
    Mock::given(method("GET"))
        .and(path(format!("/v1beta/{op}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": op, "done": true, "response": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": {"generatedSamples": [{"video": {"uri": uri}}]}}})))
        .mount(&w.google)
        .await;
    // As Google does: the download redirects to storage, which gets no API key.
    Mock::given(method("GET"))
        .and(path("/v1beta/files/vid123:download"))
        .and(header("x-goog-api-key", "test-api-key"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/storage/vid123.mp4"))
        .expect(1)
        .mount(&w.google)
        .await;
    Mock::given(method("GET"))
        .and(path("/storage/vid123.mp4"))
        .and(|req: &wiremock::Request| !req.headers.contains_key("x-goog-api-key"))
        .respond_with(
            ResponseTemplate::new(200).set_body_bytes(include_bytes!("fixtures/clip.mp4").to_vec()),
        )
        .expect(1)
        .mount(&w.google)
        .await;
    let msg = requested(
        &w,
        json!({"type": "video", "prompt": "a chef plating biryani", "format": "16:9"}),
    )
    .await;
    let batch: SqsEvent =
        serde_json::from_value(json!({"Records": [serde_json::to_value(&msg).unwrap()]})).unwrap();
    let response = handle(&w.state, batch, far()).await;
    assert!(response.batch_item_failures.is_empty());
    let a = asset(&w).await;
    assert_eq!(a.status, "active", "{:?}", a.failure);
    assert!(a.file_url.unwrap().ends_with(".mp4"));
    assert_eq!(credits(&w).await, (5, 5, 0), "a video costs 5");
}

/// Google refuses every prompt for good (the usage policy), as it answers.
fn policy_refusal() -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({"error": {
        "code": 400, "message": "The prompt violates the usage policy.", "status": "INVALID_ARGUMENT"}}))
}

async fn refused(w: &World) {
    Mock::given(method("POST"))
        .respond_with(policy_refusal())
        .mount(&w.google)
        .await;
}

#[tokio::test]
async fn a_permanent_failure_refunds_exactly_once_even_when_delivered_twice() {
    let w = world().await;
    refused(&w).await;
    let msg = requested(
        &w,
        json!({"type": "image", "prompt": "something refused", "format": "1:1"}),
    )
    .await;
    assert_eq!(credits(&w).await, (1, 1, 0));
    let (first, second) = tokio::join!(
        process(&w.state, &msg, far()),
        process(&w.state, &msg, far())
    );
    assert!(matches!(first, Outcome::Done(_)) && matches!(second, Outcome::Done(_)));
    assert_eq!(
        process(&w.state, &msg, far()).await,
        Outcome::done("the job is already finished")
    );
    let a = asset(&w).await;
    assert_eq!(
        (a.status.as_str(), a.job_status.as_str()),
        ("failed", "failed")
    );
    assert_eq!(
        a.failure.as_deref(),
        Some("The prompt violates the usage policy.")
    );
    assert_eq!(
        credits(&w).await,
        (0, 0, 1),
        "refunded once: used back to 0, one refund row"
    );
    assert_eq!(
        w.db.told(w.user.id.0).await,
        [(
            "generation".to_owned(),
            "Your image could not be made".to_owned(),
            true
        )],
        "one notification, with its email on the way, however often the failure was delivered"
    );
}

#[tokio::test]
async fn a_transient_failure_is_retried_later_and_given_up_after_the_last_attempt() {
    let w = world().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"error": {
            "code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}})))
        .mount(&w.google)
        .await;
    let msg = requested(
        &w,
        json!({"type": "image", "prompt": "a thali", "format": "9:16"}),
    )
    .await;
    let Outcome::Retry { why, after_seconds } = process(&w.state, &msg, far()).await else {
        panic!("expected a retry");
    };
    assert!(why.contains("overloaded"), "{why}");
    assert_eq!(after_seconds, 10);
    let a = asset(&w).await;
    assert_eq!(
        (a.status.as_str(), a.job_status.as_str()),
        ("processing", "running")
    );
    assert!(a.job_error.unwrap().starts_with("retrying: "));
    assert_eq!(credits(&w).await, (1, 1, 0), "no refund while retrying");

    let Outcome::Retry { after_seconds, .. } =
        process(&w.state, &message(msg.body.as_deref().unwrap(), 3), far()).await
    else {
        panic!("expected a retry");
    };
    assert_eq!(after_seconds, 40, "backoff grows");

    let last = message(msg.body.as_deref().unwrap(), MAX_ATTEMPTS);
    assert_eq!(
        process(&w.state, &last, far()).await,
        Outcome::done("failed")
    );
    let a = asset(&w).await;
    assert_eq!(a.status, "failed");
    assert!(a.failure.unwrap().starts_with("gave up after 5 attempts"));
    assert_eq!(credits(&w).await, (0, 0, 1));
}

#[tokio::test]
async fn an_unreadable_message_is_reported_failed_so_it_reaches_the_dead_letter_queue() {
    let w = world().await;
    let batch: SqsEvent = serde_json::from_value(json!({"Records": [
        serde_json::to_value(message("{\"job\": 1}", 1)).unwrap()
    ]}))
    .unwrap();
    let response = handle(&w.state, batch, far()).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier, "msg-1");
}

#[tokio::test]
async fn a_failure_racing_a_delivery_that_already_finished_the_job_neither_fails_the_asset_nor_refunds()
 {
    let w = world().await;
    // This delivery's model call fails permanently, slowly; meanwhile another delivery
    // of the same message finishes the job and delivers the asset.
    Mock::given(method("POST"))
        .respond_with(policy_refusal().set_delay(Duration::from_millis(400)))
        .mount(&w.google)
        .await;
    let msg = requested(
        &w,
        json!({"type": "image", "prompt": "a cup of chai", "format": "1:1"}),
    )
    .await;
    let other_delivery = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        w.db.superuser()
            .await
            .batch_execute(
                "UPDATE background_jobs SET status = 'completed', completed_at = now(); \
                 UPDATE creative_assets SET status = 'active', file_url = 'https://assets.example/done.png'",
            )
            .await
            .unwrap();
    };
    let (outcome, ()) = tokio::join!(process(&w.state, &msg, far()), other_delivery);
    assert_eq!(outcome, Outcome::done("the job is already finished"));
    let a = asset(&w).await;
    assert_eq!(
        (a.status.as_str(), a.job_status.as_str()),
        ("active", "completed")
    );
    assert_eq!(
        credits(&w).await,
        (1, 1, 0),
        "the delivered asset stays paid for"
    );
}

#[tokio::test]
async fn a_refund_of_a_charge_from_an_earlier_period_gives_nothing_to_spend_now() {
    let w = world().await;
    refused(&w).await;
    let msg = requested(
        &w,
        json!({"type": "image", "prompt": "something refused", "format": "1:1"}),
    )
    .await;
    // The period renews (credits reset) before the failure is known, and 3 are spent in it.
    w.db.superuser()
        .await
        .batch_execute(
            "UPDATE usage_logs SET logged_at = now() - interval '2 days'; \
             UPDATE subscriptions SET current_period_start = now() - interval '1 day', \
                    current_period_end = now() + interval '29 days', monthly_ai_credits_used = 3 WHERE is_current",
        )
        .await
        .unwrap();
    process(&w.state, &msg, far()).await;
    let (used, _, refunds) = credits(&w).await;
    assert_eq!(
        (used, refunds),
        (3, 1),
        "recorded as refunded, but the new period's 3 used credits are not reduced"
    );
}

#[tokio::test]
async fn a_video_uri_on_another_host_never_gets_the_api_key_and_the_credits_come_back() {
    let w = world().await;
    let elsewhere = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let uri = format!("{}/v1beta/files/vid9:download?alt=media", elsewhere.uri());
    veo(&w, "models/veo-3.0-generate-001/operations/op9", Some(&uri)).await;
    let msg = requested(
        &w,
        json!({"type": "video", "prompt": "a chef plating biryani", "format": "16:9"}),
    )
    .await;
    assert_eq!(
        process(&w.state, &msg, far()).await,
        Outcome::done("failed")
    );
    assert!(
        failed_and_refunded(&w)
            .await
            .contains("outside the allowed hosts")
    );
}

/// Google must not be called at all.
async fn google_untouched(w: &World) {
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&w.google)
        .await;
}

#[tokio::test]
async fn a_message_received_after_its_last_attempt_is_given_up_with_the_refund_not_left_for_the_dlq()
 {
    let w = world().await;
    google_untouched(&w).await;
    let msg = requested(
        &w,
        json!({"type": "image", "prompt": "masala chai on a brass tray", "format": "1:1"}),
    )
    .await;
    // The invocation that had the last attempt timed out: SQS delivers it once more.
    let late = message(msg.body.as_deref().unwrap(), MAX_ATTEMPTS + 1);
    assert_eq!(
        process(&w.state, &late, far()).await,
        Outcome::done("failed")
    );
    assert!(
        failed_and_refunded(&w)
            .await
            .contains("gave up after 6 deliveries")
    );
}

#[tokio::test]
async fn a_video_still_rendering_at_the_last_attempt_is_given_up_with_the_refund() {
    let w = world().await;
    veo(&w, "models/veo-3.0-generate-001/operations/slow", None).await;
    let msg = requested(
        &w,
        json!({"type": "video", "prompt": "a chef plating biryani", "format": "9:16"}),
    )
    .await;
    let body = msg.body.as_deref().unwrap();
    let Outcome::Retry { .. } = process(&w.state, &message(body, MAX_ATTEMPTS - 1), far()).await
    else {
        panic!("still rendering before the last attempt: tried again later");
    };
    assert_eq!(
        credits(&w).await,
        (5, 5, 0),
        "no refund while it may still finish"
    );
    let last = message(body, MAX_ATTEMPTS);
    assert_eq!(
        process(&w.state, &last, far()).await,
        Outcome::done("failed")
    );
    assert!(failed_and_refunded(&w).await.contains("still rendering"));
}

#[tokio::test]
async fn messages_that_no_longer_fit_before_the_deadline_go_back_unstarted() {
    let w = world().await;
    google_untouched(&w).await;
    let a = requested(
        &w,
        json!({"type": "image", "prompt": "chai", "format": "1:1"}),
    )
    .await;
    let mut b = requested(
        &w,
        json!({"type": "image", "prompt": "samosa", "format": "4:5"}),
    )
    .await;
    b.message_id = Some("msg-b".into());
    let batch: SqsEvent = serde_json::from_value(json!({"Records": [
        serde_json::to_value(&a).unwrap(), serde_json::to_value(&b).unwrap()]}))
    .unwrap();
    // Five seconds left; a message may need ten.
    let response = handle(&w.state, batch, Instant::now() + Duration::from_secs(5)).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, ["msg-1", "msg-b"], "both back on the queue");
    let jobs: Vec<String> =
        w.db.superuser()
            .await
            .query("SELECT status FROM background_jobs", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    assert_eq!(jobs, ["pending", "pending"], "not started");
    assert_eq!(
        credits(&w).await.2,
        0,
        "nothing refunded: they will still run"
    );
}

/// Cancels the user's only job through the real endpoint; the reply's body.
async fn cancel_the_job(w: &World) -> Value {
    let job: uuid::Uuid =
        w.db.superuser()
            .await
            .query_one("SELECT id FROM background_jobs", &[])
            .await
            .unwrap()
            .get(0);
    let api = api(w).await;
    let r = reply(
        generations::handle(
            &api,
            request(
                Method::POST,
                &format!("/v1/jobs/{job}/cancel"),
                None,
                Some(&w.user.token),
            ),
        )
        .await,
    );
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

#[tokio::test]
async fn a_generation_cancelled_while_the_model_works_delivers_nothing_and_refunds_once() {
    let w = world().await;
    Mock::given(method("POST"))
        .and(path(
            "/v1beta/models/gemini-2.5-flash-image:generateContent",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(gemini_image(&png(64, 64)))
                .set_delay(Duration::from_millis(600)),
        )
        .mount(&w.google)
        .await;
    let msg = requested(
        &w,
        json!({"type": "image", "prompt": "masala chai", "format": "1:1"}),
    )
    .await;
    let (outcome, cancelled) = tokio::join!(process(&w.state, &msg, far()), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        cancel_the_job(&w).await
    });
    assert_eq!(cancelled["credits_refunded"], 1);
    assert_eq!(outcome, Outcome::done("the job ended meanwhile"));
    let a = asset(&w).await;
    assert_eq!(
        (a.status.as_str(), a.job_status.as_str(), a.file_url),
        ("failed", "cancelled", None)
    );
    assert_eq!(credits(&w).await, (0, 0, 1), "refunded once");
    let key = format!("generated/{}/", w.user.id);
    let left = w
        .storage
        .size(&format!("{key}{}.png", msg_asset(&msg)))
        .await
        .unwrap();
    assert_eq!(left, None, "the media made for a cancelled job is removed");

    // Cancelling again, and the message delivered again, change nothing.
    assert_eq!(cancel_the_job(&w).await["credits_refunded"], 0);
    assert_eq!(
        process(&w.state, &msg, far()).await,
        Outcome::done("the job is already finished")
    );
    assert_eq!(credits(&w).await, (0, 0, 1));
}

fn msg_asset(msg: &SqsMessage) -> String {
    let body: Value = serde_json::from_str(msg.body.as_deref().unwrap()).unwrap();
    body["asset_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_brand_image_is_asked_for_with_the_kits_type_and_its_logo_as_a_reference() {
    let w = world().await;
    Mock::given(method("POST"))
        .and(path(
            "/v1beta/models/gemini-2.5-flash-image:generateContent",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(gemini_image(&png(96, 96))))
        .expect(1)
        .mount(&w.google)
        .await;
    let logo = png(32, 16);
    let key = format!("brand/{}/logo-test.png", w.user.id);
    w.storage
        .put(&key, "image/png", logo.clone())
        .await
        .unwrap();
    w.db.superuser()
        .await
        .execute(
            "INSERT INTO brand_profiles (user_id, logo_url, color_palette, typography) \
             VALUES ($1, $2, '{\"primary\": \"#C0392B\"}', '{\"heading_font\": \"Playfair Display\", \"body_font\": \"Lato\"}')",
            &[&w.user.id.0, &w.storage.url_of(&key)],
        )
        .await
        .unwrap();
    let msg = requested(
        &w,
        json!({"type": "image", "prompt": "latte art", "format": "1:1", "use_brand": true}),
    )
    .await;
    assert_eq!(
        process(&w.state, &msg, far()).await,
        Outcome::done("generated")
    );

    let sent: Value = w.google.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    let parts = sent["contents"][0]["parts"].as_array().unwrap();
    let prompt = parts[0]["text"].as_str().unwrap();
    assert!(
        prompt.contains("headlines in Playfair Display, body text in Lato"),
        "{prompt}"
    );
    assert!(
        prompt.contains("primary #C0392B") && prompt.contains("brand's logo"),
        "{prompt}"
    );
    assert_eq!(parts[1]["inlineData"]["mimeType"], "image/png");
    let sent_logo = base64::engine::general_purpose::STANDARD
        .decode(parts[1]["inlineData"]["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(sent_logo, logo, "the logo itself, from our bucket");
}
