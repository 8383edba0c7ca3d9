//! A transaction whose statements are prepared once per connection and reused
//! (deadpool's statement cache): without it every query costs two round trips (parse,
//! then execute); with it, one. The repositories call `query`, `query_one`, `query_opt`
//! and `execute` on it exactly as on a plain transaction.

use deadpool_postgres::Transaction;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Error, Row};

/// A transaction (tenant's or worker's) whose statements are cached per connection.
pub struct Conn<'a>(pub(crate) Transaction<'a>);

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

impl<'a> Conn<'a> {
    /// All rows of `sql`.
    pub async fn query(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, Error> {
        let statement = self.0.prepare_cached(sql).await?;
        self.0.query(&statement, params).await
    }

    /// Exactly one row of `sql` (an error otherwise).
    pub async fn query_one(&self, sql: &str, params: Params<'_>) -> Result<Row, Error> {
        let statement = self.0.prepare_cached(sql).await?;
        self.0.query_one(&statement, params).await
    }

    /// At most one row of `sql`.
    pub async fn query_opt(&self, sql: &str, params: Params<'_>) -> Result<Option<Row>, Error> {
        let statement = self.0.prepare_cached(sql).await?;
        self.0.query_opt(&statement, params).await
    }

    /// Runs `sql`; the rows it touched.
    pub async fn execute(&self, sql: &str, params: Params<'_>) -> Result<u64, Error> {
        let statement = self.0.prepare_cached(sql).await?;
        self.0.execute(&statement, params).await
    }

    /// Statements without parameters, sent as one simple query (role switches).
    pub async fn batch_execute(&self, sql: &str) -> Result<(), Error> {
        self.0.batch_execute(sql).await
    }

    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), Error> {
        self.0.commit().await
    }
}
