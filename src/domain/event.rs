//! The change feed: one typed event per change, written in the same transaction as the change.

use serde_json::Value;

use super::document::Document;
use super::ids::EventId;
use super::record;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    UserCreated,
    UserUpdated,
    UserDeactivated,
    UserReactivated,
    UserDeleted,
    /// A user's effective roles changed (`docs/roles.md`).
    UserRolesChanged,
    GroupCreated,
    GroupUpdated,
    GroupDeleted,
    GroupUserAdded,
    GroupUserRemoved,
    /// A puller's credentials were refused (Google answered 401/403 to the service account).
    DirectoryCredentialsInvalid,
    /// The directory's first authenticated SCIM request, or its first finished sync.
    DirectoryActivated,
    DirectoryStateChanged,
    DirectoryDeleted,
    /// A webhook endpoint was disabled by its receiver's 410 or after failing for 3 days; in
    /// the feed of the directory whose delivery failed last, so the application hears of it.
    WebhookDisabled,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::UserCreated => "user.created",
            EventKind::UserUpdated => "user.updated",
            EventKind::UserDeactivated => "user.deactivated",
            EventKind::UserReactivated => "user.reactivated",
            EventKind::UserDeleted => "user.deleted",
            EventKind::UserRolesChanged => "user.roles_changed",
            EventKind::GroupCreated => "group.created",
            EventKind::GroupUpdated => "group.updated",
            EventKind::GroupDeleted => "group.deleted",
            EventKind::GroupUserAdded => "group.user_added",
            EventKind::GroupUserRemoved => "group.user_removed",
            EventKind::DirectoryCredentialsInvalid => "directory.invalid_credentials",
            EventKind::DirectoryActivated => "directory.activated",
            EventKind::DirectoryStateChanged => "directory.state_changed",
            EventKind::DirectoryDeleted => "directory.deleted",
            EventKind::WebhookDisabled => "webhook.disabled",
        }
    }

    pub const ALL: [EventKind; 16] = [
        EventKind::UserCreated,
        EventKind::UserUpdated,
        EventKind::UserDeactivated,
        EventKind::UserReactivated,
        EventKind::UserDeleted,
        EventKind::UserRolesChanged,
        EventKind::GroupCreated,
        EventKind::GroupUpdated,
        EventKind::GroupDeleted,
        EventKind::GroupUserAdded,
        EventKind::GroupUserRemoved,
        EventKind::DirectoryCredentialsInvalid,
        EventKind::DirectoryActivated,
        EventKind::DirectoryStateChanged,
        EventKind::DirectoryDeleted,
        EventKind::WebhookDisabled,
    ];

    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn resource_type(self) -> &'static str {
        match self {
            EventKind::UserCreated
            | EventKind::UserUpdated
            | EventKind::UserDeactivated
            | EventKind::UserReactivated
            | EventKind::UserDeleted
            | EventKind::UserRolesChanged => "User",
            EventKind::DirectoryCredentialsInvalid
            | EventKind::DirectoryActivated
            | EventKind::DirectoryStateChanged
            | EventKind::DirectoryDeleted => "Directory",
            EventKind::WebhookDisabled => "Webhook",
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
    /// The record after the change (`docs/events.md`).
    pub data: Document,
    /// For an update: the record fields that changed, and their values before.
    pub change: Option<Change>,
}

#[derive(Debug, Clone)]
pub struct Change {
    pub changed: Vec<String>,
    pub previous: Document,
}

impl NewEvent {
    pub fn new(kind: EventKind, resource_id: String, data: Document) -> NewEvent {
        NewEvent {
            id: EventId::generate(),
            kind,
            resource_id,
            data,
            change: None,
        }
    }

    /// An update's event, naming what changed between the records `before` and `after`.
    pub fn updated(
        kind: EventKind,
        resource_id: String,
        before: &Value,
        after: &Value,
    ) -> NewEvent {
        let (changed, previous) = record::changes(before, after);
        NewEvent {
            change: Some(Change {
                changed,
                previous: Document::from_value(&previous),
            }),
            ..NewEvent::new(kind, resource_id, Document::from_value(after))
        }
    }
}
