//! The Google Workspace puller: reads the Admin SDK Directory API with a service account and
//! applies what it finds through the same domain commands the SCIM path uses. It never speaks
//! SCIM over HTTP, and the domain never sees a Google type.

pub mod auth;
pub mod client;
pub mod external;
pub mod map;
pub mod reconcile;
pub mod schedule;
pub mod settings_update;
pub mod stats;
pub mod watch;

use std::time::Duration;

use chrono::NaiveDateTime;
use serde::Serialize;
use thiserror::Error;

use crate::config::GoogleConfig;
use crate::domain::document::Document;
use crate::domain::error::DomainError;
use crate::domain::event::{EventKind, NewEvent};
use crate::domain::sealing::{SealError, SecretKey};
use crate::domain::tenancy::{Directory, DirectoryKind};
use crate::scim::schema::SchemaRegistry;
use crate::store::google::{GoogleDirectoryRow, RanWith, SyncOutcome};
use crate::store::{self, Store, StoreError};
use auth::{ServiceAccountKey, TokenSource};
use client::{Api, Backoff};
use reconcile::{Counts, Reconciler};

#[derive(Debug, Error)]
pub enum GoogleError {
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("service-account key file: {0}")]
    BadKeyFile(String),
    #[error("invalid credentials: {0}")]
    InvalidCredentials(String),
    #[error("Google answered {status} {reason}: {message}")]
    Api {
        status: u16,
        reason: String,
        message: String,
    },
    #[error("cannot reach Google: {0}")]
    Transport(String),
    #[error("unexpected answer from Google: {0}")]
    BadResponse(String),
    #[error("not found at Google: {0}")]
    NotFound(String),
    #[error("directory {0} is not a Google directory")]
    NotGoogle(String),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "the directory has no service-account key or admin yet: give them on its setup page, \
         with `roster directory update`, or PATCH /api/v1/admin/directories/{0}/google"
    )]
    AwaitingCredentials(String),
    #[error("another sync of this directory is running (lease held until {0})")]
    Busy(String),
    #[error("this instance lost the directory's sync lease; the sync stopped")]
    LeaseLost,
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl From<StoreError> for GoogleError {
    fn from(e: StoreError) -> Self {
        GoogleError::Domain(DomainError::Store(e))
    }
}

/// Which part of the account the lists cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Customer(String),
    Domain(String),
}

impl Target {
    fn param(&self) -> (&'static str, String) {
        match self {
            Target::Customer(c) => ("customer", c.clone()),
            Target::Domain(d) => ("domain", d.clone()),
        }
    }
}

/// What `roster directory create --kind google` is given.
pub struct NewConnection<'a> {
    pub key_file: &'a [u8],
    pub admin: String,
    pub target: Target,
    pub groups: Option<Vec<String>>,
    pub interval: Duration,
}

/// Time between full syncs when none is given.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);

/// `5m`, `30s`, `1h`, `2d` or plain seconds.
pub fn parse_interval(s: &str) -> Result<Duration, GoogleError> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| GoogleError::Invalid(format!("interval '{s}' is not like 30s, 5m or 1h")))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => {
            return Err(GoogleError::Invalid(format!(
                "interval '{s}' is not like 30s, 5m or 1h"
            )));
        }
    };
    if secs == 0 {
        return Err(GoogleError::Invalid("the interval must be positive".into()));
    }
    Ok(Duration::from_secs(secs))
}

/// Comma-separated group emails, trimmed; `None` for an empty list.
pub fn parse_groups(s: &str) -> Option<Vec<String>> {
    normalize_groups(s.split(','))
}

/// Group emails trimmed and lower-cased, empty ones dropped; `None` for an empty list.
pub fn normalize_groups<'a>(emails: impl IntoIterator<Item = &'a str>) -> Option<Vec<String>> {
    let groups: Vec<String> = emails
        .into_iter()
        .map(|g| g.trim().to_lowercase())
        .filter(|g| !g.is_empty())
        .collect();
    (!groups.is_empty()).then_some(groups)
}

/// The customer the Directory API lists when none is named: the admin's own account.
pub const MY_CUSTOMER: &str = "my_customer";

/// A new directory's settings row with `status` and nothing synced yet: no counts, no error,
/// no lease, no push channel, the first sync due `now`. The settings proper (admin, key,
/// target, groups, interval) are the default ones, for the caller to fill.
fn fresh_row(directory: &Directory, status: &str, now: NaiveDateTime) -> GoogleDirectoryRow {
    GoogleDirectoryRow {
        directory_id: directory.id.to_string(),
        tenant_id: directory.tenant_id.to_string(),
        admin_email: String::new(),
        customer: Some(MY_CUSTOMER.into()),
        domain: None,
        group_filter: None,
        interval_secs: i64::try_from(DEFAULT_INTERVAL.as_secs()).unwrap_or(i64::MAX),
        sealed_key: String::new(),
        status: status.into(),
        last_sync_started_at: None,
        last_sync_finished_at: None,
        last_created: 0,
        last_updated: 0,
        last_deprovisioned: 0,
        last_error: None,
        next_sync_at: now,
        lease_owner: None,
        lease_until: None,
        watch_channel_id: None,
        watch_resource_id: None,
        watch_token_hash: None,
        watch_expires_at: None,
        created_at: now,
    }
}

/// Stores a new directory's Google settings, with its key sealed by the server key.
pub fn connect(
    store: &Store,
    secret_key: Option<&str>,
    directory: &Directory,
    conn: NewConnection<'_>,
    now: NaiveDateTime,
) -> Result<(), GoogleError> {
    let key = SecretKey::from_config(secret_key)?;
    ServiceAccountKey::parse(conn.key_file)?;
    check_admin(&conn.admin)?;
    let (customer, domain) = match conn.target {
        Target::Customer(c) => (Some(c), None),
        Target::Domain(d) => (None, Some(d)),
    };
    let row = GoogleDirectoryRow {
        admin_email: conn.admin,
        customer,
        domain,
        group_filter: conn.groups.map(|g| g.join(",")),
        interval_secs: i64::try_from(conn.interval.as_secs()).unwrap_or(i64::MAX),
        sealed_key: key.seal(conn.key_file, directory.id.as_str())?,
        ..fresh_row(directory, "never_synced", now)
    };
    store.write(|c| store::google::insert(c, &row))?;
    Ok(())
}

/// Creates a Google directory and stores its settings with the key sealed: what the CLI's
/// `directory create --kind google` and the admin API both do. Everything that can be refused
/// (no server key, a key file that does not parse, an admin that is no email) is checked
/// before the directory is made, so a refusal leaves nothing half-made.
pub fn create_directory(
    store: &Store,
    secret_key: Option<&str>,
    tenant: &crate::domain::tenancy::Tenant,
    name: &str,
    policy: crate::domain::lifecycle::Deprovisioning,
    conn: NewConnection<'_>,
    now: NaiveDateTime,
) -> Result<Directory, GoogleError> {
    SecretKey::from_config(secret_key)?;
    ServiceAccountKey::parse(conn.key_file)?;
    check_admin(&conn.admin)?;
    let d = crate::domain::tenancy::create_directory(
        store,
        tenant,
        name,
        DirectoryKind::Google,
        policy,
        now,
    )?;
    connect(store, secret_key, &d, conn, now)?;
    Ok(d)
}

fn check_admin(admin: &str) -> Result<(), GoogleError> {
    if admin.contains('@') {
        Ok(())
    } else {
        Err(GoogleError::Invalid(format!(
            "admin '{admin}' must be the email of a Workspace admin"
        )))
    }
}

/// A Google directory's settings and sync state as the admin API shows them: never the key.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SettingsView {
    /// Null while the directory awaits its credentials.
    pub admin_email: Option<String>,
    pub customer: Option<String>,
    pub domain: Option<String>,
    /// Only these groups (emails) and their members are synced; null: every group.
    pub groups: Option<Vec<String>>,
    pub interval_secs: i64,
    /// `awaiting_credentials` (no key or admin yet: never synced), `never_synced`, `ok`,
    /// `error`, `invalid_credentials`.
    pub status: String,
    /// UTC, without an offset.
    #[schema(value_type = Option<String>)]
    pub last_sync_started_at: Option<NaiveDateTime>,
    /// UTC, without an offset.
    #[schema(value_type = Option<String>)]
    pub last_sync_finished_at: Option<NaiveDateTime>,
    pub last_created: i64,
    pub last_updated: i64,
    pub last_deprovisioned: i64,
    pub last_error: Option<String>,
    /// UTC, without an offset.
    #[schema(value_type = String)]
    pub next_sync_at: NaiveDateTime,
}

impl From<&GoogleDirectoryRow> for SettingsView {
    fn from(row: &GoogleDirectoryRow) -> Self {
        SettingsView {
            admin_email: (!row.admin_email.is_empty()).then(|| row.admin_email.clone()),
            customer: row.customer.clone(),
            domain: row.domain.clone(),
            groups: row.group_filter.as_deref().and_then(parse_groups),
            interval_secs: row.interval_secs,
            status: row.status.clone(),
            last_sync_started_at: row.last_sync_started_at,
            last_sync_finished_at: row.last_sync_finished_at,
            last_created: row.last_created,
            last_updated: row.last_updated,
            last_deprovisioned: row.last_deprovisioned,
            last_error: row.last_error.clone(),
            next_sync_at: row.next_sync_at,
        }
    }
}

/// A Google directory's stored settings and state.
pub fn settings(store: &Store, directory: &Directory) -> Result<GoogleDirectoryRow, GoogleError> {
    if directory.kind != DirectoryKind::Google {
        return Err(GoogleError::NotGoogle(directory.name.clone()));
    }
    store
        .read(|c| store::google::find(c, directory.id.as_str()))?
        .ok_or_else(|| GoogleError::NotGoogle(directory.name.clone()))
}

/// Everything a sync needs for one directory: its settings and an API client holding its
/// (decrypted) credentials.
pub struct Puller<'a> {
    pub store: &'a Store,
    pub registry: &'a SchemaRegistry,
    pub directory: Directory,
    pub row: GoogleDirectoryRow,
    pub api: Api,
}

impl<'a> Puller<'a> {
    pub fn new(
        store: &'a Store,
        registry: &'a SchemaRegistry,
        config: &GoogleConfig,
        secret_key: Option<&str>,
        directory: Directory,
    ) -> Result<Puller<'a>, GoogleError> {
        let row = settings(store, &directory)?;
        if !settings_update::has_credentials(&row) {
            return Err(GoogleError::AwaitingCredentials(row.directory_id));
        }
        let key_file =
            SecretKey::from_config(secret_key)?.open(&row.sealed_key, &row.directory_id)?;
        let key = ServiceAccountKey::parse(&key_file)?;
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("roster/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GoogleError::Transport(e.to_string()))?;
        let backoff = Backoff::new(config.backoff_ms);
        let tokens = TokenSource::new(
            http.clone(),
            &key,
            &row.admin_email,
            config.token_url.as_deref(),
            backoff,
        )?;
        Ok(Puller {
            store,
            registry,
            api: Api::new(http, &config.api_url, tokens, backoff),
            directory,
            row,
        })
    }

    pub fn target(&self) -> Target {
        match (&self.row.customer, &self.row.domain) {
            (_, Some(d)) => Target::Domain(d.clone()),
            (Some(c), None) => Target::Customer(c.clone()),
            (None, None) => Target::Customer(MY_CUSTOMER.into()),
        }
    }

    pub fn reconciler(&self) -> Reconciler<'_> {
        Reconciler {
            store: self.store,
            registry: self.registry,
            api: &self.api,
            scope: self.directory.scope(),
            target: self.target().param(),
            groups: self.row.group_filter.as_deref().and_then(parse_groups),
        }
    }

    fn interval(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.row.interval_secs)
    }

    /// Runs a full reconcile under the directory's lease and records its outcome: counts and
    /// next run on success; the error otherwise, with `invalid_credentials` (and an event,
    /// once) when Google refused the credentials.
    pub fn sync(
        &self,
        lease: &Lease,
        on_page: &mut reconcile::OnPage<'_>,
    ) -> Result<Counts, GoogleError> {
        let started = crate::domain::clock::now();
        let id = self.row.directory_id.as_str();
        self.store
            .write(|c| store::google::sync_started(c, id, started))?;
        let result = self.reconciler().full(&mut |counts: &reconcile::Counts| {
            lease.renew(self.store)?;
            on_page(counts)
        });
        let finished = crate::domain::clock::now();
        let next = finished + self.interval();
        match &result {
            Ok(counts) => {
                let outcome = SyncOutcome {
                    status: "ok".into(),
                    last_sync_finished_at: Some(finished),
                    last_created: counts.created() as i64,
                    last_updated: counts.updated() as i64,
                    last_deprovisioned: counts.deprovisioned() as i64,
                    last_error: None,
                    next_sync_at: next,
                };
                self.store.write(|c| -> Result<(), StoreError> {
                    store::google::sync_finished(c, &RanWith(&self.row), &outcome)?;
                    // The listing just read covered every user queued before it began.
                    store::google::clear_pending_before(c, id, started)
                })?;
                if let Err(e) =
                    crate::domain::tenancy::activate(self.store, &self.directory.scope(), finished)
                {
                    tracing::warn!(directory = %self.directory.name, error = %e, "could not mark the directory activated");
                }
            }
            Err(e) => self.record_failure(e, finished, next)?,
        }
        result
    }

    pub fn record_failure(
        &self,
        e: &GoogleError,
        finished: NaiveDateTime,
        next: NaiveDateTime,
    ) -> Result<(), GoogleError> {
        let id = self.row.directory_id.as_str();
        let message = e.to_string();
        tracing::warn!(directory = %self.directory.name, error = %message, "Google sync failed");
        if matches!(e, GoogleError::InvalidCredentials(_)) {
            let scope = self.directory.scope();
            self.store.write(|c| -> Result<(), StoreError> {
                if store::google::mark_invalid_credentials(c, &RanWith(&self.row), &message, next)?
                {
                    let event = NewEvent::new(
                        EventKind::DirectoryCredentialsInvalid,
                        id.to_string(),
                        Document::from_value(
                            &serde_json::json!({"directory_id": id, "error": message}),
                        ),
                    );
                    let state = NewEvent::new(
                        EventKind::DirectoryStateChanged,
                        id.to_string(),
                        Document::from_value(&serde_json::json!({
                            "id": id,
                            "directory_id": id,
                            "tenant_id": scope.tenant_id,
                            "state": "invalid_credentials",
                        })),
                    );
                    store::events::append(c, &scope, &[event, state], finished)?;
                }
                Ok(())
            })?;
        } else {
            let row = &self.row;
            let outcome = SyncOutcome {
                status: "error".into(),
                last_sync_finished_at: Some(finished),
                last_created: row.last_created,
                last_updated: row.last_updated,
                last_deprovisioned: row.last_deprovisioned,
                last_error: Some(message),
                next_sync_at: next,
            };
            self.store
                .write(|c| store::google::sync_finished(c, &RanWith(&self.row), &outcome))?;
        }
        Ok(())
    }
}

/// A directory's sync lease, held by one instance at a time (see the migration).
pub struct Lease {
    pub directory_id: String,
    pub owner: String,
}

/// How long a lease lasts without renewal; a sync renews it on every page.
const LEASE: Duration = Duration::from_secs(600);

impl Lease {
    /// Takes the lease, or says who holds it until when.
    pub fn take(store: &Store, directory_id: &str, owner: &str) -> Result<Lease, GoogleError> {
        let now = crate::domain::clock::now();
        let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        if store.write(|c| store::google::take_lease(c, directory_id, owner, now, until))? {
            return Ok(Lease {
                directory_id: directory_id.to_string(),
                owner: owner.to_string(),
            });
        }
        let held = store
            .read(|c| store::google::find(c, directory_id))?
            .and_then(|r| r.lease_until)
            .map(crate::domain::clock::rfc3339)
            .unwrap_or_default();
        Err(GoogleError::Busy(held))
    }

    pub fn renew(&self, store: &Store) -> Result<(), GoogleError> {
        let now = crate::domain::clock::now();
        let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        if store
            .write(|c| store::google::take_lease(c, &self.directory_id, &self.owner, now, until))?
        {
            Ok(())
        } else {
            Err(GoogleError::LeaseLost)
        }
    }

    pub fn release(self, store: &Store) {
        if let Err(e) =
            store.write(|c| store::google::release_lease(c, &self.directory_id, &self.owner))
        {
            tracing::warn!(error = %e, "could not release a Google sync lease; it expires on its own");
        }
    }
}

/// One check of `roster google test`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Check {
    pub what: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// Proves the credentials and each scope with the smallest request that needs it.
pub fn test_connection(puller: &Puller<'_>) -> Vec<Check> {
    let mut checks = Vec::new();
    let token = puller.api.tokens().token();
    let token_ok = token.is_ok();
    checks.push(Check {
        what: "token",
        ok: token_ok,
        detail: match token {
            Ok(_) => format!("service account may act as {}", puller.row.admin_email),
            Err(e) => e.to_string(),
        },
    });
    if !token_ok {
        return checks;
    }
    let (param, value) = puller.target().param();
    let one = |path: &str, scope: &'static str, what: &'static str, extra: &[(&str, &str)]| {
        let mut query = vec![(param, value.as_str()), ("maxResults", "1")];
        query.extend_from_slice(extra);
        let result = puller.api.get(path, &query);
        let detail = match &result {
            Ok(_) => "allowed".to_string(),
            Err(GoogleError::InvalidCredentials(m)) => {
                format!("refused: delegate the scope {scope} to the service account ({m})")
            }
            Err(e) => e.to_string(),
        };
        (
            Check {
                what,
                ok: result.is_ok(),
                detail,
            },
            result.ok().flatten(),
        )
    };
    let (users, _) = one(
        "admin/directory/v1/users",
        auth::SCOPES[0],
        "users (admin.directory.user.readonly)",
        &[],
    );
    checks.push(users);
    let (groups, listed) = one(
        "admin/directory/v1/groups",
        auth::SCOPES[1],
        "groups (admin.directory.group.readonly)",
        &[],
    );
    checks.push(groups);
    let first_group = listed
        .as_ref()
        .and_then(|v| v["groups"][0]["id"].as_str())
        .map(str::to_string);
    match first_group {
        Some(g) => {
            let path = format!("admin/directory/v1/groups/{g}/members");
            let result = puller.api.get(&path, &[("maxResults", "1")]);
            checks.push(Check {
                what: "members (admin.directory.group.member.readonly)",
                ok: result.is_ok(),
                detail: match result {
                    Ok(_) => "allowed".into(),
                    Err(GoogleError::InvalidCredentials(m)) => format!(
                        "refused: delegate the scope {} to the service account ({m})",
                        auth::SCOPES[2]
                    ),
                    Err(e) => e.to_string(),
                },
            });
        }
        None => checks.push(Check {
            what: "members (admin.directory.group.member.readonly)",
            ok: true,
            detail: "not checked: the account lists no group".into(),
        }),
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_like_durations() {
        assert_eq!(parse_interval("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_interval("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_interval("2h").unwrap(), Duration::from_secs(7200));
        assert!(parse_interval("0s").is_err());
        assert!(parse_interval("5 minutes").is_err());
        assert!(parse_interval("m").is_err());
    }

    #[test]
    fn group_lists_are_trimmed_and_folded() {
        assert_eq!(
            parse_groups(" Eng@x.com, ops@x.com ,"),
            Some(vec!["eng@x.com".to_string(), "ops@x.com".to_string()])
        );
        assert_eq!(parse_groups(" , "), None);
    }
}
