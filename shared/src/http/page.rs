//! Reading a page request (`limit` 1–100, default 20, and `cursor`) from the query
//! string; the paging types themselves are `crate::paging`.

use super::Query;
use crate::domain::{Fields, Invalid};
use crate::paging::{Cursor, DEFAULT_LIMIT, MAX_LIMIT, PageRequest};

impl PageRequest {
    /// `limit` (1–100, default 20) and `cursor` from the query string.
    pub fn from_query(q: &Query, f: &mut Fields) -> Self {
        let limit = q
            .parse::<i64>(f, "limit", "an integer from 1 to 100")
            .unwrap_or(DEFAULT_LIMIT);
        let limit = f
            .check(
                "limit",
                if (1..=MAX_LIMIT).contains(&limit) {
                    Ok(limit)
                } else {
                    Err(Invalid::new("out_of_range", "must be from 1 to 100"))
                },
            )
            .unwrap_or(DEFAULT_LIMIT);
        let after = q
            .one(f, "cursor")
            .and_then(|c| f.check("cursor", Cursor::decode(c)));
        Self { limit, after }
    }
}

/// The paging parameters of every list route, for its OpenAPI annotation:
/// `params(("status" = …), PageParams)`. `PageRequest::from_query` reads them.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page; the first page without it.
    pub cursor: Option<String>,
}
