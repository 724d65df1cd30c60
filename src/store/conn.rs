//! One connection type over SQLite and PostgreSQL, picked at run time from the URL scheme.

use diesel::prelude::*;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$c` bound to the concrete connection inside a `DbConn`. The derived
/// multi-backend connection renders a query's whole SQL text every time it runs it, even when
/// its prepared statement is cached; a concrete connection finds a cached statement by the
/// query's type alone. For the queries every request runs (a third of a GET by id's time was
/// that rendering).
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::DbConn::Sqlite($c) => $body,
            $crate::store::DbConn::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// Inserts the `Insertable` rows of the slice `$rows` into `$table`.
///
/// On SQLite one row at a time, through a single-row statement the connection keeps prepared:
/// diesel prepares a multi-row INSERT anew on every call, which for the few rows of a POST
/// cost more than the inserts. On PostgreSQL, where every statement is a round trip, in
/// multi-row INSERTs of `$chunk` rows (diesel builds those per backend only: SQLite lacks the
/// DEFAULT keyword the multi-backend connection would need).
///
/// A row type with `Option` fields must be derived with `treat_none_as_default_value = false`.
/// Otherwise a `None` drops its column from the statement, the SQL is no longer fixed by the
/// type, and diesel renders it and looks it up in its cache by text on every insert (a tenth
/// of the request log writer's time).
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr, $chunk:expr) => {{
        let rows = $rows;
        match $conn {
            $crate::store::DbConn::Sqlite(c) => {
                for row in rows {
                    diesel::insert_into($table).values(row).execute(c)?;
                }
            }
            $crate::store::DbConn::Postgres(c) => {
                for chunk in rows.chunks($chunk) {
                    diesel::insert_into($table).values(chunk).execute(c)?;
                }
            }
        }
    }};
}
pub(crate) use insert_rows;

/// Locks the row `$live` selects (a live resource of table module `$t`) for the rest of the
/// writing transaction; `true` when there is one. On PostgreSQL a write of the same version
/// waits for, then holds, the row lock. SQLite's writing transaction already shuts out every
/// other writer, so there only existence is asked, by a cached SELECT (diesel prepares every
/// UPDATE anew).
macro_rules! lock_live {
    ($conn:expr, $live:expr, $t:ident) => {{
        let live = $live;
        if let $crate::store::DbConn::Sqlite(_) = $conn {
            let found: Option<String> = live.select($t::id).get_result($conn).optional()?;
            Ok(found.is_some())
        } else {
            let n = diesel::update(live)
                .set($t::version.eq($t::version))
                .execute($conn)?;
            Ok(n == 1)
        }
    }};
}
pub(crate) use lock_live;
