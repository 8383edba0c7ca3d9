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
