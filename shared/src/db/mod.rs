//! Postgres access. Handlers reach user data only through [`Db::tenant`], which
//! scopes a transaction to one user for row-level security; cross-tenant work goes
//! through [`WorkerDb`], whose use is explicit and logged.

mod conn;
mod migrate;
mod pool;
mod tenant;
pub mod tls;
mod worker;

pub use conn::Conn;
pub use migrate::{LOGIN_ROLES, migrate, migration_checksum, set_login_password};
pub use pool::build_pool;
pub use tenant::{ACCOUNT_INACTIVE, Db, Public, Tenant};
pub use worker::{WORKER_ROLE, Worker, WorkerDb};

/// Either kind of transaction, for the repository functions that tenants and workers
/// share (configuration reads, credit refunds).
pub trait Tx {
    /// The transaction underneath.
    fn tx(&self) -> &Conn<'_>;
}

impl Tx for Tenant<'_> {
    fn tx(&self) -> &Conn<'_> {
        &self.tx
    }
}

impl Tx for Public<'_> {
    fn tx(&self) -> &Conn<'_> {
        &self.tx
    }
}

impl Tx for Worker<'_> {
    fn tx(&self) -> &Conn<'_> {
        &self.tx
    }
}
