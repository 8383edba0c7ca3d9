//! Accounts, as a client meets them: every rule of signup, login, refresh, logout and
//! `/v1/me`, through the handler, on a real Postgres database per test.

use auth::State;
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use shared::auth::AccessTokens;
use shared::testing::TestDb;

const SECRET: &[u8] = b"test-secret-test-secret-test-secret!";

struct App {
    state: State,
    db: TestDb,
}

struct Reply {
    status: StatusCode,
    content_type: String,
    body: Value,
}

impl App {
    async fn new() -> Self {
        let db = TestDb::fresh().await;
        let state = State {
            db: db.db(),
            tokens: AccessTokens::new(SECRET, 900),
            refresh_ttl_days: 30,
            trial_days: 14,
            ip_limit_per_minute: 1000,
        };
        Self { state, db }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Reply {
        let mut req = Request::new(body.map_or(Body::Empty, |b| Body::Text(b.to_string())));
        *req.method_mut() = method;
        *req.uri_mut() = path.parse().unwrap();
        req.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        if let Some(t) = token {
            req.headers_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        let res = auth::handle(&self.state, req).await;
        let content_type = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = match res.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap(),
            Body::Empty => Value::Null,
            Body::Binary(b) => serde_json::from_slice(b).unwrap(),
            _ => Value::Null,
        };
        Reply {
            status: res.status(),
            content_type,
            body,
        }
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body), None).await
    }

    async fn signup(&self, email: &str) -> Reply {
        self.post(
            "/v1/auth/signup",
            json!({"email": email, "password": "correct-horse-battery"}),
        )
        .await
    }

    async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/v1/auth/login",
            json!({"email": email, "password": password}),
        )
        .await
    }
}

fn fields(reply: &Reply) -> Vec<String> {
    reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

fn token(reply: &Reply, kind: &str) -> String {
    reply.body[format!("{kind}_token")]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn signup_creates_a_starter_trial_and_returns_a_session() {
    let app = App::new().await;
    let r = app
        .post(
            "/v1/auth/signup",
            json!({"email": "  Asha@Example.COM ", "password": "correct-horse-battery",
                   "first_name": "Asha", "last_name": "Rao", "phone": "+91 98765 43210"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);
    assert!(r.body["refresh_token"].is_string());
    let user = &r.body["user"];
    assert_eq!(user["email"], "asha@example.com");
    assert_eq!(user["phone"], "+919876543210");
    assert_eq!(user["subscription_tier"], "starter");
    assert_eq!(user["subscription_status"], "trial");
    assert!(user.get("password_hash").is_none());

    let trial_days: f64 = app
        .db
        .superuser()
        .await
        .query_one(
            "SELECT extract(epoch FROM trial_ends_at - created_at)::float8 / 86400 FROM users WHERE email = 'asha@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        (trial_days - 14.0).abs() < 0.01,
        "trial lasts {trial_days} days"
    );

    let sub = app
        .db
        .superuser()
        .await
        .query_one(
            "SELECT s.tier, s.status, s.monthly_ai_credits_limit, u.password_hash FROM subscriptions s \
             JOIN users u ON u.id = s.user_id WHERE s.is_current",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            sub.get::<_, String>(0),
            sub.get::<_, String>(1),
            sub.get::<_, i32>(2)
        ),
        ("starter".into(), "trial".into(), 50)
    );
    assert!(sub.get::<_, String>(3).starts_with("$argon2id$"));
}

#[tokio::test]
async fn the_same_email_in_any_case_cannot_sign_up_twice() {
    let app = App::new().await;
    assert_eq!(
        app.signup("dup@example.com").await.status,
        StatusCode::CREATED
    );
    let again = app.signup("DUP@Example.com").await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["code"], "email_taken");
}

#[tokio::test]
async fn signup_names_every_invalid_field() {
    let app = App::new().await;
    let r = app
        .post(
            "/v1/auth/signup",
            json!({"email": "not-an-email", "password": "short", "phone": "12"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.content_type, "application/problem+json");
    assert_eq!(r.body["code"], "validation_failed");
    assert_eq!(r.body["status"], 422);
    assert_eq!(fields(&r), ["email", "password", "phone"]);

    let missing = app.post("/v1/auth/signup", json!({})).await;
    assert_eq!(fields(&missing), ["email", "password"]);

    let unknown = app
        .post(
            "/v1/auth/signup",
            json!({"email": "a@b.co", "password": "long enough!", "role": "admin"}),
        )
        .await;
    assert_eq!(fields(&unknown), ["role"]);

    let wrong_type = app
        .post(
            "/v1/auth/signup",
            json!({"email": 42, "password": "long enough!"}),
        )
        .await;
    assert_eq!(fields(&wrong_type), ["email"]);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_bad_request() {
    let app = App::new().await;
    let mut req = Request::new(Body::Text("{not json".into()));
    *req.method_mut() = Method::POST;
    *req.uri_mut() = "/v1/auth/signup".parse().unwrap();
    let res = auth::handle(&app.state, req).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_signup_body_over_64_kib_is_refused_before_it_is_parsed() {
    let app = App::new().await;
    let huge = format!(
        r#"{{"email": "big@example.com", "password": "long enough!", "pad": "{}"}}"#,
        "x".repeat(64 * 1024)
    );
    for path in ["/v1/auth/signup", "/v1/auth/login"] {
        let mut req = Request::new(Body::Text(huge.clone()));
        *req.method_mut() = Method::POST;
        *req.uri_mut() = path.parse().unwrap();
        let res = auth::handle(&app.state, req).await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
    }
    // A body just under the limit is read (and refused for its unknown field).
    let padded = format!(
        r#"{{"email": "big@example.com", "password": "long enough!", "pad": "{}"}}"#,
        "x".repeat(60 * 1024)
    );
    let mut req = Request::new(Body::Text(padded));
    *req.method_mut() = Method::POST;
    *req.uri_mut() = "/v1/auth/signup".parse().unwrap();
    assert_eq!(
        auth::handle(&app.state, req).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn json_that_is_not_an_object_or_has_trailing_bytes_is_a_bad_request() {
    let app = App::new().await;
    for body in [
        "[1, 2]",
        "\"text\"",
        r#"{"email": "a@b.example", "password": "long enough!"} trailing"#,
    ] {
        let mut req = Request::new(Body::Text(body.into()));
        *req.method_mut() = Method::POST;
        *req.uri_mut() = "/v1/auth/signup".parse().unwrap();
        assert_eq!(
            auth::handle(&app.state, req).await.status(),
            StatusCode::BAD_REQUEST,
            "{body}"
        );
    }
}

#[tokio::test]
async fn login_returns_a_session_and_records_the_login() {
    let app = App::new().await;
    app.signup("login@example.com").await;
    let r = app
        .login("LOGIN@example.com", "correct-horse-battery")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["access_token"].is_string() && r.body["refresh_token"].is_string());
    assert!(r.body["user"]["last_login"].is_string());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = App::new().await;
    app.signup("known@example.com").await;
    let wrong_password = app.login("known@example.com", "incorrect-horse").await;
    let unknown_email = app
        .login("nobody@example.com", "correct-horse-battery")
        .await;
    for r in [&wrong_password, &unknown_email] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body["code"], "invalid_credentials");
    }
    assert_eq!(wrong_password.body["detail"], unknown_email.body["detail"]);
}

#[tokio::test]
async fn refresh_rotates_the_token_and_reuse_revokes_the_family() {
    let app = App::new().await;
    let first = app.signup("rotate@example.com").await;
    let r0 = token(&first, "refresh");

    let second = app
        .post("/v1/auth/refresh", json!({"refresh_token": r0}))
        .await;
    assert_eq!(second.status, StatusCode::OK);
    let r1 = token(&second, "refresh");
    assert_ne!(r0, r1);
    assert!(second.body["user"]["email"] == "rotate@example.com");

    // r0 was used already: presenting it again means it leaked. The whole family dies.
    let reuse = app
        .post("/v1/auth/refresh", json!({"refresh_token": r0}))
        .await;
    assert_eq!(reuse.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reuse.body["code"], "invalid_refresh_token");
    let after = app
        .post("/v1/auth/refresh", json!({"refresh_token": r1}))
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);

    // Another login is another family, unaffected.
    let other = app
        .login("rotate@example.com", "correct-horse-battery")
        .await;
    let fresh = app
        .post(
            "/v1/auth/refresh",
            json!({"refresh_token": token(&other, "refresh")}),
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK);
}

#[tokio::test]
async fn refresh_refuses_garbage_and_names_a_missing_token() {
    let app = App::new().await;
    let garbage = app
        .post("/v1/auth/refresh", json!({"refresh_token": "nope"}))
        .await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    let missing = app.post("/v1/auth/refresh", json!({})).await;
    assert_eq!(fields(&missing), ["refresh_token"]);
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = App::new().await;
    let s = app.signup("bye@example.com").await;
    let r = token(&s, "refresh");
    let out = app
        .post("/v1/auth/logout", json!({"refresh_token": r}))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.post("/v1/auth/refresh", json!({"refresh_token": r}))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Logging out twice is fine.
    assert_eq!(
        app.post("/v1/auth/logout", json!({"refresh_token": r}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn me_needs_a_valid_bearer_token() {
    let app = App::new().await;
    let s = app.signup("me@example.com").await;
    let me = app
        .call(Method::GET, "/v1/me", None, Some(&token(&s, "access")))
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], "me@example.com");

    let expired = AccessTokens::new(SECRET, -120).issue(shared::domain::UserId(
        me.body["id"].as_str().unwrap().parse().unwrap(),
    ));
    for bad in [None, Some("garbage"), Some(expired.unwrap().as_str())] {
        let r = app.call(Method::GET, "/v1/me", None, bad).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "token {bad:?}");
        assert_eq!(r.content_type, "application/problem+json");
    }
    for method in [Method::PATCH, Method::DELETE] {
        assert_eq!(
            app.call(method, "/v1/me", Some(json!({})), None)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn patch_me_changes_only_what_is_sent() {
    let app = App::new().await;
    let s = app.post("/v1/auth/signup", json!({"email": "p@example.com", "password": "correct-horse-battery", "last_name": "Rao"})).await;
    let t = token(&s, "access");
    let r = app
        .call(
            Method::PATCH,
            "/v1/me",
            Some(json!({"first_name": " Asha ", "phone": "+44 20 7946 0958"})),
            Some(&t),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (r.body["first_name"].as_str(), r.body["last_name"].as_str()),
        (Some("Asha"), Some("Rao"))
    );
    assert_eq!(r.body["phone"], "+442079460958");

    let cleared = app
        .call(
            Method::PATCH,
            "/v1/me",
            Some(json!({"last_name": null})),
            Some(&t),
        )
        .await;
    assert!(cleared.body["last_name"].is_null());
    assert_eq!(cleared.body["first_name"], "Asha");

    let bad = app
        .call(
            Method::PATCH,
            "/v1/me",
            Some(json!({"first_name": "", "email": "x@y.z"})),
            Some(&t),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad), ["email"], "unknown fields are named first");
}

#[tokio::test]
async fn deleting_the_account_keeps_the_row_and_ends_every_session() {
    let app = App::new().await;
    let s = app.signup("gone@example.com").await;
    let (t, r) = (token(&s, "access"), token(&s, "refresh"));
    assert_eq!(
        app.call(Method::DELETE, "/v1/me", None, Some(&t))
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    assert_eq!(
        app.login("gone@example.com", "correct-horse-battery")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post("/v1/auth/refresh", json!({"refresh_token": r}))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call(Method::GET, "/v1/me", None, Some(&t)).await.status,
        StatusCode::UNAUTHORIZED
    );

    let kept: i64 = app
        .db
        .superuser()
        .await
        .query_one("SELECT count(*) FROM users WHERE email = 'gone@example.com' AND deleted_at IS NOT NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, 1);
    // The address is free again.
    assert_eq!(
        app.signup("gone@example.com").await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems_too() {
    let app = App::new().await;
    let r = app.call(Method::GET, "/v1/nothing", None, None).await;
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (StatusCode::NOT_FOUND, "application/problem+json")
    );
    let r = app.call(Method::PUT, "/v1/me", None, None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

/// A login from `ip`, as API Gateway reports the client's address.
fn from_ip(email: &str, password: &str, ip: &str) -> Request {
    use lambda_http::RequestExt;
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
    let mut req = Request::new(Body::Text(
        json!({"email": email, "password": password}).to_string(),
    ));
    *req.method_mut() = Method::POST;
    *req.uri_mut() = "/v1/auth/login".parse().unwrap();
    req.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    let mut ctx = ApiGatewayV2httpRequestContext::default();
    ctx.http.source_ip = Some(ip.to_owned());
    req.with_request_context(lambda_http::request::RequestContext::ApiGatewayV2(ctx))
}

#[tokio::test]
async fn after_five_wrong_passwords_the_next_login_waits_even_with_the_right_one() {
    let app = App::new().await;
    app.signup("known@example.com").await;
    for _ in 0..5 {
        assert_eq!(
            app.login("known@example.com", "incorrect-horse")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    let waiting = app
        .login("known@example.com", "correct-horse-battery")
        .await;
    assert_eq!(waiting.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(waiting.body["code"], "login_throttled");
    assert!(waiting.body["retry_at"].is_string());

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = app
        .login("Known@Example.com ", "correct-horse-battery")
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "after the wait, the right password works"
    );
    for _ in 0..5 {
        assert_eq!(
            app.login("known@example.com", "incorrect-horse")
                .await
                .status,
            StatusCode::UNAUTHORIZED,
            "a success forgave the earlier failures"
        );
    }
}

#[tokio::test]
async fn twenty_simultaneous_guesses_get_at_most_five_passwords_checked() {
    let app = App::new().await;
    app.signup("target@example.com").await;
    let guesses = (0..20).map(|i| {
        app.login(
            "target@example.com",
            if i == 19 {
                "correct-horse-battery"
            } else {
                "wrong-guess!"
            },
        )
    });
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|r| r.status != StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(checked <= 5, "{checked} passwords were checked");
    assert!(
        answers
            .iter()
            .any(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
    );
}

#[tokio::test]
async fn an_unknown_email_is_throttled_exactly_like_a_registered_one() {
    let app = App::new().await;
    app.signup("known@example.com").await;
    for email in ["known@example.com", "nobody@example.com"] {
        let statuses: Vec<u16> = futures_util::future::join_all(
            (0..6).map(|_| async { app.login(email, "incorrect-horse").await.status.as_u16() }),
        )
        .await;
        let mut sorted = statuses.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [401, 401, 401, 401, 401, 429], "{email}");
    }
}

#[tokio::test]
async fn one_address_gets_its_limit_of_auth_requests_a_minute_and_others_are_unaffected() {
    let mut app = App::new().await;
    app.state.ip_limit_per_minute = 3;
    // The limit counts per clock minute: start clear of a minute's end, so the four calls
    // below share one window (they straddled one once and the fourth was let through).
    let second = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60;
    if second >= 55 {
        tokio::time::sleep(std::time::Duration::from_secs(61 - second)).await;
    }
    let call = async |ip: &str| {
        reply_of(auth::handle(&app.state, from_ip("a@example.com", "incorrect-horse", ip)).await)
    };
    for _ in 0..3 {
        assert_eq!(call("203.0.113.7").await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, retry_after, body) = call("203.0.113.7").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["code"], "too_many_requests");
    let seconds: i64 = retry_after.unwrap().parse().unwrap();
    assert!((1..=60).contains(&seconds), "{seconds}");
    assert_eq!(
        call("198.51.100.9").await.0,
        StatusCode::UNAUTHORIZED,
        "another address is not limited"
    );
}

fn reply_of(res: lambda_http::Response<Body>) -> (StatusCode, Option<String>, Value) {
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = match res.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap(),
        _ => Value::Null,
    };
    (res.status(), retry, body)
}
