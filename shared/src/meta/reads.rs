//! Reading an ad account through the typed facade: insights (directly, or as an async
//! report run polled until done) and the list of its ads, every cursor page followed.
//! Each answer's usage headers go to a `Meter`, which may stop the read (the caller's
//! hourly call budget, Meta's utilisation).

use std::time::Duration;

use serde_json::Value;

use super::ads::AdAccount;
use super::graph::{ErrorKind, GraphError, Usage};

/// Counts calls as they are made; an error stops the read there.
pub trait Meter {
    /// Counts one call with its usage headers; an error stops the read (the call budget is spent).
    fn count(&mut self, usage: Usage) -> Result<(), GraphError>;
}

/// The level insights are broken down to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// One row per campaign and day.
    Campaign,
    /// One row per ad and day.
    Ad,
}

impl Level {
    fn as_meta(self) -> &'static str {
        match self {
            Self::Campaign => "campaign",
            Self::Ad => "ad",
        }
    }
}

/// One daily insights pull over a time range.
pub struct InsightsQuery<'a> {
    /// Campaign or ad rows.
    pub level: Level,
    /// The insights fields to read, comma-separated.
    pub fields: &'a str,
    /// Meta's breakdowns, comma-separated ("" for none).
    pub breakdowns: &'a str,
    /// `{"since": "YYYY-MM-DD", "until": "YYYY-MM-DD"}` in the account's days.
    pub time_range: Value,
    /// Run as an async report (for the large pulls), polled every `poll`.
    pub run_async: bool,
    /// How often an async report is polled.
    pub poll: Duration,
}

const PAGE: &str = "500";

impl AdAccount<'_> {
    /// Every row of the pull, one per object and day.
    pub async fn insights(
        &self,
        q: &InsightsQuery<'_>,
        meter: &mut impl Meter,
    ) -> Result<Vec<Value>, GraphError> {
        let mut params = vec![
            ("level", q.level.as_meta().to_owned()),
            ("fields", q.fields.to_owned()),
            ("time_range", q.time_range.to_string()),
            ("time_increment", "1".to_owned()),
            ("limit", PAGE.to_owned()),
        ];
        if !q.breakdowns.is_empty() {
            params.push(("breakdowns", q.breakdowns.to_owned()));
        }
        if !q.run_async {
            return self
                .pages(format!("{}/insights", self.act), params, meter)
                .await;
        }
        let run = self
            .graph
            .post(&format!("{}/insights", self.act), self.token, &params)
            .await?;
        meter.count(run.usage)?;
        let id = run.body["report_run_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        loop {
            let status = self.graph.get(&id, self.token, &[]).await?;
            meter.count(status.usage)?;
            match status.body["async_status"].as_str() {
                Some("Job Completed") => break,
                Some("Job Failed") | Some("Job Skipped") => {
                    return Err(GraphError {
                        kind: ErrorKind::Transient,
                        status: 200,
                        code: 0,
                        subcode: None,
                        message: format!("async report {id} {}", status.body["async_status"]),
                    });
                }
                _ => tokio::time::sleep(q.poll).await,
            }
        }
        self.pages(
            format!("{id}/insights"),
            vec![("limit", PAGE.to_owned())],
            meter,
        )
        .await
    }

    /// Each campaign's unique reach and impressions over each of `ranges` (one row per
    /// campaign and range, `date_start`/`date_stop` naming the range), in one call:
    /// Meta's `time_ranges`, whose ranges it counts a person once in each.
    pub async fn reach_over(
        &self,
        ranges: &[(chrono::NaiveDate, chrono::NaiveDate)],
        meter: &mut impl Meter,
    ) -> Result<Vec<Value>, GraphError> {
        let ranges: Vec<Value> = ranges
            .iter()
            .map(|(since, until)| {
                serde_json::json!({"since": since.to_string(), "until": until.to_string()})
            })
            .collect();
        self.pages(
            format!("{}/insights", self.act),
            vec![
                ("level", Level::Campaign.as_meta().to_owned()),
                (
                    "fields",
                    "campaign_id,reach,impressions,frequency,date_start,date_stop".to_owned(),
                ),
                ("time_ranges", Value::Array(ranges).to_string()),
                ("limit", PAGE.to_owned()),
            ],
            meter,
        )
        .await
    }

    /// Every ad set of the account with `fields` (its `learning_stage_info`, say).
    pub async fn adsets(
        &self,
        fields: &str,
        meter: &mut impl Meter,
    ) -> Result<Vec<Value>, GraphError> {
        self.listed("adsets", fields, meter).await
    }

    /// Every ad of the account with `fields`.
    pub async fn ads(
        &self,
        fields: &str,
        meter: &mut impl Meter,
    ) -> Result<Vec<Value>, GraphError> {
        self.listed("ads", fields, meter).await
    }

    /// Every object on one of the account's edges with `fields`, every page.
    async fn listed(
        &self,
        edge: &str,
        fields: &str,
        meter: &mut impl Meter,
    ) -> Result<Vec<Value>, GraphError> {
        self.pages(
            format!("{}/{edge}", self.act),
            vec![("fields", fields.to_owned()), ("limit", PAGE.to_owned())],
            meter,
        )
        .await
    }

    /// Every row of a paged edge from `first`, following `paging.next`.
    async fn pages(
        &self,
        first: String,
        mut params: Vec<(&str, String)>,
        meter: &mut impl Meter,
    ) -> Result<Vec<Value>, GraphError> {
        let mut rows = Vec::new();
        let mut next = Some(first);
        while let Some(path) = next.take() {
            let page = self.graph.get(&path, self.token, &params).await?;
            meter.count(page.usage.clone())?;
            rows.extend(page.body["data"].as_array().cloned().unwrap_or_default());
            next = page.body["paging"]["next"].as_str().map(str::to_owned);
            params.clear(); // the next URL carries the query
        }
        Ok(rows)
    }
}
