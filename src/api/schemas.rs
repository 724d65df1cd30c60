//! The shapes of the API's answers that handlers build as JSON values rather than from a typed
//! struct (the records of `domain/record.rs`, events, pages, the answers that carry a secret
//! once), written as types for the OpenAPI document. `tests/it/openapi.rs` checks real
//! answers against them, so a field added to a record without its schema fails a test.

use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, ToSchema};

use crate::delivery::{Delivery, Endpoint};
use crate::domain::app_key::AppKeyInfo;
use crate::domain::directory_state::DirectorySummary;
use crate::domain::event::EventKind;
use crate::domain::request_log::Summary;
use crate::domain::tenancy::{Directory, Tenant};
use crate::domain::token::{TokenInfo, TokenState};

/// Every error: `{"error": {"code", "message"}}` (`api/error.rs`).
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `unauthenticated`, `forbidden`, `invalid_request`, `invalid_cursor`, `invalid_url`,
    /// `not_found`, `method_not_allowed`, `conflict`, `precondition_failed`, `cursor_expired`
    /// or `internal`.
    #[schema(example = "not_found")]
    pub code: String,
    pub message: String,
}

/// One of a user's emails.
#[derive(Serialize, ToSchema)]
pub struct Email {
    pub value: String,
    pub r#type: Option<String>,
    pub primary: bool,
}

/// A directory user, as the read API, events, snapshots and webhooks show it.
#[derive(Serialize, ToSchema)]
pub struct UserRecord {
    pub id: String,
    /// The IdP's id (SCIM `externalId`).
    pub idp_id: Option<String>,
    pub directory_id: String,
    pub tenant_id: String,
    /// SCIM `userName`; null only in a redacted record.
    pub username: Option<String>,
    /// The primary email, else the first.
    pub email: Option<String>,
    pub emails: Vec<Email>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    /// `deleted` only in a soft delete's `user.deleted`.
    #[schema(pattern = "^(active|inactive|deleted)$")]
    pub state: String,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub employee_id: Option<String>,
    pub manager_id: Option<String>,
    /// Attributes of custom schema extensions and of Google's record, by attribute name.
    #[schema(value_type = Object)]
    pub custom_attributes: serde_json::Map<String, Value>,
    /// The whole SCIM resource as stored (no password, no `id`/`meta`).
    #[schema(value_type = Object)]
    pub raw_attributes: serde_json::Map<String, Value>,
    /// The highest-priority role the user holds, else the tenant's default (`docs/roles.md`).
    pub role: Option<RoleRef>,
    /// Every role the user holds, highest priority first.
    pub roles: Vec<RoleRef>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Present, true, once the user's personal data left the feed with the directory's
    /// retention (`docs/events.md`, "Retention").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redacted: Option<bool>,
}

/// A role as a user record names it.
#[derive(Serialize, ToSchema)]
pub struct RoleRef {
    pub slug: String,
}

/// A directory group.
#[derive(Serialize, ToSchema)]
pub struct GroupRecord {
    pub id: String,
    pub idp_id: Option<String>,
    pub directory_id: String,
    pub tenant_id: String,
    pub name: String,
    #[schema(value_type = Object)]
    pub raw_attributes: serde_json::Map<String, Value>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// How a membership event names its group.
#[derive(Serialize, ToSchema)]
pub struct GroupRef {
    pub id: String,
    pub idp_id: Option<String>,
    pub name: String,
}

/// A membership in `group.user_added` / `group.user_removed`: `user` for a user member,
/// `member_group` for a nested group.
#[derive(Serialize, ToSchema)]
pub struct MembershipRecord {
    pub group: GroupRef,
    pub user: Option<UserRecord>,
    pub member_group: Option<GroupRecord>,
    /// Present, true, once the member user's record was redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redacted: Option<bool>,
}

/// A directory's state in `directory.activated` and `directory.state_changed`; with `name`
/// and `state` `deleted` in `directory.deleted`.
#[derive(Serialize, ToSchema)]
pub struct DirectoryStateRecord {
    pub id: String,
    pub directory_id: String,
    pub tenant_id: String,
    pub state: String,
    pub name: Option<String>,
}

/// `directory.invalid_credentials`.
#[derive(Serialize, ToSchema)]
pub struct InvalidCredentialsRecord {
    pub directory_id: String,
    pub error: String,
}

/// `webhook.disabled`.
#[derive(Serialize, ToSchema)]
pub struct WebhookDisabledRecord {
    pub endpoint: Endpoint,
    pub reason: String,
}

fn event_data() -> Schema {
    let records = [
        "UserRecord",
        "GroupRecord",
        "MembershipRecord",
        "DirectoryStateRecord",
        "InvalidCredentialsRecord",
        "WebhookDisabledRecord",
    ];
    records
        .into_iter()
        .fold(AnyOfBuilder::new(), |any, name| {
            any.item(RefOr::Ref(Ref::from_schema_name(name)))
        })
        .description(Some("The record after the change, by the event's `type`."))
        .into()
}

fn event_type() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(EventKind::ALL.map(EventKind::as_str)))
        .into()
}

/// One change, in the feed and in webhook bodies (`docs/events.md`).
#[derive(Serialize, ToSchema)]
pub struct Event {
    pub id: String,
    /// Opaque: pass back exactly what Roster returned.
    pub cursor: String,
    #[schema(schema_with = event_type)]
    pub r#type: String,
    pub tenant_id: String,
    pub directory_id: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(schema_with = event_data)]
    pub data: Value,
    /// Updates only: the names of the record fields that changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<Vec<String>>,
    /// Updates only: the changed fields' values before.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub previous: Option<serde_json::Map<String, Value>>,
}

/// A page of the feed; `next_after` is never null, as the feed has no last page.
#[derive(Serialize, ToSchema)]
pub struct EventsPage {
    pub data: Vec<Event>,
    pub next_after: String,
}

/// A membership as the snapshot lists it.
#[derive(Serialize, ToSchema)]
pub struct SnapshotMembership {
    pub group_id: String,
    pub member_id: String,
    /// `User` or `Group`.
    pub member_type: String,
}

/// One NDJSON line of a snapshot; the last line is the cursor the read reflects, and a
/// snapshot without it is incomplete.
#[derive(Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum SnapshotLine {
    User { data: Box<UserRecord> },
    Group { data: GroupRecord },
    Membership { data: SnapshotMembership },
    Cursor { cursor: String },
}

/// A page of users; `next_after` is null on the last page.
#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub data: Vec<UserRecord>,
    pub next_after: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct GroupPage {
    pub data: Vec<GroupRecord>,
    pub next_after: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DirectoryPage {
    pub data: Vec<DirectorySummary>,
    pub next_after: Option<String>,
}

/// A directory as the admin API shows it.
#[derive(Serialize, ToSchema)]
pub struct AdminDirectory {
    #[serde(flatten)]
    pub directory: Directory,
    /// The SCIM base URL to give the IdP.
    pub scim_base_url: String,
}

/// A new directory with its first SCIM token, shown this once.
#[derive(Serialize, ToSchema)]
pub struct CreatedDirectory {
    #[serde(flatten)]
    pub directory: AdminDirectory,
    pub token: String,
    pub token_id: String,
}

/// A directory whose deletion began.
#[derive(Serialize, ToSchema)]
pub struct DeletingDirectory {
    #[serde(flatten)]
    pub directory: AdminDirectory,
    #[schema(pattern = "^deleting$")]
    pub state: String,
}

/// A SCIM token as listings show it: never the token.
#[derive(Serialize, ToSchema)]
pub struct TokenRecord {
    #[serde(flatten)]
    pub token: TokenInfo,
    pub state: TokenState,
}

/// A new SCIM token, shown this once.
#[derive(Serialize, ToSchema)]
pub struct IssuedToken {
    pub id: String,
    pub directory_id: String,
    pub hint: String,
    pub token: String,
}

/// A rotation's new token, shown this once, and the old token with its expiry.
#[derive(Serialize, ToSchema)]
pub struct RotatedToken {
    pub id: String,
    pub directory_id: String,
    pub hint: String,
    pub token: String,
    pub previous: TokenRecord,
}

/// A new application key, shown this once.
#[derive(Serialize, ToSchema)]
pub struct IssuedAppKey {
    #[serde(flatten)]
    pub info: AppKeyInfo,
    /// `roster_app_` and 64 hex digits.
    pub key: String,
}

/// An endpoint with its signing secret, shown by a create and a rotation only.
#[derive(Serialize, ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// `whsec_` and base64: the Standard Webhooks signing secret.
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct TenantList {
    pub data: Vec<Tenant>,
}

#[derive(Serialize, ToSchema)]
pub struct AdminDirectoryList {
    pub data: Vec<AdminDirectory>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    pub data: Vec<TokenRecord>,
}

#[derive(Serialize, ToSchema)]
pub struct AppKeyList {
    pub data: Vec<AppKeyInfo>,
}

#[derive(Serialize, ToSchema)]
pub struct EndpointList {
    pub data: Vec<Endpoint>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub data: Vec<Delivery>,
}

#[derive(Serialize, ToSchema)]
pub struct RequestSummaryList {
    pub data: Vec<Summary<'static>>,
}

/// `after` and `limit` of a list (`docs/api.md`, "Lists").
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next_after` of the previous page.
    pub after: Option<String>,
    /// Records per page.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<i64>,
}

/// The user filters: every one given must match.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    #[param(pattern = "^(active|inactive)$")]
    pub state: Option<String>,
    /// A primary email, compared case-insensitively.
    #[param(min_length = 1)]
    pub email: Option<String>,
    /// A `userName`, compared case-insensitively.
    #[param(min_length = 1)]
    pub username: Option<String>,
    /// RFC 3339: users whose `updated_at` is strictly later.
    #[param(format = DateTime)]
    pub updated_after: Option<String>,
    /// `custom_attributes[NAME]=VALUE`: the directory's custom attribute NAME equals VALUE
    /// exactly (text); several may be given (`docs/api.md`).
    #[param(style = DeepObject, explode, value_type = Option<Object>)]
    pub custom_attributes: Option<std::collections::HashMap<String, String>>,
}
