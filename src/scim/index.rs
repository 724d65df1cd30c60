//! The searchable values of a canonical resource document, for `attribute_values`.

use serde_json::{Map, Value};

use super::schema::{AttrType, Attribute, ResourceKind, SchemaRegistry};
use crate::domain::index::{IndexedValue, fold_case};

/// Values longer than this are not indexed (PostgreSQL's B-tree rows are limited to about
/// 2.7 kB); such attributes (certificates, photos as data URIs) are still stored and returned,
/// but a filter cannot match them.
const MAX_INDEXED_LEN: usize = 512;

/// Attributes that live in typed columns of the resource row instead.
fn kept_in_columns(kind: ResourceKind, name: &str) -> bool {
    matches!(
        (kind, name),
        (_, "id" | "externalId" | "meta" | "schemas")
            | (ResourceKind::User, "userName")
            | (ResourceKind::Group, "displayName" | "members")
    )
}

pub fn indexed_values(
    reg: &SchemaRegistry,
    kind: ResourceKind,
    doc: &Map<String, Value>,
) -> Vec<IndexedValue> {
    let mut out = Vec::new();
    let core = reg.core_schema(kind);
    for attr in &core.attributes {
        if kept_in_columns(kind, &attr.name) {
            continue;
        }
        if let Some(v) = doc.get(&attr.name) {
            attribute(&attr.name, attr, v, &mut out);
        }
    }
    for ext in reg.extensions(kind) {
        let Some(Value::Object(obj)) = doc.get(&ext.id) else {
            continue;
        };
        for attr in &ext.attributes {
            if let Some(v) = obj.get(&attr.name) {
                attribute(&format!("{}:{}", ext.id, attr.name), attr, v, &mut out);
            }
        }
    }
    out
}

fn attribute(path: &str, attr: &Attribute, value: &Value, out: &mut Vec<IndexedValue>) {
    let elements: Vec<&Value> = match (attr.multi_valued, value) {
        (true, Value::Array(items)) => items.iter().collect(),
        (_, v) => vec![v],
    };
    for (elem, v) in elements.into_iter().enumerate() {
        let elem = i32::try_from(elem).unwrap_or(i32::MAX);
        if attr.kind == AttrType::Complex {
            let Value::Object(obj) = v else { continue };
            let before = out.len();
            for sub in &attr.sub_attributes {
                if let Some(sv) = obj.get(&sub.name) {
                    scalar(&format!("{path}.{}", sub.name), elem, sub, sv, out);
                }
            }
            if out.len() == before {
                // The element still exists for `attr pr` and `attr[...]`, which look for a
                // row under the attribute's path or its sub-attributes'. An anchor row for
                // every element was a fifth of a POST's index rows.
                push(out, path, elem, String::new(), None);
            }
        } else {
            scalar(path, elem, attr, v, out);
        }
    }
}

fn scalar(path: &str, elem: i32, attr: &Attribute, value: &Value, out: &mut Vec<IndexedValue>) {
    let (text, number) = match value {
        Value::String(s) if attr.kind == AttrType::DateTime => {
            (normalize_datetime(s).unwrap_or_else(|| s.clone()), None)
        }
        Value::String(s) => (s.clone(), None),
        Value::Bool(b) => (b.to_string(), None),
        Value::Number(n) => (n.to_string(), n.as_f64()),
        _ => return,
    };
    if text.len() <= MAX_INDEXED_LEN {
        push(out, path, elem, text, number);
    }
}

fn push(out: &mut Vec<IndexedValue>, path: &str, elem: i32, value: String, number: Option<f64>) {
    out.push(IndexedValue {
        path: fold_case(path),
        elem,
        value_ci: fold_case(&value),
        value,
        number,
    });
}

/// RFC 3339 in UTC with microseconds, so text order is time order.
pub fn normalize_datetime(s: &str) -> Option<String> {
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| {
        t.with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extracts_paths_elements_and_anchors_only_where_nothing_else_is_searchable() {
        let reg = SchemaRegistry::builtin();
        let doc = json!({
            "userName": "bjensen",
            "active": true,
            "name": {"givenName": "Barbara"},
            "emails": [
                {"value": "b@work.example", "type": "work", "primary": true},
                {"value": "b@home.example", "type": "home"}
            ],
            "photos": [{"value": format!("data:image/png;base64,{}", "A".repeat(MAX_INDEXED_LEN))}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tour Operations"}
        });
        let values = indexed_values(&reg, ResourceKind::User, doc.as_object().unwrap());
        let has = |path: &str, elem: i32, value: &str| {
            values
                .iter()
                .any(|v| v.path == path && v.elem == elem && v.value == value)
        };
        assert!(
            !values.iter().any(|v| v.path == "username"),
            "userName lives in a column"
        );
        assert!(has("active", 0, "true"));
        assert!(has("name.givenname", 0, "Barbara"));
        assert!(has("emails.value", 0, "b@work.example"));
        assert!(
            !values
                .iter()
                .any(|v| v.path == "name" || v.path == "emails"),
            "elements with searchable sub-attributes need no anchor row"
        );
        assert!(
            has("photos", 0, ""),
            "a photo too long to index keeps an anchor"
        );
        assert!(!values.iter().any(|v| v.path == "photos.value"));
        assert!(has("emails.type", 1, "home"));
        assert!(has("emails.primary", 0, "true"));
        assert!(has(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department",
            0,
            "Tour Operations"
        ));
    }

    #[test]
    fn datetimes_normalize_to_utc_micros() {
        assert_eq!(
            normalize_datetime("2011-05-13T04:42:34+02:00").as_deref(),
            Some("2011-05-13T02:42:34.000000Z")
        );
        assert_eq!(normalize_datetime("yesterday"), None);
    }
}
