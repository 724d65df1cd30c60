//! Directory users, groups, memberships and events: the commands both the SCIM path and the
//! Google puller use. No HTTP and no SQL here.

pub mod admin_key;
pub mod app_key;
pub mod cidr;
pub mod clock;
pub mod console_session;
pub mod custom_attribute;
pub mod directory_removal;
pub mod directory_state;
pub mod document;
pub mod erasure;
pub mod error;
pub mod event;
pub mod feed;
pub mod group;
pub mod ids;
pub mod index;
pub mod lifecycle;
mod prepared;
pub mod query;
pub mod read;
pub mod record;
pub mod request_log;
pub mod role_admin;
pub mod role_sync;
pub mod roles;
pub mod sealing;
pub mod settings;
pub mod setup_link;
pub mod tenancy;
pub mod token;
pub mod user;
