//! The local sites the analyzer reads in tests: `infra/simulators/sites` (the same pages
//! the local stack serves) on a real HTTP server, with the logos drawn here, and the
//! worker's state pointed at it, at moto's S3 and at a fresh database.

use std::path::{Path, PathBuf};

use aws_lambda_events::event::sqs::SqsMessage;
use brand_analyzer::State;
use serde_json::json;
use shared::aws::LazyClient;
use shared::domain::JobId;
use shared::messages::BrandAnalysis;
use shared::repo::jobs;
use shared::testing::TestDb;
use shared::testing::api::TestUser;
use shared::webfetch::AllowHosts;
use shared::webfetch::fetcher::Fetcher;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub fn sites_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/simulators/sites")
}

/// A PNG: a `fill` rounded block with a `mark` disc, transparent corners.
pub fn logo_png(w: u32, h: u32, fill: [u8; 3], mark: [u8; 3]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = png::Encoder::new(&mut out, w, h);
    e.set_color(png::ColorType::Rgba);
    e.set_depth(png::BitDepth::Eight);
    let mut writer = e.write_header().unwrap();
    let mut data = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h {
        for x in 0..w {
            let corner = (x < 4 || x >= w - 4) && (y < 4 || y >= h - 4);
            let (dx, dy) = (
                i64::from(x) - i64::from(w - h / 2),
                i64::from(y) - i64::from(h / 2),
            );
            let disc = dx * dx + dy * dy < i64::from(h / 3).pow(2);
            let [r, g, b] = if disc { mark } else { fill };
            data.extend_from_slice(&[r, g, b, if corner { 0 } else { 255 }]);
        }
    }
    writer.write_image_data(&data).unwrap();
    writer.finish().unwrap();
    out
}

fn mime(p: &Path) -> &'static str {
    match p.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css",
        Some("json") => "application/manifest+json",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

async fn mount_dir(server: &MockServer, dir: &Path, prefix: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_owned();
        let route = format!("{prefix}/{name}");
        if p.is_dir() {
            Box::pin(mount_dir(server, &p, &route)).await;
            continue;
        }
        let body = std::fs::read(&p).unwrap();
        let routes = if name == "index.html" {
            vec![route.clone(), format!("{prefix}/")]
        } else {
            vec![route]
        };
        for r in routes {
            Mock::given(method("GET"))
                .and(path(r))
                .respond_with(ResponseTemplate::new(200).set_body_raw(body.clone(), mime(&p)))
                .mount(server)
                .await;
        }
    }
}

/// The sites, their robots.txt and their logos on a local server.
pub async fn sites() -> MockServer {
    let server = MockServer::start().await;
    mount_dir(&server, &sites_dir(), "").await;
    let images = [
        (
            "/cafe/img/logo.png",
            logo_png(240, 96, [0xC0, 0x39, 0x2B], [0xF4, 0xD3, 0x5E]),
        ),
        (
            "/shop/icons/icon-512.png",
            logo_png(512, 512, [0x6A, 0x1B, 0x9A], [0xFF, 0x8F, 0x00]),
        ),
        (
            "/shop/img/share.png",
            logo_png(64, 64, [0x77; 3], [0x99; 3]),
        ),
    ];
    for (p, bytes) in images {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_raw(bytes, "image/png"))
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/robots.txt"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("User-agent: *\nDisallow: /private/\n", "text/plain"),
        )
        .mount(&server)
        .await;
    server
}

pub struct World {
    pub db: TestDb,
    pub sites: MockServer,
    pub state: State,
    pub user: TestUser,
}

pub async fn world() -> World {
    let db = TestDb::fresh().await;
    let sites = sites().await;
    let port = sites.address().port();
    let aws = shared::aws::sdk_config().await;
    let state = State {
        db: db.db(),
        storage: shared::testing::storage().await,
        fetcher: Fetcher::new(
            AllowHosts::parse(&format!("127.0.0.1:{port}")),
            brand_analyzer::crawl::USER_AGENT,
        ),
        gemini: None,
        meta: None,
        sqs: LazyClient::ready(shared::aws::sqs(&aws)),
    };
    let user = TestUser::create(&db, "owner@example.com").await;
    World {
        db,
        sites,
        state,
        user,
    }
}

impl World {
    pub fn url(&self, p: &str) -> String {
        format!("{}{p}", self.sites.uri())
    }

    /// A brand-analysis job for `site_path` (made through the repository) and its message.
    pub async fn asked(&self, site_path: &str, replace: bool) -> (JobId, SqsMessage) {
        let url = self.url(site_path);
        let user = self.user.id;
        let job = self
            .state
            .db
            .tenant(user, async |t| {
                jobs::create(
                    t,
                    "brand_analysis",
                    &json!({"website_url": url, "replace": replace}),
                )
                .await
            })
            .await
            .unwrap();
        let msg = BrandAnalysis {
            job_id: job.id,
            user_id: self.user.id.0,
            website_url: url,
            replace,
        };
        (
            JobId(job.id),
            message(&serde_json::to_string(&msg).unwrap(), 1),
        )
    }

    /// The job's status, progress and error.
    pub async fn job(&self, id: JobId) -> (String, i16, Option<String>) {
        let row = self
            .db
            .superuser()
            .await
            .query_one(
                "SELECT status, progress, error_message FROM background_jobs WHERE id = $1",
                &[&id.0],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1), row.get(2))
    }

    /// The brand profile as the API shows it.
    pub async fn profile(&self) -> serde_json::Value {
        let profile = self
            .state
            .db
            .tenant(self.user.id, async |t| {
                shared::repo::profiles::brand(t).await
            })
            .await
            .unwrap()
            .expect("a brand profile");
        serde_json::to_value(shared::api::profiles::BrandProfile::from(profile)).unwrap()
    }
}

pub fn message(body: &str, receive_count: u32) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(format!("msg-{receive_count}"));
    m.body = Some(body.to_owned());
    m.attributes
        .insert("ApproximateReceiveCount".into(), receive_count.to_string());
    m
}
