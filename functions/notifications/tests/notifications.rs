//! Notifications end to end: told in the transaction of their event (once per event),
//! shown in the feed with an unread count, read one by one or all at once, never to
//! another user; preferences per category and channel (payment emails stay on); the
//! email sent through moto's SES exactly once, multipart, with the business's name, a
//! link to act and an unsubscribe link that works without a login.
#![recursion_limit = "256"]

use std::time::Duration;

use aws_lambda_events::event::sqs::SqsMessage;
use lambda_http::http::{Method, StatusCode};
use notifications::State;
use notifications::sender::{Sender, process};
use notifications::unsubscribe::Signer;
use serde_json::{Value, json};
use shared::aws::LazyClient;
use shared::aws::sqs_batch::Outcome;
use shared::domain::notification::{Category, Notice};
use shared::repo::notifications::{self as repo, Told};
use shared::testing::TestDb;
use shared::testing::api::{Reply, TestUser, context, reply, request};

const SECRET: &[u8] = b"a-test-secret-that-is-long-enough-123";

struct World {
    db: TestDb,
    state: State,
    user: TestUser,
    sender: Sender,
    from: String,
}

async fn world() -> World {
    let db = TestDb::fresh().await;
    let user = TestUser::create(&db, "owner@example.com").await;
    let aws = shared::aws::sdk_config().await;
    let ses = aws_sdk_sesv2::Client::new(&aws);
    let from = format!("notify-{}@adpilot.test", uuid::Uuid::new_v4().simple());
    ses.create_email_identity()
        .email_identity(&from)
        .send()
        .await
        .unwrap();
    let sender = Sender {
        db: db.worker(),
        ses: LazyClient::ready(ses),
        sqs: LazyClient::ready(shared::aws::sqs(&aws)),
        signer: Signer::new(SECRET),
        from: from.clone(),
        app_url: "https://app.adpilot.test".into(),
        api_url: "https://api.adpilot.test".into(),
        pause: Duration::ZERO,
    };
    let state = State {
        ctx: context(&db),
        signer: Signer::new(SECRET),
    };
    World {
        db,
        state,
        user,
        sender,
        from,
    }
}

fn notice(category: Category, key: &str) -> Notice {
    Notice {
        category,
        event_key: key.into(),
        title: "Your image is ready".into(),
        body: "The image you asked for is in your library.".into(),
        link: Some("/library/a1".into()),
    }
}

impl World {
    async fn tell(&self, n: &Notice) -> Told {
        self.state
            .ctx
            .db
            .tenant(self.user.id, async |t| {
                repo::notify(t, self.user.id.0, n).await
            })
            .await
            .unwrap()
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        reply(
            notifications::handle(
                &self.state,
                request(method, path, body.as_ref(), Some(&self.user.token)),
            )
            .await,
        )
    }

    /// The queue message `notify` wrote to the outbox for notification `id`.
    async fn message(&self, id: uuid::Uuid) -> SqsMessage {
        let payload: Value = self
            .db
            .superuser()
            .await
            .query_one("SELECT payload FROM outbox WHERE topic = 'notifications' AND payload->>'notification_id' = $1", &[&id.to_string()])
            .await
            .unwrap()
            .get(0);
        let mut m = SqsMessage::default();
        m.message_id = Some("m1".into());
        m.body = Some(payload.to_string());
        m.attributes
            .insert("ApproximateReceiveCount".into(), "1".into());
        m
    }

    /// What moto's SES sent from this world's address.
    async fn sent(&self) -> Vec<Value> {
        let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
        let data: Value = shared::testing::get(&format!("{endpoint}/moto-api/data.json"))
            .await
            .json()
            .await
            .unwrap();
        let mut out = Vec::new();
        collect_sent(&data["ses"], &self.from, &mut out);
        out
    }
}

/// Every object under `v` that is a message from `from` (moto's layout varies by version).
fn collect_sent(v: &Value, from: &str, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            if m.get("source")
                .and_then(Value::as_str)
                .is_some_and(|s| s.contains(from))
            {
                out.push(v.clone());
                return;
            }
            m.values().for_each(|x| collect_sent(x, from, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_sent(x, from, out)),
        _ => {}
    }
}

#[tokio::test]
async fn an_event_told_twice_is_one_notification_with_one_email_on_its_way() {
    let w = world().await;
    let first = w
        .tell(&notice(Category::Generation, "generation:j1:done"))
        .await;
    let Told::New {
        email: true,
        outbox: Some(_),
        ..
    } = first
    else {
        panic!("{first:?}")
    };
    assert_eq!(
        w.tell(&notice(Category::Generation, "generation:j1:done"))
            .await,
        Told::Nothing
    );
    let su = w.db.superuser().await;
    let counts: (i64, i64, i64) = {
        let r = su
            .query_one(
                "SELECT (SELECT count(*) FROM notifications), (SELECT count(*) FROM notification_emails), \
                        (SELECT count(*) FROM outbox WHERE topic = 'notifications')",
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!(counts, (1, 1, 1));
}

#[tokio::test]
async fn the_feed_counts_unread_and_marks_read_one_or_all_and_never_shows_another_users() {
    let w = world().await;
    for i in 0..3 {
        w.tell(&notice(Category::Generation, &format!("g:{i}")))
            .await;
    }
    let r = w.call(Method::GET, "/v1/notifications?limit=2", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (
            r.body["items"].as_array().unwrap().len(),
            r.body["unread_count"].as_i64()
        ),
        (2, Some(3))
    );
    assert!(r.body["next_cursor"].is_string());
    let id = r.body["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["items"][0]["category"], "generation");
    let read = w
        .call(Method::POST, &format!("/v1/notifications/{id}/read"), None)
        .await;
    assert_eq!(read.status, StatusCode::NO_CONTENT);
    let unread = w
        .call(Method::GET, "/v1/notifications?unread=true", None)
        .await;
    assert_eq!(
        (
            unread.body["items"].as_array().unwrap().len(),
            unread.body["unread_count"].as_i64()
        ),
        (2, Some(2))
    );

    let other = TestUser::create(&w.db, "other@example.com").await;
    let theirs = reply(
        notifications::handle(
            &w.state,
            request(
                Method::POST,
                &format!("/v1/notifications/{id}/read"),
                None,
                Some(&other.token),
            ),
        )
        .await,
    );
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let their_feed = reply(
        notifications::handle(
            &w.state,
            request(Method::GET, "/v1/notifications", None, Some(&other.token)),
        )
        .await,
    );
    assert_eq!(their_feed.body["unread_count"], 0);

    let all = w
        .call(Method::POST, "/v1/notifications/read-all", None)
        .await;
    assert_eq!(all.body["marked"], 2);
    let bad = w
        .call(Method::GET, "/v1/notifications?unread=maybe", None)
        .await;
    assert_eq!(bad.fields(), ["unread"]);
}

#[tokio::test]
async fn preferences_decide_the_channels_and_payment_emails_cannot_be_switched_off() {
    let w = world().await;
    let r = w
        .call(
            Method::PUT,
            "/v1/notification-preferences",
            Some(json!({"preferences": [{"category": "generation", "email": false}, {"category": "report", "in_app": false, "email": false}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let generation = r.body["preferences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["category"] == "generation")
        .unwrap()
        .clone();
    assert_eq!(
        (
            generation["in_app"].as_bool(),
            generation["email"].as_bool()
        ),
        (Some(true), Some(false))
    );

    let told = w.tell(&notice(Category::Generation, "g:1")).await;
    assert!(
        matches!(
            told,
            Told::New {
                email: false,
                outbox: None,
                ..
            }
        ),
        "{told:?}"
    );
    assert_eq!(
        w.tell(&notice(Category::Report, "r:1")).await,
        Told::Nothing,
        "both channels off"
    );

    let refused = w
        .call(
            Method::PUT,
            "/v1/notification-preferences",
            Some(json!({"preferences": [{"category": "payment", "email": false}]})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.fields(), ["preferences[0].email"]);
    let unknown = w
        .call(
            Method::PUT,
            "/v1/notification-preferences",
            Some(json!({"preferences": [{"category": "weather"}]})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_email_is_sent_once_multipart_with_the_business_name_and_a_working_unsubscribe_link() {
    let w = world().await;
    w.db.superuser()
        .await
        .execute(
            "INSERT INTO business_profiles (user_id, business_name) VALUES ($1, 'Chai Point')",
            &[&w.user.id.0],
        )
        .await
        .unwrap();
    let Told::New { id, .. } = w
        .tell(&notice(Category::Generation, "generation:j9:done"))
        .await
    else {
        panic!()
    };
    let msg = w.message(id).await;
    let (a, b) = tokio::join!(process(&w.sender, &msg), process(&w.sender, &msg));
    let outcomes = [a, b];
    assert!(outcomes.contains(&Outcome::done("sent")), "{outcomes:?}");
    assert_eq!(
        process(&w.sender, &msg).await,
        Outcome::done("already sent or given up")
    );

    let sent = w.sent().await;
    assert_eq!(sent.len(), 1, "sent once: {sent:?}");
    let text = sent[0].to_string();
    assert!(text.contains("owner@example.com"), "{text}");
    assert!(text.contains("Your image is ready"), "{text}");
    assert!(text.contains("Hi Chai Point,"), "{text}");
    assert!(
        text.contains("https://app.adpilot.test/library/a1"),
        "{text}"
    );
    assert!(
        text.contains("<!doctype html>"),
        "moto keeps the HTML part (the text part: email::tests): {text}"
    );

    let su = w.db.superuser().await;
    let row = su
        .query_one("SELECT status, attempts, provider_message_id IS NOT NULL FROM notification_emails WHERE notification_id = $1", &[&id])
        .await
        .unwrap();
    assert_eq!(
        (
            row.get::<_, String>(0),
            row.get::<_, i32>(1),
            row.get::<_, bool>(2)
        ),
        ("sent".into(), 1, true)
    );

    // The unsubscribe link works without a login and turns this category's email off.
    let token = Signer::new(SECRET).token(w.user.id.0, Category::Generation);
    assert!(text.contains(&token), "the email carries the link: {text}");
    let r = reply(
        notifications::handle(
            &w.state,
            request(
                Method::GET,
                &format!("/v1/notifications/unsubscribe?token={token}"),
                None,
                None,
            ),
        )
        .await,
    );
    assert_eq!(
        (r.status, r.body["unsubscribed"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let told = w
        .tell(&notice(Category::Generation, "generation:j10:done"))
        .await;
    assert!(matches!(told, Told::New { email: false, .. }), "{told:?}");
    let forged = reply(
        notifications::handle(
            &w.state,
            request(
                Method::GET,
                "/v1/notifications/unsubscribe?token=AAAA",
                None,
                None,
            ),
        )
        .await,
    );
    assert_eq!(forged.fields(), ["token"]);
    let payment = Signer::new(SECRET).token(w.user.id.0, Category::Payment);
    let kept = reply(
        notifications::handle(
            &w.state,
            request(
                Method::POST,
                &format!("/v1/notifications/unsubscribe?token={payment}"),
                None,
                None,
            ),
        )
        .await,
    );
    assert_eq!(kept.body["unsubscribed"], false, "payment emails stay on");
}

#[tokio::test]
async fn an_address_ses_refuses_is_failed_for_good_and_not_retried() {
    let mut w = world().await;
    w.sender.from = "never-verified@nowhere.test".into();
    let Told::New { id, .. } = w
        .tell(&notice(Category::Payment, "payment:s1:past_due"))
        .await
    else {
        panic!()
    };
    let msg = w.message(id).await;
    assert_eq!(process(&w.sender, &msg).await, Outcome::done("refused"));
    assert_eq!(
        process(&w.sender, &msg).await,
        Outcome::done("already sent or given up")
    );
    let row =
        w.db.superuser()
            .await
            .query_one(
                "SELECT status, last_error FROM notification_emails WHERE notification_id = $1",
                &[&id],
            )
            .await
            .unwrap();
    assert_eq!(row.get::<_, String>(0), "failed");
    assert!(row.get::<_, Option<String>>(1).is_some());
}
