//! `POST /webhooks/stripe`: checks `Stripe-Signature` as Stripe specifies (see
//! `shared::signature::verify_stripe`), records each event once by its id, and applies
//! Checkout, subscription and invoice events (see `events` for the mapping). Our row is
//! found by the Stripe subscription id, or (before the two are linked) by the Checkout
//! Session id or the row id the checkout wrote into the subscription's metadata, and
//! only for the Stripe customer that row's user owns.

pub mod events;

use chrono::Utc;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::db::Worker;
use shared::domain::billing::Provider;
use shared::error::{AppError, Problem};
use shared::repo::billing_events::{self, NewEvent, Payment};
use shared::repo::subscriptions::{self, Billed, Instrument};
use shared::signature::{StripeRefusal, verify_stripe};
use uuid::Uuid;

use crate::{Received, State, header, sweep_superseded};
use events::{Event, Invoice, Object, transition};

const BAD_SIGNATURE: AppError = AppError::Unauthenticated {
    code: "invalid_signature",
    detail: "Stripe-Signature is missing or no v1 signature matches the body.",
};

const EXPIRED_SIGNATURE: AppError = AppError::Unauthenticated {
    code: "signature_expired",
    detail: "Stripe-Signature's timestamp is more than five minutes from now (a replay?).",
};

#[utoipa::path(post, path = "/webhooks/stripe", operation_id = "receive_stripe_webhook", tag = "webhooks",
    request_body(content = Object, description = "A Stripe event, signed with the endpoint's secret"),
    params(
        ("stripe-signature" = String, Header, description = "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"{t}.{raw body}\">[,v1=…]"),
    ),
    responses(
        (status = 200, description = "Recorded (and applied once)", body = Received),
        (status = 400, description = "Signed, but not a Stripe event", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, wrong or older than five minutes; nothing stored", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn receive(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let body: &[u8] = req.body().as_ref();
    let signature = header(req, "stripe-signature").ok_or(BAD_SIGNATURE)?;
    verify_stripe(
        state.stripe_webhook_secret.as_bytes(),
        signature,
        body,
        Utc::now().timestamp(),
    )
    .map_err(|refusal| match refusal {
        StripeRefusal::OutsideTolerance => EXPIRED_SIGNATURE,
        StripeRefusal::Malformed | StripeRefusal::NoMatch => BAD_SIGNATURE,
    })?;
    let payload: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| AppError::MalformedBody(e.to_string()))?;
    let event: Event = serde_json::from_value(payload.clone())
        .map_err(|e| AppError::MalformedBody(format!("not a Stripe event: {e}")))?;
    if event.object != "event" {
        return Err(AppError::MalformedBody("object must be \"event\"".into()));
    }
    let object = event
        .object()
        .map_err(|e| AppError::MalformedBody(format!("{} object: {e}", event.kind)))?;
    let (outcome, row) = state
        .db
        .run("billing-webhook", async |w| {
            apply(w, &event, &object, &payload).await
        })
        .await?;
    if let Some(row) = &row {
        read_card(state, row.id).await;
        sweep_superseded(state, row.user_id).await;
    }
    tracing::info!(
        provider = "stripe",
        event_id = event.id,
        event_type = event.kind,
        outcome,
        "billing event"
    );
    shared::http::json(
        StatusCode::OK,
        &Received {
            event_id: event.id,
            outcome,
        },
    )
}

/// The Stripe subscription (or Checkout Session) id an object concerns.
fn remote_id(object: &Object) -> Option<&str> {
    match object {
        Object::Session(s) => Some(&s.id),
        Object::Subscription(s) => Some(&s.id),
        Object::Invoice(i) => i.subscription_id(),
        Object::Other => None,
    }
}

/// Our row for the object, locked, and linked to its Stripe subscription.
async fn lock_row(w: &Worker<'_>, object: &Object) -> Result<Option<Billed>, AppError> {
    let (stripe_sub, by_metadata, customer) = match object {
        Object::Session(s) => {
            let Some(mut row) = subscriptions::lock_by_stripe_checkout(w, &s.id).await? else {
                return Ok(None);
            };
            if let Some(sub) = &s.subscription {
                subscriptions::link_stripe_subscription(w, &mut row, sub.id()).await?;
            }
            return Ok(Some(row));
        }
        Object::Subscription(s) => (Some(s.id.as_str()), s.row(), Some(s.customer.id())),
        Object::Invoice(i) => (
            i.subscription_id(),
            i.row(),
            i.customer.as_ref().map(|c| c.id()),
        ),
        Object::Other => return Ok(None),
    };
    let Some(stripe_sub) = stripe_sub else {
        return Ok(None);
    };
    if let Some(row) = subscriptions::lock_by_stripe_subscription(w, stripe_sub).await? {
        return Ok(Some(row));
    }
    let (Some(id), Some(customer)) = (by_metadata, customer) else {
        return Ok(None);
    };
    let Some(mut row) = subscriptions::lock_stripe_row(w, id, customer, stripe_sub).await? else {
        return Ok(None);
    };
    subscriptions::link_stripe_subscription(w, &mut row, stripe_sub).await?;
    Ok(Some(row))
}

/// The invoice as a payment: captured when paid, failed with its attempt otherwise.
async fn record_payment(
    w: &Worker<'_>,
    event: &Event,
    inv: &Invoice,
    row: Option<&Billed>,
) -> Result<(), AppError> {
    let paid = event.kind == "invoice.paid";
    let failure = format!("payment attempt {} failed", inv.attempt_count);
    billing_events::upsert_payment(
        w,
        &Payment {
            provider: Provider::Stripe,
            provider_payment_id: &inv.id,
            user_id: row.map(|r| r.user_id),
            subscription_id: row.map(|r| r.id),
            amount: inv.amount(if paid {
                inv.amount_paid
            } else {
                inv.amount_due
            }),
            currency: &inv.currency.to_ascii_uppercase(),
            status: if paid { "captured" } else { "failed" },
            error_description: (!paid).then_some(failure.as_str()),
            paid_at: event.created_at(),
        },
    )
    .await
}

/// Records the event and applies it once; returns the outcome and, when it applied to
/// one of our subscriptions, that row.
pub async fn apply(
    w: &Worker<'_>,
    event: &Event,
    object: &Object,
    payload: &serde_json::Value,
) -> Result<(String, Option<Billed>), AppError> {
    let fresh = billing_events::record(
        w,
        &NewEvent {
            provider: Provider::Stripe,
            provider_event_id: &event.id,
            event_type: &event.kind,
            provider_subscription_id: remote_id(object),
            created_at: event.created_at(),
            payload,
        },
    )
    .await?;
    if !fresh {
        return Ok(("duplicate".into(), None));
    }
    let row = lock_row(w, object).await?;
    if let Object::Invoice(inv) = object {
        record_payment(w, event, inv, row.as_ref()).await?;
    }
    let outcome = match (&row, transition(&event.kind, object)) {
        (_, _) if matches!(object, Object::Other) => {
            format!("ignored: {} is not a subscription event", event.kind)
        }
        (None, _) => format!(
            "unknown_subscription: {} was not created by Adpilot",
            remote_id(object).unwrap_or("(none)")
        ),
        (Some(sub), None) if !sub.superseded => {
            format!("ignored: {} does not change a subscription", event.kind)
        }
        (Some(sub), change) => {
            if sub.superseded && event.kind == "invoice.paid" {
                tracing::warn!(user_id = %sub.user_id, stripe_subscription = remote_id(object),
                               "a superseded subscription was charged; refund it by hand");
            }
            let change = change.unwrap_or_default();
            let remote = remote_id(object).unwrap_or_default();
            let outcome = crate::apply(w, sub, remote, change, event.created_at()).await?;
            if outcome.starts_with("applied")
                && let Object::Subscription(s) = object
                && let Some(pm) = &s.default_payment_method
            {
                let instrument = Instrument {
                    id: Some(pm.id().to_owned()),
                    ..Instrument::default()
                };
                subscriptions::set_instrument(w, sub.id, &instrument).await?;
            }
            outcome
        }
    };
    let user = row.as_ref().map(|s| s.user_id);
    billing_events::set_outcome(w, Provider::Stripe, &event.id, user, &outcome).await?;
    Ok((outcome, row))
}

/// Reads the brand and last four of the card paying for `row` from Stripe, when not yet
/// known (webhooks carry only the payment method's id). A failure is logged; the next
/// event for the subscription tries again.
async fn read_card(state: &State, row: Uuid) {
    let pm = state
        .db
        .run("card-to-fetch", async |w| {
            subscriptions::card_to_fetch(w, row).await
        })
        .await;
    let Ok(Some(pm)) = pm else {
        return;
    };
    let method = match state.gateways.stripe.payment_method(&pm).await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(%row, payment_method = pm, error = %e, "reading the card failed; the next event retries");
            return;
        }
    };
    let card = method.card.unwrap_or_default();
    let instrument = Instrument {
        id: Some(method.id),
        kind: Some(method.kind),
        card_brand: card.brand,
        card_last4: card.last4,
    };
    if let Err(e) = state
        .db
        .run("set-card", async |w| {
            subscriptions::set_instrument(w, row, &instrument).await
        })
        .await
    {
        tracing::warn!(%row, error = %e, "storing the card failed");
    }
}
