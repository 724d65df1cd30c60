//! The change feed: one typed event per change, written in the same transaction as the change.

use super::document::Document;
use super::ids::EventId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    UserCreated,
    UserUpdated,
    UserDeactivated,
    UserReactivated,
    UserDeleted,
    GroupCreated,
    GroupUpdated,
    GroupDeleted,
    GroupUserAdded,
    GroupUserRemoved,
    /// A puller's credentials were refused (Google answered 401/403 to the service account).
    DirectoryCredentialsInvalid,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::UserCreated => "user.created",
            EventKind::UserUpdated => "user.updated",
            EventKind::UserDeactivated => "user.deactivated",
            EventKind::UserReactivated => "user.reactivated",
            EventKind::UserDeleted => "user.deleted",
            EventKind::GroupCreated => "group.created",
            EventKind::GroupUpdated => "group.updated",
            EventKind::GroupDeleted => "group.deleted",
            EventKind::GroupUserAdded => "group.user_added",
            EventKind::GroupUserRemoved => "group.user_removed",
            EventKind::DirectoryCredentialsInvalid => "directory.invalid_credentials",
        }
    }

    pub fn resource_type(self) -> &'static str {
        match self {
            EventKind::UserCreated
            | EventKind::UserUpdated
            | EventKind::UserDeactivated
            | EventKind::UserReactivated
            | EventKind::UserDeleted => "User",
            EventKind::DirectoryCredentialsInvalid => "Directory",
            _ => "Group",
        }
    }
}

/// An event about to be appended; the store gives it its cursor.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Made with the event, before the write: SQLite's writes run one at a time.
    pub id: EventId,
    pub kind: EventKind,
    pub resource_id: String,
    pub data: Document,
}

impl NewEvent {
    pub fn new(kind: EventKind, resource_id: String, data: Document) -> NewEvent {
        NewEvent {
            id: EventId::generate(),
            kind,
            resource_id,
            data,
        }
    }
}
