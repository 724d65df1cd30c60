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
pub fn page_and_total<R, T>(
    conn: &mut DbConn,
    list: &ListQuery,
    load: impl FnOnce(&mut DbConn) -> QueryResult<Vec<R>>,
    count: impl FnOnce(&mut DbConn) -> QueryResult<i64>,
) -> Result<Page<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    let rows = if list.count == 0 {
        Vec::new()
    } else {
        load(conn)?
    };
    let total = match implied_total(list, rows.len()) {
        Some(total) => total,
        None => u64::try_from(count(conn)?).unwrap_or(0),
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
