//! `cleanup_old_data()` keeps the seed's retention — analytics 2 years, completed jobs
//! 30 days (failed and cancelled ones 90), usage logs 1 year — dropping whole expired
//! partitions, and nothing else.

use chrono::{Datelike, Months, NaiveDate, Utc};
use shared::repo::retention;
use shared::testing::TestDb;

const USER: &str = "00000000-0000-0000-0000-0000000000a1";
const CAMPAIGN: &str = "00000000-0000-0000-0000-0000000000c1";

fn month_start(months_ago: u32) -> NaiveDate {
    let today = Utc::now().date_naive();
    NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap() - Months::new(months_ago)
}

#[tokio::test]
async fn cleanup_removes_exactly_what_the_retention_policy_says() {
    let db = TestDb::fresh().await;
    let su = db.superuser().await;
    let old_month = month_start(30); // wholly older than two years
    let today = Utc::now().date_naive();
    let just_expired = today - chrono::Duration::days(731);
    let just_kept = today - chrono::Duration::days(729);
    su.batch_execute(&format!(
        "INSERT INTO users (id, email, password_hash) VALUES ('{USER}', 'a@example.com', 'h');
         INSERT INTO campaigns (id, user_id, name, purpose) VALUES ('{CAMPAIGN}', '{USER}', 'c', 'sales');
         SELECT create_performance_partition('{old_month}');
         SELECT create_performance_partition('{just_kept}');
         INSERT INTO performance_analytics (campaign_id, date, impressions) VALUES
             ('{CAMPAIGN}', '{old_month}', 1),
             ('{CAMPAIGN}', '{just_expired}', 2),
             ('{CAMPAIGN}', '{just_kept}', 3),
             ('{CAMPAIGN}', current_date, 4);
         INSERT INTO background_jobs (job_type, status, scheduled_at, completed_at) VALUES
             ('old_done', 'completed', now() - interval '40 days', now() - interval '31 days'),
             ('recent_done', 'completed', now() - interval '10 days', now() - interval '29 days'),
             ('recent_failed', 'failed', now() - interval '90 days', now() - interval '89 days'),
             ('old_failed', 'failed', now() - interval '100 days', now() - interval '91 days'),
             ('old_cancelled', 'cancelled', now() - interval '100 days', now() - interval '91 days'),
             ('running', 'running', now() - interval '100 days', NULL);
         INSERT INTO usage_logs (user_id, feature, logged_at) VALUES
             ('{USER}', 'old', now() - interval '1 year 1 day'),
             ('{USER}', 'recent', now() - interval '364 days');"
    ))
    .await
    .unwrap();

    let report = db
        .worker()
        .run("retention", async |w| retention::cleanup_old_data(w).await)
        .await
        .unwrap();

    let old_part = old_month.format("performance_analytics_y%Ym%m").to_string();
    let old_creative_part = old_month.format("creative_performance_y%Ym%m").to_string();
    assert_eq!(
        report["dropped_partitions"],
        serde_json::json!([old_part, old_creative_part]),
        "creative results age out with the campaign's"
    );
    let exists: bool = su
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&old_part])
        .await
        .unwrap()
        .get(0);
    assert!(!exists, "the expired partition is dropped whole");

    let left: Vec<i64> = su
        .query(
            "SELECT impressions FROM performance_analytics ORDER BY impressions",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(left, [3, 4], "rows younger than two years stay");

    let jobs: Vec<String> = su
        .query("SELECT job_type FROM background_jobs ORDER BY 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        jobs,
        ["recent_done", "recent_failed", "running"],
        "completed jobs go after 30 days, failed and cancelled ones after 90, unfinished never"
    );

    let usage: Vec<String> = su
        .query("SELECT feature FROM usage_logs", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(usage, ["recent"]);

    // Running it again removes nothing more.
    let again = db
        .worker()
        .run("retention", async |w| retention::cleanup_old_data(w).await)
        .await
        .unwrap();
    assert_eq!(again["analytics_rows_deleted"], 0);
    assert_eq!(again["dropped_partitions"], serde_json::json!([]));
}
