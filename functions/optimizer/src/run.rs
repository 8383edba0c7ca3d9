//! One optimizer run (an SQS message): the `optimize_campaign` job started, the owner's
//! rules for the trigger judged on the ad account's campaigns, each decision recorded or
//! acted on (`act`), each rule's circuit breaker checked, the job completed with the
//! tally. A redelivered message for a finished job does nothing; a run that keeps
//! failing on our side fails its job after `MAX_ATTEMPTS`.

use std::collections::BTreeMap;

use aws_lambda_events::event::sqs::SqsMessage;
use chrono::Utc;
use serde_json::json;
use shared::WorkerError;
pub use shared::aws::sqs_batch::Outcome;
use shared::aws::sqs_batch::{attempt_of, body_of};
use shared::domain::notification::{Category, Notice};
use shared::domain::{JobId, UserId};
use shared::messages::Optimize;
use shared::repo::rules::Rule;
use shared::repo::{jobs, notifications, optimization_logs, optimizer_facts, rules};
use shared::rules::presets;

use crate::State;
use crate::act;

pub const MAX_ATTEMPTS: u32 = 4;
/// A rule's recent actions the circuit breaker looks at, and the fewest it judges on.
pub const BREAKER_WINDOW: i64 = 20;
pub const BREAKER_MIN_RUNS: i64 = 4;

fn backoff_seconds(attempt: u32) -> i32 {
    shared::aws::sqs_batch::backoff(30, attempt, 480)
}

pub async fn process(state: &State, record: &SqsMessage) -> Outcome {
    let attempt = attempt_of(record);
    let msg: Optimize = match body_of(record, backoff_seconds(attempt)) {
        Ok(m) => m,
        Err(retry) => return retry,
    };
    match run(state, &msg).await {
        Ok(outcome) => outcome,
        Err(e) if attempt >= MAX_ATTEMPTS => {
            let why = format!("gave up after {attempt} attempts: {e}");
            let failed = state
                .db
                .tenant(UserId(msg.user_id), async |t| {
                    jobs::fail(t, JobId(msg.job_id), &why).await
                })
                .await;
            match failed {
                Ok(_) => Outcome::done("failed"),
                Err(e) => Outcome::Retry {
                    why: e.to_string(),
                    after_seconds: 60,
                },
            }
        }
        Err(e) => Outcome::Retry {
            why: e.to_string(),
            after_seconds: backoff_seconds(attempt),
        },
    }
}

/// Runs the owner's rules for `msg`'s trigger on its ad account.
pub async fn run(state: &State, msg: &Optimize) -> Result<Outcome, WorkerError> {
    let (user, job) = (UserId(msg.user_id), JobId(msg.job_id));
    let started = match state
        .db
        .tenant(user, async |t| jobs::start(t, job).await)
        .await
        .map_err(WorkerError::from)
    {
        Err(WorkerError::AccountGone) => return Ok(Outcome::done("the account is gone")),
        other => other?,
    };
    if started.is_none() {
        return Ok(Outcome::done("the run is already over"));
    }
    let now = Utc::now();
    if msg.trigger == "daily" {
        presets(state, msg).await?;
    }
    let rules = state
        .db
        .tenant(user, async |t| {
            rules::enabled_for(t, user.0, &msg.trigger).await
        })
        .await?;
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for rule in &rules {
        let judgements = state
            .db
            .tenant(user, async |t| {
                ::rules::judge::judge(t, rule, Some(&msg.ad_account_id), now).await
            })
            .await?;
        for j in judgements {
            let outcome = act::settle(state, rule, j, now).await?;
            *tally.entry(outcome.to_owned()).or_insert(0) += 1;
        }
        breaker(state, rule).await?;
    }
    let result = json!({ "rules": rules.len(), "decisions": tally, "trigger": msg.trigger });
    state
        .db
        .tenant(user, async |t| jobs::complete(t, job, &result).await)
        .await?;
    tracing::info!(user_id = %user, ad_account = msg.ad_account_id, %result, "optimizer run done");
    Ok(Outcome::done("optimized"))
}

/// Turns the rule off (and tells its owner) when half or more of its last 20 actions
/// failed, once it has acted at least `BREAKER_MIN_RUNS` times.
async fn breaker(state: &State, rule: &Rule) -> Result<(), WorkerError> {
    let user = UserId(rule.user_id);
    let told = state
        .db
        .tenant(user, async |t| {
            let (runs, failed) = optimization_logs::recent_runs(t, rule.id, BREAKER_WINDOW).await?;
            if runs < BREAKER_MIN_RUNS || failed * 2 < runs {
                return Ok(None);
            }
            let why = format!("{failed} of its last {runs} actions failed on Meta");
            if !rules::disable(t, rule.id, &why).await? {
                return Ok(None);
            }
            let notice = Notice {
                category: Category::Optimization,
                event_key: format!("rule-disabled:{}:{}", rule.id, rule.version),
                title: format!("Rule \"{}\" turned itself off", rule.name),
                body: format!(
                    "{why}. Check the campaign's connection to Meta, then turn the rule on again."
                ),
                link: Some(format!("/rules/{}", rule.id)),
            };
            tracing::warn!(user_id = %user, rule_id = %rule.id, why, "rule disabled by its circuit breaker");
            notifications::notify(t, user.0, &notice).await.map(Some)
        })
        .await?;
    if let Some(notifications::Told::New {
        outbox: Some(id), ..
    }) = told
    {
        state.relay.send_now(&state.db, user, &[id]).await;
    }
    Ok(())
}

/// Writes the preset rules of the account's campaigns that have goals.
async fn presets(state: &State, msg: &Optimize) -> Result<(), WorkerError> {
    let user = UserId(msg.user_id);
    state
        .db
        .tenant(user, async |t| {
            for (campaign, goals) in
                optimizer_facts::goals_on_account(t, user.0, &msg.ad_account_id).await?
            {
                let presets = presets::for_goals(&presets::Goals::from_json(&goals));
                rules::ensure_presets(t, user.0, campaign, &presets).await?;
            }
            Ok(())
        })
        .await
        .map_err(WorkerError::from)
}
