//! A directory's users (searched by userName or email) and groups, and a group's members:
//! pages in id order after a cursor (`after=`), each a seek on an index, so a group of
//! 100,000 members pages like a small one.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::Value;

use super::error::ConsoleError;
use super::session::SignedIn;
use super::{Chrome, ConsoleState, page};
use crate::domain::ids::GroupId;
use crate::domain::read::{self, PageRequest, RecordPage, UserFilter};
use crate::domain::tenancy::Directory;

/// Records per page.
pub const PAGE: i64 = 100;

/// A user as the lists show it.
struct UserRow {
    username: String,
    display_name: String,
    email: String,
    state: String,
    updated_at: String,
}

impl UserRow {
    fn of(u: &Value) -> UserRow {
        let text = |k: &str| u[k].as_str().unwrap_or_default().to_string();
        UserRow {
            username: text("username"),
            display_name: text("display_name"),
            email: text("email"),
            state: text("state"),
            updated_at: text("updated_at"),
        }
    }
}

/// What a directory's people pages share: which directory, and where the next page is.
struct Place {
    id: String,
    name: String,
}

impl Place {
    fn of(d: &Directory) -> Place {
        Place {
            id: d.id.to_string(),
            name: d.name.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    directory: Place,
    field: String,
    q: String,
    users: Vec<UserRow>,
    /// The query string of the next page, when there is one.
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct UsersQuery {
    /// `username` or `email`.
    field: Option<String>,
    q: Option<String>,
    after: Option<String>,
}

fn first_or_after(after: &Option<String>) -> PageRequest {
    PageRequest {
        after: after.clone().filter(|a| !a.is_empty()),
        limit: PAGE,
    }
}

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub async fn users(
    state: web::Data<ConsoleState>,
    signed: SignedIn,
    id: web::Path<String>,
    query: web::Query<UsersQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let d = super::directory(&state, &signed.scope(), &id).await?;
    let q = query.q.clone().unwrap_or_default().trim().to_string();
    let field = match query.field.as_deref() {
        Some("email") => "email",
        _ => "username",
    };
    let mut filter = UserFilter::default();
    if !q.is_empty() {
        match field {
            "email" => filter.email = Some(q.clone()),
            _ => filter.username = Some(q.clone()),
        }
    }
    let (store, scope, request) = (state.store.clone(), d.scope(), first_or_after(&query.after));
    let found: RecordPage =
        web::block(move || read::users(&store, &scope, &filter, &request)).await??;
    let next = found
        .next_after
        .map(|a| format!("field={field}&q={}&after={}", encode(&q), encode(&a)));
    page(&UsersPage {
        chrome: Chrome::of(&signed, "directories"),
        directory: Place::of(&d),
        field: field.to_string(),
        q,
        users: found.data.iter().map(UserRow::of).collect(),
        next,
    })
}

struct GroupRow {
    id: String,
    name: String,
    updated_at: String,
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    chrome: Chrome,
    directory: Place,
    groups: Vec<GroupRow>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct AfterQuery {
    after: Option<String>,
}

pub async fn groups(
    state: web::Data<ConsoleState>,
    signed: SignedIn,
    id: web::Path<String>,
    query: web::Query<AfterQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let d = super::directory(&state, &signed.scope(), &id).await?;
    let (store, scope, request) = (state.store.clone(), d.scope(), first_or_after(&query.after));
    let found = web::block(move || read::groups(&store, &scope, &request)).await??;
    let text = |g: &Value, k: &str| g[k].as_str().unwrap_or_default().to_string();
    page(&GroupsPage {
        chrome: Chrome::of(&signed, "directories"),
        directory: Place::of(&d),
        groups: found
            .data
            .iter()
            .map(|g| GroupRow {
                id: text(g, "id"),
                name: text(g, "name"),
                updated_at: text(g, "updated_at"),
            })
            .collect(),
        next: found.next_after.map(|a| format!("after={}", encode(&a))),
    })
}

#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage {
    chrome: Chrome,
    directory: Place,
    name: String,
    members: Vec<UserRow>,
    next: Option<String>,
}

pub async fn group(
    state: web::Data<ConsoleState>,
    signed: SignedIn,
    path: web::Path<(String, String)>,
    query: web::Query<AfterQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let (directory, group) = path.into_inner();
    let d = super::directory(&state, &signed.scope(), &directory).await?;
    let (store, scope, request) = (state.store.clone(), d.scope(), first_or_after(&query.after));
    let wanted = GroupId::from_raw(group.clone());
    let key = signed.scope();
    let (found, members) = web::block(move || -> Result<_, ConsoleError> {
        let found = read::group(&store, &key, &wanted)?
            .filter(|g| g["directory_id"].as_str() == Some(scope.directory_id.as_str()));
        let Some(found) = found else {
            return Ok((None, None));
        };
        let members =
            read::users_of_group(&store, &scope, &wanted, &UserFilter::default(), &request)?;
        Ok((Some(found), Some(members)))
    })
    .await??;
    let (Some(found), Some(members)) = (found, members) else {
        return Err(ConsoleError::NotFound(format!("group {group} not found")));
    };
    page(&GroupPage {
        chrome: Chrome::of(&signed, "directories"),
        directory: Place::of(&d),
        name: found["name"].as_str().unwrap_or_default().to_string(),
        members: members.data.iter().map(UserRow::of).collect(),
        next: members.next_after.map(|a| format!("after={}", encode(&a))),
    })
}
