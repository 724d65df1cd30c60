//! A value filter (`emails[type eq "work"]`) evaluated in memory on the elements of one
//! attribute, for PATCH paths. It means what the same filter means in a list, where SQL
//! evaluates it (`store::filter`): strings of `caseExact: false` attributes compare folded by
//! `fold_case` (the function that made the `_ci` columns SQL compares), strings order by
//! bytes (both backends compare bytes, `COLLATE "C"` on PostgreSQL), dateTimes as instants and
//! numbers as numbers.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::DateTime;
use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, ValFilter};
use serde_json::{Map, Value};

use super::error::{ScimError, ScimResult};
use super::patch::is_unassigned;
use super::resource::get_ci;
use super::schema::{AttrType, Attribute};
use crate::domain::index::fold_case;

/// A string as comparisons see it: as is for a `caseExact` attribute, else folded.
fn text_key<'s>(sub: &Attribute, s: &'s str) -> Cow<'s, str> {
    if sub.case_exact {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(fold_case(s))
    }
}

/// Whether two values of `sub` are the same string, as `eq` compares them.
pub(super) fn same_text(sub: &Attribute, a: &str, b: &str) -> bool {
    text_key(sub, a) == text_key(sub, b)
}

/// A value filter checked against the attribute's sub-attributes.
pub(super) enum Cond<'a> {
    Present(&'a Attribute),
    Compare(&'a Attribute, CompareOp, CompValue),
    Not(Box<Cond<'a>>),
    All(Vec<Cond<'a>>),
    Any(Vec<Cond<'a>>),
}

impl<'a> Cond<'a> {
    /// Resolves and type-checks `f` (depth is bounded by the `scim_v2` parser).
    pub(super) fn compile(f: &ValFilter, parent: &'a Attribute) -> ScimResult<Cond<'a>> {
        Ok(match f {
            ValFilter::Attr(AttrExp::Present(path)) => Cond::Present(sub_of(path, parent)?),
            ValFilter::Attr(AttrExp::Comparison(path, op, v)) => {
                let sub = sub_of(path, parent)?;
                check_comparison(parent, sub, op, v)?;
                Cond::Compare(sub, op.clone(), v.clone())
            }
            ValFilter::Not(inner) => Cond::Not(Box::new(Cond::compile(inner, parent)?)),
            ValFilter::And(items) => Cond::All(
                items
                    .as_slice()
                    .iter()
                    .map(|i| Cond::compile(i, parent))
                    .collect::<ScimResult<_>>()?,
            ),
            ValFilter::Or(items) => Cond::Any(
                items
                    .as_slice()
                    .iter()
                    .map(|i| Cond::compile(i, parent))
                    .collect::<ScimResult<_>>()?,
            ),
        })
    }

    pub(super) fn matches(&self, item: &Value) -> bool {
        let Value::Object(obj) = item else {
            return false;
        };
        self.matches_obj(obj)
    }

    fn matches_obj(&self, obj: &Map<String, Value>) -> bool {
        match self {
            Cond::Present(sub) => get_ci(obj, &sub.name).is_some_and(|v| match v {
                Value::String(s) => !s.is_empty(),
                other => !is_unassigned(other),
            }),
            Cond::Compare(sub, op, want) => match get_ci(obj, &sub.name) {
                None | Some(Value::Null) => match op {
                    CompareOp::Eq => *want == CompValue::Null,
                    CompareOp::Ne => *want != CompValue::Null,
                    _ => false,
                },
                Some(Value::Array(vs)) => vs.iter().any(|v| compare(sub, op, want, v)),
                Some(v) => compare(sub, op, want, v),
            },
            Cond::Not(inner) => !inner.matches_obj(obj),
            Cond::All(items) => items.iter().all(|c| c.matches_obj(obj)),
            Cond::Any(items) => items.iter().any(|c| c.matches_obj(obj)),
        }
    }

    /// The `sub eq value` pairs of a filter made only of `eq` joined by `and`.
    pub(super) fn equalities(&self) -> Option<Vec<(&'a Attribute, Value)>> {
        match self {
            Cond::Compare(sub, CompareOp::Eq, v) => {
                let json = match v {
                    CompValue::Str(s) => Value::String(s.clone()),
                    CompValue::True => Value::Bool(true),
                    CompValue::False => Value::Bool(false),
                    CompValue::Number(n) => Value::Number(n.clone()),
                    CompValue::Null => return None,
                };
                Some(vec![(*sub, json)])
            }
            Cond::All(items) => {
                let mut out = Vec::new();
                for i in items {
                    out.extend(i.equalities()?);
                }
                Some(out)
            }
            _ => None,
        }
    }
}

fn sub_of<'a>(path: &AttrPath, parent: &'a Attribute) -> ScimResult<&'a Attribute> {
    // `emails[emails.type eq "work"]` names the sub-attribute through its parent.
    let name = match &path.sub_attr {
        Some(s) if path.name.eq_ignore_ascii_case(&parent.name) => s,
        Some(_) => {
            return Err(ScimError::InvalidFilter(format!(
                "'{path}' inside '{}[...]' must name a sub-attribute of '{}'",
                parent.name, parent.name
            )));
        }
        None => &path.name,
    };
    parent.sub_attribute(name).ok_or_else(|| {
        ScimError::InvalidFilter(format!("'{}' has no sub-attribute '{name}'", parent.name))
    })
}

fn check_comparison(
    parent: &Attribute,
    sub: &Attribute,
    op: &CompareOp,
    v: &CompValue,
) -> ScimResult<()> {
    let name = format!("{}.{}", parent.name, sub.name);
    let bad = |why: String| Err(ScimError::InvalidFilter(why));
    if *v == CompValue::Null {
        return match op {
            CompareOp::Eq | CompareOp::Ne => Ok(()),
            _ => bad(format!(
                "'{op} null' is not a comparison; use 'eq null', 'ne null' or 'pr'"
            )),
        };
    }
    let ordering = matches!(
        op,
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
    );
    let substring = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
    match sub.kind {
        AttrType::String | AttrType::Reference | AttrType::Binary => {
            if !matches!(v, CompValue::Str(_)) {
                return bad(format!(
                    "'{name}' is a string; compare it with a quoted string"
                ));
            }
            if sub.kind == AttrType::Binary && ordering {
                return bad(format!(
                    "'{name}' is binary and cannot be ordered with '{op}'"
                ));
            }
        }
        AttrType::Boolean => {
            if !matches!(v, CompValue::True | CompValue::False) {
                return bad(format!(
                    "'{name}' is a boolean; compare it with true or false"
                ));
            }
            if ordering || substring {
                return bad(format!("'{name}' is a boolean; only 'eq' and 'ne' apply"));
            }
        }
        AttrType::Integer | AttrType::Decimal => {
            if !matches!(v, CompValue::Number(_)) {
                return bad(format!("'{name}' is a number; compare it with a number"));
            }
            if substring {
                return bad(format!("'{name}' is a number; '{op}' applies to strings"));
            }
        }
        AttrType::DateTime => {
            let CompValue::Str(s) = v else {
                return bad(format!(
                    "'{name}' is a dateTime; compare it with a quoted RFC 3339 time"
                ));
            };
            if DateTime::parse_from_rfc3339(s).is_err() {
                return bad(format!(
                    "'{s}' is not an RFC 3339 time (e.g. \"2024-05-01T12:00:00Z\")"
                ));
            }
            if substring {
                return bad(format!("'{name}' is a dateTime; '{op}' applies to strings"));
            }
        }
        AttrType::Complex => {
            return bad(format!("'{name}' is complex and cannot be compared"));
        }
    }
    Ok(())
}

fn compare(sub: &Attribute, op: &CompareOp, want: &CompValue, have: &Value) -> bool {
    let ordered = |o: Option<Ordering>| match (op, o) {
        (CompareOp::Eq, Some(o)) => o == Ordering::Equal,
        (CompareOp::Ne, Some(o)) => o != Ordering::Equal,
        (CompareOp::Ne, None) => true,
        (CompareOp::Gt, Some(o)) => o == Ordering::Greater,
        (CompareOp::Ge, Some(o)) => o != Ordering::Less,
        (CompareOp::Lt, Some(o)) => o == Ordering::Less,
        (CompareOp::Le, Some(o)) => o != Ordering::Greater,
        _ => false,
    };
    match (sub.kind, want, have) {
        (_, CompValue::Null, _) => *op == CompareOp::Ne,
        (AttrType::DateTime, CompValue::Str(w), Value::String(h)) => {
            match (
                DateTime::parse_from_rfc3339(h),
                DateTime::parse_from_rfc3339(w),
            ) {
                (Ok(h), Ok(w)) => ordered(Some(h.cmp(&w))),
                _ => ordered(None),
            }
        }
        (_, CompValue::Str(w), Value::String(h)) => {
            let (h, w) = (text_key(sub, h), text_key(sub, w));
            match op {
                CompareOp::Co => h.contains(w.as_ref()),
                CompareOp::Sw => h.starts_with(w.as_ref()),
                CompareOp::Ew => h.ends_with(w.as_ref()),
                _ => ordered(Some(h.cmp(&w))),
            }
        }
        (_, CompValue::True, Value::Bool(h)) => ordered(Some(h.cmp(&true))),
        (_, CompValue::False, Value::Bool(h)) => ordered(Some(h.cmp(&false))),
        (_, CompValue::Number(w), Value::Number(h)) => match (h.as_f64(), w.as_f64()) {
            (Some(h), Some(w)) => ordered(h.partial_cmp(&w)),
            _ => ordered(None),
        },
        _ => ordered(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{Mutability, ResourceKind, SchemaRegistry};
    use scim_v2::filter::PatchPath;
    use serde_json::json;

    #[test]
    fn value_filters() {
        let reg = SchemaRegistry::builtin();
        let emails = reg
            .core_schema(ResourceKind::User)
            .attribute("emails")
            .unwrap();
        let elem = json!({"value": "Babs@Jensen.org", "type": "home", "primary": false});
        let cases = [
            ("value eq \"babs@jensen.org\"", true),
            ("value ne \"babs@jensen.org\"", false),
            ("value co \"JENSEN\"", true),
            ("value sw \"babs\"", true),
            ("value ew \".ORG\"", true),
            ("value gt \"a\"", true),
            ("value ge \"babs@jensen.org\"", true),
            ("value lt \"a\"", false),
            ("value le \"c\"", true),
            ("display pr", false),
            ("type pr", true),
            ("display eq null", true),
            ("display ne \"x\"", true),
            ("primary eq false", true),
            ("primary ne false", false),
            ("not (type eq \"home\")", false),
            ("type eq \"work\" or primary eq false", true),
            ("type eq \"home\" and primary eq true", false),
            ("emails.type eq \"home\"", true),
        ];
        for (filter, want) in cases {
            let path: PatchPath = format!("emails[{filter}]").parse().unwrap();
            let PatchPath::Value(vp) = path else {
                panic!("{filter}")
            };
            let cond = Cond::compile(&vp.filter, emails).unwrap();
            assert_eq!(cond.matches(&elem), want, "{filter}");
        }
        // case-exact sub-attributes compare exactly; numbers and dateTimes by value.
        let mk = |name: &str, kind: AttrType, case_exact: bool| Attribute {
            name: name.into(),
            kind,
            multi_valued: false,
            required: false,
            case_exact,
            mutability: Mutability::ReadWrite,
            returned: Default::default(),
            uniqueness: Default::default(),
            sub_attributes: vec![],
            canonical_values: vec![],
            reference_types: vec![],
            description: None,
        };
        let mut parent = mk("things", AttrType::Complex, false);
        parent.multi_valued = true;
        parent.sub_attributes = vec![
            mk("code", AttrType::String, true),
            mk("n", AttrType::Integer, false),
            mk("at", AttrType::DateTime, false),
        ];
        let elem = json!({"code": "AbC", "n": 10, "at": "2024-05-01T12:00:00+02:00"});
        let cases = [
            ("code eq \"abc\"", Some(false)),
            ("code eq \"AbC\"", Some(true)),
            ("n gt 9.5", Some(true)),
            ("n le 10", Some(true)),
            ("n eq \"10\"", None),
            ("n co 1", None),
            ("at eq \"2024-05-01T10:00:00Z\"", Some(true)),
            ("at lt \"2024-05-01T10:00:01Z\"", Some(true)),
            ("at gt \"yesterday\"", None),
        ];
        for (filter, want) in cases {
            let path: PatchPath = format!("things[{filter}]").parse().unwrap();
            let PatchPath::Value(vp) = path else {
                panic!("{filter}")
            };
            match (Cond::compile(&vp.filter, &parent), want) {
                (Ok(c), Some(w)) => assert_eq!(c.matches(&elem), w, "{filter}"),
                (Err(ScimError::InvalidFilter(_)), None) => {}
                (got, _) => panic!("{filter}: {:?}", got.map(|_| ())),
            }
        }
    }

    #[test]
    fn strings_fold_and_order_as_the_sql_side_does() {
        let reg = SchemaRegistry::builtin();
        let emails = reg
            .core_schema(ResourceKind::User)
            .attribute("emails")
            .unwrap();
        // (stored `type`, filter, matches): folded by `fold_case`, ordered by bytes.
        let cases = [
            ("İstanbul", r#"type eq "İSTANBUL""#, true),
            ("STRAẞE", r#"type eq "straße""#, true),
            ("STRASSE", r#"type eq "straße""#, false),
            ("\u{212A}elvin", r#"type eq "kelvin""#, true),
            ("ΟΔΟΣ", r#"type ew "ς""#, true),
            ("ΟΔΟΣ", r#"type ew "σ""#, false),
            ("éclair", r#"type gt "z""#, true),
            ("Zebra", r#"type gt "é""#, false),
            ("a-b", r#"type lt "ab""#, true),
            ("Bob", r#"type gt "a""#, true),
        ];
        for (stored, filter, want) in cases {
            let path: PatchPath = format!("emails[{filter}]").parse().unwrap();
            let PatchPath::Value(vp) = path else {
                panic!("{filter}")
            };
            let cond = Cond::compile(&vp.filter, emails).unwrap();
            let elem = json!({"value": "x@example.com", "type": stored});
            assert_eq!(cond.matches(&elem), want, "{stored:?} {filter}");
        }
    }
}
