//! Changing a Google directory's settings after it was made, and making one before its
//! credentials exist: the customer's IT admin often holds the service-account key, so the
//! operator creates the directory first and the key arrives later (the setup page, the admin
//! API's PATCH, `roster directory update`). All three call `update` here.

use std::time::Duration;

use chrono::NaiveDateTime;

use super::auth::ServiceAccountKey;
use super::{GoogleError, Target, check_admin};
use crate::domain::lifecycle::Deprovisioning;
use crate::domain::sealing::SecretKey;
use crate::domain::tenancy::{self, Directory, DirectoryKind, Tenant};
use crate::store::google::{GoogleDirectoryRow, SettingsChange};
use crate::store::{self, Store, StoreError};

/// The status of a Google directory with no service-account key or no admin yet. The
/// scheduler skips it (`store::google::list`); it becomes `never_synced`, due at once, when
/// both are given.
pub use crate::store::google::AWAITING_CREDENTIALS;

/// What to change; `None` keeps the stored value.
#[derive(Debug, Default)]
pub struct SettingsChanges<'a> {
    pub key_file: Option<&'a [u8]>,
    pub admin: Option<String>,
    pub target: Option<Target>,
    /// `Some(None)`: every group again.
    pub groups: Option<Option<Vec<String>>>,
    pub interval: Option<Duration>,
}

impl SettingsChanges<'_> {
    /// Refuses what can be refused without the store, so a refused change writes nothing.
    fn check(&self, secret_key: Option<&str>) -> Result<(), GoogleError> {
        if let Some(key_file) = self.key_file {
            SecretKey::from_config(secret_key)?;
            ServiceAccountKey::parse(key_file)?;
        }
        if let Some(admin) = &self.admin {
            check_admin(admin)?;
        }
        match &self.target {
            Some(Target::Customer(v) | Target::Domain(v)) if v.trim().is_empty() => Err(
                GoogleError::Invalid("the customer id or domain must not be empty".into()),
            ),
            _ => Ok(()),
        }
    }
}

/// Whether a stored row holds both halves of its credentials.
pub fn has_credentials(row: &GoogleDirectoryRow) -> bool {
    !row.sealed_key.is_empty() && !row.admin_email.is_empty()
}

/// Changes a Google directory's settings in one transaction and answers the stored row. New
/// credentials (key or admin) reset the sync state (`never_synced`, no last error) and make
/// the next sync due now, as does a new customer, domain or group filter; a shorter interval
/// brings the next sync forward.
pub fn update(
    store: &Store,
    secret_key: Option<&str>,
    directory: &Directory,
    changes: SettingsChanges<'_>,
    now: NaiveDateTime,
) -> Result<GoogleDirectoryRow, GoogleError> {
    if directory.kind != DirectoryKind::Google {
        return Err(GoogleError::NotGoogle(directory.name.clone()));
    }
    changes.check(secret_key)?;
    let sealed_key = match changes.key_file {
        Some(file) => Some(SecretKey::from_config(secret_key)?.seal(file, directory.id.as_str())?),
        None => None,
    };
    let id = directory.id.as_str();
    let name = directory.name.clone();
    let updated = store.write(|c| -> Result<Option<GoogleDirectoryRow>, StoreError> {
        let Some(row) = store::google::find(c, id)? else {
            return Ok(None);
        };
        let change = next_settings(&row, &changes, sealed_key, now);
        store::google::update_settings(c, id, &change)?;
        store::google::find(c, id)
    })?;
    updated.ok_or(GoogleError::NotGoogle(name))
}

/// The row's settings after `changes`, with the sync state they call for.
fn next_settings(
    row: &GoogleDirectoryRow,
    changes: &SettingsChanges<'_>,
    sealed_key: Option<String>,
    now: NaiveDateTime,
) -> SettingsChange {
    let credentials_changed = sealed_key.is_some() || changes.admin.is_some();
    let scope_changed = changes.target.is_some() || changes.groups.is_some();
    let (customer, domain) = match &changes.target {
        Some(Target::Customer(c)) => (Some(c.trim().to_string()), None),
        Some(Target::Domain(d)) => (None, Some(d.trim().to_string())),
        None => (row.customer.clone(), row.domain.clone()),
    };
    let interval_secs = changes.interval.map_or(row.interval_secs, |i| {
        i64::try_from(i.as_secs()).unwrap_or(i64::MAX)
    });
    let mut next = GoogleDirectoryRow {
        admin_email: changes
            .admin
            .clone()
            .unwrap_or_else(|| row.admin_email.clone()),
        sealed_key: sealed_key.unwrap_or_else(|| row.sealed_key.clone()),
        ..row.clone()
    };
    let (status, last_error, next_sync_at) = if !has_credentials(&next) {
        (AWAITING_CREDENTIALS.to_string(), None, now)
    } else if credentials_changed {
        ("never_synced".to_string(), None, now)
    } else if scope_changed {
        (row.status.clone(), row.last_error.clone(), now)
    } else {
        let sooner = now + chrono::Duration::seconds(interval_secs);
        (
            row.status.clone(),
            row.last_error.clone(),
            row.next_sync_at.min(sooner),
        )
    };
    next.status = status;
    SettingsChange {
        admin_email: next.admin_email,
        customer,
        domain,
        group_filter: match &changes.groups {
            Some(groups) => groups.as_ref().map(|g| g.join(",")),
            None => row.group_filter.clone(),
        },
        interval_secs,
        sealed_key: next.sealed_key,
        status: next.status,
        last_error,
        next_sync_at,
    }
}

/// Creates a Google directory without its credentials yet (`awaiting_credentials`), with
/// whatever of its settings are given; nothing is made when one of them is refused.
pub fn create_without_credentials(
    store: &Store,
    secret_key: Option<&str>,
    tenant: &Tenant,
    name: &str,
    policy: Deprovisioning,
    changes: SettingsChanges<'_>,
    now: NaiveDateTime,
) -> Result<Directory, GoogleError> {
    changes.check(secret_key)?;
    let d = tenancy::create_directory(store, tenant, name, DirectoryKind::Google, policy, now)?;
    let row = super::fresh_row(&d, AWAITING_CREDENTIALS, now);
    store.write(|c| store::google::insert(c, &row))?;
    update(store, secret_key, &d, changes, now)?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Why, the stored row, the change, a new sealed key, the status and due time after.
    type Case<'a> = (
        &'static str,
        GoogleDirectoryRow,
        SettingsChanges<'a>,
        Option<&'static str>,
        &'static str,
        NaiveDateTime,
    );

    fn stored(status: &str, key: &str, admin: &str) -> GoogleDirectoryRow {
        let t = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        GoogleDirectoryRow {
            directory_id: "d".into(),
            tenant_id: "t".into(),
            admin_email: admin.into(),
            customer: Some("my_customer".into()),
            domain: None,
            group_filter: Some("eng@x.com".into()),
            interval_secs: 3600,
            sealed_key: key.into(),
            status: status.into(),
            last_sync_started_at: None,
            last_sync_finished_at: None,
            last_created: 0,
            last_updated: 0,
            last_deprovisioned: 0,
            last_error: Some("old".into()),
            next_sync_at: t + chrono::Duration::seconds(3000),
            lease_owner: None,
            lease_until: None,
            watch_channel_id: None,
            watch_resource_id: None,
            watch_token_hash: None,
            watch_expires_at: None,
            created_at: t,
        }
    }

    #[test]
    fn changes_move_the_sync_state_as_documented() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        let later = now + chrono::Duration::seconds(3000);
        let admin = || SettingsChanges {
            admin: Some("a@x.com".into()),
            ..Default::default()
        };
        let interval = |s| SettingsChanges {
            interval: Some(Duration::from_secs(s)),
            ..Default::default()
        };
        let all_groups = || SettingsChanges {
            groups: Some(None),
            ..Default::default()
        };
        let cases: [Case<'_>; 6] = [
            (
                "admin alone, no key yet",
                stored(AWAITING_CREDENTIALS, "", ""),
                admin(),
                None,
                AWAITING_CREDENTIALS,
                now,
            ),
            (
                "key completes the admin",
                stored(AWAITING_CREDENTIALS, "", "a@x.com"),
                SettingsChanges::default(),
                Some("sealed"),
                "never_synced",
                now,
            ),
            (
                "new admin resets",
                stored("invalid_credentials", "k", "b@x.com"),
                admin(),
                None,
                "never_synced",
                now,
            ),
            (
                "groups: due now, state kept",
                stored("ok", "k", "b@x.com"),
                all_groups(),
                None,
                "ok",
                now,
            ),
            (
                "shorter interval: sooner",
                stored("ok", "k", "b@x.com"),
                interval(60),
                None,
                "ok",
                now + chrono::Duration::seconds(60),
            ),
            (
                "longer interval: kept",
                stored("ok", "k", "b@x.com"),
                interval(7200),
                None,
                "ok",
                later,
            ),
        ];
        for (why, row, changes, key, status, due) in cases {
            let next = next_settings(&row, &changes, key.map(str::to_string), now);
            assert_eq!(next.status, status, "{why}");
            assert_eq!(next.next_sync_at, due, "{why}");
            if status == "never_synced" {
                assert_eq!(next.last_error, None, "{why}");
            }
        }
        let cleared = next_settings(&stored("ok", "k", "b"), &all_groups(), None, now);
        assert_eq!(cleared.group_filter, None);
    }
}
