//! What happens when an upload lands: the real bytes decide. Real media (made with
//! Pillow and FFmpeg, see infra/tests/media.py) in the local S3 emulator, a real S3
//! event, and the asset row in Postgres.

use asset_uploaded::State;
use aws_lambda_events::event::s3::S3Event;
use serde_json::Value;
use shared::aws::storage::Storage;
use shared::testing::TestDb;
use shared::testing::api::TestUser;

struct App {
    state: State,
    db: TestDb,
    user: TestUser,
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

/// The real S3 event shape, with the key URL-encoded as S3 sends it.
fn event(bucket: &str, key: &str) -> S3Event {
    let encoded: String = key
        .split('/')
        .map(|part| {
            percent_encoding::utf8_percent_encode(part, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("%2F")
        .replace("%20", "+")
        .replace("%2E", ".");
    let raw = std::fs::read_to_string(format!(
        "{}/tests/fixtures/s3-put-event.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    serde_json::from_str(
        &raw.replace("BUCKET", bucket)
            .replace("\"KEY\"", &format!("\"{encoded}\"")),
    )
    .unwrap()
}

impl App {
    async fn new() -> Self {
        let db = TestDb::fresh().await;
        let user = TestUser::create(&db, "owner@example.com").await;
        let storage: Storage = shared::testing::storage().await;
        Self {
            state: State {
                db: db.db(),
                storage,
            },
            db,
            user,
        }
    }

    /// An upload as the assets function leaves it: a `processing` row claiming
    /// `claimed`, and the bytes at its key.
    async fn upload(&self, filename: &str, claimed: &str, bytes: Vec<u8>) -> (uuid::Uuid, String) {
        let id = uuid::Uuid::new_v4();
        let key = format!("uploads/{}/{id}/{filename}", self.user.id);
        self.state.storage.put(&key, claimed, bytes).await.unwrap();
        let asset_type = if claimed.starts_with("video") {
            "video"
        } else {
            "image"
        };
        self.db
            .superuser()
            .await
            .execute(
                "INSERT INTO creative_assets (id, user_id, asset_type, status, filename, content_type, file_url)
                 VALUES ($1, $2, $3, 'processing', $4, $5, $6)",
                &[&id, &self.user.id.0, &asset_type, &filename, &claimed, &self.state.storage.url_of(&key)],
            )
            .await
            .unwrap();
        (id, key)
    }

    async fn deliver(&self, key: &str) {
        asset_uploaded::handle(&self.state, event(self.state.storage.bucket(), key))
            .await
            .unwrap();
    }

    async fn row(&self, id: uuid::Uuid) -> Value {
        self.db
            .superuser()
            .await
            .query_one(
                "SELECT jsonb_build_object('status', status, 'format', format, 'dimensions', dimensions,
                        'file_size', file_size, 'content_type', content_type, 'asset_type', asset_type,
                        'failure_reason', failure_reason, 'duration', duration_seconds, 'updated_at', updated_at)
                 FROM creative_assets WHERE id = $1",
                &[&id],
            )
            .await
            .unwrap()
            .get(0)
    }
}

async fn processed(filename: &str, claimed: &str, fixture_name: &str) -> Value {
    let app = App::new().await;
    let bytes = fixture(fixture_name);
    let (id, key) = app.upload(filename, claimed, bytes).await;
    app.deliver(&key).await;
    app.row(id).await
}

#[tokio::test]
async fn a_jpeg_becomes_active_with_its_dimensions_and_format() {
    let row = processed("Diwali offer.jpg", "image/jpeg", "portrait.jpg").await;
    assert_eq!(row["status"], "active");
    assert_eq!(row["format"], "4:5");
    assert_eq!(
        row["dimensions"],
        serde_json::json!({"width": 1080, "height": 1350})
    );
    assert_eq!(row["file_size"], fixture("portrait.jpg").len());
}

#[tokio::test]
async fn png_and_webp_images_are_measured_too() {
    let png = processed("square.png", "image/png", "square.png").await;
    assert_eq!(
        (png["status"].as_str(), png["format"].as_str()),
        (Some("active"), Some("1:1"))
    );
    let webp = processed("wide.webp", "image/webp", "landscape.webp").await;
    assert_eq!(
        (
            webp["format"].as_str(),
            webp["dimensions"]["width"].as_i64()
        ),
        (Some("16:9"), Some(640))
    );
}

#[tokio::test]
async fn an_mp4_is_measured_from_its_moov_box_even_after_the_media_data() {
    let row = processed("clip.mp4", "video/mp4", "clip.mp4").await;
    assert_eq!(row["status"], "active", "{row}");
    assert_eq!(row["format"], "16:9");
    assert_eq!(
        row["dimensions"],
        serde_json::json!({"width": 320, "height": 180})
    );
    let duration = row["duration"].as_f64().unwrap();
    assert!((0.9..=1.2).contains(&duration), "duration {duration}");
}

#[tokio::test]
async fn a_quicktime_video_is_recognised_as_such() {
    let row = processed("story.mov", "video/quicktime", "vertical.mov").await;
    assert_eq!(
        (row["status"].as_str(), row["format"].as_str()),
        (Some("active"), Some("9:16"))
    );
    assert_eq!(row["content_type"], "video/quicktime");
}

#[tokio::test]
async fn a_text_file_named_png_fails_with_a_reason() {
    let row = processed("sneaky.png", "image/png", "not-an-image.png").await;
    assert_eq!(row["status"], "failed");
    assert!(
        row["failure_reason"]
            .as_str()
            .unwrap()
            .contains("not a JPEG, PNG, WebP, MP4 or QuickTime"),
        "{row}"
    );
    assert!(row["format"].is_null());
}

#[tokio::test]
async fn bytes_that_differ_from_the_claimed_type_fail() {
    let row = processed("photo.png", "image/png", "portrait.jpg").await;
    assert_eq!(row["status"], "failed");
    assert_eq!(
        row["failure_reason"],
        "the file is image/jpeg, not image/png as claimed"
    );
}

#[tokio::test]
async fn an_unusable_aspect_ratio_fails() {
    let row = processed("panorama.png", "image/png", "panorama.png").await;
    assert_eq!(row["status"], "failed");
    assert!(
        row["failure_reason"]
            .as_str()
            .unwrap()
            .contains("too far from"),
        "{row}"
    );
}

#[tokio::test]
async fn a_redelivered_event_changes_nothing() {
    let app = App::new().await;
    let (id, key) = app
        .upload("again.jpg", "image/jpeg", fixture("portrait.jpg"))
        .await;
    app.deliver(&key).await;
    let first = app.row(id).await;
    // Someone marks it a favourite; a late duplicate event must not undo anything.
    app.db
        .superuser()
        .await
        .execute(
            "UPDATE creative_assets SET is_favorite = true WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    let before = app.row(id).await;
    app.deliver(&key).await;
    let after = app.row(id).await;
    assert_eq!(first["status"], "active");
    assert_eq!(before, after);
}

#[tokio::test]
async fn keys_outside_the_upload_layout_or_of_unknown_assets_are_ignored() {
    let app = App::new().await;
    app.state
        .storage
        .put("elsewhere/file.png", "image/png", fixture("square.png"))
        .await
        .unwrap();
    app.deliver("elsewhere/file.png").await;
    let ghost = format!("uploads/{}/{}/ghost.png", app.user.id, uuid::Uuid::new_v4());
    app.state
        .storage
        .put(&ghost, "image/png", fixture("square.png"))
        .await
        .unwrap();
    app.deliver(&ghost).await;
}

#[tokio::test]
async fn an_upload_of_a_deleted_account_is_ignored() {
    let app = App::new().await;
    let (id, key) = app
        .upload("late.png", "image/png", fixture("square.png"))
        .await;
    app.db
        .superuser()
        .await
        .execute(
            "UPDATE users SET deleted_at = now() WHERE id = $1",
            &[&app.user.id.0],
        )
        .await
        .unwrap();
    app.deliver(&key).await;
    assert_eq!(
        app.row(id).await["status"],
        "processing",
        "nothing is written for a deleted account"
    );
}

impl App {
    async fn declare_size(&self, id: uuid::Uuid, size: i64) {
        self.db
            .superuser()
            .await
            .execute(
                "UPDATE creative_assets SET upload_size = $2 WHERE id = $1",
                &[&id, &size],
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_object_of_another_size_than_the_declared_one_fails_naming_both() {
    let app = App::new().await;
    let bytes = fixture("square.png");
    let real = bytes.len() as i64;
    let (id, key) = app.upload("sale.png", "image/png", bytes).await;
    app.declare_size(id, real + 10).await;
    app.deliver(&key).await;
    let row = app.row(id).await;
    assert_eq!(row["status"], "failed");
    assert_eq!(
        row["failure_reason"],
        format!("the file is {real} bytes, not the {} declared", real + 10)
    );
}

#[tokio::test]
async fn a_replaced_object_is_checked_again_and_a_redelivery_of_the_same_one_changes_nothing() {
    let app = App::new().await;
    let (id, key) = app
        .upload("sale.png", "image/png", fixture("square.png"))
        .await;
    app.deliver(&key).await;
    let first = app.row(id).await;
    assert_eq!(
        (first["status"].as_str(), first["format"].as_str()),
        (Some("active"), Some("1:1"))
    );

    app.deliver(&key).await;
    assert_eq!(
        app.row(id).await["updated_at"],
        first["updated_at"],
        "the same object: nothing changes"
    );

    // The presigned PUT used again, with other bytes: the asset follows what is there now.
    app.state
        .storage
        .put(&key, "image/png", fixture("not-an-image.png"))
        .await
        .unwrap();
    app.deliver(&key).await;
    let now = app.row(id).await;
    assert_eq!(now["status"], "failed", "{now}");
    app.state
        .storage
        .put(&key, "image/png", fixture("square.png"))
        .await
        .unwrap();
    app.deliver(&key).await;
    let again = app.row(id).await;
    assert_eq!(again["status"], "active", "a good file again: {again}");
    assert_eq!(again["failure_reason"], Value::Null);
}
