//! PATCH (RFC 7644 §3.5.2): parsing a PatchOp request and applying it to a canonical document.
//!
//! [`apply`] works on the document [`canonicalize`](super::resource::canonicalize) produced and
//! leaves deep type checks to the caller, who re-runs `canonicalize` on the result. Operations
//! are applied in order to a copy; on any error the document is left as it was.
//!
//! Semantics beyond the RFC's letter, chosen to match what identity providers send:
//!
//! - `replace` on a single-valued complex attribute merges the given sub-attributes (the RFC's
//!   rule for complex targets); on a multi-valued attribute it replaces all values;
//! - a `null` value with `replace` unassigns the target; with `add` it changes nothing;
//! - `add` through a value path that matches nothing creates the element, copying the
//!   filter's `eq` comparisons (`emails[type eq "work"].value` → `{"type": "work", "value": …}`);
//!   `replace` through such a path is `noTarget`; `remove` is a no-op;
//! - `remove` of a multi-valued attribute *with* a value removes only the elements that match
//!   the given ones (Microsoft Entra's shape, generalised from `members`);
//! - in path-less operations, keys naming `readOnly` attributes (`id`, `meta`, `groups`), the
//!   `schemas` key and unknown attributes are ignored, as in a PUT body; an explicit `path` to
//!   a `readOnly` attribute is a `mutability` error, and one to an unknown attribute
//!   `invalidPath`;
//! - a Group's `members` never touch the document: operations on them come back as
//!   [`MemberChange`]s, in order, so that membership can be changed in proportion to the
//!   change rather than to the group.

use scim_v2::filter::{AttrExp, CompValue, CompareOp, PatchPath, PatchValuePath, ValFilter};
use serde_json::{Map, Value};

use super::error::{ScimError, ScimResult};
use super::filter::plain_attr_path;
use super::filter_eval::{Cond, same_text};
use super::resource::{MemberRef, get_ci, members_from_value, split_qualified};
use super::schema::{
    AttrType, Attribute, Mutability, PATCH_OP_SCHEMA, ResourceKind, Schema, SchemaRegistry,
};

/// Requests with more operations are refused.
pub const MAX_OPERATIONS: usize = 1000;
/// Longer paths are refused before parsing.
pub const MAX_PATH_LEN: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

impl OpKind {
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Replace => "replace",
            OpKind::Remove => "remove",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: OpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// A change to a Group's membership, in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    Add(Vec<MemberRef>),
    Remove(Vec<String>),
    RemoveAll,
    ReplaceAll(Vec<MemberRef>),
}

/// Reads a PatchOp request body.
pub fn parse_request(body: &Value) -> ScimResult<Vec<PatchOperation>> {
    let Value::Object(obj) = body else {
        return Err(ScimError::InvalidSyntax(
            "the request body must be a JSON object".into(),
        ));
    };
    match get_ci(obj, "schemas") {
        Some(Value::Array(items)) => {
            if !items.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA))
            }) {
                return Err(ScimError::InvalidValue(format!(
                    "'schemas' must list '{PATCH_OP_SCHEMA}'"
                )));
            }
        }
        Some(_) => {
            return Err(ScimError::InvalidSyntax(
                "'schemas' must be an array of strings".into(),
            ));
        }
        None => {
            return Err(ScimError::InvalidValue(format!(
                "'schemas' is required and must list '{PATCH_OP_SCHEMA}'"
            )));
        }
    }
    let ops = match get_ci(obj, "Operations") {
        Some(Value::Array(ops)) => ops,
        Some(_) => {
            return Err(ScimError::InvalidSyntax(
                "'Operations' must be an array".into(),
            ));
        }
        None => {
            return Err(ScimError::InvalidValue(
                "'Operations' is required: a PATCH request needs at least one operation".into(),
            ));
        }
    };
    if ops.is_empty() {
        return Err(ScimError::InvalidValue(
            "'Operations' is empty: a PATCH request needs at least one operation".into(),
        ));
    }
    if ops.len() > MAX_OPERATIONS {
        return Err(ScimError::InvalidValue(format!(
            "a PATCH request may carry at most {MAX_OPERATIONS} operations; this one has {}",
            ops.len()
        )));
    }
    ops.iter()
        .enumerate()
        .map(|(i, op)| parse_operation(op).map_err(|e| in_operation(i, e)))
        .collect()
}

fn parse_operation(op: &Value) -> ScimResult<PatchOperation> {
    let Value::Object(obj) = op else {
        return Err(ScimError::InvalidSyntax(
            "an operation must be an object".into(),
        ));
    };
    let kind = match get_ci(obj, "op") {
        Some(Value::String(s)) if s.eq_ignore_ascii_case("add") => OpKind::Add,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("replace") => OpKind::Replace,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("remove") => OpKind::Remove,
        Some(Value::String(s)) => {
            return Err(ScimError::InvalidValue(format!(
                "'op' must be \"add\", \"replace\" or \"remove\", not \"{s}\""
            )));
        }
        Some(_) => return Err(ScimError::InvalidSyntax("'op' must be a string".into())),
        None => return Err(ScimError::InvalidSyntax("'op' is required".into())),
    };
    let path = match get_ci(obj, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) if s.len() > MAX_PATH_LEN => {
            return Err(ScimError::InvalidPath(format!(
                "'path' is longer than {MAX_PATH_LEN} characters"
            )));
        }
        Some(Value::String(s)) => Some(match plain_attr_path(s.trim()) {
            Some(plain) => PatchPath::Attr(plain),
            None => s
                .parse::<PatchPath>()
                .map_err(|e| ScimError::InvalidPath(format!("cannot parse path '{s}': {e}")))?,
        }),
        Some(_) => return Err(ScimError::InvalidSyntax("'path' must be a string".into())),
    };
    let value = get_ci(obj, "value").cloned();
    match kind {
        OpKind::Add | OpKind::Replace if value.is_none() => Err(ScimError::InvalidValue(format!(
            "'{}' needs a 'value'",
            kind.name()
        ))),
        OpKind::Remove if path.is_none() => Err(ScimError::NoTarget(
            "'remove' needs a 'path' naming what to remove".into(),
        )),
        _ => Ok(PatchOperation {
            op: kind,
            path,
            value,
        }),
    }
}

/// Prefixes an error's detail with the operation it came from.
fn in_operation(i: usize, e: ScimError) -> ScimError {
    e.map_detail(|m| format!("Operations[{i}]: {m}"))
}

/// Applies `ops` in order to `doc` (a canonical document without Group members) and returns
/// the membership changes they ask for. On error `doc` is unchanged.
pub fn apply(
    reg: &SchemaRegistry,
    kind: ResourceKind,
    doc: &mut Map<String, Value>,
    ops: &[PatchOperation],
) -> ScimResult<Vec<MemberChange>> {
    let mut work = doc.clone();
    let mut patcher = Patcher {
        reg,
        kind,
        doc: &mut work,
        changes: Vec::new(),
    };
    for (i, op) in ops.iter().enumerate() {
        patcher.operation(op).map_err(|e| in_operation(i, e))?;
    }
    let changes = patcher.changes;
    *doc = work;
    Ok(changes)
}

/// What a path names.
enum Target<'r> {
    /// A Group's `members`.
    Members,
    /// A whole extension object, named by its bare URN.
    Extension(&'r Schema),
    /// An attribute, in the core document (`ext: None`) or in an extension object.
    Attr {
        ext: Option<&'r Schema>,
        attr: &'r Attribute,
        sub: Option<&'r Attribute>,
    },
}

struct Patcher<'r, 'd> {
    reg: &'r SchemaRegistry,
    kind: ResourceKind,
    doc: &'d mut Map<String, Value>,
    changes: Vec<MemberChange>,
}

impl<'r> Patcher<'r, '_> {
    fn operation(&mut self, op: &PatchOperation) -> ScimResult<()> {
        let value = op.value.as_ref();
        if op.op != OpKind::Remove && value.is_none() {
            return Err(ScimError::InvalidValue(format!(
                "'{}' needs a 'value'",
                op.op.name()
            )));
        }
        match &op.path {
            None => self.pathless(op.op, value),
            Some(PatchPath::Attr(path)) => {
                let shown = path.to_string();
                let target = self
                    .target(path.uri.as_deref(), &path.name, path.sub_attr.as_deref())
                    .ok_or_else(|| self.unknown_path(&shown))?;
                self.at_target(op.op, target, value, &shown, true)
            }
            Some(PatchPath::Value(vp)) => self.value_path(op.op, vp, value),
        }
    }

    fn unknown_path(&self, shown: &str) -> ScimError {
        ScimError::InvalidPath(format!(
            "'{shown}' names no attribute of the {} resource type",
            self.kind.name()
        ))
    }

    /// Resolves `[uri:]name[.sub]`; `None` when the resource type has no such attribute.
    fn target(&self, uri: Option<&str>, name: &str, sub: Option<&str>) -> Option<Target<'r>> {
        if let (Some(uri), None) = (uri, sub)
            && let Some(ext) = self.reg.extension(self.kind, &format!("{uri}:{name}"))
        {
            return Some(Target::Extension(ext));
        }
        let r = self.reg.resolve(self.kind, uri, name, sub)?;
        if self.kind == ResourceKind::Group && r.is_core && r.attr.name == "members" {
            // `members.value` and friends are caught where the sub-attribute matters.
            if r.sub.is_none() {
                return Some(Target::Members);
            }
        }
        let ext = if r.is_core {
            None
        } else {
            Some(self.reg.extension(self.kind, r.schema?)?)
        };
        Some(Target::Attr {
            ext,
            attr: r.attr,
            sub: r.sub,
        })
    }

    /// An operation without `path`: `value` holds attributes of the resource.
    fn pathless(&mut self, op: OpKind, value: Option<&Value>) -> ScimResult<()> {
        let Some(Value::Object(attrs)) = value else {
            return Err(match op {
                OpKind::Remove => {
                    ScimError::NoTarget("'remove' needs a 'path' naming what to remove".into())
                }
                _ => ScimError::InvalidValue(format!(
                    "'{}' without a 'path' needs an object of attributes as its 'value'",
                    op.name()
                )),
            });
        };
        for (key, v) in attrs {
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            if let Some(ext) = self.reg.extension(self.kind, key) {
                self.at_target(op, Target::Extension(ext), Some(v), &ext.id, false)?;
                continue;
            }
            self.attribute_entry(op, None, key, v)?;
        }
        Ok(())
    }

    /// One `key: value` of a path-less value or of a whole-extension value. `key` may be
    /// URN-qualified and may name a sub-attribute (`name.givenName`).
    fn attribute_entry(
        &mut self,
        op: OpKind,
        ext: Option<&Schema>,
        key: &str,
        v: &Value,
    ) -> ScimResult<()> {
        let (uri, rest) = match ext {
            Some(s) => (Some(s.id.as_str()), key),
            None => split_qualified(key),
        };
        let (name, sub) = match rest.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (rest, None),
        };
        let shown = match ext {
            Some(s) => format!("{}:{key}", s.id),
            None => key.to_string(),
        };
        match self.target(uri, name, sub) {
            None => Ok(()),
            Some(t) => self.at_target(op, t, Some(v), &shown, false),
        }
    }

    /// Applies `op` at a resolved target. `explicit` is false for the entries of a path-less
    /// value, where read-only attributes are skipped instead of refused.
    fn at_target(
        &mut self,
        op: OpKind,
        target: Target<'r>,
        value: Option<&Value>,
        shown: &str,
        explicit: bool,
    ) -> ScimResult<()> {
        match target {
            Target::Members => self.members(op, value),
            Target::Extension(ext) => self.extension(op, ext, value, shown),
            Target::Attr { ext, attr, sub } => {
                let read_only = attr.mutability == Mutability::ReadOnly
                    || sub.is_some_and(|s| s.mutability == Mutability::ReadOnly);
                if read_only {
                    return if explicit {
                        Err(ScimError::Mutability(format!(
                            "attribute '{shown}' is readOnly and cannot be changed"
                        )))
                    } else {
                        Ok(())
                    };
                }
                if self.kind == ResourceKind::Group && attr.name == "members" {
                    return Err(members_whole());
                }
                let immutable = attr.mutability == Mutability::Immutable
                    || sub.is_some_and(|s| s.mutability == Mutability::Immutable);
                with_container(self.doc, ext, |c| {
                    if immutable {
                        let present = get_ci(c, &attr.name).is_some_and(|v| match sub {
                            None => true,
                            Some(s) => has_sub(v, &s.name),
                        });
                        if op != OpKind::Add || present {
                            return Err(immutable_error(shown));
                        }
                    }
                    update(c, &attr.name, |current| {
                        plain(op, attr, sub, current, value, shown)
                    })
                })
            }
        }
    }

    fn extension(
        &mut self,
        op: OpKind,
        ext: &'r Schema,
        value: Option<&Value>,
        shown: &str,
    ) -> ScimResult<()> {
        match (op, value) {
            (OpKind::Remove, _) | (OpKind::Replace, Some(Value::Null)) => {
                if let Some(k) = find_key(self.doc, &ext.id) {
                    self.doc.remove(&k);
                }
                Ok(())
            }
            (OpKind::Add, Some(Value::Null)) => Ok(()),
            (_, Some(Value::Object(attrs))) => {
                for (k, v) in attrs {
                    self.attribute_entry(op, Some(ext), k, v)?;
                }
                Ok(())
            }
            _ => Err(ScimError::InvalidValue(format!(
                "the value for '{shown}' must be an object of the extension's attributes"
            ))),
        }
    }

    fn members(&mut self, op: OpKind, value: Option<&Value>) -> ScimResult<()> {
        let change = match (op, value) {
            (OpKind::Add, None | Some(Value::Null)) => None,
            (OpKind::Add, Some(v)) => {
                let list = member_list(v)?;
                (!list.is_empty()).then_some(MemberChange::Add(list))
            }
            (OpKind::Replace, None | Some(Value::Null)) => Some(MemberChange::ReplaceAll(vec![])),
            (OpKind::Replace, Some(v)) => Some(MemberChange::ReplaceAll(member_list(v)?)),
            (OpKind::Remove, None | Some(Value::Null)) => Some(MemberChange::RemoveAll),
            (OpKind::Remove, Some(v)) => {
                let ids: Vec<String> = member_list(v)?.into_iter().map(|m| m.value).collect();
                (!ids.is_empty()).then_some(MemberChange::Remove(ids))
            }
        };
        self.changes.extend(change);
        Ok(())
    }

    fn value_path(
        &mut self,
        op: OpKind,
        vp: &PatchValuePath,
        value: Option<&Value>,
    ) -> ScimResult<()> {
        let shown = vp.to_string();
        let attr_shown = vp.attr.to_string();
        if vp.attr.sub_attr.is_some() {
            return Err(ScimError::InvalidPath(format!(
                "'{shown}': a [filter] follows an attribute, not a sub-attribute"
            )));
        }
        let target = self
            .target(vp.attr.uri.as_deref(), &vp.attr.name, None)
            .ok_or_else(|| self.unknown_path(&attr_shown))?;
        let (ext, attr) = match target {
            Target::Members => return self.member_value_path(op, vp),
            Target::Extension(_) => {
                return Err(ScimError::InvalidPath(format!(
                    "'{shown}': a schema URN takes no [filter]"
                )));
            }
            Target::Attr { ext, attr, .. } => (ext, attr),
        };
        if !(attr.multi_valued && attr.kind == AttrType::Complex) {
            return Err(ScimError::InvalidPath(format!(
                "'{attr_shown}' is not a multi-valued complex attribute, so it takes no [filter]"
            )));
        }
        let sub = match &vp.sub_attr {
            None => None,
            Some(s) => Some(attr.sub_attribute(s).ok_or_else(|| {
                ScimError::InvalidPath(format!(
                    "'{shown}': '{}' has no sub-attribute '{s}'",
                    attr.name
                ))
            })?),
        };
        if attr.mutability == Mutability::ReadOnly
            || sub.is_some_and(|s| s.mutability == Mutability::ReadOnly)
        {
            return Err(ScimError::Mutability(format!(
                "attribute '{shown}' is readOnly and cannot be changed"
            )));
        }
        let immutable = attr.mutability == Mutability::Immutable
            || sub.is_some_and(|s| s.mutability == Mutability::Immutable);
        let cond = Cond::compile(&vp.filter, attr)?;
        with_container(self.doc, ext, |c| {
            update(c, &attr.name, |current| {
                let mut items = match current {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) => items,
                    Some(other) => vec![other],
                };
                let matched: Vec<usize> = (0..items.len())
                    .filter(|&i| cond.matches(&items[i]))
                    .collect();
                if immutable && (op != OpKind::Add || !matched.is_empty()) {
                    return Err(immutable_error(&shown));
                }
                filtered(op, attr, sub, &cond, &mut items, &matched, value, &shown)?;
                Ok((!items.is_empty()).then_some(Value::Array(items)))
            })
        })
    }

    /// `members[value eq "id"]` (optionally `or`-ed): removal by id, Okta's shape.
    fn member_value_path(&mut self, op: OpKind, vp: &PatchValuePath) -> ScimResult<()> {
        if op != OpKind::Remove || vp.sub_attr.is_some() {
            return Err(members_whole());
        }
        let mut ids = Vec::new();
        member_ids(&vp.filter, &mut ids)?;
        let mut seen = std::collections::HashSet::new();
        ids.retain(|id| seen.insert(id.clone()));
        self.changes.push(MemberChange::Remove(ids));
        Ok(())
    }
}

fn members_whole() -> ScimError {
    ScimError::Mutability(
        "group members are added and removed whole: use 'add'/'replace'/'remove' with path \
         'members', or 'remove' with path 'members[value eq \"<id>\"]'"
            .into(),
    )
}

fn immutable_error(shown: &str) -> ScimError {
    ScimError::Mutability(format!(
        "attribute '{shown}' is immutable: it may be added when unset, but not changed or removed"
    ))
}

fn member_list(v: &Value) -> ScimResult<Vec<MemberRef>> {
    match v {
        Value::Object(_) => members_from_value(&Value::Array(vec![v.clone()])),
        _ => members_from_value(v),
    }
}

fn member_ids(f: &ValFilter, out: &mut Vec<String>) -> ScimResult<()> {
    match f {
        ValFilter::Attr(AttrExp::Comparison(path, CompareOp::Eq, CompValue::Str(id)))
            if path.uri.is_none()
                && path.sub_attr.is_none()
                && path.name.eq_ignore_ascii_case("value") =>
        {
            out.push(id.clone());
            Ok(())
        }
        ValFilter::Or(items) => items.as_slice().iter().try_for_each(|i| member_ids(i, out)),
        other => Err(ScimError::InvalidFilter(format!(
            "member filters must select members by value, as in members[value eq \"<id>\"] \
             (several joined with 'or'); '{other}' does not"
        ))),
    }
}

/// Runs `f` on the map that holds the attributes of `ext` (the document itself for core and
/// common attributes), creating an extension object as needed and dropping it when emptied.
fn with_container<R>(
    doc: &mut Map<String, Value>,
    ext: Option<&Schema>,
    f: impl FnOnce(&mut Map<String, Value>) -> ScimResult<R>,
) -> ScimResult<R> {
    let Some(ext) = ext else {
        return f(doc);
    };
    let mut inner = match find_key(doc, &ext.id).and_then(|k| doc.remove(&k)) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let result = f(&mut inner);
    if !inner.is_empty() {
        doc.insert(ext.id.clone(), Value::Object(inner));
    }
    result
}

/// Replaces the value under `name` (found in any letter case) by what `f` makes of it; `None`
/// removes it. The result is stored under the schema's spelling.
fn update(
    map: &mut Map<String, Value>,
    name: &str,
    f: impl FnOnce(Option<Value>) -> ScimResult<Option<Value>>,
) -> ScimResult<()> {
    let current = find_key(map, name).and_then(|k| map.remove(&k));
    if let Some(v) = f(current)? {
        map.insert(name.to_string(), v);
    }
    Ok(())
}

fn find_key(map: &Map<String, Value>, name: &str) -> Option<String> {
    if map.contains_key(name) {
        return Some(name.to_string());
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

fn has_sub(v: &Value, sub: &str) -> bool {
    match v {
        Value::Object(o) => get_ci(o, sub).is_some_and(|s| !s.is_null()),
        Value::Array(items) => items.iter().any(|i| has_sub(i, sub)),
        _ => false,
    }
}

pub(super) fn is_unassigned(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Sets `sub` in `obj` under the schema's spelling; `null` removes it.
fn set_sub(obj: &mut Map<String, Value>, sub: &Attribute, v: &Value) {
    if let Some(k) = find_key(obj, &sub.name) {
        obj.remove(&k);
    }
    if !v.is_null() {
        obj.insert(sub.name.clone(), v.clone());
    }
}

fn remove_sub(obj: &mut Map<String, Value>, sub: &Attribute) {
    if let Some(k) = find_key(obj, &sub.name) {
        obj.remove(&k);
    }
}

fn merge_into(obj: &mut Map<String, Value>, attr: &Attribute, value: &Map<String, Value>) {
    for (k, v) in value {
        // Unknown sub-attributes would be dropped by `canonicalize`; keep them out now.
        if let Some(sub) = attr.sub_attribute(k) {
            set_sub(obj, sub, v);
        }
    }
}

fn as_object<'v>(v: &'v Value, shown: &str) -> ScimResult<&'v Map<String, Value>> {
    match v {
        Value::Object(o) => Ok(o),
        _ => Err(ScimError::InvalidValue(format!(
            "the value for '{shown}' must be an object"
        ))),
    }
}

/// Elements to add or set on a multi-valued attribute: an array, or one value.
fn elements(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.iter().filter(|i| !i.is_null()).cloned().collect(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

fn is_primary(v: &Value) -> bool {
    match v {
        Value::Object(o) => matches!(get_ci(o, "primary"), Some(Value::Bool(true))),
        _ => false,
    }
}

/// RFC 7644 §3.5.2: a value made primary by this operation clears `primary` on the others.
fn enforce_primary(attr: &Attribute, items: &mut [Value], touched: &[usize]) {
    if attr.sub_attribute("primary").is_none() {
        return;
    }
    let winners: Vec<usize> = touched
        .iter()
        .copied()
        .filter(|&i| items.get(i).is_some_and(is_primary))
        .collect();
    if winners.is_empty() {
        return;
    }
    for (i, item) in items.iter_mut().enumerate() {
        if winners.contains(&i) || !is_primary(item) {
            continue;
        }
        if let Value::Object(o) = item
            && let Some(k) = find_key(o, "primary")
        {
            o.insert(k, Value::Bool(false));
        }
    }
}

/// add/replace/remove at `attr` or `attr.sub` (no filter). `current` is the attribute's value.
fn plain(
    op: OpKind,
    attr: &Attribute,
    sub: Option<&Attribute>,
    current: Option<Value>,
    value: Option<&Value>,
    shown: &str,
) -> ScimResult<Option<Value>> {
    // `replace` with null unassigns; `add` of null changes nothing.
    let (op, value) = match (op, value) {
        (OpKind::Add, Some(Value::Null)) => return Ok(current),
        (OpKind::Replace, Some(Value::Null)) => (OpKind::Remove, None),
        (OpKind::Remove, _) => (OpKind::Remove, value),
        (_, Some(v)) => (op, Some(v)),
        (_, None) => {
            return Err(ScimError::InvalidValue(format!(
                "'{}' needs a 'value'",
                op.name()
            )));
        }
    };
    match sub {
        None => whole(op, attr, current, value, shown),
        Some(sub) => sub_of_all(op, attr, sub, current, value),
    }
}

fn whole(
    op: OpKind,
    attr: &Attribute,
    current: Option<Value>,
    value: Option<&Value>,
    shown: &str,
) -> ScimResult<Option<Value>> {
    let Some(value) = value else {
        // remove without value
        return Ok(None);
    };
    if op == OpKind::Remove {
        if !attr.multi_valued {
            return Ok(None);
        }
        // Remove only the elements matching those given.
        let Some(current) = current else {
            return Ok(None);
        };
        let mut items = elements(&current);
        let given = elements(value);
        items.retain(|item| !given.iter().any(|g| element_matches(attr, item, g)));
        return Ok((!items.is_empty()).then_some(Value::Array(items)));
    }
    if attr.multi_valued {
        let new = elements(value);
        let mut items = match (op, current) {
            (OpKind::Add, Some(c)) => elements(&c),
            _ => Vec::new(),
        };
        let mut touched = Vec::new();
        for item in new {
            if let Some(pos) = items.iter().position(|i| *i == item) {
                touched.push(pos);
            } else {
                touched.push(items.len());
                items.push(item);
            }
        }
        enforce_primary(attr, &mut items, &touched);
        return Ok((!items.is_empty()).then_some(Value::Array(items)));
    }
    if attr.kind == AttrType::Complex {
        // Both add and replace merge sub-attributes (RFC 7644 §3.5.2.1, §3.5.2.3).
        let given = as_object(value, shown)?;
        let mut obj = match current {
            Some(Value::Object(o)) => o,
            _ => Map::new(),
        };
        merge_into(&mut obj, attr, given);
        return Ok((!obj.is_empty()).then_some(Value::Object(obj)));
    }
    Ok((!is_unassigned(value)).then(|| value.clone()))
}

/// `attr.sub` without a filter: the sub-attribute of the single value, or of every value of a
/// multi-valued attribute (creating one value when there is none).
fn sub_of_all(
    op: OpKind,
    attr: &Attribute,
    sub: &Attribute,
    current: Option<Value>,
    value: Option<&Value>,
) -> ScimResult<Option<Value>> {
    if !attr.multi_valued {
        let mut obj = match current {
            Some(Value::Object(o)) => o,
            _ if op == OpKind::Remove => return Ok(current),
            _ => Map::new(),
        };
        match value {
            Some(v) if op != OpKind::Remove => set_sub(&mut obj, sub, v),
            _ => remove_sub(&mut obj, sub),
        }
        return Ok((!obj.is_empty()).then_some(Value::Object(obj)));
    }
    let mut items = current.as_ref().map(elements).unwrap_or_default();
    match value {
        Some(v) if op != OpKind::Remove => {
            if items.is_empty() {
                items.push(Value::Object(Map::new()));
            }
            for item in &mut items {
                if let Value::Object(o) = item {
                    set_sub(o, sub, v);
                }
            }
        }
        _ => {
            for item in &mut items {
                if let Value::Object(o) = item {
                    remove_sub(o, sub);
                }
            }
        }
    }
    items.retain(|i| !is_unassigned(i));
    Ok((!items.is_empty()).then_some(Value::Array(items)))
}

/// Whether the stored element `item` is one that `given` (from a remove's value) names: all
/// sub-attributes `given` carries are equal, strings compared as the schema says.
fn element_matches(attr: &Attribute, item: &Value, given: &Value) -> bool {
    match (item, given) {
        (Value::Object(i), Value::Object(g)) if !g.is_empty() => g.iter().all(|(k, gv)| {
            let Some(sub) = attr.sub_attribute(k) else {
                return false;
            };
            match (get_ci(i, &sub.name), gv) {
                (Some(Value::String(a)), Value::String(b)) => same_text(sub, a, b),
                (Some(a), b) => a == b,
                (None, b) => b.is_null(),
            }
        }),
        _ => item == given,
    }
}

/// add/replace/remove through `attr[filter]` or `attr[filter].sub`, on the values `items` of
/// which `matched` satisfy the filter.
#[allow(clippy::too_many_arguments)]
fn filtered(
    op: OpKind,
    attr: &Attribute,
    sub: Option<&Attribute>,
    cond: &Cond<'_>,
    items: &mut Vec<Value>,
    matched: &[usize],
    value: Option<&Value>,
    shown: &str,
) -> ScimResult<()> {
    let (op, value) = match (op, value) {
        (OpKind::Add, Some(Value::Null)) => return Ok(()),
        (OpKind::Replace, Some(Value::Null)) | (OpKind::Remove, _) => (OpKind::Remove, None),
        (_, Some(v)) => (op, Some(v)),
        (_, None) => {
            return Err(ScimError::InvalidValue(format!(
                "'{}' needs a 'value'",
                op.name()
            )));
        }
    };
    let Some(value) = value.filter(|_| op != OpKind::Remove) else {
        // remove: the matching values, or their sub-attribute; nothing matching is a no-op.
        match sub {
            None => {
                let mut i = 0;
                items.retain(|_| {
                    i += 1;
                    !matched.contains(&(i - 1))
                });
            }
            Some(sub) => {
                for &i in matched {
                    if let Some(Value::Object(o)) = items.get_mut(i) {
                        remove_sub(o, sub);
                    }
                }
                items.retain(|i| !is_unassigned(i));
            }
        }
        return Ok(());
    };
    if matched.is_empty() {
        if op == OpKind::Replace {
            return Err(ScimError::NoTarget(format!(
                "no value of '{}' matches the filter in '{shown}'",
                attr.name
            )));
        }
        // add through a filter that matches nothing creates the value it describes.
        let Some(equalities) = cond.equalities() else {
            return Err(ScimError::NoTarget(format!(
                "no value of '{}' matches the filter in '{shown}', and a new value can only be \
                 built from 'eq' comparisons joined by 'and'",
                attr.name
            )));
        };
        let mut obj = Map::new();
        for (s, v) in equalities {
            set_sub(&mut obj, s, &v);
        }
        match sub {
            Some(sub) => set_sub(&mut obj, sub, value),
            None => merge_into(&mut obj, attr, as_object(value, shown)?),
        }
        items.push(Value::Object(obj));
        let last = items.len() - 1;
        enforce_primary(attr, items, &[last]);
        return Ok(());
    }
    for &i in matched {
        let Some(item) = items.get_mut(i) else {
            continue;
        };
        match (sub, op) {
            (Some(sub), _) => match item {
                Value::Object(o) => set_sub(o, sub, value),
                _ => {
                    let mut o = Map::new();
                    set_sub(&mut o, sub, value);
                    *item = Value::Object(o);
                }
            },
            (None, OpKind::Replace) => {
                as_object(value, shown)?;
                *item = value.clone();
            }
            (None, _) => {
                let given = as_object(value, shown)?;
                if let Value::Object(o) = item {
                    merge_into(o, attr, given);
                }
            }
        }
    }
    items.retain(|i| !is_unassigned(i));
    // Indices may have shifted if a value was emptied; recompute those now matching.
    let touched: Vec<usize> = (0..items.len())
        .filter(|&i| cond.matches(&items[i]) || (sub.is_none() && items[i] == *value))
        .collect();
    enforce_primary(attr, items, &touched);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::resource::{MemberKind, canonicalize};
    use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
    use serde_json::json;

    const ENT: &str = ENTERPRISE_USER_SCHEMA;

    fn ops(list: Value) -> Vec<PatchOperation> {
        parse_request(&json!({"schemas": [PATCH_OP_SCHEMA], "Operations": list}))
            .unwrap_or_else(|e| panic!("{list}: {e:?}"))
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        }
    }

    fn bjensen() -> Map<String, Value> {
        let body = json!({
            "schemas": [USER_SCHEMA, ENT],
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "title": "Tour Guide",
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            ENT: {"department": "Tour Operations", "manager": {"value": "m1"}},
        });
        canonicalize(&SchemaRegistry::builtin(), ResourceKind::User, &body)
            .unwrap()
            .doc
    }

    /// Applies `list` to bjensen and re-canonicalizes, as the server does.
    fn patch_user(list: Value) -> ScimResult<Value> {
        let reg = SchemaRegistry::builtin();
        let mut doc = bjensen();
        apply(&reg, ResourceKind::User, &mut doc, &ops(list))?;
        let c = canonicalize(&reg, ResourceKind::User, &Value::Object(doc))?;
        Ok(Value::Object(c.doc))
    }

    /// bjensen with `changes` applied to her JSON (`null` removes a key).
    fn bjensen_with(changes: Value) -> Value {
        let mut doc = bjensen();
        for (k, v) in obj(changes) {
            if v.is_null() {
                doc.remove(&k);
            } else {
                doc.insert(k, v);
            }
        }
        Value::Object(doc)
    }

    #[test]
    fn parse_request_rules() {
        let good = |o: Value| json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [o]});
        type Want<'a> = Result<(OpKind, Option<&'a str>), (&'a str, &'a str)>;
        let cases: Vec<(Value, Want)> = vec![
            (
                good(json!({"op": "Add", "path": "title", "value": "x"})),
                Ok((OpKind::Add, Some("title"))),
            ),
            (
                good(json!({"OP": "REPLACE", "Value": {"title": "x"}})),
                Ok((OpKind::Replace, None)),
            ),
            (
                good(json!({"op": "remove", "path": "emails[type eq \"work\"].value"})),
                Ok((OpKind::Remove, Some("emails[type eq \"work\"].value"))),
            ),
            (
                good(
                    json!({"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}),
                ),
                Ok((
                    OpKind::Remove,
                    Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"),
                )),
            ),
            (
                good(json!({"op": "replace", "path": "", "value": {}})),
                Ok((OpKind::Replace, None)),
            ),
            (
                json!({"schemas": [PATCH_OP_SCHEMA.to_lowercase()], "operations": [{"op": "remove", "path": "title"}]}),
                Ok((OpKind::Remove, Some("title"))),
            ),
            (json!([]), Err(("syntax", "must be a JSON object"))),
            (
                json!({"Operations": []}),
                Err(("value", "'schemas' is required")),
            ),
            (
                json!({"schemas": [USER_SCHEMA], "Operations": []}),
                Err(("value", "must list")),
            ),
            (
                json!({"schemas": PATCH_OP_SCHEMA, "Operations": []}),
                Err(("syntax", "'schemas' must be an array")),
            ),
            (
                json!({"schemas": [PATCH_OP_SCHEMA]}),
                Err(("value", "'Operations' is required")),
            ),
            (
                json!({"schemas": [PATCH_OP_SCHEMA], "Operations": []}),
                Err(("value", "'Operations' is empty")),
            ),
            (
                json!({"schemas": [PATCH_OP_SCHEMA], "Operations": {"op": "add"}}),
                Err(("syntax", "'Operations' must be an array")),
            ),
            (
                json!({"schemas": [PATCH_OP_SCHEMA], "Operations": vec![json!({"op": "remove", "path": "title"}); 1001]}),
                Err(("value", "at most 1000 operations; this one has 1001")),
            ),
            (
                good(json!("add")),
                Err(("syntax", "Operations[0]: an operation must be an object")),
            ),
            (
                good(json!({"path": "title"})),
                Err(("syntax", "Operations[0]: 'op' is required")),
            ),
            (
                good(json!({"op": "move", "path": "title"})),
                Err((
                    "value",
                    "Operations[0]: 'op' must be \"add\", \"replace\" or \"remove\", not \"move\"",
                )),
            ),
            (
                good(json!({"op": "add", "path": "title"})),
                Err(("value", "Operations[0]: 'add' needs a 'value'")),
            ),
            (
                good(json!({"op": "replace", "path": 7, "value": 1})),
                Err(("syntax", "'path' must be a string")),
            ),
            (
                good(json!({"op": "remove"})),
                Err(("noTarget", "Operations[0]: 'remove' needs a 'path'")),
            ),
            (
                good(json!({"op": "remove", "path": "emails[type eq]"})),
                Err(("path", "Operations[0]: cannot parse path 'emails[type eq]'")),
            ),
            (
                good(json!({"op": "remove", "path": "a.b.c"})),
                Err(("path", "cannot parse path")),
            ),
            (
                good(json!({"op": "remove", "path": "x".repeat(5000)})),
                Err(("path", "longer than")),
            ),
        ];
        for (body, want) in cases {
            let got = parse_request(&body);
            match (want, got) {
                (Ok((op, path)), Ok(parsed)) => {
                    assert_eq!(parsed.len(), 1, "{body}");
                    assert_eq!(parsed[0].op, op, "{body}");
                    assert_eq!(
                        parsed[0].path.as_ref().map(|p| p.to_string()).as_deref(),
                        path,
                        "{body}"
                    );
                }
                (Err((kind, text)), Err(e)) => {
                    let (got_kind, msg) = match &e {
                        ScimError::InvalidSyntax(m) => ("syntax", m),
                        ScimError::InvalidValue(m) => ("value", m),
                        ScimError::InvalidPath(m) => ("path", m),
                        ScimError::NoTarget(m) => ("noTarget", m),
                        other => panic!("{body}: unexpected {other:?}"),
                    };
                    assert_eq!(got_kind, kind, "{body}: {msg}");
                    assert!(msg.contains(text), "{body}: {msg}");
                }
                (want, got) => panic!("{body}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn user_patches() {
        let cases: Vec<(&str, Value, Value)> = vec![
            // RFC 7644 §3.5.2.1: add with a path, add without a path.
            (
                "add title",
                json!([{"op": "add", "path": "title", "value": "Chief"}]),
                bjensen_with(json!({"title": "Chief"})),
            ),
            (
                "pathless add merges",
                json!([{"op": "add", "value": {"nickName": "Babs", "emails": [{"value": "babs@example.com", "type": "other"}]}}]),
                bjensen_with(json!({"nickName": "Babs", "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"},
                {"value": "babs@example.com", "type": "other"}]})),
            ),
            (
                "add existing element is not duplicated",
                json!([{"op": "add", "path": "emails", "value": [{"value": "babs@jensen.org", "type": "home"}]}]),
                bjensen_with(json!({})),
            ),
            (
                "add single element",
                json!([{"op": "add", "path": "emails", "value": {"value": "x@y", "primary": true}}]),
                bjensen_with(json!({"emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": false},
                {"value": "babs@jensen.org", "type": "home"},
                {"value": "x@y", "primary": true}]})),
            ),
            (
                "case-insensitive names",
                json!([{"op": "Replace", "path": "NAME.GIVENNAME", "value": "Babs"}, {"op": "add", "path": "Title", "value": "T"}]),
                bjensen_with(
                    json!({"name": {"givenName": "Babs", "familyName": "Jensen"}, "title": "T"}),
                ),
            ),
            (
                "core URN path",
                json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:userName", "value": "bj"}]),
                bjensen_with(json!({"userName": "bj"})),
            ),
            // §3.5.2.2 remove.
            (
                "remove single",
                json!([{"op": "remove", "path": "title"}]),
                bjensen_with(json!({"title": null})),
            ),
            (
                "remove absent is no-op",
                json!([{"op": "remove", "path": "nickName"}, {"op": "remove", "path": "phoneNumbers[type eq \"fax\"]"}]),
                bjensen_with(json!({})),
            ),
            (
                "remove filtered",
                json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
                bjensen_with(json!({"emails": [{"value": "babs@jensen.org", "type": "home"}]})),
            ),
            (
                "remove filtered sub",
                json!([{"op": "remove", "path": "emails[type eq \"home\"].type"}]),
                bjensen_with(
                    json!({"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org"}]}),
                ),
            ),
            (
                "remove all values",
                json!([{"op": "remove", "path": "emails"}]),
                bjensen_with(json!({"emails": null})),
            ),
            (
                "remove by value (Entra shape)",
                json!([{"op": "remove", "path": "emails", "value": [{"value": "BABS@jensen.org"}]}]),
                bjensen_with(
                    json!({"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}]}),
                ),
            ),
            (
                "remove sub of single complex",
                json!([{"op": "remove", "path": "name.familyName"}]),
                bjensen_with(json!({"name": {"givenName": "Barbara"}})),
            ),
            // §3.5.2.3 replace.
            (
                "replace multi-valued",
                json!([{"op": "replace", "path": "emails", "value": [{"value": "n@x", "primary": true}]}]),
                bjensen_with(json!({"emails": [{"value": "n@x", "primary": true}]})),
            ),
            (
                "replace complex merges",
                json!([{"op": "replace", "path": "name", "value": {"familyName": "Jensen-Smith"}}]),
                bjensen_with(
                    json!({"name": {"givenName": "Barbara", "familyName": "Jensen-Smith"}}),
                ),
            ),
            (
                "replace filtered sub",
                json!([{"op": "replace", "path": "emails[type eq \"WORK\"].value", "value": "new@example.com"}]),
                bjensen_with(
                    json!({"emails": [{"value": "new@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}]}),
                ),
            ),
            (
                "replace filtered element",
                json!([{"op": "replace", "path": "emails[value co \"jensen.org\"]", "value": {"value": "h@x", "type": "home"}}]),
                bjensen_with(
                    json!({"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "h@x", "type": "home"}]}),
                ),
            ),
            (
                "replace null unassigns",
                json!([{"op": "replace", "path": "title", "value": null}]),
                bjensen_with(json!({"title": null})),
            ),
            (
                "pathless replace",
                json!([{"op": "replace", "value": {"title": "CEO", "active": false, "id": "x", "meta": {}, "schemas": ["x"], "groups": [], "vendor": 1}}]),
                bjensen_with(json!({"title": "CEO", "active": false})),
            ),
            (
                "pathless dotted key",
                json!([{"op": "replace", "value": {"name.givenName": "B"}}]),
                bjensen_with(json!({"name": {"givenName": "B", "familyName": "Jensen"}})),
            ),
            // Value path that matches nothing: add creates, remove is a no-op.
            (
                "add creates element",
                json!([{"op": "add", "path": "emails[type eq \"other\"].value", "value": "o@x"}]),
                bjensen_with(json!({"emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"},
                {"value": "o@x", "type": "other"}]})),
            ),
            (
                "add creates element from and",
                json!([{"op": "add", "path": "phoneNumbers[type eq \"work\" and primary eq true].value", "value": "555"}]),
                bjensen_with(
                    json!({"phoneNumbers": [{"value": "555", "type": "work", "primary": true}]}),
                ),
            ),
            (
                "add through matching path sets",
                json!([{"op": "add", "path": "emails[type eq \"home\"].display", "value": "Home"}]),
                bjensen_with(json!({"emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home", "display": "Home"}]})),
            ),
            // primary uniqueness.
            (
                "primary moves",
                json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]),
                bjensen_with(json!({"emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": false},
                {"value": "babs@jensen.org", "type": "home", "primary": true}]})),
            ),
            // Enterprise extension.
            (
                "ext add",
                json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "701"}]),
                bjensen_with(
                    json!({ENT: {"department": "Tour Operations", "manager": {"value": "m1"}, "employeeNumber": "701"}}),
                ),
            ),
            (
                "ext replace sub, lower-case URN",
                json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager.value", "value": "m2"}]),
                bjensen_with(
                    json!({ENT: {"department": "Tour Operations", "manager": {"value": "m2"}}}),
                ),
            ),
            (
                "ext remove",
                json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}]),
                bjensen_with(json!({ENT: {"manager": {"value": "m1"}}})),
            ),
            (
                "ext remove all",
                json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"},
                                      {"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]),
                bjensen_with(json!({ENT: null, "schemas": [USER_SCHEMA]})),
            ),
            (
                "ext remove whole",
                json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}]),
                bjensen_with(json!({ENT: null, "schemas": [USER_SCHEMA]})),
            ),
            (
                "ext pathless object",
                json!([{"op": "replace", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"Department": "Sales"}}}]),
                bjensen_with(json!({ENT: {"department": "Sales", "manager": {"value": "m1"}}})),
            ),
            (
                "ext pathless qualified key",
                json!([{"op": "add", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter": "7"}}]),
                bjensen_with(
                    json!({ENT: {"department": "Tour Operations", "manager": {"value": "m1"}, "costCenter": "7"}}),
                ),
            ),
            (
                "ext whole path replace",
                json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "value": {"division": "D"}}]),
                bjensen_with(
                    json!({ENT: {"department": "Tour Operations", "manager": {"value": "m1"}, "division": "D"}}),
                ),
            ),
            // Multi-valued sub without filter.
            (
                "sub of all values",
                json!([{"op": "remove", "path": "emails.type"}]),
                bjensen_with(
                    json!({"emails": [{"value": "bjensen@example.com", "primary": true}, {"value": "babs@jensen.org"}]}),
                ),
            ),
            (
                "ops apply in order",
                json!([{"op": "add", "path": "title", "value": "A"}, {"op": "replace", "path": "title", "value": "B"}, {"op": "remove", "path": "nickName"}]),
                bjensen_with(json!({"title": "B"})),
            ),
            // RFC 7644 §3.5.2.3: replace a filtered value, then one sub-attribute of it.
            (
                "rfc replace addresses",
                json!([
                    {"op": "add", "path": "addresses", "value": [
                        {"type": "work", "streetAddress": "100 Old St", "locality": "Hollywood"},
                        {"type": "home", "streetAddress": "456 Hollywood Blvd"}]},
                    {"op": "replace", "path": "addresses[type eq \"work\"]", "value":
                        {"type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood", "region": "CA"}},
                    {"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"},
                ]),
                bjensen_with(json!({"addresses": [
                    {"type": "work", "streetAddress": "1010 Broadway Ave", "locality": "Hollywood", "region": "CA"},
                    {"type": "home", "streetAddress": "456 Hollywood Blvd"}]})),
            ),
        ];
        for (name, list, want) in cases {
            match patch_user(list) {
                Ok(got) => assert_eq!(got, want, "{name}"),
                Err(e) => panic!("{name}: {e:?}"),
            }
        }
    }

    #[test]
    fn user_patch_errors() {
        let cases: Vec<(Value, ScimError)> = vec![
            (json!([{"op": "replace", "path": "id", "value": "x"}]),
             ScimError::Mutability("Operations[0]: attribute 'id' is readOnly and cannot be changed".into())),
            (json!([{"op": "remove", "path": "meta.created"}]),
             ScimError::Mutability("Operations[0]: attribute 'meta.created' is readOnly and cannot be changed".into())),
            (json!([{"op": "add", "path": "groups", "value": [{"value": "g"}]}]),
             ScimError::Mutability("Operations[0]: attribute 'groups' is readOnly and cannot be changed".into())),
            (json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName", "value": "x"}]),
             ScimError::Mutability("Operations[0]: attribute 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName' is readOnly and cannot be changed".into())),
            (json!([{"op": "add", "path": "title", "value": "x"}, {"op": "replace", "path": "nope", "value": "x"}]),
             ScimError::InvalidPath("Operations[1]: 'nope' names no attribute of the User resource type".into())),
            (json!([{"op": "replace", "path": "name.nope", "value": "x"}]),
             ScimError::InvalidPath("Operations[0]: 'name.nope' names no attribute of the User resource type".into())),
            (json!([{"op": "replace", "path": "urn:example:other:2.0:User:department", "value": "x"}]),
             ScimError::InvalidPath("Operations[0]: 'urn:example:other:2.0:User:department' names no attribute of the User resource type".into())),
            (json!([{"op": "replace", "path": "members", "value": []}]),
             ScimError::InvalidPath("Operations[0]: 'members' names no attribute of the User resource type".into())),
            (json!([{"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "x"}]),
             ScimError::NoTarget("Operations[0]: no value of 'emails' matches the filter in 'emails[type eq \"fax\"].value'".into())),
            (json!([{"op": "add", "path": "emails[type eq \"fax\" or type eq \"pager\"].value", "value": "x"}]),
             ScimError::NoTarget("Operations[0]: no value of 'emails' matches the filter in 'emails[type eq \"fax\" or type eq \"pager\"].value', and a new value can only be built from 'eq' comparisons joined by 'and'".into())),
            (json!([{"op": "remove", "path": "emails[nope eq \"x\"]"}]),
             ScimError::InvalidFilter("Operations[0]: 'emails' has no sub-attribute 'nope'".into())),
            (json!([{"op": "remove", "path": "emails[primary gt true]"}]),
             ScimError::InvalidFilter("Operations[0]: 'emails.primary' is a boolean; only 'eq' and 'ne' apply".into())),
            (json!([{"op": "remove", "path": "emails[value eq 5]"}]),
             ScimError::InvalidFilter("Operations[0]: 'emails.value' is a string; compare it with a quoted string".into())),
            (json!([{"op": "remove", "path": "name[givenName eq \"x\"]"}]),
             ScimError::InvalidPath("Operations[0]: 'name' is not a multi-valued complex attribute, so it takes no [filter]".into())),
            (json!([{"op": "remove", "path": "emails[type eq \"work\"].nope"}]),
             ScimError::InvalidPath("Operations[0]: 'emails[type eq \"work\"].nope': 'emails' has no sub-attribute 'nope'".into())),
            (json!([{"op": "add", "value": "x"}]),
             ScimError::InvalidValue("Operations[0]: 'add' without a 'path' needs an object of attributes as its 'value'".into())),
            (json!([{"op": "replace", "path": "name", "value": "Barbara"}]),
             ScimError::InvalidValue("Operations[0]: the value for 'name' must be an object".into())),
            (json!([{"op": "replace", "path": "emails[type eq \"work\"]", "value": "x"}]),
             ScimError::InvalidValue("Operations[0]: the value for 'emails[type eq \"work\"]' must be an object".into())),
            (json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "value": 3}]),
             ScimError::InvalidValue("Operations[0]: the value for 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' must be an object of the extension's attributes".into())),
            // Caught by canonicalize afterwards.
            (json!([{"op": "replace", "path": "active", "value": "yes"}]),
             ScimError::InvalidValue("attribute 'active' must be a boolean".into())),
            (json!([{"op": "remove", "path": "userName"}]),
             ScimError::InvalidValue("attribute 'userName' is required".into())),
            (json!([{"op": "add", "path": "emails", "value": [{"value": "a", "primary": true}, {"value": "b", "primary": true}]}]),
             ScimError::InvalidValue("attribute 'emails' has 2 values with \"primary\": true; at most one may be primary".into())),
        ];
        for (list, want) in cases {
            assert_eq!(patch_user(list.clone()), Err(want), "{list}");
        }
    }

    #[test]
    fn failed_patch_leaves_document_alone() {
        let reg = SchemaRegistry::builtin();
        let mut doc = bjensen();
        let before = doc.clone();
        let r = apply(
            &reg,
            ResourceKind::User,
            &mut doc,
            &ops(
                json!([{"op": "replace", "path": "title", "value": "x"}, {"op": "replace", "path": "id", "value": "y"}]),
            ),
        );
        assert!(matches!(r, Err(ScimError::Mutability(_))));
        assert_eq!(doc, before);
    }

    fn group_doc() -> Map<String, Value> {
        obj(json!({"schemas": [GROUP_SCHEMA], "displayName": "Ops"}))
    }

    fn member(id: &str, kind: Option<MemberKind>) -> MemberRef {
        MemberRef {
            value: id.into(),
            kind,
            display: None,
        }
    }

    #[test]
    fn group_member_changes() {
        let reg = SchemaRegistry::builtin();
        let cases: Vec<(Value, Result<Vec<MemberChange>, &str>)> = vec![
            (
                json!([{"op": "add", "path": "members", "value": [{"value": "u1", "display": "U"}, {"value": "g1", "type": "Group"}]}]),
                Ok(vec![MemberChange::Add(vec![
                    MemberRef {
                        display: Some("U".into()),
                        ..member("u1", None)
                    },
                    member("g1", Some(MemberKind::Group)),
                ])]),
            ),
            (
                json!([{"op": "Add", "path": "Members", "value": {"value": "u1"}}]),
                Ok(vec![MemberChange::Add(vec![member("u1", None)])]),
            ),
            (
                json!([{"op": "add", "value": {"members": [{"value": "u1"}], "displayName": "Ops"}}]),
                Ok(vec![MemberChange::Add(vec![member("u1", None)])]),
            ),
            (
                json!([{"op": "replace", "path": "members", "value": [{"value": "u2"}]}]),
                Ok(vec![MemberChange::ReplaceAll(vec![member("u2", None)])]),
            ),
            (
                json!([{"op": "replace", "value": {"members": []}}]),
                Ok(vec![MemberChange::ReplaceAll(vec![])]),
            ),
            (
                json!([{"op": "remove", "path": "members"}]),
                Ok(vec![MemberChange::RemoveAll]),
            ),
            // RFC 7644 §3.5.2.2: remove one member and add another, in order.
            (
                json!([
                    {"op": "remove", "path": "members[value eq \"2819c223\"]"},
                    {"op": "add", "path": "members", "value": [{"display": "James Smith", "value": "08e1d05d"}]},
                ]),
                Ok(vec![
                    MemberChange::Remove(vec!["2819c223".into()]),
                    MemberChange::Add(vec![MemberRef {
                        display: Some("James Smith".into()),
                        ..member("08e1d05d", None)
                    }]),
                ]),
            ),
            // Microsoft Entra's shape.
            (
                json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}]),
                Ok(vec![MemberChange::Remove(vec!["u1".into(), "u2".into()])]),
            ),
            // Okta's shape.
            (
                json!([{"op": "remove", "path": "members[value eq \"u1\"]"}]),
                Ok(vec![MemberChange::Remove(vec!["u1".into()])]),
            ),
            (
                json!([{"op": "remove", "path": "members[value eq \"u1\" or VALUE eq \"u2\" or value eq \"u1\"]"}]),
                Ok(vec![MemberChange::Remove(vec!["u1".into(), "u2".into()])]),
            ),
            (
                json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:core:2.0:Group:members[value eq \"u1\"]"}]),
                Ok(vec![MemberChange::Remove(vec!["u1".into()])]),
            ),
            (
                json!([{"op": "add", "path": "members", "value": [{"value": "u1"}]}, {"op": "remove", "path": "members[value eq \"u9\"]"}, {"op": "replace", "path": "displayName", "value": "New"}]),
                Ok(vec![
                    MemberChange::Add(vec![member("u1", None)]),
                    MemberChange::Remove(vec!["u9".into()]),
                ]),
            ),
            (
                json!([{"op": "remove", "path": "members[display eq \"U\"]"}]),
                Err("invalidFilter"),
            ),
            (
                json!([{"op": "remove", "path": "members[value sw \"u\"]"}]),
                Err("invalidFilter"),
            ),
            (
                json!([{"op": "remove", "path": "members[value eq \"u1\" and type eq \"User\"]"}]),
                Err("invalidFilter"),
            ),
            (
                json!([{"op": "replace", "path": "members[value eq \"u1\"].display", "value": "x"}]),
                Err("mutability"),
            ),
            (
                json!([{"op": "add", "path": "members.value", "value": "u1"}]),
                Err("mutability"),
            ),
            (
                json!([{"op": "add", "path": "members", "value": [{"value": ""}]}]),
                Err("invalidValue"),
            ),
            (
                json!([{"op": "add", "path": "members", "value": [{"value": "u1", "type": "Device"}]}]),
                Err("invalidValue"),
            ),
            (
                json!([{"op": "add", "path": "members", "value": "u1"}]),
                Err("invalidValue"),
            ),
        ];
        for (list, want) in cases {
            let mut doc = group_doc();
            let got = apply(&reg, ResourceKind::Group, &mut doc, &ops(list.clone()));
            match (want, got) {
                (Ok(want), Ok(got)) => {
                    assert_eq!(got, want, "{list}");
                    assert!(!doc.contains_key("members"), "{list}");
                }
                (Err("invalidFilter"), Err(ScimError::InvalidFilter(_)))
                | (Err("mutability"), Err(ScimError::Mutability(_)))
                | (Err("invalidValue"), Err(ScimError::InvalidValue(_))) => {}
                (want, got) => panic!("{list}: want {want:?}, got {got:?}"),
            }
        }
        let mut doc = group_doc();
        apply(
            &reg,
            ResourceKind::Group,
            &mut doc,
            &ops(json!([{"op": "replace", "value": {"displayName": "Platform"}}])),
        )
        .unwrap();
        assert_eq!(doc["displayName"], json!("Platform"));
    }

    #[test]
    fn odd_shapes_do_not_panic() {
        let reg = SchemaRegistry::builtin();
        let weird_docs = [
            json!({"schemas": [USER_SCHEMA], "userName": "x", "emails": "not-an-array", "name": 5, ENT: "str"}),
            json!({"schemas": [USER_SCHEMA], "userName": "x", "emails": [1, null, {"value": 2}], "name": [1]}),
        ];
        let paths = [
            "emails",
            "emails.value",
            "emails[type eq \"work\"]",
            "emails[type eq \"work\"].value",
            "name",
            "name.givenName",
            ENT,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        ];
        let values = [
            json!(null),
            json!(1),
            json!("s"),
            json!([1, {"a": 1}]),
            json!({"value": "v", "primary": true}),
            json!(true),
        ];
        let pathless = json!([
            {"op": "add", "value": {"abcé": 1, "urn:é": 2, "urné.x": 3, "name.é": 4}},
            {"op": "replace", "value": {ENT: {"é": 1, "manager.é": 2}}},
        ]);
        let mut doc = bjensen();
        apply(&reg, ResourceKind::User, &mut doc, &ops(pathless)).unwrap();
        assert_eq!(doc, bjensen());
        for d in &weird_docs {
            for p in paths {
                for op in ["add", "replace", "remove"] {
                    for v in &values {
                        let list = json!([{"op": op, "path": p, "value": v}]);
                        let mut doc = obj(d.clone());
                        let _ = apply(&reg, ResourceKind::User, &mut doc, &ops(list));
                    }
                }
            }
        }
    }
}
