//! The searchable copy of every filterable attribute value (see the migrations' comments). A
//! row names its attribute by a number of the directory's (`attribute_paths`): the value
//! index's key is that number and the folded value (migration 000050).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use diesel::prelude::*;

use super::conn::{DbConn, insert_rows, on_backend};
use super::error::StoreError;
use super::handle::Store;
use super::schema::{attribute_paths, attribute_values};
use crate::domain::index::{IndexedValue, fold_case};
use crate::domain::tenancy::Scope;

#[derive(Insertable)]
#[diesel(table_name = attribute_values, treat_none_as_default_value = false)]
struct ValueRow<'a> {
    directory_id: &'a str,
    resource_id: &'a str,
    path_id: i64,
    elem: i32,
    tenant_id: &'a str,
    value: &'a str,
    value_ci: &'a str,
    value_num: Option<f64>,
}

#[derive(Insertable)]
#[diesel(table_name = attribute_paths)]
struct PathRow<'a> {
    tenant_id: &'a str,
    directory_id: &'a str,
    resource_type: &'a str,
    path: &'a str,
}

/// Rows per multi-row INSERT on PostgreSQL: eight bound parameters each.
const INSERT_CHUNK: usize = 500;

/// One directory's path numbers for one resource type, by path.
pub type PathNumbers = HashMap<String, i64>;

/// The path numbers each directory's creates have used, kept by the store: a number never
/// changes once committed. Only numbers read from committed data are kept. One made inside a
/// writing transaction is not, as that transaction (on SQLite, its whole group) may yet roll
/// back and take the number with it.
#[derive(Default)]
pub struct KnownPaths(RwLock<HashMap<String, HashMap<&'static str, Arc<PathNumbers>>>>);

impl KnownPaths {
    fn get(&self, directory: &str, resource_type: &str) -> Option<Arc<PathNumbers>> {
        let known = self.0.read().unwrap_or_else(|p| p.into_inner());
        known.get(directory)?.get(resource_type).cloned()
    }

    fn add(&self, directory: &str, resource_type: &'static str, numbers: PathNumbers) {
        let mut known = self.0.write().unwrap_or_else(|p| p.into_inner());
        let by_type = known.entry(directory.to_string()).or_default();
        let mut merged = by_type
            .get(resource_type)
            .map(|n| PathNumbers::clone(n))
            .unwrap_or_default();
        merged.extend(numbers);
        by_type.insert(resource_type, Arc::new(merged));
    }
}

/// The numbers this process knows to be committed, without asking the database: a create
/// numbers what is missing inside its own write (`number_missing`) and reports that after its
/// commit (`now_committed`).
pub fn known_numbers(store: &Store, scope: &Scope, resource_type: &str) -> Arc<PathNumbers> {
    store
        .known_paths()
        .get(scope.directory_id.as_str(), resource_type)
        .unwrap_or_default()
}

/// Whether `numbers` holds the path of every one of `values`.
pub fn all_numbered<'a>(
    numbers: &PathNumbers,
    mut values: impl Iterator<Item = &'a IndexedValue>,
) -> bool {
    values.all(|v| numbers.contains_key(&v.path))
}

/// Numbers, inside the caller's transaction, the paths of `values` that `numbers` lacks.
pub fn number_missing(
    conn: &mut DbConn,
    scope: &Scope,
    resource_type: &str,
    numbers: &mut PathNumbers,
    values: &[IndexedValue],
) -> Result<(), StoreError> {
    for v in values {
        if !numbers.contains_key(&v.path) {
            let id = number(conn, scope, resource_type, &v.path)?;
            numbers.insert(v.path.clone(), id);
        }
    }
    Ok(())
}

/// Keeps `numbers`, which a write made (`number_missing`) and which its commit has made
/// committed.
pub fn now_committed(
    store: &Store,
    scope: &Scope,
    resource_type: &'static str,
    numbers: PathNumbers,
) {
    store
        .known_paths()
        .add(scope.directory_id.as_str(), resource_type, numbers);
}

/// The number of `path`, numbered now if it has none: inside the caller's transaction, which
/// makes the number its own (committed with it, or rolled back with it).
fn number(
    conn: &mut DbConn,
    scope: &Scope,
    resource_type: &str,
    path: &str,
) -> Result<i64, StoreError> {
    let find = |conn: &mut DbConn| {
        attribute_paths::table
            .filter(attribute_paths::directory_id.eq(scope.directory_id.as_str()))
            .filter(attribute_paths::resource_type.eq(resource_type))
            .filter(attribute_paths::path.eq(path))
            .select(attribute_paths::id)
            .get_result::<i64>(conn)
            .optional()
    };
    if let Some(id) = find(conn)? {
        return Ok(id);
    }
    let row = PathRow {
        tenant_id: scope.tenant_id.as_str(),
        directory_id: scope.directory_id.as_str(),
        resource_type,
        path,
    };
    // Another PostgreSQL instance may number the same path at the same time; the unique key
    // makes this insert wait for it and then do nothing.
    on_backend!(conn, |c| diesel::insert_into(attribute_paths::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c))?;
    find(conn)?.ok_or_else(|| StoreError::Corrupt(format!("attribute path {path} has no number")))
}

/// Replaces the indexed values of one resource with `values`, writing only the values that
/// changed: a PATCH of `active` rewrites one row, not every indexed value of the user. Each
/// rewritten row dirties a page of the case-folded value index, where a resource's values lie
/// far apart, and on SQLite every dirty page is written to the WAL at commit.
pub fn replace(
    conn: &mut DbConn,
    scope: &Scope,
    resource_type: &str,
    resource_id: &str,
    values: &[IndexedValue],
) -> Result<(), StoreError> {
    let stored: Vec<(String, i64, i32, String, Option<f64>)> = attribute_values::table
        .inner_join(attribute_paths::table.on(attribute_paths::id.eq(attribute_values::path_id)))
        .filter(attribute_values::directory_id.eq(scope.directory_id.as_str()))
        .filter(attribute_values::resource_id.eq(resource_id))
        .select((
            attribute_paths::path,
            attribute_values::path_id,
            attribute_values::elem,
            attribute_values::value,
            attribute_values::value_num,
        ))
        .load(conn)?;
    // Compared as sets, so a resource with many values costs linear time.
    let key = |path: &str, elem: i32, value: &str, number: Option<f64>| {
        (
            path.to_string(),
            elem,
            value.to_string(),
            number.map(f64::to_bits),
        )
    };
    let wanted: HashSet<_> = values
        .iter()
        .map(|v| key(&v.path, v.elem, &v.value, v.number))
        .collect();
    let kept: HashSet<_> = stored
        .iter()
        .map(|(path, _, elem, value, number)| key(path, *elem, value, *number))
        .filter(|k| wanted.contains(k))
        .collect();
    let mut numbers: PathNumbers = HashMap::new();
    for (path, path_id, elem, value, number) in &stored {
        numbers.insert(path.clone(), *path_id);
        if !kept.contains(&key(path, *elem, value, *number)) {
            diesel::delete(
                attribute_values::table
                    .filter(attribute_values::directory_id.eq(scope.directory_id.as_str()))
                    .filter(attribute_values::resource_id.eq(resource_id))
                    .filter(attribute_values::path_id.eq(path_id))
                    .filter(attribute_values::elem.eq(elem)),
            )
            .execute(conn)?;
        }
    }
    let changed: Vec<IndexedValue> = values
        .iter()
        .filter(|v| !kept.contains(&key(&v.path, v.elem, &v.value, v.number)))
        .cloned()
        .collect();
    number_missing(conn, scope, resource_type, &mut numbers, &changed)?;
    insert(conn, scope, &numbers, &[(resource_id, &changed)])
}

/// Indexes resources that have no indexed values yet (just created), whose every path
/// `numbers` holds (`number_missing`).
pub fn insert(
    conn: &mut DbConn,
    scope: &Scope,
    numbers: &PathNumbers,
    resources: &[(&str, &[IndexedValue])],
) -> Result<(), StoreError> {
    let mut rows = Vec::new();
    for &(resource_id, values) in resources {
        for v in values {
            let path_id = *numbers.get(&v.path).ok_or_else(|| {
                StoreError::Corrupt(format!("attribute path {} has no number", v.path))
            })?;
            rows.push(ValueRow {
                directory_id: scope.directory_id.as_str(),
                resource_id,
                path_id,
                elem: v.elem,
                tenant_id: scope.tenant_id.as_str(),
                value: &v.value,
                value_ci: &v.value_ci,
                value_num: v.number,
            });
        }
    }
    insert_rows!(conn, attribute_values::table, &rows, INSERT_CHUNK);
    Ok(())
}

pub fn remove(conn: &mut DbConn, scope: &Scope, resource_id: &str) -> Result<(), StoreError> {
    diesel::delete(
        attribute_values::table
            .filter(attribute_values::directory_id.eq(scope.directory_id.as_str()))
            .filter(attribute_values::resource_id.eq(resource_id)),
    )
    .execute(conn)?;
    Ok(())
}

/// Sets the one value a single-valued attribute of a resource has.
pub fn set_value(
    conn: &mut DbConn,
    scope: &Scope,
    resource_type: &str,
    resource_id: &str,
    path: &str,
    value: &str,
) -> Result<(), StoreError> {
    let path_id = number(conn, scope, resource_type, path)?;
    diesel::delete(
        attribute_values::table
            .filter(attribute_values::directory_id.eq(scope.directory_id.as_str()))
            .filter(attribute_values::resource_id.eq(resource_id))
            .filter(attribute_values::path_id.eq(path_id)),
    )
    .execute(conn)?;
    diesel::insert_into(attribute_values::table)
        .values(ValueRow {
            directory_id: scope.directory_id.as_str(),
            resource_id,
            path_id,
            elem: 0,
            tenant_id: scope.tenant_id.as_str(),
            value,
            value_ci: &fold_case(value),
            value_num: None,
        })
        .execute(conn)?;
    Ok(())
}
