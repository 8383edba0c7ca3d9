//! Test support: every test gets its own fresh database, cloned from a template that
//! was migrated once (per migration checksum) as the owner role, exactly as deploys do.
//! The Postgres server is `TEST_PG_HOST`:`TEST_PG_PORT` (default 127.0.0.1:5432) with
//! a superuser `TEST_PG_SUPERUSER` (default postgres) for creating databases.

use std::time::Duration;

use tokio_postgres::{Client, NoTls};

use crate::config::DbConfig;
use crate::db::{Db, WorkerDb, migrate, migration_checksum};

/// The role that owns the schema and runs migrations.
pub const OWNER_ROLE: &str = "adpilot_owner";
/// The role the HTTP functions connect as (row-level security applies).
pub const APP_ROLE: &str = "adpilot_app";
/// The cross-tenant role webhooks and workers connect as.
pub const WORKER_ROLE: &str = crate::db::WORKER_ROLE;
const TEMPLATE_LOCK: i64 = 0x0AD7_E571;

/// A fresh, migrated database for one test.
pub struct TestDb {
    /// The database's name (`adpilot_test_<uuid>`).
    pub name: String,
}

fn server() -> (String, String, String) {
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    (
        var("TEST_PG_HOST", "127.0.0.1"),
        var("TEST_PG_PORT", "5432"),
        var("TEST_PG_SUPERUSER", "postgres"),
    )
}

/// A connection URL to `db` as `role` on the test server.
pub fn url(role: &str, db: &str) -> String {
    let (host, port, _) = server();
    format!("postgres://{role}@{host}:{port}/{db}")
}

/// A client for `url`, its connection driven on the runtime.
pub async fn connect(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("connect to test Postgres");
    tokio::spawn(conn);
    client
}

async fn superuser() -> Client {
    let (_, _, su) = server();
    connect(&url(&su, "postgres")).await
}

impl TestDb {
    /// A new database cloned from the migrated template.
    pub async fn fresh() -> Self {
        crate::telemetry::init_for_tests();
        let admin = superuser().await;
        let template = ensure_template(&admin).await;
        let name = format!("adpilot_test_{}", uuid::Uuid::new_v4().simple());
        let create = format!("CREATE DATABASE {name} TEMPLATE {template} OWNER {OWNER_ROLE}");
        for attempt in 0.. {
            match admin.batch_execute(&create).await {
                Ok(()) => break,
                // Another test may still be disconnecting from the template.
                Err(e)
                    if attempt < 50 && e.to_string().contains("being accessed by other users") =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("create test database: {e}"),
            }
        }
        Self { name }
    }

    /// An empty database owned by the owner role, for testing the migrations themselves.
    pub async fn empty() -> Self {
        crate::telemetry::init_for_tests();
        let admin = superuser().await;
        bootstrap_owner(&admin).await;
        let name = format!("adpilot_test_{}", uuid::Uuid::new_v4().simple());
        admin
            .batch_execute(&format!("CREATE DATABASE {name} OWNER {OWNER_ROLE}"))
            .await
            .unwrap();
        Self { name }
    }

    /// This database as the app role.
    pub fn app_url(&self) -> String {
        url(APP_ROLE, &self.name)
    }

    /// This database as the owner role.
    pub fn owner_url(&self) -> String {
        url(OWNER_ROLE, &self.name)
    }

    /// This database as the worker role.
    pub fn worker_url(&self) -> String {
        url(WORKER_ROLE, &self.name)
    }

    /// The app role's pool, as the functions build it.
    pub fn db(&self) -> Db {
        Db::connect(&db_config(self.app_url())).expect("app pool")
    }

    /// The app role's pool with `size` connections (for concurrency tests).
    pub fn db_with_pool(&self, size: usize) -> Db {
        let mut cfg = db_config(self.app_url());
        cfg.pool_size = size;
        Db::connect(&cfg).expect("app pool")
    }

    /// The worker pool, logged in as adpilot_worker as the functions do.
    pub fn worker(&self) -> WorkerDb {
        WorkerDb::connect(&db_config(self.worker_url())).expect("worker pool")
    }

    /// A superuser connection to this database, for arranging and inspecting state
    /// the way an operator would.
    pub async fn superuser(&self) -> Client {
        let (_, _, su) = server();
        connect(&url(&su, &self.name)).await
    }

    /// What `user` was told, oldest first: (category, title, whether an email is on its
    /// way), as an operator would read it.
    pub async fn told(&self, user: uuid::Uuid) -> Vec<(String, String, bool)> {
        self.superuser()
            .await
            .query(
                "SELECT n.category, n.title, e.notification_id IS NOT NULL FROM notifications n \
                 LEFT JOIN notification_emails e ON e.notification_id = n.id \
                 WHERE n.user_id = $1 ORDER BY n.created_at, n.id",
                &[&user],
            )
            .await
            .expect("notifications")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    }

    /// A connection as the app role with nothing set, for probing RLS directly.
    pub async fn app_client(&self) -> Client {
        connect(&self.app_url()).await
    }
}

/// Creates the owner role if needed (as a deploy's bootstrap would), then the
/// template database for the current migrations, once across all test processes.
async fn ensure_template(admin: &Client) -> String {
    let template = format!("adpilot_test_template_{}", migration_checksum());
    admin
        .execute("SELECT pg_advisory_lock($1)", &[&TEMPLATE_LOCK])
        .await
        .unwrap();
    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&template])
        .await
        .unwrap()
        .is_some();
    if !exists {
        bootstrap_owner(admin).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {template} OWNER {OWNER_ROLE}"))
            .await
            .unwrap();
        if let Err(e) = migrate(&url(OWNER_ROLE, &template)).await {
            admin
                .batch_execute(&format!("DROP DATABASE {template}"))
                .await
                .unwrap();
            panic!("migrations failed: {e}");
        }
    }
    admin
        .execute("SELECT pg_advisory_unlock($1)", &[&TEMPLATE_LOCK])
        .await
        .unwrap();
    template
}

/// Creates the owner role (and what it needs to create the others) on a new server.
pub async fn bootstrap_owner(admin: &Client) {
    admin
        .batch_execute(&format!(
            "DO $$ BEGIN
                 IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{OWNER_ROLE}') THEN
                     CREATE ROLE {OWNER_ROLE} LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS;
                 END IF;
             END $$"
        ))
        .await
        .unwrap();
}

/// Pool settings for tests.
pub fn db_config(database_url: String) -> DbConfig {
    DbConfig {
        database_url,
        password: None,
        pool_size: 2,
        statement_timeout_ms: 10_000,
    }
}

/// Calling a function's handler the way API Gateway would, and reading its answer.
pub mod api {
    use lambda_http::http::{Method, StatusCode};
    use lambda_http::{Body, Request, Response};
    use serde_json::Value;

    use crate::auth::AccessTokens;
    use crate::domain::UserId;

    use super::TestDb;

    /// The access-token secret of every test.
    pub const SECRET: &[u8] = b"test-secret-test-secret-test-secret!";

    /// The token verifier tests sign with.
    pub fn tokens() -> AccessTokens {
        AccessTokens::new(SECRET, 900)
    }

    /// A token cipher with a fixed test key (`k1`).
    pub fn cipher() -> crate::crypto::TokenCipher {
        crate::crypto::TokenCipher::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
            .expect("test key")
    }

    /// What the HTTP functions are built with, on this test's database.
    pub fn context(db: &TestDb) -> crate::http::Context {
        crate::http::Context {
            db: db.db(),
            tokens: tokens(),
        }
    }

    /// A signed-up user, created the way signup does (account + trial subscription).
    pub struct TestUser {
        /// The user's id.
        pub id: UserId,
        /// A valid access token for the user.
        pub token: String,
    }

    impl TestUser {
        /// Creates the user `email` with a 14-day starter trial.
        pub async fn create(db: &TestDb, email: &str) -> Self {
            let id = UserId::new();
            db.superuser()
                .await
                .batch_execute(&format!(
                    "INSERT INTO users (id, email, password_hash) VALUES ('{id}', '{email}', 'x');
                     INSERT INTO subscriptions (user_id, tier, price, status, current_period_start,
                                                current_period_end, monthly_ai_credits_limit)
                     VALUES ('{id}', 'starter', 0, 'trial', now() - interval '1 day', now() + interval '13 days', 50);"
                ))
                .await
                .expect("create test user");
            Self {
                id,
                token: tokens().issue(id).expect("token"),
            }
        }
    }

    /// A handler's response, read for assertions.
    pub struct Reply {
        /// The status.
        pub status: StatusCode,
        /// The `content-type` header.
        pub content_type: String,
        /// The `location` header, for creations.
        pub location: Option<String>,
        /// The `etag` header.
        pub etag: Option<String>,
        /// The `retry-after` header.
        pub retry_after: Option<String>,
        /// The JSON body (null when empty).
        pub body: Value,
    }

    impl Reply {
        /// The names of the invalid fields of a validation problem.
        pub fn fields(&self) -> Vec<String> {
            self.body["errors"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e["field"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        }

        /// The problem's `code`.
        pub fn code(&self) -> &str {
            self.body["code"].as_str().unwrap_or("")
        }

        /// The body's `id` (panics when there is none).
        pub fn id(&self) -> String {
            self.body["id"].as_str().expect("an id").to_owned()
        }
    }

    /// A request as API Gateway hands it to a handler, with a JSON body and a bearer token.
    pub fn request(
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Request {
        let mut req = Request::new(body.map_or(Body::Empty, |b| Body::Text(b.to_string())));
        *req.method_mut() = method;
        *req.uri_mut() = path.parse().expect("a valid path");
        req.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        if let Some(t) = token {
            req.headers_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        req
    }

    /// Reads a handler's response.
    pub fn reply(res: Response<Body>) -> Reply {
        let header = |name: &str| {
            res.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let body = match res.body() {
            Body::Text(t) => serde_json::from_str(t).expect("a JSON body"),
            Body::Binary(b) => serde_json::from_slice(b).expect("a JSON body"),
            _ => Value::Null,
        };
        Reply {
            status: res.status(),
            content_type: header("content-type").unwrap_or_default(),
            location: header("location"),
            etag: header("etag"),
            retry_after: header("retry-after"),
            body,
        }
    }
}

#[cfg(feature = "aws")]
async fn emulator_config() -> aws_config::SdkConfig {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: run the tests through infra/test, which starts the local AWS emulator"
    );
    crate::aws::sdk_config().await
}

/// SQS through the local emulator: a fresh queue named `{prefix}-{random}` per test, the
/// client that reaches it, and its URL.
#[cfg(feature = "aws")]
pub async fn queue(prefix: &str) -> (aws_sdk_sqs::Client, String) {
    let sqs = crate::aws::sqs(&emulator_config().await);
    let url = sqs
        .create_queue()
        .queue_name(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()))
        .send()
        .await
        .expect("create test queue in the emulator")
        .queue_url
        .expect("the new queue's URL");
    (sqs, url)
}

/// The bodies (as JSON) of up to 10 messages waiting in the queue at `url`.
#[cfg(feature = "aws")]
pub async fn received(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<serde_json::Value> {
    let got = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive from the emulator");
    got.messages()
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap_or_default()).expect("a JSON message body"))
        .collect()
}

/// S3 through the local emulator (`AWS_ENDPOINT_URL`, started by `infra/test`): a fresh
/// bucket per test, through the same SDK client production uses.
#[cfg(feature = "aws")]
pub async fn storage() -> crate::aws::storage::Storage {
    let config = emulator_config().await;
    let client = crate::aws::s3(&config);
    let bucket = format!("adpilot-test-{}", uuid::Uuid::new_v4().simple());
    client
        .create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    config.region().map(|r| r.as_ref()).unwrap_or("ap-south-1"),
                ))
                .build(),
        )
        .send()
        .await
        .expect("create test bucket in the emulator");
    crate::aws::storage::Storage::new(client, bucket)
}

/// A GET of `url` (a presigned download, the emulator's own API) with the platform's TLS
/// provider installed, as every `reqwest` client needs.
pub async fn get(url: &str) -> reqwest::Response {
    crate::tls::install_process_default();
    reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}
