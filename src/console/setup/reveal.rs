//! The "reveal token" form: issues the directory's new SCIM token through the token command
//! and shows it this once; a link that revealed one already refuses, and says what to do.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::error::SetupError;
use super::{Extras, open, render};
use crate::console::ConsoleState;
use crate::domain::clock;
use crate::domain::setup_link;

#[derive(Deserialize)]
pub struct RevealForm {
    csrf: String,
    idp: Option<String>,
}

pub async fn reveal(
    state: web::Data<ConsoleState>,
    secret: web::Path<String>,
    form: web::Form<RevealForm>,
) -> Result<HttpResponse, SetupError> {
    let link = open(&state, &secret).await?;
    if !link.csrf_matches(&form.csrf) {
        return Err(SetupError::Csrf);
    }
    let (store, opened) = (state.store.clone(), link.clone());
    let issued =
        web::block(move || setup_link::reveal_token(&store, &opened, clock::now())).await??;
    let (extras, status) = match issued {
        Some(issued) => (
            Extras {
                token: Some(issued.secret.expose().to_string()),
                ..Extras::default()
            },
            StatusCode::OK,
        ),
        None => (
            Extras {
                notice: Some(
                    "This link has already revealed its token, and a token is shown only once. \
                     If it was lost, ask whoever sent this link for a new one."
                        .into(),
                ),
                ..Extras::default()
            },
            StatusCode::CONFLICT,
        ),
    };
    let link = open(&state, &secret).await?;
    render(&state, &link, &secret, form.idp.as_deref(), extras, status).await
}
