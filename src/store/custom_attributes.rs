//! Custom attribute mappings, users' derived values as rows for the read API's filter, and each
//! directory's re-derivation state.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::conn::{DbConn, insert_rows};
use super::error::StoreError;
use super::schema::{
    custom_attribute_rederive as r, custom_attribute_values as v, custom_attributes as c,
};
use crate::domain::custom_attribute::{CustomValues, Mapping, Rederive, SourcePath, filter_text};
use crate::domain::ids::{DirectoryId, TenantId};
use crate::domain::tenancy::Scope;

/// Longer values are not filterable: PostgreSQL's B-tree rows hold about 2.7 kB (as for the
/// attribute index, `scim::index`).
const MAX_FILTERED_LEN: usize = 512;

type MappingRow = (String, String, String, String, NaiveDateTime, NaiveDateTime);

fn mapping(row: MappingRow) -> Result<Mapping, StoreError> {
    let (name, kind, source, steps, created_at, updated_at) = row;
    let corrupt = |e: String| StoreError::Corrupt(format!("custom attribute '{name}': {e}"));
    Ok(Mapping {
        source: SourcePath {
            kind: kind.parse().map_err(|e| corrupt(format!("{e}")))?,
            text: source,
            steps: serde_json::from_str(&steps).map_err(|e| corrupt(e.to_string()))?,
        },
        name,
        created_at,
        updated_at,
    })
}

fn steps_text(m: &Mapping) -> String {
    serde_json::to_string(&m.source.steps).unwrap_or_else(|_| "[]".into())
}

/// The directory's mappings, by name.
pub fn mappings(conn: &mut DbConn, scope: &Scope) -> Result<Vec<Mapping>, StoreError> {
    let rows: Vec<MappingRow> = c::table
        .filter(c::directory_id.eq(scope.directory_id.as_str()))
        .order(c::name)
        .select((
            c::name,
            c::kind,
            c::source,
            c::steps,
            c::created_at,
            c::updated_at,
        ))
        .load(conn)?;
    rows.into_iter().map(mapping).collect()
}

/// Fails with a unique violation when the directory already maps that name.
pub fn insert(conn: &mut DbConn, scope: &Scope, m: &Mapping) -> Result<(), StoreError> {
    diesel::insert_into(c::table)
        .values((
            c::directory_id.eq(scope.directory_id.as_str()),
            c::tenant_id.eq(scope.tenant_id.as_str()),
            c::name.eq(&m.name),
            c::kind.eq(m.source.kind.as_str()),
            c::source.eq(&m.source.text),
            c::steps.eq(steps_text(m)),
            c::created_at.eq(m.created_at),
            c::updated_at.eq(m.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_source(conn: &mut DbConn, scope: &Scope, m: &Mapping) -> Result<(), StoreError> {
    diesel::update(
        c::table
            .filter(c::directory_id.eq(scope.directory_id.as_str()))
            .filter(c::name.eq(&m.name)),
    )
    .set((
        c::kind.eq(m.source.kind.as_str()),
        c::source.eq(&m.source.text),
        c::steps.eq(steps_text(m)),
        c::updated_at.eq(m.updated_at),
    ))
    .execute(conn)?;
    Ok(())
}

/// `false` when the directory maps no such name.
pub fn delete(conn: &mut DbConn, scope: &Scope, name: &str) -> Result<bool, StoreError> {
    let n = diesel::delete(
        c::table
            .filter(c::directory_id.eq(scope.directory_id.as_str()))
            .filter(c::name.eq(name)),
    )
    .execute(conn)?;
    Ok(n == 1)
}

/// The filterable rows of `values`.
fn value_rows(values: &CustomValues) -> impl Iterator<Item = (String, String)> + '_ {
    values.iter().filter_map(|(name, value)| {
        let text = filter_text(value)?;
        (text.len() <= MAX_FILTERED_LEN).then(|| (name.clone(), text))
    })
}

/// Writes the filterable values of new users.
pub fn insert_values(
    conn: &mut DbConn,
    scope: &Scope,
    users: &[(&str, &CustomValues)],
) -> Result<(), StoreError> {
    let mut rows = Vec::new();
    for &(user_id, values) in users {
        for (name, text) in value_rows(values) {
            rows.push((
                v::user_id.eq(user_id.to_string()),
                v::name.eq(name),
                v::directory_id.eq(scope.directory_id.to_string()),
                v::value.eq(text),
            ));
        }
    }
    insert_rows!(conn, v::table, &rows, 500);
    Ok(())
}

/// Replaces a user's filterable values.
pub fn replace_values(
    conn: &mut DbConn,
    scope: &Scope,
    user_id: &str,
    values: Option<&CustomValues>,
) -> Result<(), StoreError> {
    diesel::delete(v::table.filter(v::user_id.eq(user_id))).execute(conn)?;
    if let Some(values) = values {
        insert_values(conn, scope, &[(user_id, values)])?;
    }
    Ok(())
}

type RederiveRow = (
    Option<String>,
    i64,
    i64,
    i64,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

fn rederive(row: RederiveRow) -> Rederive {
    let (after_id, checked, changed, total, started_at, finished_at) = row;
    Rederive {
        state: if finished_at.is_some() {
            "finished"
        } else {
            "running"
        },
        checked,
        changed,
        total,
        started_at,
        finished_at,
        after_id,
    }
}

fn rederive_row(
    conn: &mut DbConn,
    directory: &DirectoryId,
) -> Result<Option<Rederive>, StoreError> {
    let row: Option<RederiveRow> = r::table
        .filter(r::directory_id.eq(directory.as_str()))
        .select((
            r::after_id,
            r::checked,
            r::changed,
            r::total,
            r::started_at,
            r::finished_at,
        ))
        .get_result(conn)
        .optional()?;
    Ok(row.map(rederive))
}

/// Starts the directory's re-derivation over from its first user. The row is updated in
/// place, not replaced: a runner waiting on its lock (`lock_rederive`) then locks and reads
/// the restarted state, where a replaced row would leave it reading one it holds no lock on.
pub fn start_rederive(
    conn: &mut DbConn,
    scope: &Scope,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let total = super::users::count_live(conn, &scope.directory_id)?;
    let restarted =
        diesel::update(r::table.filter(r::directory_id.eq(scope.directory_id.as_str())))
            .set((
                r::after_id.eq(None::<String>),
                r::checked.eq(0),
                r::changed.eq(0),
                r::total.eq(total),
                r::started_at.eq(now),
                r::finished_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
    if restarted == 0 {
        diesel::insert_into(r::table)
            .values((
                r::directory_id.eq(scope.directory_id.as_str()),
                r::tenant_id.eq(scope.tenant_id.as_str()),
                r::after_id.eq(None::<String>),
                r::checked.eq(0),
                r::changed.eq(0),
                r::total.eq(total),
                r::started_at.eq(now),
                r::finished_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn rederive_state(conn: &mut DbConn, scope: &Scope) -> Result<Option<Rederive>, StoreError> {
    rederive_row(conn, &scope.directory_id)
}

/// The re-derivation's state, its row locked for the rest of the transaction (a no-op UPDATE,
/// which takes the row lock on PostgreSQL; SQLite's writer is alone anyway).
pub fn lock_rederive(conn: &mut DbConn, scope: &Scope) -> Result<Option<Rederive>, StoreError> {
    let row = r::table.filter(r::directory_id.eq(scope.directory_id.as_str()));
    diesel::update(row)
        .set(r::checked.eq(r::checked))
        .execute(conn)?;
    rederive_row(conn, &scope.directory_id)
}

pub fn save_rederive(conn: &mut DbConn, scope: &Scope, job: &Rederive) -> Result<(), StoreError> {
    diesel::update(r::table.filter(r::directory_id.eq(scope.directory_id.as_str())))
        .set((
            r::after_id.eq(job.after_id.as_deref()),
            r::checked.eq(job.checked),
            r::changed.eq(job.changed),
            r::finished_at.eq(job.finished_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The directories whose re-derivation has not finished.
pub fn unfinished(conn: &mut DbConn) -> Result<Vec<Scope>, StoreError> {
    let rows: Vec<(String, String)> = r::table
        .filter(r::finished_at.is_null())
        .select((r::tenant_id, r::directory_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(t, d)| Scope {
            tenant_id: TenantId::from_raw(t),
            directory_id: DirectoryId::from_raw(d),
        })
        .collect())
}
