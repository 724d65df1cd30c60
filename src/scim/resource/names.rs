//! Attribute names as clients write them: URN-qualified, dotted, in any letter case.

use serde_json::{Map, Value};

use crate::scim::schema::{ResolvedAttr, ResourceKind, SchemaRegistry};

/// Splits `urn:…:Schema:attr.sub` into the URN and `attr.sub`, like
/// [`split_urn`](super::schema::split_urn) but safe on any client input: `split_urn` slices
/// `path[..4]`, which panics when the fourth byte falls inside a multi-byte character.
pub(crate) fn split_qualified(path: &str) -> (Option<&str>, &str) {
    match path.get(..4) {
        Some(prefix) if path.len() > 4 && prefix.eq_ignore_ascii_case("urn:") => {
            match path.rsplit_once(':') {
                Some((uri, rest)) => (Some(uri), rest),
                None => (None, path),
            }
        }
        _ => (None, path),
    }
}

/// [`SchemaRegistry::resolve_path`] over [`split_qualified`], for client-supplied names.
pub(crate) fn resolve_dotted<'r>(
    reg: &'r SchemaRegistry,
    kind: ResourceKind,
    path: &str,
) -> Option<ResolvedAttr<'r>> {
    let (uri, rest) = split_qualified(path);
    let (name, sub) = match rest.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (rest, None),
    };
    reg.resolve(kind, uri, name, sub)
}

/// The value under `name` in any letter case (an exact match first).
pub(crate) fn get_ci<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}
