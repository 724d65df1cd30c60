//! Deprovisioning: what a deactivation, a DELETE and the loss of every group membership do to
//! a directory's users. A per-directory policy with per-IdP defaults; see
//! `docs/deprovisioning.md` for the defaults and the reasons behind them.

use std::fmt;
use std::str::FromStr;

use chrono::{Duration, NaiveDateTime};
use serde::{Serialize, Serializer};

use super::error::{DomainError, DomainResult};
use super::tenancy::DirectoryKind;
use crate::store::{self, Store};

/// What `active=false` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnDeactivate {
    /// The user stays, with state `inactive` and its memberships, so a reactivation restores
    /// access exactly as it was.
    Deactivate,
    /// The user is deleted as a DELETE would (see [`OnDelete`]).
    Delete,
}

/// What a DELETE (or, for a puller, a user no longer listed) means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnDelete {
    /// State `deleted`, memberships removed, gone from SCIM; the row is purged after the
    /// retention.
    Soft,
    /// The row and its memberships are removed at once.
    Hard,
}

/// What the removal of a user's last group membership means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnGroupLoss {
    Keep,
    Deactivate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Deprovisioning {
    pub on_deactivate: OnDeactivate,
    pub on_delete: OnDelete,
    /// How long a soft-deleted record is kept: `30d`, `12h`, ...
    #[serde(serialize_with = "as_duration_text")]
    #[schema(value_type = String, example = "30d")]
    pub retention: Duration,
    pub on_group_loss: OnGroupLoss,
}

fn as_duration_text<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

impl Deprovisioning {
    /// The policy a new directory of `kind` starts with.
    pub fn default_for(kind: DirectoryKind) -> Self {
        let on_delete = match kind {
            // JumpCloud's "Test Connection" creates a throwaway user and group and DELETEs
            // them (idp-behaviour.md §4); keeping them for a retention period would only
            // leave test rows in the app's tables.
            DirectoryKind::JumpCloud => OnDelete::Hard,
            _ => OnDelete::Soft,
        };
        Deprovisioning {
            on_deactivate: OnDeactivate::Deactivate,
            on_delete,
            retention: Duration::days(30),
            on_group_loss: OnGroupLoss::Keep,
        }
    }
}

/// A change to a directory's policy, from its words (`deactivate`, `hard`, `30d`, ...): what
/// is not given keeps its value. The CLI's flags and the admin API's fields both come here.
#[derive(Debug, Clone, Default)]
pub struct PolicyChanges {
    pub on_deactivate: Option<String>,
    pub on_delete: Option<String>,
    pub retention: Option<String>,
    pub on_group_loss: Option<String>,
}

impl PolicyChanges {
    /// `p` with these changes; an error names the setting whose word is wrong.
    pub fn apply(&self, mut p: Deprovisioning) -> DomainResult<Deprovisioning> {
        let named = |name: &str, e: DomainError| DomainError::Invalid(format!("{name}: {e}"));
        if let Some(v) = &self.on_deactivate {
            p.on_deactivate = v.parse().map_err(|e| named("on_deactivate", e))?;
        }
        if let Some(v) = &self.on_delete {
            p.on_delete = v.parse().map_err(|e| named("on_delete", e))?;
        }
        if let Some(v) = &self.retention {
            p.retention = parse_duration(v).map_err(|e| named("retention", e))?;
        }
        if let Some(v) = &self.on_group_loss {
            p.on_group_loss = v.parse().map_err(|e| named("on_group_loss", e))?;
        }
        Ok(p)
    }
}

macro_rules! text_enum {
    ($ty:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text,)+
                }
            }
        }

        impl FromStr for $ty {
            type Err = DomainError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.to_ascii_lowercase().as_str() {
                    $($text => Ok($ty::$variant),)+
                    _ => Err(DomainError::Invalid(format!(
                        "'{s}' is not one of: {}",
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(OnDeactivate { Deactivate = "deactivate", Delete = "delete" });
text_enum!(OnDelete { Soft = "soft", Hard = "hard" });
text_enum!(OnGroupLoss { Keep = "keep", Deactivate = "deactivate" });

/// Parses `30d`, `12h`, `45m`, `90s` or a bare number of seconds.
pub fn parse_duration(s: &str) -> DomainResult<Duration> {
    let s = s.trim();
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: i64 = digits
        .parse()
        .map_err(|_| DomainError::Invalid(format!("'{s}' is not a duration like 30d or 12h")))?;
    let seconds = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => None,
    };
    seconds
        .and_then(Duration::try_seconds)
        .ok_or_else(|| DomainError::Invalid(format!("'{s}' is not a duration like 30d or 12h")))
}

/// The shortest exact text for `d` in the units [`parse_duration`] reads.
pub fn format_duration(d: Duration) -> String {
    let s = d.num_seconds();
    match s {
        0 => "0s".into(),
        _ if s % 86_400 == 0 => format!("{}d", s / 86_400),
        _ if s % 3600 == 0 => format!("{}h", s / 3600),
        _ if s % 60 == 0 => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

/// How many soft-deleted rows a purge removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Purged {
    pub users: usize,
    pub groups: usize,
    /// Events whose deleted user's record was emptied (`erasure.rs`).
    pub events_redacted: u64,
}

/// Removes the soft-deleted users and groups whose directory's retention has run out (their
/// memberships and index rows went when they were soft-deleted), and empties the records of
/// users deleted that long ago from the events feed.
pub fn purge_expired(store: &Store, now: NaiveDateTime) -> DomainResult<Purged> {
    let directories = store.read(|conn| store::tenancy::list_directories(conn, None))?;
    let mut purged = Purged::default();
    for d in directories {
        let before = now - d.deprovisioning.retention;
        let (users, groups) = store.write(|conn| -> Result<_, store::StoreError> {
            Ok((
                store::users::purge_deleted(conn, &d.id, before)?,
                store::groups::purge_deleted(conn, &d.id, before)?,
            ))
        })?;
        purged.users += users;
        purged.groups += groups;
        purged.events_redacted += super::erasure::erase_deleted_users(store, &d, before)?;
    }
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_print_in_the_same_units() {
        for (text, seconds, printed) in [
            ("30d", 2_592_000, "30d"),
            ("12h", 43_200, "12h"),
            ("90m", 5_400, "90m"),
            ("45s", 45, "45s"),
            ("120", 120, "2m"),
            ("0", 0, "0s"),
            ("48h", 172_800, "2d"),
        ] {
            let d = parse_duration(text).unwrap();
            assert_eq!(d.num_seconds(), seconds, "{text}");
            assert_eq!(format_duration(d), printed, "{text}");
        }
        for bad in ["", "d", "3w", "-1d", "1.5h", "99999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn policy_words_parse_case_insensitively_and_name_the_choices() {
        assert_eq!("Hard".parse::<OnDelete>().unwrap(), OnDelete::Hard);
        assert_eq!(
            "deactivate".parse::<OnGroupLoss>().unwrap(),
            OnGroupLoss::Deactivate
        );
        let e = "purge".parse::<OnDeactivate>().unwrap_err().to_string();
        assert!(e.contains("deactivate, delete"), "{e}");
    }
}
