//! Google Workspace pull connections: settings, sync state, the sync lease, the push channel,
//! and users waiting for a targeted re-read.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::conn::{DbConn, MultiBackend};
use super::error::StoreError;
use super::schema::{google_directories as gd, google_pending_users as p};

/// The status of a directory with no service-account key or no admin yet: never synced.
pub const AWAITING_CREDENTIALS: &str = "awaiting_credentials";

/// One directory's row, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = gd)]
pub struct GoogleDirectoryRow {
    pub directory_id: String,
    pub tenant_id: String,
    pub admin_email: String,
    pub customer: Option<String>,
    pub domain: Option<String>,
    pub group_filter: Option<String>,
    pub interval_secs: i64,
    pub sealed_key: String,
    pub status: String,
    pub last_sync_started_at: Option<NaiveDateTime>,
    pub last_sync_finished_at: Option<NaiveDateTime>,
    pub last_created: i64,
    pub last_updated: i64,
    pub last_deprovisioned: i64,
    pub last_error: Option<String>,
    pub next_sync_at: NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub watch_channel_id: Option<String>,
    pub watch_resource_id: Option<String>,
    pub watch_token_hash: Option<String>,
    pub watch_expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// What a finished (or failed) sync leaves behind.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = gd, treat_none_as_null = true)]
pub struct SyncOutcome {
    pub status: String,
    pub last_sync_finished_at: Option<NaiveDateTime>,
    pub last_created: i64,
    pub last_updated: i64,
    pub last_deprovisioned: i64,
    pub last_error: Option<String>,
    pub next_sync_at: NaiveDateTime,
}

/// A directory's settings after a change (`google::settings_update`), with the sync state
/// the change calls for.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = gd, treat_none_as_null = true)]
pub struct SettingsChange {
    pub admin_email: String,
    pub customer: Option<String>,
    pub domain: Option<String>,
    pub group_filter: Option<String>,
    pub interval_secs: i64,
    pub sealed_key: String,
    pub status: String,
    pub last_error: Option<String>,
    pub next_sync_at: NaiveDateTime,
}

/// A push channel as Google confirmed it.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = gd, treat_none_as_null = true)]
pub struct WatchChannel {
    pub watch_channel_id: Option<String>,
    pub watch_resource_id: Option<String>,
    pub watch_token_hash: Option<String>,
    pub watch_expires_at: Option<NaiveDateTime>,
    pub watch_renew_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, row: &GoogleDirectoryRow) -> Result<(), StoreError> {
    diesel::insert_into(gd::table)
        .values(row.clone())
        .execute(conn)?;
    Ok(())
}

pub fn update_settings(
    conn: &mut DbConn,
    directory_id: &str,
    change: &SettingsChange,
) -> Result<(), StoreError> {
    diesel::update(gd::table.filter(gd::directory_id.eq(directory_id)))
        .set(change.clone())
        .execute(conn)?;
    Ok(())
}

pub fn find(
    conn: &mut DbConn,
    directory_id: &str,
) -> Result<Option<GoogleDirectoryRow>, StoreError> {
    Ok(gd::table
        .filter(gd::directory_id.eq(directory_id))
        .select(GoogleDirectoryRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// The Google directories to sync: those not disabled and not still awaiting credentials.
pub fn list(conn: &mut DbConn) -> Result<Vec<GoogleDirectoryRow>, StoreError> {
    let enabled = super::schema::directories::table
        .filter(super::schema::directories::disabled_at.is_null())
        .select(super::schema::directories::id);
    Ok(gd::table
        .filter(gd::directory_id.eq_any(enabled))
        .filter(gd::status.ne(AWAITING_CREDENTIALS))
        .order(gd::next_sync_at)
        .select(GoogleDirectoryRow::as_select())
        .load(conn)?)
}

/// Takes (or renews) the directory's sync lease for `owner` until `until`, when it is free,
/// expired, or already `owner`'s. One conditional UPDATE, so of several instances racing
/// exactly one wins.
pub fn take_lease(
    conn: &mut DbConn,
    directory_id: &str,
    owner: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        gd::table.filter(gd::directory_id.eq(directory_id)).filter(
            gd::lease_until
                .is_null()
                .or(gd::lease_until.lt(now))
                .or(gd::lease_owner.eq(owner)),
        ),
    )
    .set((gd::lease_owner.eq(owner), gd::lease_until.eq(until)))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn release_lease(conn: &mut DbConn, directory_id: &str, owner: &str) -> Result<(), StoreError> {
    diesel::update(
        gd::table
            .filter(gd::directory_id.eq(directory_id))
            .filter(gd::lease_owner.eq(owner)),
    )
    .set((
        gd::lease_owner.eq(None::<String>),
        gd::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(())
}

pub fn sync_started(
    conn: &mut DbConn,
    directory_id: &str,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(gd::table.filter(gd::directory_id.eq(directory_id)))
        .set(gd::last_sync_started_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// The settings a sync ran with. Its outcome is recorded only while they are still the
/// directory's: a sync that ends after the operator changed them must not overwrite the state
/// the change set (a fresh status, the next sync due now) with a verdict on the old ones.
pub struct RanWith<'a>(pub &'a GoogleDirectoryRow);

type Test = Box<dyn BoxableExpression<gd::table, MultiBackend, SqlType = diesel::sql_types::Bool>>;

impl RanWith<'_> {
    fn unchanged(&self) -> Test {
        let r = self.0;
        let mut test: Test = Box::new(
            gd::directory_id
                .eq(r.directory_id.clone())
                .and(gd::sealed_key.eq(r.sealed_key.clone()))
                .and(gd::admin_email.eq(r.admin_email.clone())),
        );
        // `IS NOT DISTINCT FROM` has no form both backends take: NULL is asked for as NULL.
        test = match &r.customer {
            Some(v) => Box::new(test.and(gd::customer.eq(v.clone()).assume_not_null())),
            None => Box::new(test.and(gd::customer.is_null())),
        };
        test = match &r.domain {
            Some(v) => Box::new(test.and(gd::domain.eq(v.clone()).assume_not_null())),
            None => Box::new(test.and(gd::domain.is_null())),
        };
        match &r.group_filter {
            Some(v) => Box::new(test.and(gd::group_filter.eq(v.clone()).assume_not_null())),
            None => Box::new(test.and(gd::group_filter.is_null())),
        }
    }
}

pub fn sync_finished(
    conn: &mut DbConn,
    ran_with: &RanWith<'_>,
    outcome: &SyncOutcome,
) -> Result<(), StoreError> {
    diesel::update(gd::table.filter(ran_with.unchanged()))
        .set(outcome.clone())
        .execute(conn)?;
    Ok(())
}

/// Marks the directory's credentials as refused; `true` when it was not marked already, so
/// the caller records the change once rather than on every retry.
pub fn mark_invalid_credentials(
    conn: &mut DbConn,
    ran_with: &RanWith<'_>,
    error: &str,
    next_sync_at: NaiveDateTime,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        gd::table
            .filter(ran_with.unchanged())
            .filter(gd::status.ne("invalid_credentials")),
    )
    .set((
        gd::status.eq("invalid_credentials"),
        gd::last_error.eq(error),
        gd::next_sync_at.eq(next_sync_at),
    ))
    .execute(conn)?;
    if n == 0 {
        diesel::update(gd::table.filter(ran_with.unchanged()))
            .set((gd::last_error.eq(error), gd::next_sync_at.eq(next_sync_at)))
            .execute(conn)?;
    }
    Ok(n == 1)
}

pub fn set_watch(
    conn: &mut DbConn,
    directory_id: &str,
    channel: &WatchChannel,
) -> Result<(), StoreError> {
    diesel::update(gd::table.filter(gd::directory_id.eq(directory_id)))
        .set(channel.clone())
        .execute(conn)?;
    Ok(())
}

/// Queues a user for a targeted re-read; a user already queued stays queued once.
pub fn add_pending(
    conn: &mut DbConn,
    directory_id: &str,
    google_user_id: &str,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let queued: i64 = p::table
        .filter(p::directory_id.eq(directory_id))
        .filter(p::google_user_id.eq(google_user_id))
        .count()
        .get_result(conn)?;
    if queued > 0 {
        return Ok(());
    }
    let inserted = diesel::insert_into(p::table)
        .values((
            p::directory_id.eq(directory_id),
            p::google_user_id.eq(google_user_id),
            p::received_at.eq(now),
        ))
        .execute(conn)
        .map_err(StoreError::from);
    match inserted {
        // Two notifications for one user racing: the other one queued it.
        Err(e) if e.unique_violation().is_some() => Ok(()),
        other => other.map(|_| ()),
    }
}

/// Up to `limit` queued users, oldest first.
pub fn pending(
    conn: &mut DbConn,
    directory_id: &str,
    limit: i64,
) -> Result<Vec<(String, NaiveDateTime)>, StoreError> {
    Ok(p::table
        .filter(p::directory_id.eq(directory_id))
        .order(p::received_at)
        .limit(limit)
        .select((p::google_user_id, p::received_at))
        .load(conn)?)
}

/// Forgets a queued user, unless it was queued again after `received_at`.
pub fn done_pending(
    conn: &mut DbConn,
    directory_id: &str,
    google_user_id: &str,
    received_at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::delete(
        p::table
            .filter(p::directory_id.eq(directory_id))
            .filter(p::google_user_id.eq(google_user_id))
            .filter(p::received_at.le(received_at)),
    )
    .execute(conn)?;
    Ok(())
}

/// Forgets every user queued before `before`: a complete listing started after they arrived
/// has read them all.
pub fn clear_pending_before(
    conn: &mut DbConn,
    directory_id: &str,
    before: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::delete(
        p::table
            .filter(p::directory_id.eq(directory_id))
            .filter(p::received_at.lt(before)),
    )
    .execute(conn)?;
    Ok(())
}

/// When the directory's push channel is due for renewal; `None` when it has no channel (or
/// one opened before renewal times were kept).
pub fn watch_renew_at(
    conn: &mut DbConn,
    directory_id: &str,
) -> Result<Option<NaiveDateTime>, StoreError> {
    Ok(gd::table
        .filter(gd::directory_id.eq(directory_id))
        .filter(gd::watch_channel_id.is_not_null())
        .select(gd::watch_renew_at)
        .get_result::<Option<NaiveDateTime>>(conn)
        .optional()?
        .flatten())
}
