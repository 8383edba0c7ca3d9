//! `performance_analytics` is partitioned by month: rows land in their month's
//! partition, the natural key with NULLS NOT DISTINCT keeps re-syncs from duplicating,
//! and a month without a partition waits in the default partition until one is made.

use chrono::NaiveDate;
use shared::repo::retention;
use shared::testing::TestDb;
use tokio_postgres::Client;

const USER: &str = "00000000-0000-0000-0000-0000000000a1";
const CAMPAIGN: &str = "00000000-0000-0000-0000-0000000000c1";

async fn with_campaign() -> (TestDb, Client) {
    let db = TestDb::fresh().await;
    let su = db.superuser().await;
    su.batch_execute(&format!(
        "INSERT INTO users (id, email, password_hash) VALUES ('{USER}', 'a@example.com', 'h');
         INSERT INTO campaigns (id, user_id, name, purpose) VALUES ('{CAMPAIGN}', '{USER}', 'c', 'sales');"
    ))
    .await
    .unwrap();
    (db, su)
}

/// The sync worker's upsert shape: the natural key decides insert or update.
fn upsert(date: &str, hour: &str, platform: &str, impressions: i64) -> String {
    format!(
        "INSERT INTO performance_analytics (campaign_id, date, hour, platform, impressions, clicks, spend)
         VALUES ('{CAMPAIGN}', '{date}', {hour}, {platform}, {impressions}, 1, 10)
         ON CONFLICT ON CONSTRAINT performance_analytics_natural_key
         DO UPDATE SET impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks, spend = EXCLUDED.spend"
    )
}

async fn partition_of(su: &Client, date: &str) -> Vec<String> {
    su.query(
        "SELECT tableoid::regclass::text FROM performance_analytics WHERE date = $1::text::date",
        &[&date],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

#[tokio::test]
async fn migrations_create_the_current_month_and_three_ahead_plus_a_default() {
    let (_db, su) = with_campaign().await;
    let parts: Vec<String> = su
        .query(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'performance_analytics'::regclass ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(parts.len(), 5, "{parts:?}");
    assert!(parts.contains(&"performance_analytics_default".to_owned()));
    let this_month = chrono::Utc::now()
        .format("performance_analytics_y%Ym%m")
        .to_string();
    assert!(parts.contains(&this_month), "{parts:?}");
}

#[tokio::test]
async fn rows_route_to_their_month_partition() {
    let (_db, su) = with_campaign().await;
    let today = chrono::Utc::now().date_naive().to_string();
    su.batch_execute(&upsert(&today, "NULL", "NULL", 5))
        .await
        .unwrap();
    let expected = chrono::Utc::now()
        .format("performance_analytics_y%Ym%m")
        .to_string();
    assert_eq!(partition_of(&su, &today).await, [expected]);
}

#[tokio::test]
async fn re_upserting_a_day_with_null_hour_and_breakdowns_updates_instead_of_duplicating() {
    let (_db, su) = with_campaign().await;
    let today = chrono::Utc::now().date_naive().to_string();
    su.batch_execute(&upsert(&today, "NULL", "NULL", 5))
        .await
        .unwrap();
    su.batch_execute(&upsert(&today, "NULL", "NULL", 7))
        .await
        .unwrap();
    su.batch_execute(&upsert(&today, "13", "NULL", 2))
        .await
        .unwrap();
    su.batch_execute(&upsert(&today, "NULL", "'instagram'", 3))
        .await
        .unwrap();
    let rows = su
        .query(
            "SELECT hour, platform, impressions FROM performance_analytics ORDER BY hour NULLS FIRST, platform NULLS FIRST",
            &[],
        )
        .await
        .unwrap();
    let got: Vec<(Option<i32>, Option<String>, i64)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        got,
        [
            (None, None, 7),
            (None, Some("instagram".to_owned()), 3),
            (Some(13), None, 2)
        ],
        "the daily total, a platform breakdown and an hourly row coexist once each"
    );
}

#[tokio::test]
async fn ratios_come_from_the_sums_and_are_null_without_a_divisor() {
    let (_db, su) = with_campaign().await;
    su.batch_execute(&format!(
        "INSERT INTO performance_analytics (campaign_id, date, impressions, clicks, spend, conversions, conversion_value)
         VALUES ('{CAMPAIGN}', current_date, 2000, 50, 1000.00, 4, 150000.00),
                ('{CAMPAIGN}', current_date - 1, 0, 0, 0, 0, 0)"
    ))
    .await
    .unwrap();
    let row = su
        .query_one(
            "SELECT ctr::text, cpc::text, cpa::text, roas::text FROM performance_analytics WHERE impressions > 0",
            &[],
        )
        .await
        .unwrap();
    let got: (String, String, String, String) = (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!(
        got,
        (
            "0.025000".into(),
            "20.0000".into(),
            "250.0000".into(),
            "150.0000".into()
        )
    );
    let empty = su
        .query_one("SELECT ctr IS NULL AND cpc IS NULL AND cpa IS NULL AND roas IS NULL FROM performance_analytics WHERE impressions = 0", &[])
        .await
        .unwrap();
    assert!(empty.get::<_, bool>(0));
}

#[tokio::test]
async fn a_month_without_a_partition_waits_in_the_default_and_moves_when_one_is_made() {
    let (db, su) = with_campaign().await;
    su.batch_execute(
        &(upsert("2031-05-10", "NULL", "NULL", 1) + ";" + &upsert("2031-06-01", "NULL", "NULL", 2)),
    )
    .await
    .unwrap();
    assert_eq!(
        partition_of(&su, "2031-05-10").await,
        ["performance_analytics_default"]
    );

    let made = db
        .worker()
        .run("partitions", async |w| {
            let first = retention::ensure_analytics_partition(
                w,
                NaiveDate::from_ymd_opt(2031, 5, 20).unwrap(),
            )
            .await?;
            let again = retention::ensure_analytics_partition(
                w,
                NaiveDate::from_ymd_opt(2031, 5, 1).unwrap(),
            )
            .await?;
            Ok((first, again))
        })
        .await
        .unwrap();
    assert_eq!(
        made,
        (
            "performance_analytics_y2031m05".to_owned(),
            "performance_analytics_y2031m05".to_owned()
        )
    );
    assert_eq!(
        partition_of(&su, "2031-05-10").await,
        ["performance_analytics_y2031m05"]
    );
    // June has no partition yet: its row stays in the default, and nothing was lost.
    assert_eq!(
        partition_of(&su, "2031-06-01").await,
        ["performance_analytics_default"]
    );
    let total: i64 = su
        .query_one(
            "SELECT sum(impressions)::int8 FROM performance_analytics",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(total, 3);
}
