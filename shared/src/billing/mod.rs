//! The payment providers behind one interface: `Gateways` holds the Razorpay and Stripe
//! clients and does what the subscription state machine needs of either (end a
//! subscription now, or at the end of its period), so nothing above it cares which
//! provider charged. `superseded` cancels the subscriptions a newer paid one replaced.

pub mod razorpay;
pub mod stripe;
pub mod superseded;

use crate::config::ConfigError;
use crate::domain::billing::Provider;
use crate::error::AppError;

pub use razorpay::Razorpay;
pub use stripe::Stripe;

/// The provider's status once something has ended: what ending it answered or, when the
/// provider refused (it cannot end what has ended), the status it reports now if that is
/// one of `ended`; otherwise the refusal.
async fn ended_status(
    ending: Result<String, AppError>,
    now: impl Future<Output = Result<String, AppError>>,
    ended: &[&str],
) -> Result<String, AppError> {
    match ending {
        Err(refused @ AppError::Upstream { .. }) => {
            let status = now.await?;
            if ended.contains(&status.as_str()) {
                Ok(status)
            } else {
                Err(refused)
            }
        }
        other => other,
    }
}

/// Both providers' clients.
#[derive(Clone)]
pub struct Gateways {
    /// Razorpay (INR subscriptions).
    pub razorpay: Razorpay,
    /// Stripe (card checkouts).
    pub stripe: Stripe,
}

impl Gateways {
    /// `RAZORPAY_*` and `STRIPE_*` (see each client).
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            razorpay: Razorpay::from_env()?,
            stripe: Stripe::from_env()?,
        })
    }

    /// Ends `remote_id` at `provider` now; already ended counts as done. Returns the
    /// provider's status (in its own word: Razorpay's `cancelled`, Stripe's `canceled`).
    pub async fn end_now(&self, provider: Provider, remote_id: &str) -> Result<String, AppError> {
        match provider {
            Provider::Razorpay => self.razorpay.end_now(remote_id).await,
            Provider::Stripe => self.stripe.end_now(remote_id).await,
        }
    }

    /// Ends `remote_id` at `provider` now or at the end of the paid period. Returns
    /// whether it has ended already (false: it ends with its period).
    pub async fn cancel(
        &self,
        provider: Provider,
        remote_id: &str,
        at_period_end: bool,
    ) -> Result<bool, AppError> {
        Ok(match (provider, at_period_end) {
            (Provider::Razorpay, _) => {
                let sub = self
                    .razorpay
                    .cancel_subscription(remote_id, at_period_end)
                    .await?;
                sub.status == "cancelled"
            }
            (Provider::Stripe, true) => {
                self.stripe.cancel_at_period_end(remote_id).await?;
                false
            }
            (Provider::Stripe, false) => {
                self.stripe.cancel_now(remote_id).await?.status == "canceled"
            }
        })
    }

    /// Closes an unpaid checkout so it can no longer be paid: Razorpay's subscription is
    /// cancelled, Stripe's Checkout Session expired. Returns the provider's status.
    pub async fn close_checkout(
        &self,
        provider: Provider,
        remote_id: &str,
    ) -> Result<String, AppError> {
        match provider {
            Provider::Razorpay => Ok(self
                .razorpay
                .cancel_subscription(remote_id, false)
                .await?
                .status),
            Provider::Stripe => self.stripe.expire_checkout(remote_id).await,
        }
    }
}
