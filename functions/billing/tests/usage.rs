//! `GET /v1/usage`: credits used per feature (refunds subtract) and what is left in the
//! current period.

use billing::State;
use lambda_http::http::{Method, StatusCode};
use shared::testing::TestDb;
use shared::testing::api::{TestUser, context, reply, request};

#[tokio::test]
async fn usage_shows_net_credits_per_feature_and_what_is_left() {
    let db = TestDb::fresh().await;
    let state = State {
        ctx: context(&db),
        gateways: billing::billing::Gateways {
            razorpay: billing::billing::Razorpay::new("http://127.0.0.1:9", "rzp_test", "secret"),
            stripe: billing::billing::Stripe::new("http://127.0.0.1:9", "sk_test"),
        },
        return_url: "https://app.example/billing".into(),
    };
    let user = TestUser::create(&db, "owner@example.com").await;
    let other = TestUser::create(&db, "other@example.com").await;
    db.superuser()
        .await
        .batch_execute(&format!(
            "UPDATE subscriptions SET monthly_ai_credits_used = 7 WHERE user_id = '{u}';
             INSERT INTO usage_logs (user_id, feature, credits_consumed, resource_id) VALUES
                ('{u}', 'image_generation', 1, gen_random_uuid()),
                ('{u}', 'image_generation', 1, gen_random_uuid()),
                ('{u}', 'video_generation', 5, '00000000-0000-0000-0000-0000000000f1'),
                ('{u}', 'video_generation', -5, '00000000-0000-0000-0000-0000000000f1'),
                ('{o}', 'image_generation', 1, gen_random_uuid());",
            u = user.id,
            o = other.id
        ))
        .await
        .unwrap();
    let r = reply(
        billing::handle(
            &state,
            request(Method::GET, "/v1/usage", None, Some(&user.token)),
        )
        .await,
    );
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["current_period"]["credits_limit"], 50);
    assert_eq!(r.body["current_period"]["credits_remaining"], 43);
    let features = r.body["by_feature"].as_array().unwrap();
    assert_eq!(features[0]["feature"], "image_generation");
    assert_eq!(
        (
            features[0]["credits"].as_i64(),
            features[0]["uses"].as_i64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(
        (
            features[1]["credits"].as_i64(),
            features[1]["uses"].as_i64()
        ),
        (Some(0), Some(1)),
        "the refund nets out"
    );

    let bad = reply(
        billing::handle(
            &state,
            request(
                Method::GET,
                "/v1/usage?from=2026-12-01&to=2026-11-01",
                None,
                Some(&user.token),
            ),
        )
        .await,
    );
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = reply(
        billing::handle(
            &state,
            request(Method::GET, "/v1/usage?since=x", None, Some(&user.token)),
        )
        .await,
    );
    assert_eq!(bad.fields(), ["since"]);
    let anon = reply(billing::handle(&state, request(Method::GET, "/v1/usage", None, None)).await);
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
}
