//! The migrate Lambda: applies pending migrations with `DATABASE_OWNER_URL` and answers
//! with the versions it applied. `infra/deploy` invokes it after every deploy. Run
//! outside Lambda (no `AWS_LAMBDA_RUNTIME_API`), it migrates once and exits, which is
//! how `infra/up` prepares the local database. With `APP_DATABASE_PASSWORD` set it also
//! sets the login password of `adpilot_app`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};
use shared::config::required;

async fn run(owner_url: &str) -> Result<Value, Error> {
    let applied = shared::db::migrate(owner_url).await?;
    tracing::info!(?applied, "migrations applied");
    // In AWS the app role's password lives in Secrets Manager; locally trust auth needs none.
    if let Ok(password) = std::env::var("APP_DATABASE_PASSWORD") {
        shared::db::set_app_password(owner_url, &password).await?;
        tracing::info!("adpilot_app password set from APP_DATABASE_PASSWORD");
    }
    Ok(json!({ "applied": applied }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let owner_url = required("DATABASE_OWNER_URL")?;
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        println!("{}", run(&owner_url).await?);
        return Ok(());
    }
    let owner_url = &owner_url;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| run(owner_url))).await
}
