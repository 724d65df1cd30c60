//! Custom attributes: per directory, named values the application reads in `custom_attributes`,
//! each derived from a source path of the user's resource (a SCIM path, or a field of Google's
//! record). Derived on every user write, in its transaction; a mapping change re-derives the
//! directory's users in the background, a batch per write (`docs/admin-api.md`).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{DomainError, DomainResult};
use super::index::fold_case;
use super::tenancy::Scope;
use crate::store::{self, Store};

/// A user's derived values by attribute name; a mapped attribute the user has no value for is
/// JSON null.
pub type CustomValues = BTreeMap<String, Value>;

/// Users re-derived per write: small enough that SCIM writes never wait long behind one.
const BATCH: i64 = 500;

/// Where a source path is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// The user's SCIM resource.
    Scim,
    /// Google's own record of the user, which a Google directory keeps beside the resource.
    Google,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Scim => "scim",
            SourceKind::Google => "google",
        }
    }
}

impl std::str::FromStr for SourceKind {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [SourceKind::Scim, SourceKind::Google]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                DomainError::Invalid(format!("a source kind is 'scim' or 'google', not '{s}'"))
            })
    }
}

/// One step from the resource's root towards a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// A member of an object; on a list, of its first element that has it.
    Key(String),
    /// The first element of a list whose members equal all of these.
    Where(Vec<Equal>),
}

/// `key eq value` inside a value filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Equal {
    pub key: String,
    pub value: Value,
    pub case_exact: bool,
}

impl Equal {
    fn holds(&self, element: &Value) -> bool {
        match (element.get(&self.key), &self.value) {
            (Some(Value::String(have)), Value::String(want)) if !self.case_exact => {
                fold_case(have) == fold_case(want)
            }
            (Some(have), want) => have == want,
            (None, _) => false,
        }
    }
}

/// A source path as the SCIM layer resolved it against the schemas: `text` as written, `steps`
/// as walked. Made only by the parser (`scim::source_path`), stored with the mapping.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SourcePath {
    pub kind: SourceKind,
    #[serde(rename = "source")]
    pub text: String,
    #[serde(skip)]
    #[schema(ignore)]
    pub steps: Vec<Step>,
}

impl SourcePath {
    /// The single value at the path; objects and lists are not values.
    fn value_in(&self, resource: &Value) -> Option<Value> {
        let mut at = resource;
        for step in &self.steps {
            at = match (step, at) {
                (Step::Key(k), Value::Object(o)) => o.get(k)?,
                (Step::Key(k), Value::Array(items)) => items
                    .iter()
                    .find_map(|i| i.get(k).filter(|v| !v.is_null()))?,
                (Step::Where(tests), Value::Array(items)) => {
                    items.iter().find(|i| tests.iter().all(|t| t.holds(i)))?
                }
                (Step::Where(tests), one @ Value::Object(_))
                    if tests.iter().all(|t| t.holds(one)) =>
                {
                    one
                }
                _ => return None,
            };
        }
        match at {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => Some(at.clone()),
            _ => None,
        }
    }
}

/// One named custom attribute of a directory.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Mapping {
    pub name: String,
    #[serde(flatten)]
    pub source: SourcePath,
    /// UTC, without an offset.
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    /// UTC, without an offset.
    #[schema(value_type = String)]
    pub updated_at: NaiveDateTime,
}

/// The values `mappings` derive from `resource`; `None` when the directory maps nothing (the
/// record then shows the schema extensions' attributes, `record::user`).
pub fn derive(mappings: &[Mapping], resource: &Value) -> Option<CustomValues> {
    if mappings.is_empty() {
        return None;
    }
    Some(
        mappings
            .iter()
            .map(|m| {
                let value = m.source.value_in(resource).unwrap_or(Value::Null);
                (m.name.clone(), value)
            })
            .collect(),
    )
}

/// How a value compares in the read API's filter: strings as they are, numbers and booleans
/// as JSON writes them.
pub fn filter_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A letter, then letters, digits or '_': a name an application can use as a JSON key and in a
/// query parameter without quoting.
fn check_name(name: &str) -> DomainResult<()> {
    let mut chars = name.chars();
    let ok = name.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(DomainError::Invalid(format!(
            "'{}' is not a custom attribute name: a letter, then up to 63 letters, digits or '_'",
            name.chars().take(70).collect::<String>()
        )))
    }
}

fn not_found(scope: &Scope, name: &str) -> DomainError {
    DomainError::NotFound {
        kind: "custom attribute",
        id: format!("'{name}' of directory {}", scope.directory_id),
    }
}

pub fn list(store: &Store, scope: &Scope) -> DomainResult<Vec<Mapping>> {
    Ok(store.read(|conn| store::custom_attributes::mappings(conn, scope))?)
}

/// Adds a mapping and starts over the directory's re-derivation (`rederive`).
pub fn create(
    store: &Store,
    scope: &Scope,
    name: &str,
    source: SourcePath,
    now: NaiveDateTime,
) -> DomainResult<Mapping> {
    check_name(name)?;
    let mapping = Mapping {
        name: name.to_string(),
        source,
        created_at: now,
        updated_at: now,
    };
    store.write(|conn| -> DomainResult<()> {
        store::custom_attributes::insert(conn, scope, &mapping).map_err(|e| {
            if e.unique_violation().is_some() {
                DomainError::AlreadyExists(format!(
                    "a custom attribute named '{name}' in this directory"
                ))
            } else {
                DomainError::Store(e)
            }
        })?;
        store::custom_attributes::start_rederive(conn, scope, now)?;
        Ok(())
    })?;
    Ok(mapping)
}

/// Maps an attribute from another source path and starts over the re-derivation.
pub fn update(
    store: &Store,
    scope: &Scope,
    name: &str,
    source: SourcePath,
    now: NaiveDateTime,
) -> DomainResult<Mapping> {
    store.write(|conn| {
        let mut mapping = store::custom_attributes::mappings(conn, scope)?
            .into_iter()
            .find(|m| m.name == name)
            .ok_or_else(|| not_found(scope, name))?;
        mapping.source = source;
        mapping.updated_at = now;
        store::custom_attributes::set_source(conn, scope, &mapping)?;
        store::custom_attributes::start_rederive(conn, scope, now)?;
        Ok(mapping)
    })
}

/// Removes a mapping; the re-derivation takes its values out of every user's record.
pub fn remove(store: &Store, scope: &Scope, name: &str, now: NaiveDateTime) -> DomainResult<()> {
    store.write(|conn| {
        if !store::custom_attributes::delete(conn, scope, name)? {
            return Err(not_found(scope, name));
        }
        store::custom_attributes::start_rederive(conn, scope, now)?;
        Ok(())
    })
}

/// A directory's re-derivation: users checked of the live users it started with, and how
/// many of them changed (each got a `user.updated` event).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Rederive {
    /// `running` or `finished`.
    #[schema(value_type = String)]
    pub state: &'static str,
    pub checked: i64,
    pub changed: i64,
    pub total: i64,
    /// UTC, without an offset.
    #[schema(value_type = String)]
    pub started_at: NaiveDateTime,
    /// UTC, without an offset.
    #[schema(value_type = Option<String>)]
    pub finished_at: Option<NaiveDateTime>,
    #[serde(skip)]
    #[schema(ignore)]
    pub after_id: Option<String>,
}

/// The directory's last re-derivation, running or finished; `None` before the first mapping.
pub fn progress(store: &Store, scope: &Scope) -> DomainResult<Option<Rederive>> {
    Ok(store.read(|conn| store::custom_attributes::rederive_state(conn, scope))?)
}

/// Re-derives the directory's users, a batch per write, calling `progress` after each, until
/// every user is done. Resumes where a stopped server left off; a mapping changed meanwhile
/// starts it over from the first user. Two runners of one directory share the batches.
pub fn rederive(
    store: &Store,
    scope: &Scope,
    mut progress: impl FnMut(&Rederive),
    now: impl Fn() -> NaiveDateTime,
) -> DomainResult<Option<Rederive>> {
    loop {
        let step = store.write(|conn| -> DomainResult<Option<Rederive>> {
            let Some(mut job) = store::custom_attributes::lock_rederive(conn, scope)? else {
                return Ok(None);
            };
            if job.finished_at.is_some() {
                return Ok(Some(job));
            }
            let now = now();
            let mappings = store::custom_attributes::mappings(conn, scope)?;
            let users = store::users::page_by_id(conn, scope, job.after_id.as_deref(), BATCH)?;
            let changed = super::user::rederive(conn, scope, &mappings, &users, now)?;
            job.checked += i64::try_from(users.len()).unwrap_or(i64::MAX);
            job.changed += i64::try_from(changed).unwrap_or(i64::MAX);
            if let Some(last) = users.last() {
                job.after_id = Some(last.id.to_string());
            }
            if users.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
                job.finished_at = Some(now);
                job.state = "finished";
            }
            store::custom_attributes::save_rederive(conn, scope, &job)?;
            Ok(Some(job))
        })?;
        match step {
            Some(job) if job.finished_at.is_none() => progress(&job),
            done => {
                if let Some(job) = &done {
                    progress(job);
                }
                return Ok(done);
            }
        }
    }
}

/// `rederive` on a thread of its own, for a caller that answers before it is done.
pub fn rederive_in_background(store: Arc<Store>, scope: Scope) {
    std::thread::spawn(move || {
        if let Err(e) = rederive(&store, &scope, |_| {}, super::clock::now) {
            tracing::warn!(directory = %scope.directory_id, error = %e, "could not re-derive custom attributes");
        }
    });
}

/// Resumes every re-derivation a stopped server left unfinished.
pub fn resume_unfinished(store: Arc<Store>) {
    match store.read(store::custom_attributes::unfinished) {
        Ok(scopes) => {
            for scope in scopes {
                tracing::info!(directory = %scope.directory_id, "resuming the re-derivation of custom attributes");
                rederive_in_background(store.clone(), scope);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not look for unfinished re-derivations"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping(name: &str, steps: Vec<Step>) -> Mapping {
        let t = chrono::DateTime::UNIX_EPOCH.naive_utc();
        Mapping {
            name: name.into(),
            source: SourcePath {
                kind: SourceKind::Scim,
                text: String::new(),
                steps,
            },
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn paths_walk_objects_filtered_lists_and_give_only_single_values() {
        let key = |k: &str| Step::Key(k.into());
        let work = Step::Where(vec![Equal {
            key: "type".into(),
            value: json!("WORK"),
            case_exact: false,
        }]);
        let resource = json!({
            "urn:x:User": {"costCenter": "4130", "manager": {"value": "m1"}, "badge": 7},
            "addresses": [{"type": "home", "locality": "Bonn"}, {"type": "work", "locality": "Köln"}],
            "emails": [{"type": "home"}, {"value": "b@x"}],
        });
        let mappings = vec![
            mapping("cost", vec![key("urn:x:User"), key("costCenter")]),
            mapping(
                "manager",
                vec![key("urn:x:User"), key("manager"), key("value")],
            ),
            mapping("badge", vec![key("urn:x:User"), key("badge")]),
            mapping("city", vec![key("addresses"), work, key("locality")]),
            mapping("email", vec![key("emails"), key("value")]),
            mapping("whole", vec![key("urn:x:User"), key("manager")]),
            mapping("missing", vec![key("nickName")]),
        ];
        assert_eq!(
            derive(&mappings, &resource),
            Some(BTreeMap::from([
                ("cost".into(), json!("4130")),
                ("manager".into(), json!("m1")),
                ("badge".into(), json!(7)),
                ("city".into(), json!("Köln")),
                ("email".into(), json!("b@x")),
                ("whole".into(), Value::Null),
                ("missing".into(), Value::Null),
            ]))
        );
        assert_eq!(derive(&[], &resource), None);
    }

    #[test]
    fn names_are_plain() {
        for good in ["costCenter", "a", "cost_center_2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "2x", "cost center", "a.b", "a[b]", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
