//! Signing in with an admin key, and out. A failed sign-in is logged with the client's
//! address, never with what was typed.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::error::ConsoleError;
use super::session::{
    self, NoFields, SESSION_COOKIE, SIGN_IN_COOKIE, SignedIn, cookie, set_cookie,
};
use super::{ConsoleState, see_other};
use crate::domain::clock;
use crate::domain::console_session::{self, Refusal};
use crate::domain::token;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    csrf: String,
    refused: bool,
}

/// The sign-in form, with a fresh CSRF token in a cookie and in the form: a page of another
/// site cannot read the cookie, so it cannot post the form with it.
fn form_page(
    state: &ConsoleState,
    req: &HttpRequest,
    refused: bool,
) -> Result<HttpResponse, ConsoleError> {
    let csrf = token::generate("").expose().to_string();
    let html = SignInPage {
        csrf: csrf.clone(),
        refused,
    }
    .render()?;
    let status = if refused {
        actix_web::http::StatusCode::UNAUTHORIZED
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::SET_COOKIE,
            set_cookie(state, req, SIGN_IN_COOKIE, Some(&csrf)),
        ))
        .body(html))
}

pub async fn form(
    state: web::Data<ConsoleState>,
    req: HttpRequest,
) -> Result<HttpResponse, ConsoleError> {
    form_page(&state, &req, false)
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    key: String,
}

pub async fn submit(
    state: web::Data<ConsoleState>,
    req: HttpRequest,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, ConsoleError> {
    let SignInForm { csrf, key } = form.into_inner();
    let expected = cookie(&req, SIGN_IN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(csrf.as_bytes())) {
        return Err(ConsoleError::Csrf);
    }
    let peer = req.peer_addr().map(|a| a.ip());
    let store = state.store.clone();
    let outcome =
        web::block(move || console_session::sign_in(&store, &key, peer, clock::now())).await??;
    let started = match outcome {
        Ok(started) => started,
        Err(refusal) => {
            let why = match refusal {
                Refusal::UnknownKey => "not a live admin key",
                Refusal::AddressNotAllowed => "the key's allow list does not hold this address",
            };
            tracing::warn!(peer = ?peer, reason = why, "console sign-in refused");
            return form_page(&state, &req, true);
        }
    };
    tracing::info!(admin_key = %started.key.id, peer = ?peer, "console sign-in");
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/tenants"))
        .append_header((
            header::SET_COOKIE,
            set_cookie(&state, &req, SESSION_COOKIE, Some(started.secret.expose())),
        ))
        .append_header((
            header::SET_COOKIE,
            set_cookie(&state, &req, SIGN_IN_COOKIE, None),
        ))
        .finish())
}

pub async fn sign_out(
    state: web::Data<ConsoleState>,
    req: HttpRequest,
    posted: session::Posted<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    let SignedIn { cookie, .. } = posted.signed;
    let store = state.store.clone();
    web::block(move || console_session::sign_out(&store, &cookie)).await??;
    let mut out = see_other(super::SIGN_IN_PATH);
    out.headers_mut().insert(
        header::SET_COOKIE,
        header::HeaderValue::from_str(&set_cookie(&state, &req, SESSION_COOKIE, None))
            .map_err(|e| ConsoleError::Internal(e.to_string()))?,
    );
    Ok(out)
}
