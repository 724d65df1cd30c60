//! The searchable copy of every filterable attribute value (see the migration's comment).

use std::collections::HashSet;

use diesel::prelude::*;

use super::conn::{DbConn, insert_rows};
use super::error::StoreError;
use super::schema::attribute_values;
use crate::domain::index::{IndexedValue, fold_case};
use crate::domain::tenancy::Scope;

#[derive(Insertable)]
#[diesel(table_name = attribute_values, treat_none_as_default_value = false)]
struct ValueRow<'a> {
    directory_id: &'a str,
    resource_id: &'a str,
    path: &'a str,
    elem: i32,
    tenant_id: &'a str,
    resource_type: &'a str,
    value: &'a str,
    value_ci: String,
    value_num: Option<f64>,
}

/// Rows per multi-row INSERT on PostgreSQL: nine bound parameters each.
const INSERT_CHUNK: usize = 500;

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
    let stored: Vec<(String, i32, String, Option<f64>)> = attribute_values::table
        .filter(attribute_values::directory_id.eq(scope.directory_id.as_str()))
        .filter(attribute_values::resource_id.eq(resource_id))
        .select((
            attribute_values::path,
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
        .map(|(path, elem, value, number)| key(path, *elem, value, *number))
        .filter(|k| wanted.contains(k))
        .collect();
    for (path, elem, value, number) in &stored {
        if !kept.contains(&key(path, *elem, value, *number)) {
            diesel::delete(
                attribute_values::table
                    .filter(attribute_values::directory_id.eq(scope.directory_id.as_str()))
                    .filter(attribute_values::resource_id.eq(resource_id))
                    .filter(attribute_values::path.eq(path))
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
    insert(
        conn,
        &new_rows(scope, resource_type, &[(resource_id, &changed)]),
    )
}

/// The rows that index new resources, made before the write (`new_rows`) so that the single
/// writer's turn is spent on SQL alone.
pub struct NewValueRows<'a>(Vec<ValueRow<'a>>);

pub fn new_rows<'a>(
    scope: &'a Scope,
    resource_type: &'a str,
    resources: &[(&'a str, &'a [IndexedValue])],
) -> NewValueRows<'a> {
    NewValueRows(
        resources
            .iter()
            .flat_map(|&(resource_id, values)| {
                values.iter().map(move |v| ValueRow {
                    directory_id: scope.directory_id.as_str(),
                    resource_id,
                    path: &v.path,
                    elem: v.elem,
                    tenant_id: scope.tenant_id.as_str(),
                    resource_type,
                    value: &v.value,
                    value_ci: fold_case(&v.value),
                    value_num: v.number,
                })
            })
            .collect(),
    )
}

/// Indexes resources that have no indexed values yet (just created).
pub fn insert(conn: &mut DbConn, rows: &NewValueRows) -> Result<(), StoreError> {
    insert_rows!(conn, attribute_values::table, &rows.0, INSERT_CHUNK);
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
    diesel::delete(
        attribute_values::table
            .filter(attribute_values::directory_id.eq(scope.directory_id.as_str()))
            .filter(attribute_values::resource_id.eq(resource_id))
            .filter(attribute_values::path.eq(path)),
    )
    .execute(conn)?;
    diesel::insert_into(attribute_values::table)
        .values(ValueRow {
            directory_id: scope.directory_id.as_str(),
            resource_id,
            path,
            elem: 0,
            tenant_id: scope.tenant_id.as_str(),
            resource_type,
            value,
            value_ci: fold_case(value),
            value_num: None,
        })
        .execute(conn)?;
    Ok(())
}
