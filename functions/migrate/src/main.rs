//! The migrate Lambda: applies pending migrations with `DATABASE_OWNER_URL` and answers
//! with the versions it applied. `infra/deploy` invokes it after every deploy. Run
//! outside Lambda (no `AWS_LAMBDA_RUNTIME_API`), it migrates once and exits, which is
//! how `infra/up` prepares the local database. With `APP_DATABASE_PASSWORD` and
//! `WORKER_DATABASE_PASSWORD` set it also sets the login passwords of `adpilot_app` and
//! `adpilot_worker`. In AWS the three passwords come from Secrets Manager
//! (`SECRET_ARN_DATABASE_OWNER_PASSWORD`, `SECRET_ARN_APP_DATABASE_PASSWORD`,
//! `SECRET_ARN_WORKER_DATABASE_PASSWORD`). This is the only function that holds the
//! owner's credentials.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};
use shared::config::{optional, owner_url_from_env};

async fn run(owner_url: &str) -> Result<Value, Error> {
    let applied = shared::db::migrate(owner_url).await?;
    tracing::info!(?applied, "migrations applied");
    // In AWS the roles' passwords live in Secrets Manager; locally trust auth needs none.
    for (role, var) in [
        ("adpilot_app", "APP_DATABASE_PASSWORD"),
        ("adpilot_worker", "WORKER_DATABASE_PASSWORD"),
    ] {
        if let Some(password) = optional(var) {
            shared::db::set_login_password(owner_url, role, &password).await?;
            tracing::info!(role, "login password set from {var}");
        }
    }
    Ok(json!({ "applied": applied }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    shared::secrets::load_from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed: secrets"))?;
    let owner_url = owner_url_from_env()?;
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        println!("{}", run(&owner_url).await?);
        return Ok(());
    }
    let owner_url = &owner_url;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| run(owner_url))).await
}
