//! Campaigns: validation of every field, the objective a purpose implies, the status
//! lifecycle, soft deletion, cursor pages, and the assets a campaign uses.

use campaigns::State;
use lambda_http::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::testing::TestDb;
use shared::testing::api::{Reply, TestUser, cipher, reply, request, tokens};

struct App {
    state: State,
    db: TestDb,
    user: TestUser,
}

impl App {
    async fn new() -> Self {
        let db = TestDb::fresh().await;
        let user = TestUser::create(&db, "owner@example.com").await;
        Self {
            state: State {
                db: db.db(),
                tokens: tokens(),
                // Nothing here reaches Meta: launching is tested in launch.rs.
                graph: shared::meta::Graph::new("http://127.0.0.1:9/v25.0", "1", "secret"),
                cipher: cipher(),
                storage: shared::testing::storage().await,
                relay: shared::aws::relay::Relay::new(
                    shared::aws::sqs(&shared::aws::sdk_config().await),
                    Default::default(),
                ),
            },
            db,
            user,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.as_user(&self.user.token, method, path, body).await
    }

    async fn as_user(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Reply {
        reply(
            campaigns::handle(
                &self.state,
                request(method, path, body.as_ref(), Some(token)),
            )
            .await,
        )
    }

    async fn create(&self, body: Value) -> Reply {
        self.call(Method::POST, "/v1/campaigns", Some(body)).await
    }

    async fn draft(&self, name: &str) -> String {
        let r = self
            .create(json!({"name": name, "purpose": "sales", "daily_budget": "500.00"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.id()
    }

    /// An asset of this user in the given status, arranged directly in the database.
    async fn asset(&self, status: &str) -> String {
        let id = uuid::Uuid::new_v4();
        self.db
            .superuser()
            .await
            .batch_execute(&format!(
                "INSERT INTO creative_assets (id, user_id, asset_type, status, file_url, format)
                 VALUES ('{id}', '{}', 'image', '{status}', 's3://b/k', '1:1')",
                self.user.id
            ))
            .await
            .unwrap();
        id.to_string()
    }

    async fn usage_count(&self, asset: &str) -> i32 {
        self.db
            .superuser()
            .await
            .query_one(
                "SELECT usage_count FROM creative_assets WHERE id = $1::text::uuid",
                &[&asset],
            )
            .await
            .unwrap()
            .get(0)
    }
}

fn audience() -> Value {
    json!({"age_min": 21, "age_max": 45, "genders": [2],
           "geo_locations": {"countries": ["IN"], "cities": [{"key": "1035921", "radius": 25, "distance_unit": "kilometer"}]},
           "interests": [{"id": "6003139266461", "name": "Yoga"}]})
}

#[tokio::test]
async fn a_new_campaign_is_a_draft_with_the_objective_its_purpose_implies() {
    let app = App::new().await;
    let r = app
        .create(json!({"name": "Diwali leads", "purpose": "lead_generation", "daily_budget": "750.5",
                       "start_date": "2026-12-01", "end_date": "2026-12-31", "target_audience": audience()}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["status"], "draft");
    assert_eq!(r.body["objective"], "OUTCOME_LEADS");
    assert_eq!(r.body["currency"], "INR");
    assert_eq!(r.body["daily_budget"], "750.50");
    assert_eq!(
        r.body["target_audience"]["geo_locations"]["countries"][0],
        "IN"
    );
    assert_eq!(r.location, Some(format!("/v1/campaigns/{}", r.id())));

    let chosen = app.create(json!({"name": "x", "purpose": "sales", "objective": "OUTCOME_TRAFFIC", "total_budget": "9000"})).await;
    assert_eq!(chosen.body["objective"], "OUTCOME_TRAFFIC");
}

#[tokio::test]
async fn campaign_fields_are_validated_and_named() {
    let app = App::new().await;
    let r = app.create(json!({"purpose": "world_domination"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["purpose"]);

    let r = app.create(json!({"purpose": "sales"})).await;
    assert_eq!(
        r.fields(),
        ["name", "daily_budget"],
        "a name and at least one budget are required"
    );

    let r = app
        .create(
            json!({"name": "x", "purpose": "sales", "daily_budget": "-5", "total_budget": "1.234",
                       "currency": "XYZ", "start_date": "2026-12-10", "end_date": "2026-12-01"}),
        )
        .await;
    assert_eq!(
        r.fields(),
        ["currency", "daily_budget", "total_budget", "end_date"]
    );

    let r = app
        .create(
            json!({"name": "x", "purpose": "sales", "daily_budget": "100",
                       "target_audience": {"age_min": 10, "genders": [1, 2], "geo_locations": {}}}),
        )
        .await;
    assert_eq!(
        r.fields(),
        ["target_audience.age_min", "target_audience.geo_locations"]
    );

    let r = app
        .create(json!({"name": "x", "purpose": "sales", "daily_budget": 100}))
        .await;
    assert_eq!(r.fields(), ["daily_budget"], "money is a decimal string");
}

#[tokio::test]
async fn status_changes_follow_the_lifecycle() {
    let app = App::new().await;
    let id = app.draft("Lifecycle").await;
    let path = format!("/v1/campaigns/{id}");
    let to = async |status: &str| {
        app.call(Method::PATCH, &path, Some(json!({"status": status})))
            .await
    };

    // Only launching makes a campaign active (launch.rs covers the live edges).
    let skip = to("active").await;
    assert_eq!(
        (skip.status, skip.code()),
        (StatusCode::CONFLICT, "launch_required")
    );
    assert_eq!(to("review").await.body["status"], "review");
    assert_eq!(to("active").await.code(), "launch_required");
    assert_eq!(to("paused").await.code(), "invalid_status_transition");
    assert_eq!(to("completed").await.code(), "invalid_status_transition");
    assert_eq!(to("cancelled").await.body["status"], "cancelled");
    assert_eq!(
        to("draft").await.status,
        StatusCode::CONFLICT,
        "cancelled is final"
    );
}

#[tokio::test]
async fn patch_changes_only_what_is_sent_and_keeps_the_campaign_valid() {
    let app = App::new().await;
    let id = app.draft("Patch me").await;
    let path = format!("/v1/campaigns/{id}");
    let r = app
        .call(
            Method::PATCH,
            &path,
            Some(json!({"purpose": "app_installs", "total_budget": "20000"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["objective"], "OUTCOME_APP_PROMOTION",
        "a new purpose brings its objective"
    );
    assert_eq!(
        (
            r.body["daily_budget"].as_str(),
            r.body["total_budget"].as_str()
        ),
        (Some("500.00"), Some("20000.00"))
    );

    let r = app
        .call(Method::PATCH, &path, Some(json!({"daily_budget": null})))
        .await;
    assert!(r.body["daily_budget"].is_null());
    let r = app
        .call(Method::PATCH, &path, Some(json!({"total_budget": null})))
        .await;
    assert_eq!(
        r.fields(),
        ["daily_budget"],
        "the last budget cannot be removed"
    );
    let r = app
        .call(
            Method::PATCH,
            &path,
            Some(json!({"name": null, "end_date": "2020-01-01", "start_date": "2020-02-01"})),
        )
        .await;
    assert_eq!(r.fields(), ["name", "end_date"]);
}

#[tokio::test]
async fn campaigns_list_newest_first_in_cursor_pages_with_filters() {
    let app = App::new().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.draft(&format!("c{i}")).await);
    }
    let first = app.call(Method::GET, "/v1/campaigns?limit=2", None).await;
    let names: Vec<_> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["c4", "c3"]);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .call(
            Method::GET,
            &format!("/v1/campaigns?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    let names: Vec<_> = second.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["c2", "c1"]);

    app.call(
        Method::PATCH,
        &format!("/v1/campaigns/{}", ids[0]),
        Some(json!({"status": "review"})),
    )
    .await;
    let review = app
        .call(Method::GET, "/v1/campaigns?status=review", None)
        .await;
    assert_eq!(review.body["items"].as_array().unwrap().len(), 1);
    assert!(review.body["next_cursor"].is_null());

    let bad = app
        .call(
            Method::GET,
            "/v1/campaigns?limit=500&status=lost&cursor=zzz&sort=name",
            None,
        )
        .await;
    assert_eq!(bad.fields(), ["sort", "status", "limit", "cursor"]);
}

#[tokio::test]
async fn deleting_hides_a_campaign_but_not_while_it_is_active() {
    let app = App::new().await;
    let id = app.draft("Delete me").await;
    let path = format!("/v1/campaigns/{id}");
    let set = async |status: &str| {
        app.db
            .superuser()
            .await
            .execute(
                &format!("UPDATE campaigns SET status = '{status}' WHERE id = '{id}'"),
                &[],
            )
            .await
            .unwrap();
    };
    set("active").await;
    let refused = app.call(Method::DELETE, &path, None).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::CONFLICT, "campaign_active")
    );
    set("paused").await;
    assert_eq!(
        app.call(Method::DELETE, &path, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.call(Method::GET, &path, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        app.call(Method::GET, "/v1/campaigns", None).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn only_my_active_assets_join_a_campaign_and_usage_counts_follow() {
    let app = App::new().await;
    let campaign = app.draft("With assets").await;
    let active = app.asset("active").await;
    let processing = app.asset("processing").await;
    let link = |a: &str| format!("/v1/campaigns/{campaign}/assets/{a}");

    let r = app
        .call(
            Method::PUT,
            &link(&active),
            Some(json!({"asset_role": "variation"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["asset_role"], "variation");
    assert_eq!(r.body["asset"]["id"], active.as_str());
    let again = app
        .call(Method::PUT, &link(&active), Some(json!({"role": "test"})))
        .await;
    assert_eq!(
        (again.status, again.body["asset_role"].as_str()),
        (StatusCode::OK, Some("test"))
    );
    assert_eq!(
        app.usage_count(&active).await,
        1,
        "re-linking does not count twice"
    );

    let not_ready = app
        .call(Method::PUT, &link(&processing), Some(json!({})))
        .await;
    assert_eq!(
        (not_ready.status, not_ready.code()),
        (StatusCode::CONFLICT, "asset_not_active")
    );
    let bad_role = app
        .call(
            Method::PUT,
            &link(&active),
            Some(json!({"asset_role": "hero"})),
        )
        .await;
    assert_eq!(bad_role.fields(), ["asset_role"]);

    let list = app
        .call(
            Method::GET,
            &format!("/v1/campaigns/{campaign}/assets"),
            None,
        )
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.call(Method::GET, &link(&active), None).await.status,
        StatusCode::OK
    );

    assert_eq!(
        app.call(Method::DELETE, &link(&active), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.usage_count(&active).await, 0);
    assert_eq!(
        app.call(Method::DELETE, &link(&active), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(Method::GET, &link(&active), None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn another_users_campaigns_and_assets_are_not_found() {
    let app = App::new().await;
    let mine = app.draft("Mine").await;
    let my_asset = app.asset("active").await;
    let other = TestUser::create(&app.db, "other@example.com").await;
    let theirs = {
        let r = app
            .as_user(
                &other.token,
                Method::POST,
                "/v1/campaigns",
                Some(json!({"name": "T", "purpose": "sales", "daily_budget": "1"})),
            )
            .await;
        r.id()
    };
    for (method, path) in [
        (Method::GET, format!("/v1/campaigns/{mine}")),
        (Method::PATCH, format!("/v1/campaigns/{mine}")),
        (Method::DELETE, format!("/v1/campaigns/{mine}")),
        (Method::GET, format!("/v1/campaigns/{mine}/assets")),
        (
            Method::PUT,
            format!("/v1/campaigns/{theirs}/assets/{my_asset}"),
        ),
    ] {
        let r = app
            .as_user(&other.token, method.clone(), &path, Some(json!({})))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    // Their campaign with my asset: the asset is not theirs to use.
    let r = app
        .as_user(
            &other.token,
            Method::PUT,
            &format!("/v1/campaigns/{theirs}/assets/{my_asset}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let listed = app
        .as_user(&other.token, Method::GET, "/v1/campaigns", None)
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn unauthenticated_and_unknown_requests_get_problems() {
    let app = App::new().await;
    let r = reply(
        campaigns::handle(
            &app.state,
            request(Method::GET, "/v1/campaigns", None, None),
        )
        .await,
    );
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (StatusCode::UNAUTHORIZED, "application/problem+json")
    );
    assert_eq!(
        app.call(Method::GET, "/v1/campaigns/not-a-uuid", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(Method::PUT, "/v1/campaigns", None).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn a_deleted_accounts_token_stops_working_at_once() {
    let app = App::new().await;
    app.draft("Before").await;
    app.db
        .superuser()
        .await
        .execute(
            "UPDATE users SET deleted_at = now(), is_active = false WHERE id = $1",
            &[&app.user.id.0],
        )
        .await
        .unwrap();
    let r = app.call(Method::GET, "/v1/campaigns", None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "account_inactive")
    );
}
