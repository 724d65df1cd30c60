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

/// `query` followed by `LIMIT limit OFFSET offset`; `query` must not have its own.
#[derive(Debug, Clone)]
pub struct Paged<Q> {
    query: Q,
    limit: i64,
    offset: i64,
}

/// At most `limit` rows of `query`, skipping `offset`. Counts past `i64::MAX` saturate.
pub fn paged<Q>(query: Q, limit: u64, offset: u64) -> Paged<Q> {
    Paged {
        query,
        limit: i64::try_from(limit).unwrap_or(i64::MAX),
        offset: i64::try_from(offset).unwrap_or(i64::MAX),
    }
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
