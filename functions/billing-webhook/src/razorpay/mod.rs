//! `POST /webhooks/razorpay`: checks `X-Razorpay-Signature` (hex HMAC-SHA256 of the raw
//! body), records each event once by `x-razorpay-event-id`, and applies subscription and
//! payment events (see `events` for the mapping).

pub mod events;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::db::Worker;
use shared::domain::billing::Provider;
use shared::error::{AppError, Problem};
use shared::repo::billing_events::{self, NewEvent, Payment};
use shared::repo::{subscriptions, system_config};
use shared::signature::verify_hmac_sha256_hex;

use crate::{Received, State, header, sweep_superseded};
use events::{Event, transition};

const BAD_SIGNATURE: AppError = AppError::Unauthenticated {
    code: "invalid_signature",
    detail: "X-Razorpay-Signature is missing or does not match the body.",
};

#[utoipa::path(post, path = "/webhooks/razorpay", operation_id = "receive_razorpay_webhook", tag = "webhooks",
    request_body(content = Object, description = "A Razorpay webhook event, signed with the webhook secret"),
    params(
        ("x-razorpay-signature" = String, Header, description = "Hex HMAC-SHA256 of the raw body"),
        ("x-razorpay-event-id" = Option<String>, Header, description = "Razorpay's id of the event, used to drop redeliveries"),
    ),
    responses(
        (status = 200, description = "Recorded (and applied once)", body = Received),
        (status = 400, description = "Signed, but not a Razorpay event", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing or wrong; nothing stored", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn receive(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let body: &[u8] = req.body().as_ref();
    let signature = header(req, "x-razorpay-signature").ok_or(BAD_SIGNATURE)?;
    if !verify_hmac_sha256_hex(state.webhook_secret.as_bytes(), body, signature) {
        return Err(BAD_SIGNATURE);
    }
    let payload: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| AppError::MalformedBody(e.to_string()))?;
    let event: Event = serde_json::from_value(payload.clone())
        .map_err(|e| AppError::MalformedBody(format!("not a Razorpay event: {e}")))?;
    if event.entity != "event" {
        return Err(AppError::MalformedBody("entity must be \"event\"".into()));
    }
    // Razorpay always sends the id; without one, the body itself identifies the delivery.
    let event_id = header(req, "x-razorpay-event-id")
        .map(str::to_owned)
        .unwrap_or_else(|| {
            format!(
                "body-sha256:{}",
                shared::signature::hmac_sha256_hex(b"", body)
            )
        });
    let (outcome, user) = state
        .db
        .run("billing-webhook", async |w| {
            apply(w, &event_id, &event, &payload).await
        })
        .await?;
    if let Some(user) = user {
        sweep_superseded(state, user).await;
    }
    tracing::info!(
        provider = "razorpay",
        event_id,
        event_type = event.event,
        outcome,
        "billing event"
    );
    shared::http::json(StatusCode::OK, &Received { event_id, outcome })
}

/// Records the event and applies it once; returns the outcome and, when it applied to
/// one of our subscriptions, whose it is.
pub async fn apply(
    w: &Worker<'_>,
    event_id: &str,
    event: &Event,
    payload: &serde_json::Value,
) -> Result<(String, Option<uuid::Uuid>), AppError> {
    let sub_entity = event.subscription();
    let fresh = billing_events::record(
        w,
        &NewEvent {
            provider: Provider::Razorpay,
            provider_event_id: event_id,
            event_type: &event.event,
            provider_subscription_id: sub_entity.map(|s| s.id.as_str()),
            created_at: event.created_at(),
            payload,
        },
    )
    .await?;
    if !fresh {
        return Ok(("duplicate".into(), None));
    }
    let sub = match sub_entity {
        Some(s) => subscriptions::lock_by_razorpay_id(w, &s.id).await?,
        None => None,
    };
    if let Some(p) = event.payment() {
        billing_events::upsert_payment(
            w,
            &Payment {
                provider: Provider::Razorpay,
                provider_payment_id: &p.id,
                // Whose payment it is comes from our own subscription row, never from the
                // notes on Razorpay's entity (anyone who can create a payment can set those).
                user_id: sub.as_ref().map(|s| s.user_id),
                subscription_id: sub.as_ref().map(|s| s.id),
                amount: p.amount(),
                currency: &p.currency,
                status: p.status(),
                error_description: p.error_description.as_deref(),
                paid_at: event.created_at(),
            },
        )
        .await?;
    }
    let outcome = match (sub_entity, &sub) {
        (None, _) if event.payment().is_some() => "applied: payment recorded".to_owned(),
        (None, _) => format!("ignored: {} is not a subscription event", event.event),
        (Some(s), None) => format!("unknown_subscription: {} was not created by Adpilot", s.id),
        (Some(entity), Some(sub)) => match transition(&event.event, entity) {
            _ if sub.superseded => {
                if event.event == "subscription.charged" {
                    tracing::warn!(user_id = %sub.user_id, razorpay_subscription_id = entity.id,
                                   "a superseded subscription was charged; refund it by hand");
                }
                crate::apply(w, sub, &entity.id, Default::default(), event.created_at()).await?
            }
            None => format!("ignored: {} does not change a subscription", event.event),
            Some(mut change) => {
                if let Some(plan_id) = &entity.plan_id
                    && let Some((plan, _)) = system_config::tier_of_plan(w, plan_id).await?
                    && plan.tier != sub.tier
                {
                    change.tier = Some((plan.tier, plan.ai_credits));
                }
                let outcome = crate::apply(w, sub, &entity.id, change, event.created_at()).await?;
                if outcome.starts_with("applied")
                    && let Some(instrument) = event.payment().and_then(|p| p.instrument())
                {
                    subscriptions::set_instrument(w, sub.id, &instrument).await?;
                }
                outcome
            }
        },
    };
    let user = sub.as_ref().map(|s| s.user_id);
    billing_events::set_outcome(w, Provider::Razorpay, event_id, user, &outcome).await?;
    Ok((outcome, user))
}
