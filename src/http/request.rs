//! What handlers read from a request besides the body: preconditions and list parameters.

use actix_web::HttpRequest;
use actix_web::http::header;
use serde_json::Value;

use super::AppState;
use super::error::ApiError;
use crate::scim::error::ScimError;
use crate::scim::list::ListParams;
use crate::scim::meta::version_of_etag;
use crate::scim::resource::Projection;
use crate::scim::schema::{ResourceKind, SEARCH_REQUEST_SCHEMA};

fn header_text(req: &HttpRequest, name: header::HeaderName) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// An `If-Match` or `If-None-Match` header (RFC 7232 §3.1, §3.2): `*`, or a list of entity
/// tags. Tags compare weakly (by version), as SCIM's weak `meta.version` tags must.
#[derive(Debug, Clone, PartialEq)]
pub enum Precondition {
    Any,
    Versions(Vec<String>),
}

impl Precondition {
    /// `None` for a header with no tag at all, which conditions nothing.
    pub fn parse(text: &str) -> Option<Precondition> {
        if text.trim() == "*" {
            return Some(Precondition::Any);
        }
        let versions = entity_tags(text);
        (!versions.is_empty()).then_some(Precondition::Versions(versions))
    }

    pub fn matches(&self, version: i64) -> bool {
        match self {
            Precondition::Any => true,
            Precondition::Versions(tags) => tags.iter().any(|v| *v == version.to_string()),
        }
    }
}

/// The versions of a comma-separated list of entity tags (`W/"3", "4"`). A comma inside quotes
/// belongs to the tag; a tag sent without quotes is read up to the next comma.
fn entity_tags(text: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if rest.is_empty() {
            return tags;
        }
        let unweak = rest.strip_prefix("W/").unwrap_or(rest);
        let (tag, after) = match unweak.strip_prefix('"') {
            Some(quoted) => match quoted.split_once('"') {
                Some((tag, after)) => (tag, after),
                None => (quoted, ""),
            },
            None => unweak.split_once(',').unwrap_or((unweak, "")),
        };
        tags.push(version_of_etag(tag).to_string());
        rest = after;
    }
}

pub fn if_match(req: &HttpRequest) -> Option<Precondition> {
    header_text(req, header::IF_MATCH).and_then(|v| Precondition::parse(&v))
}

pub fn if_none_match(req: &HttpRequest) -> Option<Precondition> {
    header_text(req, header::IF_NONE_MATCH).and_then(|v| Precondition::parse(&v))
}

fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect()
}

pub fn list_params(req: &HttpRequest) -> Result<ListParams, ApiError> {
    let pairs = query_pairs(req);
    Ok(ListParams::from_pairs(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )?)
}

/// `attributes`/`excludedAttributes` of the query string.
pub fn projection(
    state: &AppState,
    kind: ResourceKind,
    req: &HttpRequest,
) -> Result<Projection, ApiError> {
    let params = list_params(req)?;
    Ok(Projection::parse(
        &state.registry,
        kind,
        params.attributes.as_deref(),
        params.excluded_attributes.as_deref(),
    )?)
}

pub fn names_attributes(req: &HttpRequest) -> bool {
    query_pairs(req).iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("attributes") || k.eq_ignore_ascii_case("excludedAttributes")
    })
}

/// A `POST /.search` body (RFC 7644 §3.4.3) as list parameters.
pub fn search_params(body: &Value) -> Result<ListParams, ApiError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::InvalidSyntax("a search request must be a JSON object".into()))?;
    let is_search = obj
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(SEARCH_REQUEST_SCHEMA)));
    if !is_search {
        return Err(ScimError::InvalidValue(format!(
            "'schemas' must contain {SEARCH_REQUEST_SCHEMA}"
        ))
        .into());
    }
    let mut params = ListParams::default();
    for (k, v) in obj {
        let text = |v: &Value| -> Result<String, ApiError> {
            match v {
                Value::String(s) => Ok(s.clone()),
                Value::Array(items) => Ok(items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(",")),
                _ => Err(ScimError::InvalidValue(format!(
                    "'{k}' must be a string or a list of strings"
                ))
                .into()),
            }
        };
        let number = |v: &Value| -> Result<i64, ApiError> {
            // Past i64 saturates (`as` does), as in a query string: a page past the end.
            let integer = v
                .as_i64()
                .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64));
            integer
                .ok_or_else(|| ScimError::InvalidValue(format!("'{k}' must be an integer")).into())
        };
        match k.to_ascii_lowercase().as_str() {
            "filter" => params.filter = Some(text(v)?),
            "startindex" => params.start_index = Some(number(v)?),
            "count" => params.count = Some(number(v)?),
            "attributes" => params.attributes = Some(text(v)?),
            "excludedattributes" => params.excluded_attributes = Some(text(v)?),
            "sortby" => params.sort_by = Some(text(v)?),
            "sortorder" => params.sort_order = Some(text(v)?),
            "cursor" => params.cursor = Some(text(v)?),
            _ => {}
        }
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preconditions_read_lists_of_entity_tags() {
        let versions = |tags: &[&str]| {
            Some(Precondition::Versions(
                tags.iter().map(|t| t.to_string()).collect(),
            ))
        };
        let cases = [
            ("*", Some(Precondition::Any)),
            (" * ", Some(Precondition::Any)),
            (r#"W/"3""#, versions(&["3"])),
            (r#""3""#, versions(&["3"])),
            ("3", versions(&["3"])),
            (r#"W/"3", W/"4""#, versions(&["3", "4"])),
            (r#"W/"3",W/"4" ,"5""#, versions(&["3", "4", "5"])),
            (r#""a,b", W/"4""#, versions(&["a,b", "4"])),
            ("3, 4", versions(&["3", "4"])),
            (r#"W/"3"#, versions(&["3"])),
            ("", None),
            (" , ", None),
        ];
        for (text, expected) in cases {
            assert_eq!(Precondition::parse(text), expected, "{text}");
        }
    }

    #[test]
    fn a_precondition_matches_any_of_its_tags() {
        let list = Precondition::parse(r#"W/"3", W/"4""#).unwrap();
        assert!(list.matches(3));
        assert!(list.matches(4));
        assert!(!list.matches(5));
        assert!(Precondition::Any.matches(7));
    }
}
