//! A Google Workspace directory's credentials from its setup page: the service-account key
//! (read from the uploaded file into the form), the admin email and the customer or domain,
//! stored sealed through the same `google::settings_update::update` the admin API and the
//! CLI use; then the credentials check, its result said in words the IT admin can act on.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::error::SetupError;
use super::{CheckRow, Extras, open, render};
use crate::console::ConsoleState;
use crate::domain::clock;
use crate::google::settings_update::{self, SettingsChanges};
use crate::google::{self, GoogleError, Target};

#[derive(Deserialize)]
pub struct CredentialsForm {
    csrf: String,
    /// The key file's JSON; empty keeps the stored key.
    #[serde(default)]
    service_account_key: String,
    #[serde(default)]
    admin: String,
    #[serde(default)]
    customer: String,
    #[serde(default)]
    domain: String,
}

impl CredentialsForm {
    fn changes(&self) -> SettingsChanges<'_> {
        let given = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let target = match (given(&self.customer), given(&self.domain)) {
            (_, Some(d)) => Some(Target::Domain(d)),
            (Some(c), None) => Some(Target::Customer(c)),
            (None, None) => None,
        };
        let key = self.service_account_key.trim();
        SettingsChanges {
            key_file: (!key.is_empty()).then_some(key.as_bytes()),
            admin: given(&self.admin),
            target,
            ..SettingsChanges::default()
        }
    }
}

/// What to do about a refused upload, in the IT admin's words.
fn refusal(e: &GoogleError) -> Option<String> {
    match e {
        GoogleError::BadKeyFile(why) => Some(format!(
            "This file is not a Google service-account key. Download a JSON key of the \
             service account (Keys → Add key → JSON) and upload that file. ({why})"
        )),
        GoogleError::Invalid(why) => Some(format!("{why}.")),
        _ => None,
    }
}

/// What the first failed check means, and what to do about it.
fn advice(checks: &[google::Check], admin: &str) -> Option<String> {
    let failed = checks.iter().find(|c| !c.ok)?;
    Some(if failed.what == "token" {
        format!(
            "Google did not let the service account act as {admin}. Check that domain-wide \
             delegation (step 2) lists the service account's client ID with all three scopes, \
             and that {admin} is a Workspace admin who can read users and groups. Google said: {}",
            failed.detail
        )
    } else {
        format!("{}: {}", failed.what, failed.detail)
    })
}

pub async fn submit(
    state: web::Data<ConsoleState>,
    secret: web::Path<String>,
    form: web::Form<CredentialsForm>,
) -> Result<HttpResponse, SetupError> {
    let link = open(&state, &secret).await?;
    if !link.csrf_matches(&form.csrf) {
        return Err(SetupError::Csrf);
    }
    let checked = state.clone();
    let dir = link.directory.clone();
    let form = form.into_inner();
    let outcome = web::block(move || -> Result<_, SetupError> {
        let stored = settings_update::update(
            &checked.store,
            checked.secret_key.as_deref(),
            &dir,
            form.changes(),
            clock::now(),
        );
        let row = match stored {
            Ok(row) => row,
            Err(e) => match refusal(&e) {
                Some(problem) => return Ok(Err(problem)),
                None => return Err(e.into()),
            },
        };
        if !settings_update::has_credentials(&row) {
            return Ok(Err(
                "Give both the service-account key file and the admin email.".to_string(),
            ));
        }
        let puller = google::Puller::new(
            &checked.store,
            &checked.registry,
            &checked.google,
            checked.secret_key.as_deref(),
            dir,
        )?;
        Ok(Ok((google::test_connection(&puller), row.admin_email)))
    })
    .await??;
    let (extras, status) = match outcome {
        Ok((checks, admin)) => (
            Extras {
                google_problem: advice(&checks, &admin),
                google_checks: checks
                    .into_iter()
                    .map(|c| CheckRow {
                        what: c.what.to_string(),
                        ok: c.ok,
                        detail: c.detail,
                    })
                    .collect(),
                google_checked: true,
                ..Extras::default()
            },
            StatusCode::OK,
        ),
        Err(problem) => (
            Extras {
                google_problem: Some(problem),
                ..Extras::default()
            },
            StatusCode::BAD_REQUEST,
        ),
    };
    let link = open(&state, &secret).await?;
    render(&state, &link, &secret, None, extras, status).await
}
