//! Source paths of custom attributes, parsed with the PATCH path grammar and resolved against
//! the User schemas (`docs/admin-api.md`, "Custom attributes"): what an administrator writes
//! becomes the steps the domain walks on each user's resource.

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, PatchPath, ValFilter};
use serde_json::Value;

use super::error::{ScimError, ScimResult};
use super::filter::plain_attr_path;
use super::filter_eval::Cond;
use super::schema::{AttrType, ResourceKind, SchemaRegistry};
use crate::domain::custom_attribute::{Equal, SourceKind, SourcePath, Step};

/// Where a Google directory keeps Google's own record of a user in the resource.
pub const GOOGLE_USER_SCHEMA: &str = "urn:roster:params:scim:schemas:extension:google:2.0:User";

/// As long as a PATCH path may be.
const MAX_LEN: usize = 1024;

pub fn parse(reg: &SchemaRegistry, kind: SourceKind, text: &str) -> ScimResult<SourcePath> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_LEN {
        return Err(ScimError::InvalidPath(format!(
            "a source path has 1 to {MAX_LEN} characters"
        )));
    }
    let steps = match kind {
        SourceKind::Scim => scim_steps(reg, text)?,
        SourceKind::Google => google_steps(text)?,
    };
    Ok(SourcePath {
        kind,
        text: text.to_string(),
        steps,
    })
}

fn unparsable(text: &str, e: impl std::fmt::Display) -> ScimError {
    ScimError::InvalidPath(format!("cannot parse source path '{text}': {e}"))
}

/// `[urn:]attr[.sub]` or `[urn:]attr[filter].sub`, naming a single value of a User.
fn scim_steps(reg: &SchemaRegistry, text: &str) -> ScimResult<Vec<Step>> {
    let path = match plain_attr_path(text) {
        Some(plain) => PatchPath::Attr(plain),
        None => text.parse::<PatchPath>().map_err(|e| unparsable(text, e))?,
    };
    let (attr_path, filter, sub) = match &path {
        PatchPath::Attr(a) => (a, None, a.sub_attr.as_deref()),
        PatchPath::Value(vp) => {
            if vp.attr.sub_attr.is_some() {
                return Err(ScimError::InvalidPath(format!(
                    "'{text}': a [filter] follows an attribute, not a sub-attribute"
                )));
            }
            (&vp.attr, Some(&vp.filter), vp.sub_attr.as_deref())
        }
    };
    let r = reg
        .resolve(
            ResourceKind::User,
            attr_path.uri.as_deref(),
            &attr_path.name,
            sub,
        )
        .ok_or_else(|| {
            ScimError::InvalidPath(format!("'{text}' names no attribute of the User schemas"))
        })?;
    if r.leaf().kind == AttrType::Complex {
        return Err(ScimError::InvalidPath(format!(
            "'{text}' names the complex attribute '{}'; name one of its sub-attributes, e.g. '{}.{}'",
            r.attr.name,
            text,
            r.attr
                .sub_attributes
                .first()
                .map_or("value", |s| s.name.as_str())
        )));
    }
    let mut steps = Vec::new();
    if let (false, Some(urn)) = (r.is_core, r.schema) {
        steps.push(Step::Key(urn.to_string()));
    }
    steps.push(Step::Key(r.attr.name.clone()));
    if let Some(filter) = filter {
        if !(r.attr.multi_valued && r.attr.kind == AttrType::Complex) {
            return Err(ScimError::InvalidPath(format!(
                "'{}' is not a multi-valued complex attribute, so it takes no [filter]",
                r.attr.name
            )));
        }
        let equalities = Cond::compile(filter, r.attr)?
            .equalities()
            .ok_or_else(|| only_equalities(text))?;
        steps.push(Step::Where(
            equalities
                .into_iter()
                .map(|(sub, value)| Equal {
                    key: sub.name.clone(),
                    value,
                    case_exact: sub.case_exact,
                })
                .collect(),
        ));
    }
    if let Some(sub) = r.sub {
        steps.push(Step::Key(sub.name.clone()));
    }
    Ok(steps)
}

fn only_equalities(text: &str) -> ScimError {
    ScimError::InvalidPath(format!(
        "'{text}': the [filter] of a source path picks one element with 'eq' tests joined by \
         'and', e.g. addresses[type eq \"work\"].locality"
    ))
}

/// A field of Google's user record (Admin SDK `User` resource): dotted names, each optionally
/// with a [filter] of `eq` tests picking an element of a list, e.g.
/// `organizations[primary eq true].costCenter`, `customSchemas.Employment.badge`. Google's
/// record has no schema here, so any names are taken, and compared as Google spells them.
fn google_steps(text: &str) -> ScimResult<Vec<Step>> {
    let mut steps = vec![Step::Key(GOOGLE_USER_SCHEMA.to_string())];
    for segment in segments(text).ok_or_else(|| unparsable(text, "unbalanced '[' ']'"))? {
        let (name, filter) = match segment.split_once('[') {
            Some((name, _)) => {
                // The PATCH grammar parses the filter: `name[...]` is a value path.
                let parsed = segment
                    .parse::<PatchPath>()
                    .map_err(|e| unparsable(text, e))?;
                let PatchPath::Value(vp) = parsed else {
                    return Err(unparsable(text, format!("'{segment}' has no [filter]")));
                };
                (name, Some(vp.filter))
            }
            None => (segment, None),
        };
        let one_name = plain_attr_path(name).is_some_and(|p| p.sub_attr.is_none());
        if !one_name {
            return Err(unparsable(text, format!("'{name}' is not a field name")));
        }
        steps.push(Step::Key(name.to_string()));
        if let Some(filter) = filter {
            let mut tests = Vec::new();
            google_equalities(&filter, &mut tests).ok_or_else(|| only_equalities(text))?;
            steps.push(Step::Where(tests));
        }
    }
    Ok(steps)
}

/// `text` split at the dots outside brackets; `None` when the brackets do not balance.
fn segments(text: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut quoted) = (0usize, 0, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.checked_sub(1)?,
            '.' if !quoted && depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    (depth == 0 && !quoted).then_some(out)
}

fn google_equalities(f: &ValFilter, out: &mut Vec<Equal>) -> Option<()> {
    match f {
        ValFilter::Attr(AttrExp::Comparison(
            AttrPath {
                name,
                sub_attr: None,
                ..
            },
            CompareOp::Eq,
            v,
        )) => {
            let value = match v {
                CompValue::Str(s) => Value::String(s.clone()),
                CompValue::True => Value::Bool(true),
                CompValue::False => Value::Bool(false),
                CompValue::Number(n) => Value::Number(n.clone()),
                CompValue::Null => return None,
            };
            out.push(Equal {
                key: name.clone(),
                value,
                case_exact: true,
            });
            Some(())
        }
        ValFilter::And(items) => items
            .as_slice()
            .iter()
            .try_for_each(|i| google_equalities(i, out)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(k: &str) -> Step {
        Step::Key(k.into())
    }

    #[test]
    fn scim_paths_resolve_to_steps() {
        let reg = SchemaRegistry::builtin();
        let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let cases = [
            (
                format!("{enterprise}:costCenter"),
                vec![key(enterprise), key("costCenter")],
            ),
            (
                format!("{enterprise}:manager.value"),
                vec![key(enterprise), key("manager"), key("value")],
            ),
            ("title".into(), vec![key("title")]),
            ("NAME.givenName".into(), vec![key("name"), key("givenName")]),
            (
                "addresses[type eq \"work\"].locality".into(),
                vec![
                    key("addresses"),
                    Step::Where(vec![Equal {
                        key: "type".into(),
                        value: json!("work"),
                        case_exact: false,
                    }]),
                    key("locality"),
                ],
            ),
        ];
        for (text, steps) in cases {
            let parsed = parse(&reg, SourceKind::Scim, &text).unwrap();
            assert_eq!(parsed.steps, steps, "{text}");
        }
    }

    #[test]
    fn bad_scim_paths_say_why() {
        let reg = SchemaRegistry::builtin();
        let cases = [
            ("", "1 to 1024 characters"),
            ("noSuchThing", "names no attribute"),
            ("name", "complex attribute 'name'"),
            (
                "addresses[type eq \"work\"]",
                "complex attribute 'addresses'",
            ),
            (
                "addresses[type co \"w\"].locality",
                "'eq' tests joined by 'and'",
            ),
            ("title[type eq \"x\"]", "takes no [filter]"),
            ("emails[", "cannot parse"),
            (
                "addresses[nope eq \"x\"].locality",
                "no sub-attribute 'nope'",
            ),
        ];
        for (text, why) in cases {
            let e = parse(&reg, SourceKind::Scim, text).unwrap_err().to_string();
            assert!(e.contains(why), "{text}: {e}");
        }
    }

    #[test]
    fn google_paths_walk_google_record() {
        let reg = SchemaRegistry::builtin();
        let parsed = parse(
            &reg,
            SourceKind::Google,
            "organizations[primary eq true and type eq \"work\"].costCenter",
        )
        .unwrap();
        assert_eq!(
            parsed.steps,
            vec![
                key(GOOGLE_USER_SCHEMA),
                key("organizations"),
                Step::Where(vec![
                    Equal {
                        key: "primary".into(),
                        value: json!(true),
                        case_exact: true
                    },
                    Equal {
                        key: "type".into(),
                        value: json!("work"),
                        case_exact: true
                    },
                ]),
                key("costCenter"),
            ]
        );
        let custom = parse(&reg, SourceKind::Google, "customSchemas.Employment.badge").unwrap();
        assert_eq!(
            custom.steps,
            vec![
                key(GOOGLE_USER_SCHEMA),
                key("customSchemas"),
                key("Employment"),
                key("badge")
            ]
        );
        for bad in ["a..b", "a[b eq \"c\"", "a[b co \"c\"].d", "a b"] {
            assert!(parse(&reg, SourceKind::Google, bad).is_err(), "{bad}");
        }
    }
}
