//! Building a statement with optional filters: each bound value gets the next `$n`.

use tokio_postgres::types::ToSql;

use crate::paging::PageRequest;

pub struct Statement {
    pub sql: String,
    params: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Statement {
    pub fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            params: Vec::new(),
        }
    }

    /// Binds a value and returns its placeholder.
    pub fn bind<T: ToSql + Sync + Send + 'static>(&mut self, value: T) -> String {
        self.params.push(Box::new(value));
        format!("${}", self.params.len())
    }

    pub fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    /// Newest first from the page's cursor on, one row more than a page (see `Page`).
    pub fn page(&mut self, page: &PageRequest) {
        if let Some(c) = &page.after {
            let (at, id) = (self.bind(c.created_at), self.bind(c.id));
            self.push(&format!(" AND (created_at, id) < ({at}, {id})"));
        }
        let limit = self.bind(page.fetch());
        self.push(&format!(" ORDER BY created_at DESC, id DESC LIMIT {limit}"));
    }

    pub fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// The five delivery sums of `performance_analytics`-shaped rows, in `Sums` order; read
/// them back with `delivery_at`.
pub const DELIVERY_SUMS: &str = "coalesce(sum(impressions), 0)::int8, coalesce(sum(clicks), 0)::int8, \
                                 coalesce(sum(spend), 0)::numeric, coalesce(sum(conversions), 0)::int8, \
                                 coalesce(sum(conversion_value), 0)::numeric";

/// The `performance_analytics` rows that are a campaign's daily totals (no hour, no
/// breakdown); every other kind of row repeats their delivery.
pub const DAILY_TOTALS: &str = "hour IS NULL AND platform IS NULL AND placement IS NULL AND age_range IS NULL \
                                AND gender IS NULL AND location IS NULL";

/// `DAILY_TOTALS` with every column qualified by `alias` (for a join).
pub fn daily_totals_of(alias: &str) -> String {
    format!(
        "{alias}.{}",
        DAILY_TOTALS.replace(" AND ", &format!(" AND {alias}."))
    )
}

/// `DELIVERY_SUMS` read from column `at` on.
pub fn delivery_at(r: &tokio_postgres::Row, at: usize) -> crate::domain::metrics::Sums {
    crate::domain::metrics::Sums {
        impressions: r.get(at),
        clicks: r.get(at + 1),
        spend: r.get(at + 2),
        conversions: r.get(at + 3),
        conversion_value: r.get(at + 4),
    }
}
