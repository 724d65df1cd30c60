//! LIMIT and OFFSET for list queries, written so that SQLite keeps their prepared statements.
//!
//! diesel's `.limit(n)` renders `LIMIT ?`. SQLite treats a bare bound LIMIT as a constant the
//! plan may depend on: rebinding it marks the statement expired, and the next step parses and
//! plans it again, so every list request re-prepared its query (a fifth of a filtered GET's
//! time). `LIMIT ? + 0` is an expression SQLite evaluates when the statement runs, which keeps
//! the plan, and PostgreSQL reads it the same way.

use diesel::QueryResult;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::BigInt;

use super::conn::{DbConn, MultiBackend};
use super::error::StoreError;
use crate::domain::query::{ListQuery, Page};

/// `query` followed by `LIMIT limit OFFSET offset`; `query` must not have its own.
#[derive(Debug, Clone)]
pub struct Paged<Q> {
    query: Q,
    limit: i64,
    offset: i64,
}

/// The rows of `query` on the page `list` asks for (`count` of them from `startIndex`).
/// Counts past `i64::MAX` saturate.
pub fn paged<Q>(query: Q, list: &ListQuery) -> Paged<Q> {
    Paged {
        query,
        limit: i64::try_from(list.count).unwrap_or(i64::MAX),
        offset: i64::try_from(list.start_index.saturating_sub(1)).unwrap_or(i64::MAX),
    }
}

/// One page of a list, as domain values, and the list's total: `load` reads the page's rows
/// (built with `paged`) unless nothing was asked for, and `count` runs only when the page does
/// not imply the total.
///
/// A page that starts past the first row is counted first, and not read when it starts past
/// the end: with an OFFSET beyond the last row the database still produces (and, for
/// `sortBy`, sorts) every matching row only to skip them all, so a `startIndex` of 10^12 cost
/// as much as reading the whole list. The count neither sorts nor skips.
pub fn page_and_total<R, T>(
    conn: &mut DbConn,
    list: &ListQuery,
    load: impl FnOnce(&mut DbConn) -> QueryResult<Vec<R>>,
    count: impl FnOnce(&mut DbConn) -> QueryResult<i64>,
) -> Result<Page<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    let skipped = list.start_index.saturating_sub(1);
    let (rows, total) = if skipped == 0 {
        let rows = if list.count == 0 {
            Vec::new()
        } else {
            load(conn)?
        };
        let total = match implied_total(list, rows.len()) {
            Some(total) => total,
            None => u64::try_from(count(conn)?).unwrap_or(0),
        };
        (rows, total)
    } else {
        let total = u64::try_from(count(conn)?).unwrap_or(0);
        let rows = if list.count == 0 || skipped >= total {
            Vec::new()
        } else {
            load(conn)?
        };
        (rows, total)
    };
    let items = rows
        .into_iter()
        .map(T::try_from)
        .collect::<Result<_, _>>()?;
    Ok(Page { total, items })
}

impl<Q: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for Paged<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(" LIMIT ");
        out.push_bind_param::<BigInt, _>(&self.limit)?;
        out.push_sql(" + 0 OFFSET ");
        out.push_bind_param::<BigInt, _>(&self.offset)?;
        Ok(())
    }
}

impl<Q> QueryId for Paged<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Paged<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> diesel::RunQueryDsl<DbConn> for Paged<Q> {}

/// The total a list's page implies, so the separate `COUNT(*)` can be skipped: a page that came
/// back short of `count` holds the last matching rows, so the total is the rows skipped plus
/// the rows returned. `None` when the page cannot tell: it is full, it is empty past the start
/// (the offset may overshoot), it follows a cursor (the total counts rows before the cursor
/// too), or nothing was asked for (`count=0`). A filter by userName, the commonest IdP read,
/// then costs one query instead of two.
fn implied_total(query: &ListQuery, returned: usize) -> Option<u64> {
    let returned = u64::try_from(returned).ok()?;
    let skipped = query.start_index.saturating_sub(1);
    let short = returned < query.count;
    let reached = returned > 0 || skipped == 0;
    (query.after.is_none() && short && reached).then_some(skipped + returned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::Connection;

    struct Row;

    impl TryFrom<u64> for Row {
        type Error = StoreError;
        fn try_from(_: u64) -> Result<Row, StoreError> {
            Ok(Row)
        }
    }

    #[test]
    fn a_page_past_the_end_is_counted_and_never_read() {
        let mut conn = DbConn::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap());
        let rows = 5u64;
        // (start_index, count, page read, page length, total)
        let cases = [
            (1, 100, true, 5, 5),
            (1, 2, true, 2, 5),
            (1, 0, false, 0, 5),
            (3, 100, true, 3, 5),
            (5, 100, true, 1, 5),
            (6, 100, false, 0, 5),
            (1_000_000_000_000, 100, false, 0, 5),
            (u64::MAX, 100, false, 0, 5),
        ];
        for (start_index, count, read, length, total) in cases {
            let query = ListQuery {
                filter: None,
                start_index,
                count,
                sort: None,
                after: None,
            };
            let mut loaded = false;
            let page: Page<Row> = page_and_total(
                &mut conn,
                &query,
                |_| {
                    loaded = true;
                    let skipped = start_index - 1;
                    Ok((skipped..rows).take(count as usize).collect())
                },
                |_| Ok(rows as i64),
            )
            .unwrap();
            assert_eq!(
                (loaded, page.items.len(), page.total),
                (read, length, total),
                "startIndex {start_index}, count {count}"
            );
        }
    }

    #[test]
    fn a_short_page_implies_the_total_and_anything_else_does_not() {
        // (start_index, count, returned, implied)
        let cases = [
            (1, 100, 1, Some(1)),
            (1, 100, 0, Some(0)),
            (51, 100, 7, Some(57)),
            (1, 100, 100, None),
            (201, 100, 0, None),
            (1, 0, 0, None),
        ];
        for (start_index, count, returned, implied) in cases {
            let query = ListQuery {
                filter: None,
                start_index,
                count,
                sort: None,
                after: None,
            };
            assert_eq!(
                implied_total(&query, returned),
                implied,
                "startIndex {start_index}, count {count}, {returned} returned"
            );
        }
    }
}
