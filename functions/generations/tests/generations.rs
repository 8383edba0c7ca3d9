//! `POST /v1/generations`: credits are spent exactly once per accepted request, never
//! beyond the limit however many requests race; daily limits answer 429; the asset, job
//! and queue message appear together, and the message reaches the queue at once.

use std::collections::HashMap;

use generations::State;
use lambda_http::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::aws::relay::Relay;
use shared::messages::{Generation, Message};
use shared::testing::TestDb;
use shared::testing::api::{Reply, TestUser, context, reply, request};

async fn app(db: &TestDb) -> (State, aws_sdk_sqs::Client, String) {
    let (sqs, url) = shared::testing::queue("generation").await;
    let queues = HashMap::from([(Generation::TOPIC.to_owned(), url.clone())]);
    let state = State {
        ctx: context(db),
        relay: Relay::new(sqs.clone(), queues),
    };
    (state, sqs, url)
}

async fn generate(state: &State, user: &TestUser, body: Value) -> Reply {
    reply(
        generations::handle(
            state,
            request(
                Method::POST,
                "/v1/generations",
                Some(&body),
                Some(&user.token),
            ),
        )
        .await,
    )
}

fn image() -> Value {
    json!({"type": "image", "prompt": "a bowl of biryani, top view", "format": "4:5", "use_brand": true})
}

async fn scalar(db: &TestDb, sql: &str) -> i64 {
    db.superuser()
        .await
        .query_one(sql, &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn an_accepted_request_spends_credits_and_queues_the_job_at_once() {
    let db = TestDb::fresh().await;
    let (state, sqs, url) = app(&db).await;
    let user = TestUser::create(&db, "owner@example.com").await;

    let r = generate(&state, &user, image()).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(
        (
            r.body["credits_spent"].as_i64(),
            r.body["credits_remaining"].as_i64()
        ),
        (Some(1), Some(49))
    );
    let (asset, job) = (
        r.body["asset_id"].as_str().unwrap(),
        r.body["job_id"].as_str().unwrap(),
    );

    let row = db
        .superuser()
        .await
        .query_one(
            &format!(
                "SELECT a.status, a.source, a.format, a.prompt, a.ai_model, j.status, j.job_type, \
                        s.monthly_ai_credits_used, (SELECT sum(credits_consumed) FROM usage_logs u WHERE u.resource_id = a.id)::int8 \
                 FROM creative_assets a, background_jobs j, subscriptions s \
                 WHERE a.id = '{asset}' AND j.id = '{job}' AND s.user_id = a.user_id AND s.is_current"
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "processing");
    assert_eq!(row.get::<_, String>(1), "generated");
    assert_eq!(row.get::<_, String>(2), "4:5");
    assert_eq!(row.get::<_, String>(3), "a bowl of biryani, top view");
    assert_eq!(
        row.get::<_, String>(4),
        "gemini-2.5-flash-image",
        "the model id from system_config"
    );
    assert_eq!(
        (row.get::<_, String>(5), row.get::<_, String>(6)),
        ("pending".into(), "image_generation".into())
    );
    assert_eq!((row.get::<_, i32>(7), row.get::<_, i64>(8)), (1, 1));

    let bodies = shared::testing::received(&sqs, &url).await;
    assert_eq!(bodies.len(), 1, "relayed right after commit");
    assert_eq!(bodies[0]["job_id"], job);
    assert_eq!(bodies[0]["asset_id"], asset);
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL").await,
        0
    );
}

#[tokio::test]
async fn invalid_requests_name_the_field_and_spend_nothing() {
    let db = TestDb::fresh().await;
    let (state, _, _) = app(&db).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    for (body, field) in [
        (
            json!({"type": "gif", "prompt": "x", "format": "1:1"}),
            "type",
        ),
        (json!({"type": "image", "format": "1:1"}), "prompt"),
        (
            json!({"type": "image", "prompt": "   ", "format": "1:1"}),
            "prompt",
        ),
        (
            json!({"type": "image", "prompt": "x", "format": "3:2"}),
            "format",
        ),
        (
            json!({"type": "video", "prompt": "x", "format": "1:1"}),
            "format",
        ),
        (
            json!({"type": "video", "prompt": "x", "format": "4:5"}),
            "format",
        ),
        (
            json!({"type": "image", "prompt": "x", "format": "1:1", "seed": 4}),
            "seed",
        ),
    ] {
        let r = generate(&state, &user, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(r.content_type, "application/problem+json");
        assert_eq!(r.fields(), [field], "{body}");
    }
    assert_eq!(scalar(&db, "SELECT count(*) FROM usage_logs").await, 0);
    assert_eq!(scalar(&db, "SELECT count(*) FROM creative_assets").await, 0);
}

#[tokio::test]
async fn two_hundred_simultaneous_requests_on_fifty_credits_accept_exactly_fifty() {
    let db = TestDb::fresh().await;
    let (mut state, _, _) = app(&db).await;
    state.ctx.db = db.db_with_pool(16);
    let user = TestUser::create(&db, "owner@example.com").await;
    let state = &state;
    let requests = (0..200).map(|_| generate(state, &user, image()));
    let replies = futures_join(requests).await;

    let accepted = replies
        .iter()
        .filter(|r| r.status == StatusCode::ACCEPTED)
        .count();
    let refused: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::PAYMENT_REQUIRED)
        .collect();
    assert_eq!((accepted, refused.len()), (50, 150));
    assert!(
        refused
            .iter()
            .all(|r| r.code() == "insufficient_credits" && r.body["credits_remaining"] == 0)
    );
    let u = user.id;
    assert_eq!(
        scalar(
            &db,
            &format!(
                "SELECT monthly_ai_credits_used::int8 FROM subscriptions WHERE user_id = '{u}'"
            )
        )
        .await,
        50
    );
    assert_eq!(
        scalar(&db, "SELECT sum(credits_consumed)::int8 FROM usage_logs").await,
        50
    );
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM creative_assets").await,
        50
    );
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM background_jobs").await,
        50
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM outbox WHERE topic = 'generation'"
        )
        .await,
        50
    );
    // Crossing 80 % and then 100 % of the month: each told exactly once, with its email.
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM notifications n JOIN notification_emails e ON e.notification_id = n.id \
             WHERE n.category = 'credits' AND (n.title LIKE '%80%' OR n.title LIKE '%all of%')"
        )
        .await,
        2
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM outbox WHERE topic = 'notifications'"
        )
        .await,
        2
    );
}

/// Runs the futures concurrently on this task and returns their outputs in order.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    let mut pending: Vec<(usize, std::pin::Pin<Box<F>>)> = pinned.into_iter().enumerate().collect();
    std::future::poll_fn(|cx| {
        pending.retain_mut(|(i, f)| match f.as_mut().poll(cx) {
            std::task::Poll::Ready(out) => {
                outputs[*i] = Some(out);
                false
            }
            std::task::Poll::Pending => true,
        });
        if pending.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn a_spent_subscription_and_an_expired_trial_say_so_with_402() {
    let db = TestDb::fresh().await;
    let (state, _, _) = app(&db).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    let su = db.superuser().await;
    su.execute("UPDATE subscriptions SET monthly_ai_credits_used = 48", &[])
        .await
        .unwrap();
    let video = json!({"type": "video", "prompt": "a chef plating biryani", "format": "9:16"});
    let r = generate(&state, &user, video.clone()).await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(r.body["credits_remaining"], 2, "a video costs 5");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("costs 5 credit")
    );
    assert_eq!(
        generate(&state, &user, image()).await.status,
        StatusCode::ACCEPTED
    );

    su.execute(
        "UPDATE subscriptions SET monthly_ai_credits_used = 0, current_period_start = now() - interval '20 days', \
                current_period_end = now() - interval '1 day'",
        &[],
    )
    .await
    .unwrap();
    let r = generate(&state, &user, image()).await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED);
    assert!(
        r.body["detail"].as_str().unwrap().contains("expired trial"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn the_daily_model_limit_answers_429_with_the_reset_time() {
    let db = TestDb::fresh().await;
    let (state, _, _) = app(&db).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    db.superuser()
        .await
        .execute(
            "UPDATE system_config SET value = '{\"imagen\": 2, \"veo\": 50}' WHERE key = 'ai_service_limits'",
            &[],
        )
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            generate(&state, &user, image()).await.status,
            StatusCode::ACCEPTED
        );
    }
    let res = generations::handle(
        &state,
        request(
            Method::POST,
            "/v1/generations",
            Some(&image()),
            Some(&user.token),
        ),
    )
    .await;
    let retry_after: i64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let r = reply(res);
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.code(), "daily_limit_reached");
    let reset = shared::repo::credits::next_day(chrono::Utc::now());
    assert_eq!(
        r.body["retry_at"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
        reset
    );
    assert!((1..=86_400).contains(&retry_after));
    assert_eq!(
        scalar(&db, "SELECT sum(credits_consumed)::int8 FROM usage_logs").await,
        2,
        "the refused one spent nothing"
    );
    let video = json!({"type": "video", "prompt": "a chef plating biryani", "format": "16:9"});
    assert_eq!(
        generate(&state, &user, video).await.status,
        StatusCode::ACCEPTED,
        "videos have their own limit"
    );
}
