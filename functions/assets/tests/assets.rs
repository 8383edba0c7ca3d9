//! The asset library: presigned uploads, filters and cursor pages, tags and favourites,
//! soft deletion guarded by active campaigns, and presigned downloads.

use assets::State;
use lambda_http::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::testing::TestDb;
use shared::testing::api::{Reply, TestUser, reply, request, tokens};

struct App {
    state: State,
    db: TestDb,
    user: TestUser,
}

impl App {
    async fn new() -> Self {
        let db = TestDb::fresh().await;
        let user = TestUser::create(&db, "owner@example.com").await;
        let state = State {
            db: db.db(),
            tokens: tokens(),
            storage: shared::testing::storage().await,
        };
        Self { state, db, user }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.as_user(&self.user.token, method, path, body).await
    }

    async fn as_user(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Reply {
        reply(
            assets::handle(
                &self.state,
                request(method, path, body.as_ref(), Some(token)),
            )
            .await,
        )
    }

    /// A processed asset, arranged directly: (type, format, status, tags, favourite, filename).
    async fn asset(
        &self,
        kind: &str,
        format: &str,
        status: &str,
        tags: &[&str],
        favorite: bool,
        filename: &str,
    ) -> String {
        let id = uuid::Uuid::new_v4();
        let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
        let key = format!("uploads/{}/{id}/{filename}", self.user.id);
        self.db
            .superuser()
            .await
            .execute(
                "INSERT INTO creative_assets (id, user_id, asset_type, format, status, tags, is_favorite, filename, file_url)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[&id, &self.user.id.0, &kind, &format, &status, &tags, &favorite, &filename, &self.state.storage.url_of(&key)],
            )
            .await
            .unwrap();
        id.to_string()
    }
}

fn ids(r: &Reply) -> Vec<String> {
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_upload_creates_a_processing_asset_and_a_presigned_put() {
    let app = App::new().await;
    let r = app
        .call(Method::POST, "/v1/assets/uploads", Some(json!({"filename": "Diwali offer.jpg", "content_type": "image/jpeg", "size": 48213})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let asset = &r.body["asset"];
    assert_eq!(
        (
            asset["status"].as_str(),
            asset["asset_type"].as_str(),
            asset["source"].as_str()
        ),
        (Some("processing"), Some("image"), Some("uploaded"))
    );
    let upload = &r.body["upload"];
    let url = upload["url"].as_str().unwrap();
    let key = format!(
        "uploads/{}/{}/Diwali%20offer.jpg",
        app.user.id,
        asset["id"].as_str().unwrap()
    );
    assert!(
        url.contains(app.state.storage.bucket()) && url.contains(&key),
        "{url}"
    );
    assert!(url.contains("X-Amz-Signature="), "a SigV4 presigned URL");
    assert_eq!(upload["method"], "PUT");
    assert_eq!(upload["headers"]["content-type"], "image/jpeg");
    assert_eq!(
        upload["headers"]["content-length"], "48213",
        "the declared size"
    );
    let signed = url
        .split("X-Amz-SignedHeaders=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    assert!(
        signed.contains("content-length") && signed.contains("content-type"),
        "{signed}: S3 refuses another size or type"
    );
    assert_eq!(
        r.location,
        Some(format!("/v1/assets/{}", asset["id"].as_str().unwrap()))
    );
}

#[tokio::test]
async fn uploads_are_checked_against_types_names_and_limits() {
    let app = App::new().await;
    let up = async |body: Value| {
        app.call(Method::POST, "/v1/assets/uploads", Some(body))
            .await
    };
    let r = up(json!({"filename": "a.gif", "content_type": "image/gif", "size": 10})).await;
    assert_eq!(r.fields(), ["content_type"]);
    let r = up(json!({"filename": "a.mp4", "content_type": "image/png", "size": 10})).await;
    assert_eq!(r.fields(), ["filename"]);
    let r =
        up(json!({"filename": "big.png", "content_type": "image/png", "size": 31 * 1024 * 1024}))
            .await;
    assert_eq!(
        (r.status, r.fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["size".to_owned()])
    );
    let r = up(json!({"filename": "long.mp4", "content_type": "video/mp4", "size": 3i64 * 1024 * 1024 * 1024})).await;
    assert_eq!(r.status, StatusCode::CREATED, "videos may be up to 4 GB");
    let r = up(json!({"filename": "huge.mov", "content_type": "video/quicktime", "size": 5i64 * 1024 * 1024 * 1024})).await;
    assert_eq!(r.fields(), ["size"]);
    let r = up(json!({})).await;
    assert_eq!(r.fields(), ["content_type", "filename", "size"]);
}

#[tokio::test]
async fn the_library_filters_and_pages_newest_first() {
    let app = App::new().await;
    let sale_img = app
        .asset(
            "image",
            "1:1",
            "active",
            &["diwali", "sale"],
            true,
            "sale-square.png",
        )
        .await;
    let story = app
        .asset("video", "9:16", "active", &["diwali"], false, "story.mp4")
        .await;
    let wide = app
        .asset("image", "16:9", "failed", &["sale"], false, "banner.jpg")
        .await;
    let list = async |q: &str| ids(&app.call(Method::GET, &format!("/v1/assets{q}"), None).await);

    assert_eq!(
        list("").await,
        [wide.clone(), story.clone(), sale_img.clone()]
    );
    assert_eq!(list("?type=video").await, vec![story.clone()]);
    assert_eq!(list("?format=1:1").await, vec![sale_img.clone()]);
    assert_eq!(list("?status=failed").await, vec![wide.clone()]);
    assert_eq!(list("?favorite=true").await, vec![sale_img.clone()]);
    assert_eq!(
        list("?tag=diwali&tag=sale").await,
        [wide.clone(), story.clone(), sale_img.clone()],
        "any tag by default"
    );
    assert_eq!(
        list("?tag=diwali,sale&tag_match=all").await,
        vec![sale_img.clone()]
    );
    assert_eq!(list("?q=BANNER").await, vec![wide.clone()]);
    assert_eq!(
        list("?q=sale").await,
        [wide.clone(), sale_img.clone()],
        "filename or tags"
    );

    let first = app.call(Method::GET, "/v1/assets?limit=2", None).await;
    assert_eq!(ids(&first), [wide.clone(), story.clone()]);
    let next = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .call(
            Method::GET,
            &format!("/v1/assets?limit=2&cursor={next}"),
            None,
        )
        .await;
    assert_eq!(ids(&second), [sale_img]);
    assert!(second.body["next_cursor"].is_null());

    let bad = app
        .call(
            Method::GET,
            "/v1/assets?type=gif&format=2:1&favorite=maybe&tag_match=some",
            None,
        )
        .await;
    assert_eq!(bad.fields(), ["type", "format", "tag_match", "favorite"]);
}

#[tokio::test]
async fn tags_and_favourites_can_be_changed() {
    let app = App::new().await;
    let id = app
        .asset("image", "1:1", "active", &[], false, "a.png")
        .await;
    let path = format!("/v1/assets/{id}");
    let r = app
        .call(
            Method::PATCH,
            &path,
            Some(json!({"tags": [" Diwali ", "diwali", "Offer"], "is_favorite": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["tags"], json!(["diwali", "offer"]));
    assert_eq!(r.body["is_favorite"], true);
    let r = app
        .call(Method::PATCH, &path, Some(json!({"is_favorite": false})))
        .await;
    assert_eq!(
        (
            r.body["tags"].as_array().unwrap().len(),
            r.body["is_favorite"].as_bool()
        ),
        (2, Some(false))
    );
    let r = app
        .call(Method::PATCH, &path, Some(json!({"tags": [""]})))
        .await;
    assert_eq!(r.fields(), ["tags"]);
    let r = app
        .call(Method::PATCH, &path, Some(json!({"status": "active"})))
        .await;
    assert_eq!(r.fields(), ["status"], "status is not the client's to set");
}

#[tokio::test]
async fn deletion_is_soft_and_refused_while_an_active_campaign_uses_the_asset() {
    let app = App::new().await;
    let id = app
        .asset("image", "1:1", "active", &[], false, "a.png")
        .await;
    let campaign = uuid::Uuid::new_v4();
    let su = app.db.superuser().await;
    su.batch_execute(&format!(
        "INSERT INTO campaigns (id, user_id, name, purpose, daily_budget, status) VALUES ('{campaign}', '{}', 'c', 'sales', 100, 'active');
         INSERT INTO campaign_assets (campaign_id, asset_id) VALUES ('{campaign}', '{id}');",
        app.user.id
    ))
    .await
    .unwrap();
    let path = format!("/v1/assets/{id}");
    let r = app.call(Method::DELETE, &path, None).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "asset_in_use"));

    su.batch_execute(&format!(
        "UPDATE campaigns SET status = 'paused' WHERE id = '{campaign}'"
    ))
    .await
    .unwrap();
    assert_eq!(
        app.call(Method::DELETE, &path, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.call(Method::GET, &path, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(ids(&app.call(Method::GET, "/v1/assets", None).await).is_empty());
    let kept: String = su
        .query_one(
            "SELECT status FROM creative_assets WHERE id = $1::text::uuid",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, "deleted", "the row stays");
}

#[tokio::test]
async fn downloads_are_short_lived_presigned_urls_for_active_assets() {
    let app = App::new().await;
    let active = app
        .asset("image", "1:1", "active", &[], false, "logo.png")
        .await;
    let processing = app
        .asset("image", "1:1", "processing", &[], false, "soon.png")
        .await;
    let r = app
        .call(Method::GET, &format!("/v1/assets/{active}/download"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let url = r.body["url"].as_str().unwrap();
    assert!(
        url.contains("X-Amz-Expires=300") && url.contains("response-content-disposition"),
        "{url}"
    );
    assert_eq!(r.body["method"], "GET");
    let r = app
        .call(
            Method::GET,
            &format!("/v1/assets/{processing}/download"),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "asset_not_ready")
    );
}

#[tokio::test]
async fn another_user_finds_none_of_my_assets() {
    let app = App::new().await;
    let id = app
        .asset("image", "1:1", "active", &["mine"], false, "a.png")
        .await;
    let other = TestUser::create(&app.db, "other@example.com").await;
    for (method, path) in [
        (Method::GET, format!("/v1/assets/{id}")),
        (Method::PATCH, format!("/v1/assets/{id}")),
        (Method::DELETE, format!("/v1/assets/{id}")),
        (Method::GET, format!("/v1/assets/{id}/download")),
    ] {
        assert_eq!(
            app.as_user(&other.token, method.clone(), &path, Some(json!({})))
                .await
                .status,
            StatusCode::NOT_FOUND,
            "{method} {path}"
        );
    }
    assert!(
        ids(&app
            .as_user(&other.token, Method::GET, "/v1/assets?tag=mine", None)
            .await)
        .is_empty()
    );
    let r = reply(assets::handle(&app.state, request(Method::GET, "/v1/assets", None, None)).await);
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
