//! The email sender (SQS, partial batch failures): each message names a notification
//! whose email is pending. Under the email row's lock it renders the email, sends it
//! through SES and records the answer, so a message delivered twice, or twice at once,
//! sends once. SES's refusals of the message itself (rejected, unverified sender, bad
//! request) fail it for good and are kept; throttling and outages are retried with a
//! growing delay, at most `MAX_ATTEMPTS` times. Sending is paced to `EMAILS_PER_SECOND`.

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageHeader};
use shared::aws::LazyClient;
use shared::aws::sqs_batch::{Outcome, attempt_of, body_of, process_batch};
use shared::config::{ConfigError, DbConfig, or_default, parsed_or, required};
use shared::db::WorkerDb;
use shared::messages::NotificationEmail;
use shared::repo::notifications::{self, Outgoing};

use crate::email::{self, Email};
use crate::unsubscribe::Signer;

/// Attempts before a throttled or failing send is given up (and kept as failed).
pub const MAX_ATTEMPTS: i32 = 5;

pub struct Sender {
    pub db: WorkerDb,
    /// Made on the first send: an SES client at init cost this function 2.9× hello's
    /// cold start (results.md).
    pub ses: LazyClient<aws_sdk_sesv2::Client>,
    pub sqs: LazyClient<aws_sdk_sqs::Client>,
    pub signer: Signer,
    /// The verified sender, e.g. `Adpilot <notifications@adpilot.app>`.
    pub from: String,
    /// The web app's origin, for links to act.
    pub app_url: String,
    /// The API's origin, for unsubscribe links.
    pub api_url: String,
    pub pause: Duration,
}

impl Sender {
    pub async fn from_env() -> Result<Self, ConfigError> {
        let per_second: f64 = parsed_or("EMAILS_PER_SECOND", 10.0)?;
        Ok(Self {
            db: WorkerDb::connect(&DbConfig::worker_from_env()?)?,
            ses: LazyClient::on_first_use(),
            sqs: LazyClient::on_first_use(),
            signer: Signer::from_env()?,
            from: required("EMAIL_FROM")?,
            app_url: or_default("APP_URL", "http://localhost:3000"),
            api_url: required("PUBLIC_API_URL")?,
            pause: Duration::from_secs_f64(1.0 / per_second.max(0.1)),
        })
    }

    pub fn unsubscribe_url(&self, o: &Outgoing, user: uuid::Uuid) -> String {
        format!(
            "{}/v1/notifications/unsubscribe?token={}",
            self.api_url.trim_end_matches('/'),
            self.signer.token(user, o.notification.category)
        )
    }
}

pub async fn handle(s: &Sender, event: SqsEvent) -> SqsBatchResponse {
    process_batch(&s.sqs, &event, |record| async move {
        let outcome = process(s, record).await;
        tokio::time::sleep(s.pause).await;
        outcome
    })
    .await
}

fn backoff_seconds(attempt: u32) -> i32 {
    shared::aws::sqs_batch::backoff(30, attempt, 900)
}

/// What SES said.
enum Sent {
    Ok(String),
    Refused(String),
    Later(String),
}

async fn send(s: &Sender, to: &str, e: &Email) -> Sent {
    let content = |data: &str| Content::builder().data(data).charset("UTF-8").build();
    let (Ok(subject), Ok(text), Ok(html)) =
        (content(&e.subject), content(&e.text), content(&e.html))
    else {
        return Sent::Refused("the email could not be built".into());
    };
    let headers = [
        ("List-Unsubscribe", format!("<{}>", e.unsubscribe_url)),
        (
            "List-Unsubscribe-Post",
            "List-Unsubscribe=One-Click".to_owned(),
        ),
    ]
    .into_iter()
    .filter_map(|(name, value)| {
        MessageHeader::builder()
            .name(name)
            .value(value)
            .build()
            .ok()
    })
    .collect();
    let message = Message::builder()
        .subject(subject)
        .body(Body::builder().text(text).html(html).build())
        .set_headers(Some(headers))
        .build();
    let sent = s
        .ses
        .get()
        .await
        .send_email()
        .from_email_address(&s.from)
        .destination(Destination::builder().to_addresses(to).build())
        .content(EmailContent::builder().simple(message).build())
        .send()
        .await;
    match sent {
        Ok(out) => Sent::Ok(out.message_id().unwrap_or_default().to_owned()),
        Err(e) => {
            let why = format!("{}", aws_sdk_sesv2::error::DisplayErrorContext(&e));
            match e.as_service_error() {
                Some(
                    SendEmailError::MessageRejected(_)
                    | SendEmailError::MailFromDomainNotVerifiedException(_)
                    | SendEmailError::BadRequestException(_)
                    | SendEmailError::NotFoundException(_)
                    | SendEmailError::AccountSuspendedException(_),
                ) => Sent::Refused(why),
                _ => Sent::Later(why),
            }
        }
    }
}

/// Sends one notification's email; never panics, every failure becomes an outcome.
pub async fn process(s: &Sender, record: &SqsMessage) -> Outcome {
    let attempt = attempt_of(record);
    let msg: NotificationEmail = match body_of(record, backoff_seconds(attempt)) {
        Ok(m) => m,
        Err(retry) => return retry,
    };
    let id = msg.notification_id;
    let done = s
        .db
        .run("notification email", async |w| {
            let Some(o) = notifications::pending_email(w, id).await? else {
                return Ok(Outcome::done("already sent or given up"));
            };
            let e = email::render(&o, &s.app_url, s.unsubscribe_url(&o, msg.user_id));
            match send(s, &o.to, &e).await {
                Sent::Ok(message_id) => {
                    notifications::email_attempted(w, id, Some(&message_id), false, None).await?;
                    tracing::info!(notification_id = %id, user_id = %msg.user_id, message_id, "email sent");
                    Ok(Outcome::done("sent"))
                }
                Sent::Refused(why) => {
                    notifications::email_attempted(w, id, None, true, Some(&why)).await?;
                    tracing::warn!(notification_id = %id, user_id = %msg.user_id, why, "email refused for good");
                    Ok(Outcome::done("refused"))
                }
                Sent::Later(why) if o.attempts + 1 >= MAX_ATTEMPTS => {
                    let why = format!("gave up after {} attempts: {why}", o.attempts + 1);
                    notifications::email_attempted(w, id, None, true, Some(&why)).await?;
                    tracing::warn!(notification_id = %id, user_id = %msg.user_id, why, "email given up");
                    Ok(Outcome::done("given up"))
                }
                Sent::Later(why) => {
                    notifications::email_attempted(w, id, None, false, Some(&why)).await?;
                    Ok(Outcome::Retry {
                        why,
                        after_seconds: backoff_seconds(attempt),
                    })
                }
            }
        })
        .await;
    done.unwrap_or_else(|e| Outcome::Retry {
        why: e.to_string(),
        after_seconds: backoff_seconds(attempt),
    })
}
