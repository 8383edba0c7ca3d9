//! Cursor pagination, newest first. A cursor is the (created_at, id) of the last item
//! of a page, opaque to clients; the next page starts strictly after it, so inserts
//! while paging neither repeat nor skip items. Repositories page with these types;
//! `shared::http` reads a `PageRequest` from the query string.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::Invalid;

/// Items per page when `limit` is not given.
pub const DEFAULT_LIMIT: i64 = 20;
/// The most items a page holds.
pub const MAX_LIMIT: i64 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// Where a page ended: the last item's (created_at, id).
pub struct Cursor {
    /// The last item's creation time.
    pub created_at: DateTime<Utc>,
    /// The last item's id (the tie-breaker).
    pub id: Uuid,
}

impl Cursor {
    /// The opaque form clients pass back as `cursor`.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}|{}",
            self.created_at.timestamp_micros(),
            self.id
        ))
    }

    /// Reads a client's `cursor`; an error naming how to get a valid one.
    pub fn decode(raw: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::new("invalid_cursor", "use the next_cursor of a previous page");
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?)
            .map_err(|_| bad())?;
        let (micros, id) = text.split_once('|').ok_or_else(bad)?;
        let created_at =
            DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
        Ok(Self {
            created_at,
            id: Uuid::try_parse(id).map_err(|_| bad())?,
        })
    }
}

/// A page to fetch: at most `limit` rows after `after`.
#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    /// Items per page, 1..=MAX_LIMIT.
    pub limit: i64,
    /// Start strictly after this item; the first page without one.
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// Rows to fetch: one more than a page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }
}

/// One page of a list and the cursor of the next, if any.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The page's items, newest first.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows, in order.
    pub fn from_rows(
        mut rows: Vec<T>,
        req: &PageRequest,
        cursor_of: impl Fn(&T) -> Cursor,
    ) -> Self {
        let more = rows.len() as i64 > req.limit;
        rows.truncate(req.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| cursor_of(r).encode())
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }

    /// The same page with every item converted (a row into its response type).
    pub fn map_into<U: From<T>>(self) -> Page<U> {
        Page {
            items: self.items.into_iter().map(U::from).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let c = Cursor {
            created_at: DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap(),
            id: Uuid::new_v4(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("not-a-cursor").is_err());
    }

    #[test]
    fn a_full_page_points_to_the_next() {
        let req = PageRequest {
            limit: 2,
            after: None,
        };
        let t = Utc::now();
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        let page = Page::from_rows(ids.clone(), &req, |id| Cursor {
            created_at: t,
            id: *id,
        });
        assert_eq!(page.items.len(), 2);
        assert_eq!(
            Cursor::decode(page.next_cursor.as_deref().unwrap())
                .unwrap()
                .id,
            ids[1]
        );
        let last = Page::from_rows(ids[..2].to_vec(), &req, |id| Cursor {
            created_at: t,
            id: *id,
        });
        assert!(last.next_cursor.is_none());
    }
}
