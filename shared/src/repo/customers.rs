//! `billing_customers`: a user's customer at a payment provider (Stripe's cus_…), made
//! once and kept.

use crate::db::Tenant;
use crate::domain::billing::Provider;
use crate::error::AppError;

/// The tenant's customer id at `provider`, if one was made.
pub async fn find(t: &Tenant<'_>, provider: Provider) -> Result<Option<String>, AppError> {
    Ok(t.tx
        .query_opt(
            "SELECT customer_id FROM billing_customers WHERE provider = $1",
            &[&provider.as_str()],
        )
        .await?
        .map(|r| r.get(0)))
}

/// Keeps `customer_id` as the tenant's customer at `provider`, unless one was kept
/// meanwhile; returns the one kept.
pub async fn keep(
    t: &Tenant<'_>,
    provider: Provider,
    customer_id: &str,
) -> Result<String, AppError> {
    t.tx.execute(
        "INSERT INTO billing_customers (user_id, provider, customer_id) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
        &[&t.user().0, &provider.as_str(), &customer_id],
    )
    .await?;
    find(t, provider)
        .await?
        .ok_or_else(|| AppError::Internal("billing customer vanished".into()))
}
