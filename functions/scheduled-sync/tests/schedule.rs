//! The hourly schedule: one sync job and one queued message per active ad account with
//! launched campaigns; none for an account without, one that Meta is throttling, one
//! whose hourly call budget cannot fit a sync, or one whose last sync still waits.

use scheduled_sync::{State, handle};
use shared::aws::relay::Relay;
use shared::messages::{Message, MetaSync};
use shared::testing::TestDb;
use shared::testing::api::TestUser;

async fn app(db: &TestDb) -> (State, aws_sdk_sqs::Client, String) {
    let (sqs, url) = shared::testing::queue("meta-sync").await;
    let state = State {
        db: db.worker(),
        relay: Relay::new(
            sqs.clone(),
            [(MetaSync::TOPIC.to_owned(), url.clone())].into(),
        ),
    };
    (state, sqs, url)
}

/// An active connection with `act`, and (when `launched`) a campaign launched on it.
async fn account(db: &TestDb, user: &TestUser, act: &str, launched: bool) {
    let connection = uuid::Uuid::new_v4();
    db.superuser()
        .await
        .batch_execute(&format!(
            "INSERT INTO meta_accounts (id, user_id, meta_user_id, access_token) VALUES ('{connection}', '{u}', '{act}-fb', 'k1:x');
             INSERT INTO meta_ad_accounts (meta_account_id, user_id, ad_account_id, account_status, currency)
                  VALUES ('{connection}', '{u}', '{act}', 1, 'INR');
             {campaign}",
            u = user.id,
            campaign = if launched {
                format!(
                    "INSERT INTO campaigns (user_id, name, purpose, daily_budget, status, meta_campaign_id, meta_ad_account_id)
                     VALUES ('{}', 'c', 'sales', 100, 'active', '{act}-campaign', '{act}');",
                    user.id
                )
            } else {
                String::new()
            }
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn each_syncable_account_gets_one_job_within_its_budget() {
    let db = TestDb::fresh().await;
    let (state, sqs, url) = app(&db).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    account(&db, &user, "act_1", true).await;
    account(&db, &user, "act_2", false).await; // nothing launched: nothing to pull
    account(&db, &user, "act_3", true).await;
    account(&db, &user, "act_4", true).await;
    let su = db.superuser().await;
    su.batch_execute(
        "UPDATE system_config SET value = '{\"calls_per_hour\": 20}' WHERE key = 'meta_api_rate_limits';
         INSERT INTO meta_rate_windows (ad_account_id, window_start, calls) VALUES ('act_3', date_trunc('hour', now()), 17);
         INSERT INTO meta_rate_windows (ad_account_id, window_start, calls, throttled_until)
              VALUES ('act_4', date_trunc('hour', now()) - interval '1 hour', 0, now() + interval '10 minutes');",
    )
    .await
    .unwrap();

    let report = handle(&state).await.unwrap();
    assert_eq!(
        (report["queued"].as_i64(), report["sent"].as_i64()),
        (Some(1), Some(1)),
        "{report}"
    );
    let skipped: Vec<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["ad_account_id"].as_str().unwrap())
        .collect();
    assert_eq!(skipped.len(), 2);
    assert!(
        skipped.contains(&"act_3") && skipped.contains(&"act_4"),
        "over budget and throttled: {skipped:?}"
    );

    let got = shared::testing::received(&sqs, &url).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["ad_account_id"], "act_1");
    let job: (String, String) = {
        let r = su
            .query_one(
                "SELECT job_type, status FROM background_jobs WHERE id = $1::text::uuid",
                &[&got[0]["job_id"].as_str().unwrap()],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(job, ("meta_sync".to_owned(), "pending".to_owned()));

    let again = handle(&state).await.unwrap();
    assert_eq!(again["queued"], 0, "the waiting sync is not queued twice");
}
