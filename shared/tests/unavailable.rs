//! When the database cannot serve a request (down, restarting, out of connections), the
//! client gets 503 with `Retry-After`, never a 500, and the function recovers by itself
//! once the database is back.

use lambda_http::http::{Method, StatusCode};
use shared::db::Db;
use shared::error::AppError;
use shared::testing::api::{reply, request};
use shared::testing::{TestDb, db_config};

/// A read any request might make: a login looking up an account.
async fn count_users(db: &Db) -> Result<usize, AppError> {
    db.public(async |p| {
        let email = shared::domain::Email::parse("nobody@example.com").expect("an email");
        Ok(shared::repo::users::find_login(p, &email)
            .await?
            .iter()
            .count())
    })
    .await
}

async fn served(db: &Db) -> shared::testing::api::Reply {
    let req = request(Method::GET, "/v1/probe", None, None);
    reply(
        shared::http::serve(req, async |_| {
            count_users(db).await?;
            shared::http::json(StatusCode::OK, &serde_json::json!({"ok": true}))
        })
        .await,
    )
}

#[tokio::test]
async fn a_database_that_cannot_be_reached_answers_503_with_retry_after() {
    let db = Db::connect(&db_config(
        "postgres://adpilot_app@127.0.0.1:1/adpilot".into(),
    ))
    .unwrap();
    let r = served(&db).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.code(), "temporarily_unavailable");
    assert_eq!(r.retry_after.as_deref(), Some("5"));
}

#[tokio::test]
async fn connections_killed_by_a_restart_are_replaced_without_restarting_the_function() {
    let test = TestDb::fresh().await;
    let db = test.db_with_pool(1);
    assert_eq!(count_users(&db).await.unwrap(), 0);
    test.superuser()
        .await
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND usename = 'adpilot_app'",
            &[&test.name],
        )
        .await
        .unwrap();
    assert_eq!(
        served(&db).await.status,
        StatusCode::OK,
        "the dead connection was replaced"
    );
}

#[tokio::test]
async fn timeouts_and_lost_connections_are_unavailable_but_a_broken_query_is_internal() {
    let test = TestDb::fresh().await;
    let su = test.superuser().await;
    let timed_out = su
        .batch_execute("SET statement_timeout = '50ms'; SELECT pg_sleep(1)")
        .await
        .unwrap_err();
    assert!(matches!(
        AppError::from(timed_out),
        AppError::Unavailable { .. }
    ));
    let broken = su
        .batch_execute("RESET statement_timeout; SELECT 1/0")
        .await
        .unwrap_err();
    assert!(matches!(AppError::from(broken), AppError::Internal(_)));
    let victim = test.app_client().await;
    su.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND usename = 'adpilot_app'",
        &[&test.name],
    )
    .await
    .unwrap();
    let lost = victim.batch_execute("SELECT 1").await.unwrap_err();
    assert!(matches!(AppError::from(lost), AppError::Unavailable { .. }));
}
