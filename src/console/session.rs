//! The console's session cookie and the extractors every page and form goes through: a page
//! takes `SignedIn`, a form takes `Posted<T>`, which also checks the form's CSRF token. There
//! is no other way into a handler, so no page or form is reachable without a session.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::ConsoleState;
use super::error::ConsoleError;
use crate::domain::app_key::KeyScope;
use crate::domain::clock;
use crate::domain::console_session::{self, Session};

pub const SESSION_COOKIE: &str = "roster_session";
/// The sign-in form's own CSRF token, before there is a session (a double-submit cookie).
pub const SIGN_IN_COOKIE: &str = "roster_sign_in";

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Whether the browser reached us over https: the configured public URL says so, or the
/// request (or the proxy in front, by `X-Forwarded-Proto`) does. A client that claims https
/// falsely only gets a cookie its own plain-http requests will not carry.
fn over_https(state: &ConsoleState, req: &HttpRequest) -> bool {
    state.https || req.connection_info().scheme() == "https"
}

/// A `Set-Cookie` value for the console: never readable by scripts, never sent by another
/// site's requests, only under `/admin`. `None` clears the cookie.
pub fn set_cookie(
    state: &ConsoleState,
    req: &HttpRequest,
    name: &str,
    value: Option<&str>,
) -> String {
    let (value, age) = match value {
        Some(v) => (v, console_session::LIFETIME.num_seconds()),
        None => ("", 0),
    };
    let secure = if over_https(state, req) {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/admin; Max-Age={age}{secure}")
}

/// A request with a live session.
pub struct SignedIn {
    pub session: Session,
    /// The session id as the cookie holds it, for sign-out.
    pub cookie: String,
}

impl SignedIn {
    pub fn scope(&self) -> KeyScope {
        self.session.key.scope()
    }

    pub fn csrf(&self) -> &str {
        &self.session.csrf
    }
}

impl FromRequest for SignedIn {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let presented = cookie(req, SESSION_COOKIE);
        let state = req.app_data::<web::Data<ConsoleState>>().cloned();
        // The TCP peer, as the admin API checks a key's allow list: never a forwarding header.
        let peer = req.peer_addr().map(|a| a.ip());
        Box::pin(async move {
            let (Some(presented), Some(state)) = (presented, state) else {
                return Err(ConsoleError::SignInRequired);
            };
            let cookie = presented.clone();
            let found = web::block(move || {
                console_session::find(&state.store, &presented, peer, clock::now())
            })
            .await??;
            let session = found.ok_or(ConsoleError::SignInRequired)?;
            Ok(SignedIn { session, cookie })
        })
    }
}

#[derive(Deserialize)]
struct WithCsrf<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: T,
}

/// A form whose only field is its CSRF token: a button.
#[derive(Deserialize)]
pub struct NoFields {}

/// A form posted from a live session with that session's CSRF token; its other fields as `T`
/// (all text: flattened URL-encoded forms carry strings only).
pub struct Posted<T> {
    pub signed: SignedIn,
    pub form: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for Posted<T> {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let signed = SignedIn::from_request(req, payload);
        let form = web::Form::<WithCsrf<T>>::from_request(req, payload);
        Box::pin(async move {
            let signed = signed.await?;
            let form = form
                .await
                .map_err(|e| ConsoleError::BadRequest(format!("malformed form: {e}")))?
                .into_inner();
            if !signed.session.csrf_matches(&form.csrf) {
                return Err(ConsoleError::Csrf);
            }
            Ok(Posted {
                signed,
                form: form.fields,
            })
        })
    }
}
