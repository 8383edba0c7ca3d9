//! Reports end to end against a real database and moto's S3: asked for over the API,
//! made by the worker from the owner's insights, stored as HTML and PDF, listed and
//! downloaded; totals checked against SQL; redelivery, cancellation and the weekly
//! schedule each in their own test.

use aws_lambda_events::event::sqs::SqsMessage;
use base64::Engine;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use lambda_http::http::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use shared::aws::LazyClient;
use shared::aws::relay::Relay;
use shared::domain::JobId;
use shared::messages::ReportRequest;
use shared::repo::creative_results::{self, CreativeDay};
use shared::repo::insights::{self, InsightRow};
use shared::repo::{jobs, reports as repo};
use shared::testing::TestDb;
use shared::testing::api::{TestUser, context, reply, request};
use uuid::Uuid;

struct World {
    db: TestDb,
    api: reports::State,
    worker: reports::worker::State,
    user: TestUser,
}

async fn world() -> World {
    let db = TestDb::fresh().await;
    let storage = shared::testing::storage().await;
    let aws = shared::aws::sdk_config().await;
    let bucket = storage.bucket().to_owned();
    let s3 = shared::aws::s3(&aws);
    let api = reports::State {
        ctx: context(&db),
        storage: shared::aws::storage::Storage::new(s3.clone(), bucket.clone()),
        relay: Relay::new(shared::aws::sqs(&aws), Default::default()),
    };
    let worker = reports::worker::State {
        db: db.db(),
        storage,
        relay: Relay::new(shared::aws::sqs(&aws), Default::default()),
        sqs: LazyClient::ready(shared::aws::sqs(&aws)),
    };
    let user = TestUser::create(&db, "owner@example.com").await;
    World {
        db,
        api,
        worker,
        user,
    }
}

fn message(body: &str, receive_count: u32) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(Uuid::new_v4().to_string());
    m.body = Some(body.to_owned());
    m.attributes
        .insert("ApproximateReceiveCount".into(), receive_count.to_string());
    m
}

fn png_of(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = png::Encoder::new(&mut out, w, h);
    e.set_color(png::ColorType::Rgb);
    e.set_depth(png::BitDepth::Eight);
    let mut writer = e.write_header().unwrap();
    writer
        .write_image_data(&rgb.repeat((w * h) as usize))
        .unwrap();
    writer.finish().unwrap();
    out
}

const START: (i32, u32, u32) = (2026, 11, 16);

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(START.0, START.1, START.2).unwrap() + Duration::days(n)
}

fn row(campaign: Uuid, date: NaiveDate, n: i64) -> InsightRow {
    InsightRow::daily_total(
        campaign,
        date,
        &shared::domain::metrics::Sums {
            impressions: 4000 + n * 100,
            clicks: 60 + n,
            spend: Decimal::new(150_000 + n * 1234, 2),
            conversions: 3 + n % 4,
            conversion_value: Decimal::new(900_000, 2),
        },
    )
}

/// Two rupee campaigns (one with a CPA goal) and a dollar one, 14 days of totals with
/// hourly and breakdown rows beside them, two creatives (one in S3) and some credits.
async fn seed(w: &World) -> (Uuid, Uuid) {
    let u = w.user.id.0;
    let (diwali, winter, dollars, pic, clip) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    let key = format!("uploads/{u}/{pic}.png");
    w.worker
        .storage
        .put(&key, "image/png", png_of(1080, 1080, [200, 40, 90]))
        .await
        .unwrap();
    let pic_url = w.worker.storage.url_of(&key);
    w.db.superuser()
        .await
        .batch_execute(&format!(
            "INSERT INTO business_profiles (user_id, business_name) VALUES ('{u}', 'Café <Aroma>');
             INSERT INTO campaigns (id, user_id, name, purpose, currency, daily_budget, status, optimization_goals)
                  VALUES ('{diwali}', '{u}', 'Diwali sale', 'sales', 'INR', 1500, 'active', '{{\"target_cpa\": \"400.00\"}}'),
                         ('{winter}', '{u}', 'Winter menu', 'lead_generation', 'INR', 800, 'paused', NULL),
                         ('{dollars}', '{u}', 'US visitors', 'sales', 'USD', 50, 'active', NULL);
             INSERT INTO creative_assets (id, user_id, asset_type, status, file_url, format, filename)
                  VALUES ('{pic}', '{u}', 'image', 'active', '{pic_url}', '1:1', 'festive.png'),
                         ('{clip}', '{u}', 'video', 'active', 's3://elsewhere/clip.mp4', '9:16', 'clip.mp4');
             INSERT INTO usage_logs (user_id, feature, credits_consumed, logged_at)
                  VALUES ('{u}', 'image_generation', 5, '{} 10:00+05:30'), ('{u}', 'image_generation', -1, '{} 11:00+05:30'),
                         ('{u}', 'video_generation', 5, '{} 10:00+05:30');",
            day(2),
            day(2),
            day(30)
        ))
        .await
        .unwrap();
    let mut rows = Vec::new();
    let mut creatives = Vec::new();
    for n in 0..14 {
        rows.push(row(diwali, day(n), n));
        rows.push(row(winter, day(n), 2 * n));
        rows.push(row(dollars, day(n), n));
        // Rows of other kinds must never be added to the totals.
        rows.push(InsightRow {
            hour: Some(10),
            ..row(diwali, day(n), 99)
        });
        for (platform, share) in [("facebook", 3), ("instagram", 1)] {
            rows.push(InsightRow {
                platform: Some(platform.into()),
                placement: Some("feed".into()),
                impressions: 1000 * share,
                ..row(diwali, day(n), n)
            });
        }
        rows.push(InsightRow {
            age_range: Some("25-34".into()),
            gender: Some("female".into()),
            ..row(diwali, day(n), n)
        });
        for (asset, scale) in [(pic, 1), (clip, 2)] {
            creatives.push(CreativeDay {
                campaign_id: diwali,
                asset_id: asset,
                meta_ad_id: format!("ad-{asset}"),
                date: day(n),
                impressions: 2000 * scale,
                clicks: 30 * scale + n,
                spend: Decimal::new(50_000 * scale, 2),
                conversions: 2,
                conversion_value: Decimal::ZERO,
            });
        }
    }
    // One day outside the period.
    rows.push(row(diwali, day(20), 1));
    w.db.worker()
        .run("seed", async |t| {
            insights::upsert(t, &rows).await?;
            creative_results::upsert(t, &creatives).await
        })
        .await
        .unwrap();
    (diwali, winter)
}

async fn ask(w: &World, body: Value) -> shared::testing::api::Reply {
    let req = request(
        Method::POST,
        "/v1/reports",
        Some(&body),
        Some(&w.user.token),
    );
    reply(reports::handle(&w.api, req).await)
}

async fn get(w: &World, path: &str) -> shared::testing::api::Reply {
    let req = request(Method::GET, path, None, Some(&w.user.token));
    reply(reports::handle(&w.api, req).await)
}

/// The worker's message for a report, as the outbox holds it.
async fn queued(w: &World, report: &str) -> SqsMessage {
    let payload: Value =
        w.db.superuser()
            .await
            .query_one(
                "SELECT payload FROM outbox WHERE topic = 'reports' AND payload->>'report_id' = $1",
                &[&report],
            )
            .await
            .unwrap()
            .get(0);
    let msg: ReportRequest = serde_json::from_value(payload).unwrap();
    message(&serde_json::to_string(&msg).unwrap(), 1)
}

/// The owner's rupee campaigns' daily totals over `from..=to`, straight from SQL:
/// (spend as text, impressions, conversions).
async fn rupee_totals(w: &World, from: NaiveDate, to: NaiveDate) -> (String, i64, i64) {
    let r =
        w.db.superuser()
            .await
            .query_one(
                "SELECT sum(p.spend)::text, sum(p.impressions)::int8, sum(p.conversions)::int8 \
               FROM performance_analytics p JOIN campaigns c ON c.id = p.campaign_id \
              WHERE c.user_id = $1 AND c.currency = 'INR' AND p.date BETWEEN $2 AND $3 \
                AND p.hour IS NULL AND p.platform IS NULL AND p.placement IS NULL \
                AND p.age_range IS NULL AND p.gender IS NULL AND p.location IS NULL",
                &[&w.user.id.0, &from, &to],
            )
            .await
            .unwrap();
    (r.get(0), r.get(1), r.get(2))
}

async fn reports_stored(w: &World) -> i64 {
    w.db.superuser()
        .await
        .query_one("SELECT count(*) FROM reports", &[])
        .await
        .unwrap()
        .get(0)
}

fn period() -> Value {
    json!({"period_start": day(0).to_string(), "period_end": day(13).to_string()})
}

#[tokio::test]
async fn a_report_shows_the_totals_sql_gives_with_charts_that_decode_in_html_and_pdf() {
    let w = world().await;
    seed(&w).await;
    let asked = ask(&w, period()).await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.body);
    assert_eq!(asked.body["status"], "pending");
    assert_eq!(asked.body["timezone"], "Asia/Kolkata");
    let id = asked.id();

    let outcome = reports::worker::process(&w.worker, &queued(&w, &id).await).await;
    assert!(
        matches!(outcome, reports::worker::Outcome::Done { .. }),
        "{outcome:?}"
    );

    let got = get(&w, &format!("/v1/reports/{id}")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["status"], "ready", "{}", got.body);
    assert_eq!(got.body["progress"], 100);
    let (spend, impressions, conversions) = rupee_totals(&w, day(0), day(13)).await;
    let summary = &got.body["summary"];
    assert_eq!(summary["spend"], spend);
    assert_eq!(summary["impressions"], impressions);
    assert_eq!(summary["conversions"], conversions);
    assert_eq!(summary["campaigns"], 3);
    assert_eq!(
        summary["credits_used"], 4,
        "5 charged, 1 refunded; the later 5 is outside"
    );

    let (html_url, pdf_url) = (
        got.body["downloads"]["html"]["url"].as_str().unwrap(),
        got.body["downloads"]["pdf"]["url"].as_str().unwrap(),
    );
    let html = shared::testing::get(html_url).await;
    assert_eq!(html.status(), 200);
    let html = html.text().await.unwrap();
    let pdf = shared::testing::get(pdf_url).await.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));

    let spend: Decimal = spend.parse().unwrap();
    assert!(
        html.contains(&reports::numbers::money(spend, "INR")),
        "total spend in ₹ with Indian grouping"
    );
    assert!(html.contains("Café &lt;Aroma&gt;"));
    assert!(html.contains("Diwali sale") && html.contains("target ₹400.00"));
    assert!(html.contains("facebook") && html.contains("25-34") && html.contains("female"));
    assert!(
        html.contains("US visitors"),
        "the dollar campaign is listed on its own"
    );
    assert!(html.contains("Not in the totals"));
    let images: Vec<Vec<u8>> = html
        .split("src=\"data:image/png;base64,")
        .skip(1)
        .map(|rest| {
            let b64 = rest.split('"').next().unwrap();
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap()
        })
        .collect();
    assert_eq!(
        images.len(),
        3,
        "two charts and the image creative's thumbnail"
    );
    for bytes in &images {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes.clone()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buf).unwrap();
    }

    let told = w.db.told(w.user.id.0).await;
    assert_eq!(
        told,
        [("report".into(), "Your report is ready".into(), true)]
    );

    let list = get(&w, "/v1/reports").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert!(list.body["items"][0].get("downloads").is_none());
}

#[tokio::test]
async fn a_redelivered_message_neither_remakes_the_report_nor_tells_twice() {
    let w = world().await;
    seed(&w).await;
    let id = ask(&w, period()).await.id();
    let msg = queued(&w, &id).await;
    reports::worker::process(&w.worker, &msg).await;
    let first = get(&w, &format!("/v1/reports/{id}")).await.body["completed_at"].clone();
    let again = reports::worker::process(&w.worker, &msg).await;
    assert!(matches!(again, reports::worker::Outcome::Done { .. }));
    assert_eq!(
        get(&w, &format!("/v1/reports/{id}")).await.body["completed_at"],
        first
    );
    assert_eq!(w.db.told(w.user.id.0).await.len(), 1);
}

#[tokio::test]
async fn a_report_cancelled_before_the_worker_runs_is_never_written() {
    let w = world().await;
    seed(&w).await;
    let asked = ask(&w, period()).await;
    let (id, job) = (
        asked.id(),
        asked.body["job_id"].as_str().unwrap().to_owned(),
    );
    w.api
        .ctx
        .db
        .tenant(w.user.id, async |t| {
            jobs::cancel(t, JobId(job.parse().unwrap())).await
        })
        .await
        .unwrap();
    assert_eq!(
        get(&w, &format!("/v1/reports/{id}")).await.body["status"],
        "cancelled"
    );
    reports::worker::process(&w.worker, &queued(&w, &id).await).await;
    let got = get(&w, &format!("/v1/reports/{id}")).await;
    assert_eq!(got.body["status"], "cancelled");
    assert!(got.body.get("downloads").is_none());
    assert!(
        w.worker
            .storage
            .size(&format!("reports/{}/{id}/report.pdf", w.user.id.0))
            .await
            .unwrap()
            .is_none()
    );
    assert!(w.db.told(w.user.id.0).await.is_empty());
}

#[tokio::test]
async fn a_period_in_the_future_or_too_long_is_refused_naming_the_field() {
    let w = world().await;
    let today = Utc::now().date_naive();
    let cases = [
        (json!({"period_end": today.to_string()}), "period_start"),
        (
            json!({"period_start": today.to_string(), "period_end": (today + Duration::days(3)).to_string()}),
            "period_end",
        ),
        (
            json!({"period_start": (today - Duration::days(100)).to_string(), "period_end": today.to_string()}),
            "period_end",
        ),
        (
            json!({"period_start": "2026-13-01", "period_end": today.to_string()}),
            "period_start",
        ),
    ];
    for (body, field) in cases {
        let r = ask(&w, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(r.fields(), [field], "{body}");
    }
    let unknown = ask(
        &w,
        json!({"period_start": "2026-11-01", "period_end": "2026-11-02", "format": "xlsx"}),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let n = reports_stored(&w).await;
    assert_eq!(n, 0);
}

#[tokio::test]
async fn two_requests_at_once_queue_one_report_and_the_other_is_told_to_wait() {
    let w = world().await;
    let body = json!({"period_start": day(0).to_string(), "period_end": day(6).to_string()});
    let (a, b) = tokio::join!(ask(&w, body.clone()), ask(&w, body));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [202, 429]);
    let limited = if a.status == 429 { &a } else { &b };
    assert_eq!(limited.code(), "report_rate_limited");
}

/// 09:00 on Monday 30 November 2026 in Kolkata is 03:30 UTC.
fn at(h: u32, m: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, h, m, 0).unwrap()
}

#[tokio::test]
async fn the_weekly_report_is_queued_once_from_monday_nine_in_the_owners_time_zone() {
    let w = world().await;
    let u = w.user.id.0;
    let (york, idle) = (
        TestUser::create(&w.db, "new-york@example.com").await,
        TestUser::create(&w.db, "idle@example.com").await,
    );
    let connection = Uuid::new_v4();
    w.db.superuser()
        .await
        .batch_execute(&format!(
            "INSERT INTO campaigns (user_id, name, purpose, status) VALUES ('{u}', 'Live', 'sales', 'active'),
                    ('{y}', 'Live NY', 'sales', 'active'), ('{i}', 'Draft', 'sales', 'draft');
             INSERT INTO meta_accounts (id, user_id, meta_user_id, access_token) VALUES ('{connection}', '{y}', 'ny', 'k1:sealed');
             INSERT INTO meta_ad_accounts (meta_account_id, user_id, ad_account_id, account_status, currency, timezone_name)
                  VALUES ('{connection}', '{y}', 'act_42', 1, 'USD', 'America/New_York');",
            y = york.id.0,
            i = idle.id.0
        ))
        .await
        .unwrap();
    let queue = async |now| {
        w.db.worker()
            .run("weekly", async |t| repo::queue_weekly(t, now).await)
            .await
            .unwrap()
            .into_iter()
            .map(|(user, _)| user)
            .collect::<Vec<_>>()
    };
    assert!(queue(at(3, 29)).await.is_empty(), "08:59 in Kolkata");
    assert_eq!(queue(at(3, 30)).await, [u]);
    assert!(queue(at(3, 45)).await.is_empty(), "once a week");
    assert!(queue(at(13, 59)).await.is_empty(), "08:59 in New York");
    assert_eq!(queue(at(14, 0)).await, [york.id.0]);
    let weeks: Vec<(Uuid, NaiveDate, NaiveDate, String)> = w
        .db
        .superuser()
        .await
        .query(
            "SELECT user_id, period_start, period_end, timezone FROM reports WHERE kind = 'weekly' ORDER BY created_at",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let last_week = (
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
    );
    assert_eq!(
        weeks,
        [
            (u, last_week.0, last_week.1, "Asia/Kolkata".to_owned()),
            (
                york.id.0,
                last_week.0,
                last_week.1,
                "America/New_York".to_owned()
            ),
        ]
    );
    let jobs: i64 =
        w.db.superuser()
            .await
            .query_one(
                "SELECT count(*) FROM background_jobs WHERE job_type = 'generate_report'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
    assert_eq!(jobs, 2, "no job is left behind by a week already queued");
}

#[tokio::test]
async fn two_schedules_running_at_once_queue_each_weekly_report_once() {
    let w = world().await;
    let u = w.user.id.0;
    w.db.superuser()
        .await
        .batch_execute(&format!(
            "INSERT INTO campaigns (user_id, name, purpose, status) VALUES ('{u}', 'Live', 'sales', 'active')"
        ))
        .await
        .unwrap();
    let (db1, db2) = (w.db.worker(), w.db.worker());
    let (a, b) = tokio::join!(
        db1.run("weekly", async |t| repo::queue_weekly(t, at(4, 0)).await),
        db2.run("weekly", async |t| repo::queue_weekly(t, at(4, 0)).await),
    );
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 1);
    let n = reports_stored(&w).await;
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_weekly_report_for_a_seeded_account_totals_its_week_as_sql_does_and_its_charts_decode() {
    let w = world().await;
    seed(&w).await;
    // Monday 30 November, 09:00 in Kolkata: last week is 23–29 November (days 7–13).
    let due =
        w.db.worker()
            .run("weekly", async |t| repo::queue_weekly(t, at(3, 30)).await)
            .await
            .unwrap();
    assert_eq!(due.len(), 1);
    let id: Uuid =
        w.db.superuser()
            .await
            .query_one("SELECT id FROM reports WHERE kind = 'weekly'", &[])
            .await
            .unwrap()
            .get(0);
    let outcome = reports::worker::process(&w.worker, &queued(&w, &id.to_string()).await).await;
    assert!(
        matches!(outcome, reports::worker::Outcome::Done { .. }),
        "{outcome:?}"
    );
    let got = get(&w, &format!("/v1/reports/{id}")).await;
    assert_eq!(
        (got.body["status"].as_str(), got.body["kind"].as_str()),
        (Some("ready"), Some("weekly"))
    );
    assert_eq!(got.body["period_start"], day(7).to_string());
    assert_eq!(got.body["period_end"], day(13).to_string());
    let (spend, _, _) = rupee_totals(&w, day(7), day(13)).await;
    assert_eq!(got.body["summary"]["spend"], spend);
    let html = shared::testing::get(got.body["downloads"]["html"]["url"].as_str().unwrap())
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Weekly performance report"));
    let charts = html.split("src=\"data:image/png;base64,").skip(1).take(2);
    for part in charts {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(part.split('"').next().unwrap())
            .unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        assert_eq!((frame.width, frame.height), (1000, 380));
    }
    let told = w.db.told(w.user.id.0).await;
    assert_eq!(
        told,
        [("report".into(), "Your weekly report is ready".into(), true)]
    );
}
