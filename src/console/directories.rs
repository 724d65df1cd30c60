//! The directories page (state, kind, counts, last request, error rate over the last 24 h),
//! a directory's own page, and making a directory (its first token shown once).

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Duration;
use serde::Deserialize;

use super::error::ConsoleError;
use super::session::{Posted, SignedIn};
use super::tokens::{TokenRow, TokenShown};
use super::{Chrome, ConsoleState, page};
use crate::domain::clock::{self, rfc3339};
use crate::domain::directory_state::{self, DirectoryState, DirectorySummary};
use crate::domain::ids::TenantId;
use crate::domain::lifecycle::Deprovisioning;
use crate::domain::read::PageRequest;
use crate::domain::tenancy::{self, Directory, DirectoryKind};
use crate::domain::{custom_attribute, request_log, token};
use crate::google;

/// Directories shown per page.
const PAGE: i64 = 50;

pub fn state_word(s: DirectoryState) -> &'static str {
    match s {
        DirectoryState::Linked => "linked",
        DirectoryState::Validating => "validating",
        DirectoryState::InvalidCredentials => "invalid_credentials",
        DirectoryState::Unlinked => "unlinked",
        DirectoryState::Deleting => "deleting",
    }
}

/// A directory's line in the list, its summary and its last day's requests.
struct DirectoryRow {
    summary: DirectorySummary,
    tenant: String,
    requests_24h: i64,
    failed_24h: i64,
}

impl DirectoryRow {
    fn state(&self) -> &'static str {
        state_word(self.summary.state)
    }

    fn error_rate(&self) -> String {
        if self.requests_24h == 0 {
            return "—".into();
        }
        let rate = self.failed_24h as f64 * 100.0 / self.requests_24h as f64;
        format!("{rate:.1}% of {}", self.requests_24h)
    }

    fn last_request(&self) -> &str {
        self.summary
            .last_scim_request_at
            .as_deref()
            .or(self.summary.last_sync_at.as_deref())
            .unwrap_or("never")
    }
}

struct TenantChoice {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "directories.html")]
struct DirectoriesPage {
    chrome: Chrome,
    rows: Vec<DirectoryRow>,
    tenants: Vec<TenantChoice>,
    kinds: Vec<&'static str>,
    /// The tenant the list is narrowed to, for the next link and the form's default.
    tenant: String,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    tenant: Option<String>,
    after: Option<String>,
}

pub async fn list(
    state: web::Data<ConsoleState>,
    signed: SignedIn,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let scope = signed.scope();
    let tenants = super::tenants(&state, &scope).await?;
    let wanted = query.tenant.clone().filter(|t| !t.is_empty());
    if let Some(t) = &wanted
        && !tenants.iter().any(|v| v.id.as_str() == t)
    {
        return Err(ConsoleError::NotFound(format!("tenant {t} not found")));
    }
    let store = state.store.clone();
    let request = PageRequest {
        after: query.after.clone().filter(|a| !a.is_empty()),
        limit: PAGE,
    };
    let (key_scope, tenant) = (scope.clone(), wanted.clone().map(TenantId::from_raw));
    let since = clock::now() - Duration::hours(24);
    let (summaries, next, counts) = web::block(move || -> Result<_, ConsoleError> {
        let (summaries, next) =
            directory_state::summaries(&store, &key_scope, tenant.as_ref(), &request)?;
        let counts = summaries
            .iter()
            .map(|s| request_log::counts_since(&store, &s.id, since))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((summaries, next, counts))
    })
    .await??;
    let name_of = |id: &TenantId| {
        tenants
            .iter()
            .find(|t| &t.id == id)
            .map_or_else(|| id.to_string(), |t| t.name.clone())
    };
    let rows = summaries
        .into_iter()
        .zip(counts)
        .map(|(summary, (requests_24h, failed_24h))| DirectoryRow {
            tenant: name_of(&summary.tenant_id),
            summary,
            requests_24h,
            failed_24h,
        })
        .collect();
    page(&DirectoriesPage {
        chrome: Chrome::of(&signed, "directories"),
        rows,
        tenants: tenants
            .iter()
            .map(|t| TenantChoice {
                id: t.id.to_string(),
                name: t.name.clone(),
            })
            .collect(),
        kinds: DirectoryKind::ALL
            .iter()
            .filter(|k| **k != DirectoryKind::Google)
            .map(|k| k.as_str())
            .collect(),
        tenant: wanted.unwrap_or_default(),
        next,
    })
}

#[derive(Deserialize)]
pub struct NewDirectory {
    tenant: String,
    name: String,
    kind: String,
}

pub async fn create(
    state: web::Data<ConsoleState>,
    posted: Posted<NewDirectory>,
) -> Result<HttpResponse, ConsoleError> {
    let Posted { signed, form } = posted;
    let tenants = super::tenants(&state, &signed.scope()).await?;
    let tenant = tenants
        .into_iter()
        .find(|t| t.id.as_str() == form.tenant)
        .ok_or_else(|| ConsoleError::NotFound(format!("tenant {} not found", form.tenant)))?;
    let kind: DirectoryKind = form.kind.parse()?;
    let store = state.store.clone();
    let name = form.name.trim().to_string();
    let (d, issued) = web::block(move || {
        tenancy::create_scim_directory(
            &store,
            &tenant,
            &name,
            kind,
            Deprovisioning::default_for(kind),
            clock::now(),
        )
    })
    .await??;
    page(&TokenShown {
        chrome: Chrome::of(&signed, "directories"),
        heading: format!("Directory {} created", d.name),
        directory_id: d.id.to_string(),
        directory_name: d.name,
        scim_base_url: state.scim_base_url.clone(),
        secret: issued.secret.expose().to_string(),
        hint: issued.hint,
        note: None,
    })
}

/// A Google directory's sync, as `roster directory status` shows it.
struct GoogleSync {
    status: String,
    running: bool,
    last_started: String,
    last_finished: String,
    created: i64,
    updated: i64,
    deprovisioned: i64,
    last_error: Option<String>,
    next_run: String,
}

/// A role of the directory's tenant and what grants it.
struct RoleRow {
    slug: String,
    name: String,
    priority: i64,
    default: bool,
    /// Each rule as `match: value`, e.g. `name: Engineering`.
    rules: Vec<String>,
}

impl RoleRow {
    fn of(view: &crate::domain::role_admin::RoleView) -> RoleRow {
        RoleRow {
            slug: view.role.slug.clone(),
            name: view.role.name.clone(),
            priority: view.role.priority,
            default: view.role.default,
            rules: view
                .rules
                .iter()
                .map(|r| format!("{}: {}", r.match_by.as_str(), r.value))
                .collect(),
        }
    }
}

/// A custom attribute of the directory: its name and where its value comes from.
struct AttributeRow {
    name: String,
    kind: &'static str,
    source: String,
}

/// A background job's progress in words, e.g. `running: 250 of 5,000 users`.
fn progress_words(state: &str, done: i64, total: i64) -> String {
    format!("{state}: {done} of {total} users")
}

#[derive(Template)]
#[template(path = "directory.html")]
struct DirectoryPage {
    chrome: Chrome,
    directory: Directory,
    summary: DirectorySummary,
    tenant: String,
    scim_base_url: String,
    tokens: Vec<TokenRow>,
    setup_links: Vec<super::setup_links::LinkRow>,
    google: Option<GoogleSync>,
    roles: Vec<RoleRow>,
    role_recompute: Option<String>,
    attributes: Vec<AttributeRow>,
    rederive: Option<String>,
}

impl DirectoryPage {
    fn state(&self) -> &'static str {
        state_word(self.summary.state)
    }

    fn retention(&self) -> String {
        crate::domain::lifecycle::format_duration(self.directory.deprovisioning.retention)
    }
}

pub async fn show(
    state: web::Data<ConsoleState>,
    signed: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let d = super::directory(&state, &signed.scope(), &id).await?;
    let tenants = super::tenants(&state, &signed.scope()).await?;
    let tenant = tenants
        .iter()
        .find(|t| t.id == d.tenant_id)
        .map_or_else(|| d.tenant_id.to_string(), |t| t.name.clone());
    let (store, dir) = (state.store.clone(), d.clone());
    let (summary, tokens, links, google, roles, attributes) =
        web::block(move || -> Result<_, ConsoleError> {
            let summary = directory_state::summary(&store, &dir)?;
            let roles = crate::domain::role_admin::list(&store, &dir.tenant_id)?;
            let attributes = (
                custom_attribute::list(&store, &dir.scope())?,
                custom_attribute::progress(&store, &dir.scope())?,
            );
            let tokens = token::list(&store, Some(&dir))?;
            let links = crate::domain::setup_link::list(&store, &dir, clock::now())?;
            let google = if dir.kind == DirectoryKind::Google {
                // A Google directory without its settings row is damage worth a 500, not a page
                // that hides it.
                Some(
                    google::settings(&store, &dir)
                        .map_err(|e| ConsoleError::Internal(e.to_string()))?,
                )
            } else {
                None
            };
            Ok((summary, tokens, links, google, roles, attributes))
        })
        .await??;
    let (mappings, rederive) = attributes;
    let now = clock::now();
    let or_never = |t: Option<chrono::NaiveDateTime>| t.map_or_else(|| "never".into(), rfc3339);
    let google = google.map(|row| GoogleSync {
        running: row.last_sync_started_at.is_some()
            && row.last_sync_started_at > row.last_sync_finished_at,
        status: row.status,
        last_started: or_never(row.last_sync_started_at),
        last_finished: or_never(row.last_sync_finished_at),
        created: row.last_created,
        updated: row.last_updated,
        deprovisioned: row.last_deprovisioned,
        last_error: row.last_error,
        next_run: rfc3339(row.next_sync_at),
    });
    page(&DirectoryPage {
        chrome: Chrome::of(&signed, "directories"),
        tokens: tokens.iter().map(|t| TokenRow::of(t, now)).collect(),
        setup_links: links.iter().map(super::setup_links::LinkRow::of).collect(),
        directory: d,
        summary,
        tenant,
        scim_base_url: state.scim_base_url.clone(),
        google,
        roles: roles.data.iter().map(RoleRow::of).collect(),
        role_recompute: roles
            .recompute
            .filter(|p| p.state == "running")
            .map(|p| progress_words(p.state, p.done, p.total)),
        attributes: mappings
            .iter()
            .map(|m| AttributeRow {
                name: m.name.clone(),
                kind: m.source.kind.as_str(),
                source: m.source.text.clone(),
            })
            .collect(),
        rederive: rederive
            .filter(|r| r.state == "running")
            .map(|r| progress_words(r.state, r.checked, r.total)),
    })
}
