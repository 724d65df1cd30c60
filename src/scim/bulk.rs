//! Bulk requests (RFC 7644 §3.7): parsing, and the `bulkId:` references between operations.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::error::{ScimError, ScimResult};
use super::schema::ResourceKind;

pub const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// Most operations one request may carry (advertised as `bulk.maxOperations`).
pub const MAX_OPERATIONS: usize = 1000;

const REFERENCE_PREFIX: &str = "bulkId:";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BulkOperation {
    pub method: Method,
    pub kind: ResourceKind,
    /// The target's id (or `bulkId:…` reference) for PUT, PATCH and DELETE.
    pub id: Option<String>,
    pub bulk_id: Option<String>,
    /// The `If-Match` version the operation requires.
    pub version: Option<String>,
    pub data: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BulkRequest {
    /// Stop after this many failed operations; `None` processes them all.
    pub fail_on_errors: Option<usize>,
    pub operations: Vec<BulkOperation>,
}

fn key<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

pub fn parse_request(body: &Value) -> ScimResult<BulkRequest> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::InvalidSyntax("a bulk request must be a JSON object".into()))?;
    let is_bulk = key(obj, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(BULK_REQUEST_SCHEMA)));
    if !is_bulk {
        return Err(ScimError::InvalidValue(format!(
            "'schemas' must contain {BULK_REQUEST_SCHEMA}"
        )));
    }
    let fail_on_errors = match key(obj, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|n| *n > 0)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| {
                    ScimError::InvalidValue("'failOnErrors' must be a positive integer".into())
                })?,
        ),
    };
    let ops = key(obj, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::InvalidValue("'Operations' must be a list".into()))?;
    if ops.len() > MAX_OPERATIONS {
        return Err(ScimError::TooMany(format!(
            "a bulk request may carry at most {MAX_OPERATIONS} operations, this one has {}",
            ops.len()
        )));
    }
    let operations = ops
        .iter()
        .enumerate()
        .map(|(i, op)| operation(op).map_err(|e| e.map_detail(|m| format!("Operations[{i}]: {m}"))))
        .collect::<ScimResult<Vec<_>>>()?;
    let mut declared = BTreeSet::new();
    for op in &operations {
        if let Some(id) = op.bulk_id.as_deref().filter(|id| !declared.insert(*id)) {
            return Err(ScimError::InvalidValue(format!(
                "bulkId '{id}' is used twice"
            )));
        }
    }
    Ok(BulkRequest {
        fail_on_errors,
        operations,
    })
}

fn operation(op: &Value) -> ScimResult<BulkOperation> {
    let obj = op
        .as_object()
        .ok_or_else(|| ScimError::InvalidSyntax("an operation must be an object".into()))?;
    let text = |name: &str| key(obj, name).and_then(Value::as_str).map(str::to_string);
    let method = match text("method").map(|m| m.to_ascii_uppercase()).as_deref() {
        Some("POST") => Method::Post,
        Some("PUT") => Method::Put,
        Some("PATCH") => Method::Patch,
        Some("DELETE") => Method::Delete,
        _ => {
            return Err(ScimError::InvalidValue(
                "'method' must be POST, PUT, PATCH or DELETE".into(),
            ));
        }
    };
    let path = text("path").ok_or_else(|| ScimError::InvalidValue("'path' is required".into()))?;
    let mut segments = path.trim_start_matches('/').splitn(2, '/');
    let kind = match segments.next() {
        Some("Users") => ResourceKind::User,
        Some("Groups") => ResourceKind::Group,
        _ => {
            return Err(ScimError::InvalidPath(format!(
                "'{path}' is not /Users, /Groups or a resource under them"
            )));
        }
    };
    let id = segments
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    match (method, &id) {
        (Method::Post, Some(_)) => {
            return Err(ScimError::InvalidPath(
                "POST goes to /Users or /Groups".into(),
            ));
        }
        (Method::Put | Method::Patch | Method::Delete, None) => {
            return Err(ScimError::InvalidPath(format!(
                "{} needs a resource id in 'path'",
                method.as_str()
            )));
        }
        _ => {}
    }
    let bulk_id = text("bulkId");
    if method == Method::Post && bulk_id.is_none() {
        return Err(ScimError::InvalidValue(
            "POST operations need a 'bulkId'".into(),
        ));
    }
    let data = key(obj, "data").cloned().unwrap_or(Value::Null);
    if method != Method::Delete && !data.is_object() {
        return Err(ScimError::InvalidValue("'data' must be an object".into()));
    }
    Ok(BulkOperation {
        method,
        kind,
        id,
        bulk_id,
        version: text("version"),
        data,
    })
}

impl BulkOperation {
    /// The bulkIds this operation refers to, in its target and anywhere in its data.
    pub fn references(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if let Some(r) = self
            .id
            .as_deref()
            .and_then(|id| id.strip_prefix(REFERENCE_PREFIX))
        {
            out.insert(r.to_string());
        }
        collect_references(&self.data, &mut out);
        out
    }

    /// The operation with every `bulkId:x` replaced by the id `x` was created with.
    pub fn resolved(&self, created: &HashMap<String, String>) -> BulkOperation {
        let mut op = self.clone();
        if let Some(id) = &op.id {
            op.id = Some(substitute(id, created));
        }
        replace_references(&mut op.data, created);
        op
    }
}

fn collect_references(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            if let Some(r) = s.strip_prefix(REFERENCE_PREFIX) {
                out.insert(r.to_string());
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_references(i, out)),
        Value::Object(map) => map.values().for_each(|i| collect_references(i, out)),
        _ => {}
    }
}

fn substitute(s: &str, created: &HashMap<String, String>) -> String {
    s.strip_prefix(REFERENCE_PREFIX)
        .and_then(|r| created.get(r))
        .cloned()
        .unwrap_or_else(|| s.to_string())
}

fn replace_references(v: &mut Value, created: &HashMap<String, String>) {
    match v {
        Value::String(s) => *s = substitute(s, created),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| replace_references(i, created)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|i| replace_references(i, created)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(ops: Value) -> Value {
        json!({"schemas": [BULK_REQUEST_SCHEMA], "Operations": ops})
    }

    #[test]
    fn parses_operations_and_their_references() {
        let parsed = parse_request(&json!({
            "schemas": [BULK_REQUEST_SCHEMA],
            "failOnErrors": 1,
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "u1", "data": {"userName": "a"}},
                {"method": "post", "path": "/Groups", "bulkId": "g1",
                 "data": {"displayName": "G", "members": [{"value": "bulkId:u1"}]}},
                {"method": "PATCH", "path": "/Groups/bulkId:g1", "version": "W/\"1\"",
                 "data": {"Operations": []}},
                {"method": "DELETE", "path": "/Users/abc"}
            ]
        }))
        .unwrap();
        assert_eq!(parsed.fail_on_errors, Some(1));
        let ops = &parsed.operations;
        assert_eq!(
            (ops[1].method, ops[1].kind),
            (Method::Post, ResourceKind::Group)
        );
        assert_eq!(ops[1].references(), BTreeSet::from(["u1".to_string()]));
        assert_eq!(ops[2].references(), BTreeSet::from(["g1".to_string()]));
        assert_eq!(ops[3].id.as_deref(), Some("abc"));
        let created = HashMap::from([
            ("u1".to_string(), "id-1".to_string()),
            ("g1".to_string(), "id-9".to_string()),
        ]);
        assert_eq!(
            ops[1].resolved(&created).data["members"][0]["value"],
            json!("id-1")
        );
        assert_eq!(ops[2].resolved(&created).id.as_deref(), Some("id-9"));
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        let cases = [
            (json!({"Operations": []}), "schemas"),
            (request(json!({})), "'Operations' must be a list"),
            (
                request(json!([{"method": "GET", "path": "/Users"}])),
                "Operations[0]: 'method'",
            ),
            (
                request(json!([{"method": "POST", "path": "/Users", "data": {}}])),
                "bulkId",
            ),
            (
                request(json!([{"method": "POST", "path": "/Things", "bulkId": "x", "data": {}}])),
                "/Things",
            ),
            (
                request(json!([{"method": "DELETE", "path": "/Users"}])),
                "needs a resource id",
            ),
            (
                request(json!([{"method": "PUT", "path": "/Users/1", "data": 3}])),
                "'data'",
            ),
            (
                request(json!([
                    {"method": "POST", "path": "/Users", "bulkId": "x", "data": {}},
                    {"method": "POST", "path": "/Users", "bulkId": "x", "data": {}}
                ])),
                "used twice",
            ),
        ];
        for (body, expected) in cases {
            let err = parse_request(&body).unwrap_err().to_string();
            assert!(err.contains(expected), "{body}: {err}");
        }
        let many: Vec<Value> = (0..=MAX_OPERATIONS)
            .map(|i| json!({"method": "DELETE", "path": format!("/Users/{i}")}))
            .collect();
        assert!(matches!(
            parse_request(&request(json!(many))),
            Err(ScimError::TooMany(_))
        ));
    }
}
