//! Secrets come from Secrets Manager (the local emulator here, through the SDK client
//! production uses): a whole string or one key of a JSON secret, each secret fetched
//! once; a secret that cannot be read fails the init naming what it was for.

use shared::config::ConfigError;
use shared::secrets::{fetch, wanted};

async fn client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&shared::tls::aws_sdk_config().await)
}

async fn create(c: &aws_sdk_secretsmanager::Client, name: &str, value: &str) -> String {
    c.create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("create secret in the emulator")
        .arn
        .expect("an arn")
}

#[tokio::test]
async fn named_values_come_from_their_secrets_whole_or_by_json_key() {
    let c = client().await;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let jwt = create(
        &c,
        &format!("jwt-{run}"),
        "a-jwt-secret-of-at-least-32-bytes!!",
    )
    .await;
    let app = create(
        &c,
        &format!("app-{run}"),
        r#"{"username": "adpilot_app", "password": "s3cr3t p@ss"}"#,
    )
    .await;
    let vars = [
        ("SECRET_ARN_JWT_SECRET".to_owned(), jwt),
        (
            "SECRET_ARN_DATABASE_PASSWORD".to_owned(),
            format!("{app}#password"),
        ),
        (
            "SECRET_ARN_DATABASE_USER".to_owned(),
            format!("{app}#username"),
        ),
    ];
    let got = fetch(&c, &wanted(vars.into_iter())).await.unwrap();
    assert_eq!(got["JWT_SECRET"], "a-jwt-secret-of-at-least-32-bytes!!");
    assert_eq!(got["DATABASE_PASSWORD"], "s3cr3t p@ss");
    assert_eq!(got["DATABASE_USER"], "adpilot_app");
}

#[tokio::test]
async fn a_missing_secret_or_key_fails_naming_what_it_was_for() {
    let c = client().await;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let plain = create(&c, &format!("plain-{run}"), "not json").await;
    for (var, value, name) in [
        (
            "SECRET_ARN_JWT_SECRET",
            format!("no-such-secret-{run}"),
            "JWT_SECRET",
        ),
        (
            "SECRET_ARN_DATABASE_PASSWORD",
            format!("{plain}#password"),
            "DATABASE_PASSWORD",
        ),
    ] {
        let err = fetch(&c, &wanted([(var.to_owned(), value)].into_iter()))
            .await
            .unwrap_err();
        match err {
            ConfigError::Secret { name: got, .. } => assert_eq!(got, name),
            other => panic!("{other}"),
        }
    }
}
