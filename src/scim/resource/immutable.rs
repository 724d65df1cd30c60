//! RFC 7643 §2.2 `immutable` attributes on a replace.

use serde_json::{Map, Value};

use crate::scim::error::{ScimError, ScimResult};
use crate::scim::schema::{AttrType, Attribute, Mutability, ResourceKind, SchemaRegistry};

/// RFC 7643 §2.2 `immutable` on a replace (PUT): a value already stored may be sent again but
/// not changed; leaving it out keeps it, since an immutable value cannot be removed either.
/// `stored` and `doc` are canonical documents.
pub fn keep_immutable(
    reg: &SchemaRegistry,
    kind: ResourceKind,
    stored: &Value,
    doc: &mut Map<String, Value>,
) -> ScimResult<()> {
    let Value::Object(stored) = stored else {
        return Ok(());
    };
    keep_immutable_in(&reg.core_schema(kind).attributes, stored, doc, "")?;
    for ext in reg.extensions(kind) {
        let Some(Value::Object(stored_ext)) = stored.get(&ext.id) else {
            continue;
        };
        let mut sent = match doc.remove(&ext.id) {
            Some(Value::Object(o)) => o,
            _ => Map::new(),
        };
        keep_immutable_in(
            &ext.attributes,
            stored_ext,
            &mut sent,
            &format!("{}:", ext.id),
        )?;
        if !sent.is_empty() {
            if let Some(Value::Array(schemas)) = doc.get_mut("schemas")
                && !schemas.iter().any(|s| s.as_str() == Some(ext.id.as_str()))
            {
                schemas.push(Value::String(ext.id.clone()));
            }
            doc.insert(ext.id.clone(), Value::Object(sent));
        }
    }
    Ok(())
}

fn keep_immutable_in(
    attributes: &[Attribute],
    stored: &Map<String, Value>,
    sent: &mut Map<String, Value>,
    prefix: &str,
) -> ScimResult<()> {
    for attr in attributes {
        let Some(old) = stored.get(&attr.name).filter(|v| !v.is_null()) else {
            continue;
        };
        if attr.mutability == Mutability::Immutable {
            match sent.get(&attr.name) {
                None | Some(Value::Null) => {
                    sent.insert(attr.name.clone(), old.clone());
                }
                Some(new) if same_value(attr, old, new) => {}
                Some(_) => {
                    return Err(ScimError::Mutability(format!(
                        "attribute '{prefix}{}' is immutable: it is already set and cannot be \
                         changed",
                        attr.name
                    )));
                }
            }
        } else if attr.kind == AttrType::Complex
            && !attr.multi_valued
            && let Value::Object(old) = old
        {
            let mut inner = match sent.remove(&attr.name) {
                Some(Value::Object(o)) => o,
                _ => Map::new(),
            };
            keep_immutable_in(
                &attr.sub_attributes,
                old,
                &mut inner,
                &format!("{prefix}{}.", attr.name),
            )?;
            if !inner.is_empty() {
                sent.insert(attr.name.clone(), Value::Object(inner));
            }
        }
    }
    Ok(())
}

/// Equality as the attribute compares: strings that are not `caseExact` ignore case.
fn same_value(attr: &Attribute, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) if !attr.case_exact => {
            x.to_lowercase() == y.to_lowercase()
        }
        _ => a == b,
    }
}
