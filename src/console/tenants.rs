//! The tenants page: the tenants the key may see, with their directories; a key of every
//! tenant also makes tenants here.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::error::ConsoleError;
use super::session::{Posted, SignedIn};
use super::{Chrome, ConsoleState, page, see_other};
use crate::domain::app_key::KeyScope;
use crate::domain::clock::{self, rfc3339};
use crate::domain::tenancy;

struct TenantRow {
    id: String,
    name: String,
    directories: usize,
    created_at: String,
}

#[derive(Template)]
#[template(path = "tenants.html")]
struct TenantsPage {
    chrome: Chrome,
    tenants: Vec<TenantRow>,
    may_create: bool,
}

pub async fn list(
    state: web::Data<ConsoleState>,
    signed: SignedIn,
) -> Result<HttpResponse, ConsoleError> {
    let scope = signed.scope();
    let visible = super::tenants(&state, &scope).await?;
    let store = state.store.clone();
    let directories = web::block(move || tenancy::list_directories(&store, None)).await??;
    let tenants = visible
        .into_iter()
        .map(|t| TenantRow {
            directories: directories.iter().filter(|d| d.tenant_id == t.id).count(),
            id: t.id.to_string(),
            name: t.name,
            created_at: rfc3339(t.created_at),
        })
        .collect();
    page(&TenantsPage {
        chrome: Chrome::of(&signed, "tenants"),
        tenants,
        may_create: scope == KeyScope::AllTenants,
    })
}

#[derive(Deserialize)]
pub struct NewTenant {
    name: String,
}

pub async fn create(
    state: web::Data<ConsoleState>,
    posted: Posted<NewTenant>,
) -> Result<HttpResponse, ConsoleError> {
    if posted.signed.scope() != KeyScope::AllTenants {
        return Err(ConsoleError::NotFound(
            "a tenant's admin key makes no tenants".into(),
        ));
    }
    let store = state.store.clone();
    let name = posted.form.name;
    web::block(move || tenancy::create_tenant(&store, name.trim(), clock::now())).await??;
    Ok(see_other("/admin/tenants"))
}
