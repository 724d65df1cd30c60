//! Tenants, their directories, and the scope every directory-data command runs in.

use std::str::FromStr;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::document::Document;
use super::error::{DomainError, DomainResult};
use super::event::{EventKind, NewEvent};
use super::ids::{DirectoryId, TenantId};
use super::lifecycle::Deprovisioning;
use super::token::{self, IssuedToken};
use crate::store::{self, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DirectoryKind {
    Entra,
    Okta,
    OneLogin,
    JumpCloud,
    Ping,
    Rippling,
    Generic,
    Google,
}

impl DirectoryKind {
    pub const ALL: [DirectoryKind; 8] = [
        DirectoryKind::Entra,
        DirectoryKind::Okta,
        DirectoryKind::OneLogin,
        DirectoryKind::JumpCloud,
        DirectoryKind::Ping,
        DirectoryKind::Rippling,
        DirectoryKind::Generic,
        DirectoryKind::Google,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DirectoryKind::Entra => "entra",
            DirectoryKind::Okta => "okta",
            DirectoryKind::OneLogin => "onelogin",
            DirectoryKind::JumpCloud => "jumpcloud",
            DirectoryKind::Ping => "ping",
            DirectoryKind::Rippling => "rippling",
            DirectoryKind::Generic => "generic",
            DirectoryKind::Google => "google",
        }
    }
}

impl FromStr for DirectoryKind {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DirectoryKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let known: Vec<&str> = DirectoryKind::ALL.iter().map(|k| k.as_str()).collect();
                DomainError::Invalid(format!(
                    "unknown directory kind '{s}'; one of: {}",
                    known.join(", ")
                ))
            })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tenant {
    #[schema(value_type = String)]
    pub id: TenantId,
    pub name: String,
    /// UTC, without an offset.
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Directory {
    #[schema(value_type = String)]
    pub id: DirectoryId,
    #[schema(value_type = String)]
    pub tenant_id: TenantId,
    pub name: String,
    pub kind: DirectoryKind,
    /// UTC, without an offset.
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    pub deprovisioning: Deprovisioning,
    /// While set, the directory's tokens are refused and a Google directory is not synced;
    /// its data stays readable. UTC, without an offset.
    #[schema(value_type = Option<String>)]
    pub disabled_at: Option<NaiveDateTime>,
}

impl Directory {
    pub fn scope(&self) -> Scope {
        Scope {
            tenant_id: self.tenant_id.clone(),
            directory_id: self.id.clone(),
        }
    }
}

/// The tenant and directory a request's token belongs to. Every read and write of directory
/// data takes one, and every query is filtered by both ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub tenant_id: TenantId,
    pub directory_id: DirectoryId,
}

fn check_name(what: &str, name: &str) -> DomainResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(DomainError::Invalid(format!(
            "{what} name '{name}' must be 1-100 characters of letters, digits, '-', '_' or '.'"
        )))
    }
}

pub fn create_tenant(store: &Store, name: &str, now: NaiveDateTime) -> DomainResult<Tenant> {
    check_name("tenant", name)?;
    let tenant = Tenant {
        id: TenantId::generate(),
        name: name.to_string(),
        created_at: now,
    };
    store
        .write(|conn| store::tenancy::insert_tenant(conn, &tenant))
        .map_err(|e| taken(e, "tenant", name))?;
    Ok(tenant)
}

/// A duplicate name is a unique-constraint failure in the store; said in the operator's words.
fn taken(e: store::StoreError, what: &str, name: &str) -> DomainError {
    if e.unique_violation().is_some() {
        DomainError::AlreadyExists(format!("a {what} named '{name}'"))
    } else {
        e.into()
    }
}

pub fn list_tenants(store: &Store) -> DomainResult<Vec<Tenant>> {
    Ok(store.read(store::tenancy::list_tenants)?)
}

/// A tenant by id or by name.
pub fn find_tenant(store: &Store, id_or_name: &str) -> DomainResult<Tenant> {
    store
        .read(|conn| store::tenancy::find_tenant(conn, id_or_name))?
        .ok_or_else(|| DomainError::NotFound {
            kind: "tenant",
            id: id_or_name.to_string(),
        })
}

pub fn create_directory(
    store: &Store,
    tenant: &Tenant,
    name: &str,
    kind: DirectoryKind,
    deprovisioning: Deprovisioning,
    now: NaiveDateTime,
) -> DomainResult<Directory> {
    check_name("directory", name)?;
    let directory = Directory {
        id: DirectoryId::generate(),
        tenant_id: tenant.id.clone(),
        name: name.to_string(),
        kind,
        created_at: now,
        deprovisioning,
        disabled_at: None,
    };
    store
        .write(|conn| store::tenancy::insert_directory(conn, &directory))
        .map_err(|e| taken(e, "directory", name))?;
    Ok(directory)
}

/// Creates a directory an IdP pushes to over SCIM, and issues its first token. Google
/// directories pull instead, and are made with their settings (`google::connect`).
pub fn create_scim_directory(
    store: &Store,
    tenant: &Tenant,
    name: &str,
    kind: DirectoryKind,
    deprovisioning: Deprovisioning,
    now: NaiveDateTime,
) -> DomainResult<(Directory, IssuedToken)> {
    if kind == DirectoryKind::Google {
        return Err(DomainError::Invalid(
            "a google directory needs its service-account key and admin; create it with \
             `roster directory create --kind google`"
                .into(),
        ));
    }
    let directory = create_directory(store, tenant, name, kind, deprovisioning, now)?;
    let token = token::issue(store, &directory, now)?;
    Ok((directory, token))
}

/// Renames a directory and/or changes its deprovisioning policy; later deactivations and
/// deletes follow the new policy.
pub fn update_directory(
    store: &Store,
    directory: &Directory,
    name: Option<&str>,
    deprovisioning: Deprovisioning,
) -> DomainResult<Directory> {
    let name = name.unwrap_or(&directory.name);
    check_name("directory", name)?;
    store
        .write(|conn| store::tenancy::update_directory(conn, &directory.id, name, &deprovisioning))
        .map_err(|e| taken(e, "directory", name))?;
    Ok(Directory {
        name: name.to_string(),
        deprovisioning,
        ..directory.clone()
    })
}

pub fn list_directories(store: &Store, tenant: Option<&Tenant>) -> DomainResult<Vec<Directory>> {
    Ok(store.read(|conn| store::tenancy::list_directories(conn, tenant.map(|t| &t.id)))?)
}

/// A directory by id, or by name when exactly one tenant has a directory of that name.
pub fn find_directory(store: &Store, id_or_name: &str) -> DomainResult<Directory> {
    let mut found = store.read(|conn| store::tenancy::find_directories(conn, id_or_name))?;
    if found.len() > 1 {
        return Err(DomainError::Invalid(format!(
            "{} directories are named '{id_or_name}'; give the directory id instead",
            found.len()
        )));
    }
    found.pop().ok_or_else(|| DomainError::NotFound {
        kind: "directory",
        id: id_or_name.to_string(),
    })
}

/// A directory by id only: what the application API looks up (a name could match another
/// tenant's directory).
pub fn directory_by_id(store: &Store, id: &str) -> DomainResult<Option<Directory>> {
    Ok(store
        .read(|conn| store::tenancy::find_directories(conn, id))?
        .into_iter()
        .find(|d| d.id.as_str() == id))
}

/// Disables a directory (`disabled`) or enables it again. Its SCIM tokens are refused while it
/// is disabled, within the second a live token is trusted (`token::RECHECK_AFTER`), and a
/// Google directory is not synced; nothing is deleted. Doing what is already done is no error.
pub fn set_disabled(
    store: &Store,
    directory: &Directory,
    disabled: bool,
    now: NaiveDateTime,
) -> DomainResult<Directory> {
    let at = disabled.then_some(now);
    let changed = store.write(|conn| {
        super::directory_state::with_state_change(conn, &directory.id, now, |conn| {
            Ok(store::tenancy::set_disabled(conn, &directory.id, at)?)
        })
    })?;
    Ok(Directory {
        disabled_at: if changed { at } else { directory.disabled_at },
        ..directory.clone()
    })
}

/// Marks a directory activated by its first authenticated SCIM request or its first finished
/// sync, with a `directory.activated` event; `false` when it already was.
pub fn activate(store: &Store, directory: &Scope, now: NaiveDateTime) -> DomainResult<bool> {
    store.write(|conn| -> DomainResult<bool> {
        if !store::tenancy::mark_activated(conn, &directory.directory_id, now)? {
            return Ok(false);
        }
        let data = serde_json::json!({
            "id": directory.directory_id,
            "directory_id": directory.directory_id,
            "tenant_id": directory.tenant_id,
            "state": "linked",
        });
        let event = NewEvent::new(
            EventKind::DirectoryActivated,
            directory.directory_id.to_string(),
            Document::from_value(&data),
        );
        store::events::append(conn, directory, &[event], now)?;
        Ok(true)
    })
}

/// What a first start on an empty database creates, so an IdP can push at once.
pub struct Bootstrap {
    pub tenant: Tenant,
    pub directory: Directory,
    pub token: IssuedToken,
}

/// On a database with no tenant, creates tenant `default` with directory `default` (generic)
/// and a token for it. Returns `None` when any tenant exists.
pub fn bootstrap_if_empty(store: &Store, now: NaiveDateTime) -> DomainResult<Option<Bootstrap>> {
    if !list_tenants(store)?.is_empty() {
        return Ok(None);
    }
    // Instances started together on an empty database all find it empty; the first to create
    // the tenant bootstraps, and the others start as they would on a database in use.
    let tenant = match create_tenant(store, "default", now) {
        Err(DomainError::AlreadyExists(_)) => return Ok(None),
        created => created?,
    };
    let kind = DirectoryKind::Generic;
    let policy = Deprovisioning::default_for(kind);
    let (directory, token) = create_scim_directory(store, &tenant, "default", kind, policy, now)?;
    Ok(Some(Bootstrap {
        tenant,
        directory,
        token,
    }))
}
