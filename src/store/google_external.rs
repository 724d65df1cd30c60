//! Members of synced Google groups from outside the Workspace's domains, per group: they are
//! not Workspace users, so they become no directory users and no memberships, but an operator
//! should see them (docs/idp/google-workspace.md).

use std::collections::BTreeSet;

use diesel::prelude::*;

use super::conn::DbConn;
use super::error::StoreError;
use super::schema::google_external_members as x;

/// One external member: its address and Google's id for it, when it has one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct External {
    pub email: String,
    pub google_id: Option<String>,
}

/// The group's recorded external members.
pub fn of_group(
    conn: &mut DbConn,
    directory_id: &str,
    group_id: &str,
) -> Result<BTreeSet<External>, StoreError> {
    let rows: Vec<(String, Option<String>)> = x::table
        .filter(x::directory_id.eq(directory_id))
        .filter(x::group_id.eq(group_id))
        .select((x::email, x::google_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(email, google_id)| External { email, google_id })
        .collect())
}

/// Turns the group's recorded external members from `current` (as `of_group` read them)
/// into `wanted`, touching only the rows that differ.
pub fn replace(
    conn: &mut DbConn,
    directory_id: &str,
    group_id: &str,
    current: &BTreeSet<External>,
    wanted: &BTreeSet<External>,
) -> Result<(), StoreError> {
    for gone in current.difference(wanted) {
        diesel::delete(
            x::table
                .filter(x::directory_id.eq(directory_id))
                .filter(x::group_id.eq(group_id))
                .filter(x::email.eq(&gone.email)),
        )
        .execute(conn)?;
    }
    for new in wanted.difference(current) {
        diesel::insert_into(x::table)
            .values((
                x::directory_id.eq(directory_id),
                x::group_id.eq(group_id),
                x::email.eq(&new.email),
                x::google_id.eq(&new.google_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// External memberships in the directory, and distinct external addresses.
pub fn counts(conn: &mut DbConn, directory_id: &str) -> Result<(i64, i64), StoreError> {
    let memberships: i64 = x::table
        .filter(x::directory_id.eq(directory_id))
        .count()
        .get_result(conn)?;
    // Outsiders are a handful of addresses, not a directory: reading them is cheap.
    let addresses = x::table
        .filter(x::directory_id.eq(directory_id))
        .select(x::email)
        .distinct()
        .load::<String>(conn)?
        .len();
    Ok((memberships, addresses as i64))
}
