//! Analytics read what the sync worker stores: daily totals, hourly rows and breakdown
//! rows, each kind summed on its own; ratios come from the sums (never averaged) and
//! are null when their divisor is zero.

use analytics::State;
use lambda_http::http::{Method, StatusCode};
use serde_json::Value;
use shared::repo::insights::{self, InsightRow};
use shared::testing::TestDb;
use shared::testing::api::{Reply, TestUser, reply, request, tokens};

/// (date, hour, [platform, placement, age, gender, location], impressions, clicks, spend,
/// conversions, conversion value)
type Row<'a> = (
    &'a str,
    Option<i32>,
    [Option<&'a str>; 5],
    i64,
    i64,
    &'a str,
    i64,
    &'a str,
);

const CAMPAIGN: &str = "00000000-0000-0000-0000-0000000000c1";

struct App {
    state: State,
    db: TestDb,
    user: TestUser,
}

impl App {
    async fn new() -> Self {
        let db = TestDb::fresh().await;
        let user = TestUser::create(&db, "owner@example.com").await;
        db.superuser()
            .await
            .batch_execute(&format!(
                "INSERT INTO campaigns (id, user_id, name, purpose, daily_budget, status)
                 VALUES ('{CAMPAIGN}', '{}', 'Diwali', 'sales', 500, 'active');",
                user.id
            ))
            .await
            .unwrap();
        Self {
            state: State {
                db: db.db(),
                tokens: tokens(),
            },
            db,
            user,
        }
    }

    /// Rows as the sync worker writes them (through its upsert, which keeps the daily
    /// rollup): (date, hour, platform, placement, age, gender, location, impressions,
    /// clicks, spend, conversions, conversion value).
    async fn rows(&self, rows: &[Row<'_>]) {
        let rows: Vec<InsightRow> = rows
            .iter()
            .map(
                |(
                    date,
                    hour,
                    [platform, placement, age, gender, location],
                    imp,
                    clk,
                    spend,
                    conv,
                    value,
                )| {
                    InsightRow {
                        campaign_id: CAMPAIGN.parse().unwrap(),
                        date: date.parse().unwrap(),
                        hour: *hour,
                        platform: platform.map(str::to_owned),
                        placement: placement.map(str::to_owned),
                        age_range: age.map(str::to_owned),
                        gender: gender.map(str::to_owned),
                        location: location.map(str::to_owned),
                        impressions: *imp,
                        clicks: *clk,
                        spend: spend.parse().unwrap(),
                        conversions: *conv,
                        conversion_value: value.parse().unwrap(),
                    }
                },
            )
            .collect();
        self.db
            .worker()
            .run("seed", async |w| insights::upsert(w, &rows).await)
            .await
            .unwrap();
    }

    /// The impressions of the campaign's week starting on `monday`, from the weekly rollup.
    async fn week_impressions(&self, monday: &str) -> i64 {
        let monday: chrono::NaiveDate = monday.parse().unwrap();
        self.db
            .superuser()
            .await
            .query_one(
                "SELECT impressions FROM campaign_weekly_totals WHERE week = $1",
                &[&monday],
            )
            .await
            .unwrap()
            .get(0)
    }

    /// The daily maintenance's rebuild of the rollup.
    async fn rebuild(&self) -> insights::Rebuilt {
        self.db
            .worker()
            .run("rebuild", async |w| insights::rebuild_daily_totals(w).await)
            .await
            .unwrap()
    }

    async fn get(&self, path: &str) -> Reply {
        reply(
            analytics::handle(
                &self.state,
                request(Method::GET, path, None, Some(&self.user.token)),
            )
            .await,
        )
    }
}

const NONE: [Option<&str>; 5] = [None; 5];

async fn arranged() -> App {
    let app = App::new().await;
    app.rows(&[
        ("2026-11-01", None, NONE, 1000, 20, "200.00", 2, "1000.00"),
        ("2026-11-02", None, NONE, 3000, 30, "300.00", 0, "0"),
        ("2026-11-02", Some(9), NONE, 1000, 10, "100.00", 0, "0"),
        ("2026-11-02", Some(10), NONE, 2000, 20, "200.00", 0, "0"),
        (
            "2026-11-02",
            None,
            [Some("facebook"), Some("feed"), None, None, None],
            1000,
            10,
            "100.00",
            0,
            "0",
        ),
        (
            "2026-11-02",
            None,
            [Some("instagram"), Some("feed"), None, None, None],
            1500,
            15,
            "150.00",
            0,
            "0",
        ),
        (
            "2026-11-02",
            None,
            [Some("instagram"), Some("story"), None, None, None],
            500,
            5,
            "50.00",
            0,
            "0",
        ),
        (
            "2026-11-02",
            None,
            [None, None, Some("25-34"), Some("female"), None],
            2000,
            25,
            "250.00",
            0,
            "0",
        ),
        (
            "2026-11-02",
            None,
            [None, None, Some("25-34"), Some("male"), None],
            1000,
            5,
            "50.00",
            0,
            "0",
        ),
        (
            "2026-11-02",
            None,
            [None, None, None, None, Some("Maharashtra")],
            3000,
            30,
            "300.00",
            0,
            "0",
        ),
    ])
    .await;
    app
}

fn series(r: &Reply) -> &Vec<Value> {
    r.body["series"].as_array().unwrap()
}

#[tokio::test]
async fn the_daily_series_sums_daily_totals_and_computes_ratios_from_sums() {
    let app = arranged().await;
    let r = app
        .get(&format!(
            "/v1/campaigns/{CAMPAIGN}/performance?from=2026-11-01&to=2026-11-03"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let s = series(&r);
    assert_eq!(s.len(), 2, "one point per day with data");
    assert_eq!(s[0]["date"], "2026-11-01");
    assert_eq!(
        (s[0]["impressions"].as_i64(), s[0]["clicks"].as_i64()),
        (Some(1000), Some(20))
    );
    assert_eq!(
        (
            s[0]["ctr"].as_str(),
            s[0]["cpc"].as_str(),
            s[0]["cpa"].as_str(),
            s[0]["roas"].as_str()
        ),
        (
            Some("0.020000"),
            Some("10.0000"),
            Some("100.0000"),
            Some("5.0000")
        )
    );
    assert!(
        s[1]["cpa"].is_null() && s[1]["spend"] == "300.00",
        "no conversions: no cpa"
    );
    // Totals: 50 clicks / 4000 impressions, not the mean of the daily ctrs.
    assert_eq!(r.body["totals"]["ctr"], "0.012500");
    assert_eq!(r.body["totals"]["spend"], "500.00");
    assert_eq!(r.body["currency"], "INR");
}

#[tokio::test]
async fn hourly_and_breakdown_series_use_only_their_own_rows() {
    let app = arranged().await;
    let base = format!("/v1/campaigns/{CAMPAIGN}/performance?from=2026-11-02&to=2026-11-02");
    let hourly = app.get(&format!("{base}&granularity=hour")).await;
    let hours: Vec<_> = series(&hourly)
        .iter()
        .map(|p| p["hour"].as_i64().unwrap())
        .collect();
    assert_eq!(hours, [9, 10]);

    let platform = app.get(&format!("{base}&breakdown=platform")).await;
    let got: Vec<_> = series(&platform)
        .iter()
        .map(|p| {
            (
                p["key"].as_str().unwrap().to_owned(),
                p["impressions"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("facebook".to_owned(), 1000),
            ("instagram".to_owned(), 2000)
        ]
    );

    let placement = app.get(&format!("{base}&breakdown=placement")).await;
    let got: Vec<_> = series(&placement)
        .iter()
        .map(|p| {
            (
                p["key"].as_str().unwrap().to_owned(),
                p["clicks"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [("feed".to_owned(), 25), ("story".to_owned(), 5)]);

    let age = app.get(&format!("{base}&breakdown=age")).await;
    assert_eq!(series(&age).len(), 1);
    assert_eq!(series(&age)[0]["impressions"], 3000);
    let gender = app.get(&format!("{base}&breakdown=gender")).await;
    assert_eq!(series(&gender).len(), 2);
    let location = app.get(&format!("{base}&breakdown=location")).await;
    assert_eq!(series(&location)[0]["key"], "Maharashtra");
}

#[tokio::test]
async fn ranges_and_choices_are_validated() {
    let app = arranged().await;
    let p = format!("/v1/campaigns/{CAMPAIGN}/performance");
    let r = app.get(&format!("{p}?from=2026-11-10&to=2026-11-01")).await;
    assert_eq!(
        (r.status, r.fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["to".to_owned()])
    );
    let r = app.get(&format!("{p}?from=2024-01-01&to=2026-01-01")).await;
    assert_eq!(r.fields(), ["to"], "at most 400 days");
    let r = app
        .get(&format!(
            "{p}?from=yesterday&granularity=minute&breakdown=city"
        ))
        .await;
    assert_eq!(r.fields(), ["from", "granularity", "breakdown"]);
    let r = app
        .get(&format!("{p}?granularity=hour&breakdown=age"))
        .await;
    assert_eq!(r.fields(), ["breakdown"]);
    let default = app.get(&p).await;
    let now = chrono::Utc::now();
    let today = now.date_naive();
    assert_eq!(default.status, StatusCode::OK);
    assert_eq!(
        default.body["to"],
        (now + chrono::Duration::hours(14)).date_naive().to_string(),
        "the default range ends on the latest today anywhere (an account ahead of UTC)"
    );
    assert_eq!(
        default.body["from"],
        (today - chrono::Duration::days(29)).to_string(),
        "and covers 30 days"
    );
}

#[tokio::test]
async fn the_summary_has_every_campaign_and_a_total() {
    let app = arranged().await;
    app.db
        .superuser()
        .await
        .batch_execute(&format!("INSERT INTO campaigns (user_id, name, purpose, daily_budget) VALUES ('{}', 'Quiet', 'sales', 1)", app.user.id))
        .await
        .unwrap();
    let r = app
        .get("/v1/analytics/summary?from=2026-11-01&to=2026-11-30")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let campaigns = r.body["campaigns"].as_array().unwrap();
    assert_eq!(campaigns.len(), 2);
    let quiet = campaigns.iter().find(|c| c["name"] == "Quiet").unwrap();
    assert_eq!(
        (quiet["impressions"].as_i64(), quiet["ctr"].is_null()),
        (Some(0), true)
    );
    assert_eq!(r.body["totals"]["impressions"], 4000);
}

#[tokio::test]
async fn a_resynced_day_with_new_figures_changes_the_summary_in_the_same_write() {
    let app = arranged().await;
    app.rows(&[("2026-11-02", None, NONE, 5000, 50, "500.00", 5, "2500.00")])
        .await;
    let r = app
        .get("/v1/analytics/summary?from=2026-11-01&to=2026-11-30")
        .await;
    assert_eq!(r.body["totals"]["impressions"], 6000);
    assert_eq!(r.body["totals"]["spend"], "700.00");
    assert_eq!(r.body["campaigns"][0]["conversions"], 7);
}

#[tokio::test]
async fn maintenance_rebuilds_rollup_days_that_drifted_and_drops_days_without_insights() {
    let app = arranged().await;
    let su = app.db.superuser().await;
    su.batch_execute(&format!(
        "UPDATE campaign_daily_totals SET impressions = 1 WHERE date = '2026-11-01';
         DELETE FROM campaign_daily_totals WHERE date = '2026-11-02';
         INSERT INTO campaign_daily_totals (campaign_id, date, user_id, impressions, clicks, spend, conversions, conversion_value)
              VALUES ('{CAMPAIGN}', '2026-11-20', '{}', 99, 0, 0, 0, 0);",
        app.user.id
    ))
    .await
    .unwrap();
    let mended = app.rebuild().await;
    assert_eq!(
        mended,
        insights::Rebuilt {
            written: 2,
            removed: 1,
            weeks_written: 0,
            weeks_removed: 0,
        },
        "the weeks were right all along: they are summed from the mended days"
    );
    let r = app
        .get("/v1/analytics/summary?from=2026-11-01&to=2026-11-30")
        .await;
    assert_eq!(r.body["totals"]["impressions"], 4000);
    let again = app.rebuild().await;
    assert_eq!(again, insights::Rebuilt::default(), "nothing left to mend");
}

#[tokio::test]
async fn another_users_campaign_is_not_found_and_their_summary_is_empty() {
    let app = arranged().await;
    let other = TestUser::create(&app.db, "other@example.com").await;
    let as_other = |path: String| request(Method::GET, &path, None, Some(&other.token));
    let r = reply(
        analytics::handle(
            &app.state,
            as_other(format!("/v1/campaigns/{CAMPAIGN}/performance")),
        )
        .await,
    );
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = reply(
        analytics::handle(
            &app.state,
            as_other("/v1/analytics/summary?from=2026-11-01&to=2026-11-30".into()),
        )
        .await,
    );
    assert!(r.body["campaigns"].as_array().unwrap().is_empty());
    assert_eq!(r.body["totals"]["impressions"], 0);
    let r = reply(
        analytics::handle(
            &app.state,
            request(Method::GET, "/v1/analytics/summary", None, None),
        )
        .await,
    );
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn maintenance_rebuilds_weeks_that_drifted_from_their_days_and_drops_weeks_without_days() {
    let app = arranged().await;
    app.db
        .superuser()
        .await
        .batch_execute(&format!(
            "UPDATE campaign_weekly_totals SET clicks = 0;
             INSERT INTO campaign_weekly_totals (campaign_id, week, user_id, impressions, clicks, spend, conversions, conversion_value)
                  VALUES ('{CAMPAIGN}', '2026-11-16', '{}', 99, 0, 0, 0, 0);",
            app.user.id
        ))
        .await
        .unwrap();
    let mended = app.rebuild().await;
    assert_eq!(
        (mended.weeks_written, mended.weeks_removed, mended.written),
        (2, 1, 0),
        "both weeks (Sunday 1 November and the week of Monday 2 November) and the stray one"
    );
    let r = app
        .get("/v1/analytics/summary?from=2026-10-26&to=2026-11-22")
        .await;
    assert_eq!(r.body["totals"]["impressions"], 4000);
    assert_eq!(r.body["totals"]["clicks"], 50);
}

/// A day of figures for every day of November 2026, day n having n × 10 impressions.
async fn november() -> App {
    let app = App::new().await;
    let days: Vec<(String, i64)> = (1..=30)
        .map(|n| (format!("2026-11-{n:02}"), n * 10))
        .collect();
    let rows: Vec<Row<'_>> = days
        .iter()
        .map(|(date, imp)| {
            (
                date.as_str(),
                None,
                NONE,
                *imp,
                *imp / 10,
                "1.50",
                1,
                "3.00",
            )
        })
        .collect();
    app.rows(&rows).await;
    app
}

#[tokio::test]
async fn a_summary_over_any_range_equals_the_sum_of_its_days_whatever_weeks_it_spans() {
    let app = november().await;
    for (from, to) in [
        (1, 30),
        (2, 8),
        (3, 29),
        (9, 15),
        (10, 10),
        (16, 30),
        (4, 9),
        (1, 1),
    ] {
        let r = app
            .get(&format!(
                "/v1/analytics/summary?from=2026-11-{from:02}&to=2026-11-{to:02}"
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let days = to - from + 1;
        let impressions: i64 = (from..=to).map(|n| n * 10).sum();
        let c = &r.body["campaigns"][0];
        assert_eq!(c["impressions"], impressions, "{from}..{to}");
        assert_eq!(c["conversions"], days, "{from}..{to}");
        assert_eq!(
            c["spend"],
            format!("{:.2}", 1.5 * days as f64),
            "{from}..{to}"
        );
        assert_eq!(r.body["totals"]["impressions"], impressions, "{from}..{to}");
        assert_eq!(
            c["roas"], "2.0000",
            "ratios of the range's sums, whatever rows they came from"
        );
    }
}

#[tokio::test]
async fn resyncing_a_day_rewrites_its_week_in_the_same_transaction_and_a_repeat_changes_nothing() {
    let app = november().await;
    let weekly = async || app.week_impressions("2026-11-09").await;
    assert_eq!(weekly().await, (9..=15).map(|n| n * 10).sum::<i64>());
    app.rows(&[("2026-11-11", None, NONE, 1000, 10, "1.50", 1, "3.00")])
        .await;
    let resynced = (9..=15).map(|n| n * 10).sum::<i64>() - 110 + 1000;
    assert_eq!(weekly().await, resynced);
    app.rows(&[("2026-11-11", None, NONE, 1000, 10, "1.50", 1, "3.00")])
        .await;
    assert_eq!(
        weekly().await,
        resynced,
        "the same figures again: the same week"
    );
    let r = app
        .get("/v1/analytics/summary?from=2026-11-09&to=2026-11-15")
        .await;
    assert_eq!(r.body["totals"]["impressions"], resynced);
    assert_eq!(
        app.rebuild().await,
        insights::Rebuilt::default(),
        "nothing drifted"
    );
}

#[tokio::test]
async fn two_syncs_writing_different_days_of_one_week_at_once_leave_the_week_with_both() {
    let app = App::new().await;
    let row = |date: &str, impressions: i64| InsightRow {
        campaign_id: CAMPAIGN.parse().unwrap(),
        impressions,
        ..InsightRow::daily_total(
            CAMPAIGN.parse().unwrap(),
            date.parse().unwrap(),
            &Default::default(),
        )
    };
    let (monday, tuesday) = (row("2026-11-09", 100), row("2026-11-10", 20));
    let first_wrote = std::sync::Arc::new(tokio::sync::Notify::new());
    let (db1, db2) = (app.db.worker(), app.db.worker());
    let signal = first_wrote.clone();
    let first = tokio::spawn(async move {
        db1.run("first sync", async |w| {
            insights::upsert(w, std::slice::from_ref(&monday)).await?;
            signal.notify_one();
            // Still open while the second sync writes its day.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            Ok(())
        })
        .await
        .unwrap()
    });
    first_wrote.notified().await;
    db2.run("second sync", async |w| {
        insights::upsert(w, std::slice::from_ref(&tuesday)).await
    })
    .await
    .unwrap();
    first.await.unwrap();
    assert_eq!(
        app.week_impressions("2026-11-09").await,
        120,
        "Monday's 100 and Tuesday's 20"
    );
}
