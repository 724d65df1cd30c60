//! The SCIM schema documents in `schema/`, parsed once, and look-ups over them.
//!
//! Attribute names are case-insensitive in SCIM (RFC 7643 §2.1), so every look-up here ignores
//! case and hands back the attribute as the schema spells it.
//!
//! Operators add extension schemas without code changes: [`SchemaRegistry::with_extensions`]
//! loads every `*.json` document of a directory on top of the built-in ones (see
//! `docs/schema-extensions.md`). Everything downstream (validation, PATCH, filters, the
//! attribute index, discovery) reads extensions from the registry, so a loaded document is the
//! whole change.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }

    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "Users",
            ResourceKind::Group => "Groups",
        }
    }

    pub fn core_schema(self) -> &'static str {
        match self {
            ResourceKind::User => USER_SCHEMA,
            ResourceKind::Group => GROUP_SCHEMA,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AttrType {
    /// RFC 7643 §2.2: an attribute that states no type is a string.
    #[default]
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    ReadOnly,
    #[default]
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Returned {
    Always,
    Never,
    #[default]
    Default,
    Request,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Uniqueness {
    #[default]
    None,
    Server,
    Global,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attribute {
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: AttrType,
    #[serde(default)]
    pub multi_valued: bool,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub case_exact: bool,
    #[serde(default)]
    pub mutability: Mutability,
    #[serde(default)]
    pub returned: Returned,
    #[serde(default)]
    pub uniqueness: Uniqueness,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_attributes: Vec<Attribute>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canonical_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Attribute {
    pub fn sub_attribute(&self, name: &str) -> Option<&Attribute> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Schema {
    pub id: String,
    /// Optional in RFC 7643 §7; the bundled documents all have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub attributes: Vec<Attribute>,
}

impl Schema {
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// One schema extension a resource type accepts.
#[derive(Debug, Clone)]
pub struct Extension {
    pub schema: String,
    pub required: bool,
}

#[derive(Debug, Clone)]
pub struct ResourceType {
    pub kind: ResourceKind,
    pub description: &'static str,
    pub extensions: Vec<Extension>,
}

/// Where an attribute named in a filter, PATCH path or `attributes` parameter lives.
#[derive(Debug, Clone, Copy)]
pub struct ResolvedAttr<'a> {
    /// `None` for the attributes common to every resource (`id`, `externalId`, `meta`).
    pub schema: Option<&'a str>,
    /// `true` when the attribute sits in the resource's core schema or is common; `false` for
    /// an extension, whose values nest under the extension's URN in the JSON document.
    pub is_core: bool,
    pub attr: &'a Attribute,
    pub sub: Option<&'a Attribute>,
}

impl<'a> ResolvedAttr<'a> {
    /// The attribute a comparison applies to: the sub-attribute when one is named.
    pub fn leaf(&self) -> &'a Attribute {
        self.sub.unwrap_or(self.attr)
    }

    /// Canonical dotted path, e.g. `emails.value` or
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
    pub fn canonical_path(&self) -> String {
        let mut path = match (self.is_core, self.schema) {
            (false, Some(urn)) => format!("{urn}:{}", self.attr.name),
            _ => self.attr.name.clone(),
        };
        if let Some(sub) = self.sub {
            path.push('.');
            path.push_str(&sub.name);
        }
        path
    }
}

/// Every schema and resource type the server knows, loaded from `schema/` at start.
#[derive(Debug, Clone)]
pub struct SchemaRegistry {
    schemas: Vec<Schema>,
    common: Vec<Attribute>,
    resource_types: Vec<ResourceType>,
}

/// The member of an operator's schema document that says which resource type it extends,
/// e.g. `"x-roster-extends": {"resourceType": "User", "required": false}`. It is not RFC 7643,
/// so it is read at load time and never served by /Schemas.
pub const EXTENDS_MEMBER: &str = "x-roster-extends";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Extends {
    resource_type: String,
    /// RFC 7643 §6 `schemaExtensions.required`: resources of the type must carry the extension.
    #[serde(default)]
    required: bool,
}

/// Why an operator's schema directory cannot be loaded. Each names the file, so the operator
/// can fix it; the server refuses to start rather than serve a schema it half understood.
#[derive(Debug, thiserror::Error)]
pub enum SchemaLoadError {
    #[error("cannot read schema directory {}: {source}", dir.display())]
    ReadDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read schema file {}: {source}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("schema file {} is not valid JSON: {source}", file.display())]
    InvalidJson {
        file: PathBuf,
        source: serde_json::Error,
    },
    #[error("schema file {}: the document must be a JSON object", file.display())]
    NotAnObject { file: PathBuf },
    #[error("schema file {}: missing member '{member}'", file.display())]
    Missing { file: PathBuf, member: &'static str },
    #[error(
        "schema file {}: id '{id}' is not a URN Roster can address: it must have the form \
         urn:NID:NSS, use only letters, digits, '_', '-', '.' and ':', and not end in ':'",
        file.display()
    )]
    NotUrn { file: PathBuf, id: String },
    #[error("schema file {}: id '{id}' is already used by another schema", file.display())]
    DuplicateId { file: PathBuf, id: String },
    #[error("schema file {}: invalid '{EXTENDS_MEMBER}': {detail}", file.display())]
    InvalidExtends { file: PathBuf, detail: String },
    #[error(
        "schema file {}: unknown resourceType '{resource_type}' in '{EXTENDS_MEMBER}' (known: User, Group)",
        file.display()
    )]
    UnknownResourceType {
        file: PathBuf,
        resource_type: String,
    },
    #[error(
        "schema file {}: attribute name '{name}' is not valid: RFC 7643 ATTRNAME is a letter \
         followed by letters, digits, '_' or '-'", file.display()
    )]
    AttributeName { file: PathBuf, name: String },
    #[error("schema file {}: attribute '{attribute}' is defined twice", file.display())]
    DuplicateAttribute { file: PathBuf, attribute: String },
    #[error(
        "schema file {}: attribute '{attribute}' is complex inside a complex attribute, which \
         RFC 7643 §2.3.8 forbids", file.display()
    )]
    NestedComplex { file: PathBuf, attribute: String },
    #[error(
        "schema file {}: attribute '{attribute}' has unknown type '{kind}' (known: string, \
         boolean, decimal, integer, dateTime, binary, reference, complex)", file.display()
    )]
    UnknownType {
        file: PathBuf,
        attribute: String,
        kind: String,
    },
    #[error(
        "schema file {}: attribute '{attribute}' declares uniqueness '{uniqueness}', which Roster \
         does not enforce for extension attributes; use 'none'", file.display()
    )]
    Uniqueness {
        file: PathBuf,
        attribute: String,
        uniqueness: String,
    },
    #[error("schema file {}: {detail}", file.display())]
    Invalid { file: PathBuf, detail: String },
}

fn parse_document(text: &str) -> Schema {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("a bundled schema document is invalid: {e}"))
}

impl SchemaRegistry {
    /// The schemas shipped in `schema/`, compiled into the binary.
    pub fn builtin() -> Self {
        let schemas = vec![
            parse_document(include_str!("../../schema/user.json")),
            parse_document(include_str!("../../schema/enterprise_user.json")),
            parse_document(include_str!("../../schema/group.json")),
        ];
        let common: Vec<Attribute> =
            serde_json::from_str(include_str!("../../schema/common_attributes.json"))
                .unwrap_or_else(|e| panic!("schema/common_attributes.json is invalid: {e}"));
        let resource_types = vec![
            ResourceType {
                kind: ResourceKind::User,
                description: "User Account",
                extensions: vec![Extension {
                    schema: ENTERPRISE_USER_SCHEMA.to_string(),
                    required: false,
                }],
            },
            ResourceType {
                kind: ResourceKind::Group,
                description: "Group",
                extensions: vec![],
            },
        ];
        SchemaRegistry {
            schemas,
            common,
            resource_types,
        }
    }

    /// The built-in schemas plus every `*.json` extension document in `dir`, in file-name
    /// order (so `/Schemas` lists them the same way on every start).
    pub fn with_extensions(dir: &Path) -> Result<Self, SchemaLoadError> {
        let read_dir = |source| SchemaLoadError::ReadDir {
            dir: dir.to_path_buf(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_dir)? {
            let path = entry.map_err(read_dir)?.path();
            if path.extension().is_some_and(|e| e == "json") && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        let mut reg = Self::builtin();
        for file in files {
            reg.load_extension(&file)?;
        }
        Ok(reg)
    }

    fn load_extension(&mut self, file: &Path) -> Result<(), SchemaLoadError> {
        let path = || file.to_path_buf();
        let text = std::fs::read_to_string(file).map_err(|source| SchemaLoadError::Read {
            file: path(),
            source,
        })?;
        let doc: Value =
            serde_json::from_str(&text).map_err(|source| SchemaLoadError::InvalidJson {
                file: path(),
                source,
            })?;
        let Value::Object(mut doc) = doc else {
            return Err(SchemaLoadError::NotAnObject { file: path() });
        };
        let missing = |member| SchemaLoadError::Missing {
            file: path(),
            member,
        };
        let id = match doc.get("id") {
            Some(Value::String(id)) => id.clone(),
            Some(_) => {
                return Err(SchemaLoadError::Invalid {
                    file: path(),
                    detail: "'id' must be a string".into(),
                });
            }
            None => return Err(missing("id")),
        };
        if !doc.contains_key("attributes") {
            return Err(missing("attributes"));
        }
        if !is_addressable_urn(&id) {
            return Err(SchemaLoadError::NotUrn { file: path(), id });
        }
        if self.schema(&id).is_some() {
            return Err(SchemaLoadError::DuplicateId { file: path(), id });
        }
        // Taken out of the document: `Schema` has no field for it, and /Schemas never serves it.
        let extends = doc
            .remove(EXTENDS_MEMBER)
            .ok_or_else(|| missing(EXTENDS_MEMBER))?;
        let extends: Extends =
            serde_json::from_value(extends).map_err(|e| SchemaLoadError::InvalidExtends {
                file: path(),
                detail: e.to_string(),
            })?;
        let Some(rt) = self
            .resource_types
            .iter()
            .position(|r| r.kind.name().eq_ignore_ascii_case(&extends.resource_type))
        else {
            return Err(SchemaLoadError::UnknownResourceType {
                file: path(),
                resource_type: extends.resource_type,
            });
        };
        check_attributes(file, &doc["attributes"], None)?;
        // What the structural checks above leave to serde: characteristic values such as
        // `mutability` and the types of `required`, `caseExact`, `description`.
        let schema: Schema =
            serde_json::from_value(Value::Object(doc)).map_err(|e| SchemaLoadError::Invalid {
                file: path(),
                detail: e.to_string(),
            })?;
        tracing::info!(
            file = %file.display(),
            schema = %schema.id,
            resource_type = self.resource_types[rt].kind.name(),
            required = extends.required,
            "schema extension loaded"
        );
        self.resource_types[rt].extensions.push(Extension {
            schema: schema.id.clone(),
            required: extends.required,
        });
        self.schemas.push(schema);
        Ok(())
    }

    pub fn schemas(&self) -> &[Schema] {
        &self.schemas
    }

    pub fn resource_types(&self) -> &[ResourceType] {
        &self.resource_types
    }

    pub fn schema(&self, urn: &str) -> Option<&Schema> {
        self.schemas.iter().find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    pub fn resource_type(&self, kind: ResourceKind) -> &ResourceType {
        self.resource_types
            .iter()
            .find(|r| r.kind == kind)
            .unwrap_or_else(|| panic!("resource type {kind:?} is not registered"))
    }

    /// `id`, `externalId` and `meta` (RFC 7643 §3.1), which no schema document lists.
    pub fn common_attributes(&self) -> &[Attribute] {
        &self.common
    }

    pub fn core_schema(&self, kind: ResourceKind) -> &Schema {
        self.schema(kind.core_schema())
            .unwrap_or_else(|| panic!("core schema of {kind:?} is not loaded"))
    }

    /// Extension schemas the resource type accepts, as loaded documents.
    pub fn extensions(&self, kind: ResourceKind) -> impl Iterator<Item = &Schema> {
        self.resource_type(kind)
            .extensions
            .iter()
            .filter_map(|e| self.schema(&e.schema))
    }

    /// The extension schema whose URN `key` names, if `kind` accepts it.
    pub fn extension(&self, kind: ResourceKind, key: &str) -> Option<&Schema> {
        self.extensions(kind)
            .find(|s| s.id.eq_ignore_ascii_case(key))
    }

    /// Resolves `[urn:]name[.sub]` for a resource type. `uri` may be the core schema's URN,
    /// an extension's URN, or absent.
    pub fn resolve(
        &self,
        kind: ResourceKind,
        uri: Option<&str>,
        name: &str,
        sub: Option<&str>,
    ) -> Option<ResolvedAttr<'_>> {
        let core = self.core_schema(kind);
        let (schema, is_core, attr) = match uri {
            Some(u) if !u.eq_ignore_ascii_case(&core.id) => {
                let ext = self.extension(kind, u)?;
                (Some(ext.id.as_str()), false, ext.attribute(name)?)
            }
            _ => match core.attribute(name) {
                Some(a) => (Some(core.id.as_str()), true, a),
                None => (
                    None,
                    true,
                    self.common
                        .iter()
                        .find(|a| a.name.eq_ignore_ascii_case(name))?,
                ),
            },
        };
        let sub = match sub {
            Some(s) => Some(attr.sub_attribute(s)?),
            None => None,
        };
        Some(ResolvedAttr {
            schema,
            is_core,
            attr,
            sub,
        })
    }

    /// Resolves a dotted path as written in `attributes=`/`excludedAttributes=`/`sortBy`:
    /// `name`, `name.sub`, `urn:...:name` or `urn:...:name.sub`.
    pub fn resolve_path(&self, kind: ResourceKind, path: &str) -> Option<ResolvedAttr<'_>> {
        let (uri, rest) = split_urn(path);
        let (name, sub) = match rest.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (rest, None),
        };
        self.resolve(kind, uri, name, sub)
    }

    /// The schema document as `/Schemas/{id}` serves it.
    pub fn schema_document(&self, schema: &Schema, base_url: &str) -> Value {
        let mut doc = serde_json::to_value(schema).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut doc {
            map.insert(
                "schemas".into(),
                serde_json::json!(["urn:ietf:params:scim:schemas:core:2.0:Schema"]),
            );
            map.insert(
                "meta".into(),
                serde_json::json!({
                    "resourceType": "Schema",
                    "location": format!("{base_url}/Schemas/{}", schema.id),
                }),
            );
        }
        doc
    }
}

/// A URN (`urn:NID:NSS`) the filter grammar and [`split_urn`] can address: the characters the
/// `scim_v2` filter parser accepts in an attribute path (letters, digits, `_ - . :`), ending in
/// something other than `:` so `urn:…:attr` splits at the right colon.
fn is_addressable_urn(id: &str) -> bool {
    let Some(rest) = id
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("urn:"))
        .and_then(|_| id.get(4..))
    else {
        return false;
    };
    rest.contains(':')
        && !rest.starts_with(':')
        && !rest.ends_with(':')
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// RFC 7643 §2.1 ATTRNAME: `ALPHA *(nameChar)`, nameChar = `"-" / "_" / DIGIT / ALPHA`.
fn is_attr_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The checks serde cannot express, over an `attributes` (or `subAttributes`) array as
/// written; `parent` is the dotted name of the complex attribute holding them.
fn check_attributes(
    file: &Path,
    attributes: &Value,
    parent: Option<&str>,
) -> Result<(), SchemaLoadError> {
    let invalid = |detail: String| SchemaLoadError::Invalid {
        file: file.to_path_buf(),
        detail,
    };
    let member = if parent.is_some() {
        "subAttributes"
    } else {
        "attributes"
    };
    let Value::Array(attributes) = attributes else {
        return Err(invalid(format!("'{member}' must be an array")));
    };
    let mut seen = HashSet::new();
    for (i, attr) in attributes.iter().enumerate() {
        let Value::Object(attr) = attr else {
            return Err(invalid(format!("{member}[{i}] must be an object")));
        };
        let Some(Value::String(name)) = attr.get("name") else {
            return Err(invalid(format!("{member}[{i}] has no string 'name'")));
        };
        let shown = match parent {
            Some(p) => format!("{p}.{name}"),
            None => name.clone(),
        };
        // `$ref` is the one sub-attribute name RFC 7643 allows outside ATTRNAME (§2.3.7).
        if !(is_attr_name(name) || (parent.is_some() && name == "$ref")) {
            return Err(SchemaLoadError::AttributeName {
                file: file.to_path_buf(),
                name: shown,
            });
        }
        if !seen.insert(name.to_ascii_lowercase()) {
            return Err(SchemaLoadError::DuplicateAttribute {
                file: file.to_path_buf(),
                attribute: shown,
            });
        }
        let kind = match attr.get("type") {
            None => AttrType::String,
            Some(t) => {
                serde_json::from_value(t.clone()).map_err(|_| SchemaLoadError::UnknownType {
                    file: file.to_path_buf(),
                    attribute: shown.clone(),
                    kind: t.as_str().map_or_else(|| t.to_string(), str::to_string),
                })?
            }
        };
        // Uniqueness is enforced for `userName` only (a typed column); advertising it for an
        // extension attribute in /Schemas would promise what the server does not do.
        if let Some(u @ ("server" | "global")) = attr.get("uniqueness").and_then(Value::as_str) {
            return Err(SchemaLoadError::Uniqueness {
                file: file.to_path_buf(),
                attribute: shown,
                uniqueness: u.to_string(),
            });
        }
        if kind == AttrType::Complex {
            if parent.is_some() {
                return Err(SchemaLoadError::NestedComplex {
                    file: file.to_path_buf(),
                    attribute: shown,
                });
            }
            if let Some(subs) = attr.get("subAttributes") {
                check_attributes(file, subs, Some(&shown))?;
            }
        }
    }
    Ok(())
}

/// Splits `urn:...:Schema:attr.sub` into (`Some("urn:...:Schema")`, `attr.sub`). A path
/// without a URN prefix comes back whole.
pub fn split_urn(path: &str) -> (Option<&str>, &str) {
    let is_urn = path.len() > 4
        && path
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    match path.rsplit_once(':') {
        Some((uri, rest)) if is_urn => (Some(uri), rest),
        _ => (None, path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_paths_case_insensitively() {
        let reg = SchemaRegistry::builtin();
        let cases = [
            ("userName", "userName"),
            ("USERNAME", "userName"),
            ("emails.value", "emails.value"),
            ("Emails.Value", "emails.value"),
            ("id", "id"),
            ("externalid", "externalId"),
            ("meta.lastModified", "meta.lastModified"),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
                "name.givenName",
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            ),
        ];
        for (input, canonical) in cases {
            let r = reg
                .resolve_path(ResourceKind::User, input)
                .unwrap_or_else(|| panic!("{input} should resolve"));
            assert_eq!(r.canonical_path(), canonical, "{input}");
        }
    }

    #[test]
    fn unknown_paths_do_not_resolve() {
        let reg = SchemaRegistry::builtin();
        for input in [
            "abcé:x",
            "urné:x",
            "nope",
            "emails.nope",
            "urn:example:unknown:attr",
            "members.value",
        ] {
            assert!(
                reg.resolve_path(ResourceKind::User, input).is_none(),
                "{input}"
            );
        }
        assert!(
            reg.resolve_path(ResourceKind::Group, "members.value")
                .is_some()
        );
    }

    const ACME: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";

    /// A directory of its own under the system temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn with_files(files: &[(&str, &str)]) -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "roster-schema-test-{}",
                uuid::Uuid::new_v4().simple()
            ));
            std::fs::create_dir(&dir).unwrap();
            for (name, text) in files {
                std::fs::write(dir.join(name), text).unwrap();
            }
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn acme_doc(attributes: Value) -> Value {
        serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": ACME,
            "name": "AcmeUser",
            "x-roster-extends": {"resourceType": "User", "required": false},
            "attributes": attributes,
        })
    }

    fn acme_attributes() -> Value {
        serde_json::json!([
            {"name": "badgeNumber", "type": "string", "caseExact": true},
            {"name": "clearanceLevel", "type": "integer"},
            {"name": "contractor", "type": "boolean"},
            {"name": "sites", "type": "complex", "multiValued": true, "subAttributes": [
                {"name": "name", "type": "string"},
                {"name": "primary", "type": "boolean"},
                {"name": "$ref", "type": "reference", "referenceTypes": ["external"]}
            ]}
        ])
    }

    #[test]
    fn loads_extension_documents_next_to_the_builtin_ones() {
        let group_ext = serde_json::json!({
            "id": "urn:example:acme:Group",
            "x-roster-extends": {"resourceType": "Group", "required": true},
            "attributes": [{"name": "costCode"}],
        });
        let dir = TempDir::with_files(&[
            ("acme.json", &acme_doc(acme_attributes()).to_string()),
            ("group.json", &group_ext.to_string()),
            ("README.md", "not a schema"),
        ]);
        let reg = SchemaRegistry::with_extensions(&dir.0).unwrap();
        assert_eq!(reg.schemas().len(), 5);

        let ext = &reg.resource_type(ResourceKind::User).extensions;
        assert_eq!(ext.len(), 2);
        assert_eq!(ext[1].schema, ACME);
        assert!(!ext[1].required);
        let ext = &reg.resource_type(ResourceKind::Group).extensions;
        assert_eq!(ext[0].schema, "urn:example:acme:Group");
        assert!(ext[0].required);

        let sites = reg
            .resolve_path(ResourceKind::User, &format!("{ACME}:SITES.Name"))
            .unwrap();
        assert_eq!(sites.canonical_path(), format!("{ACME}:sites.name"));
        let level = reg
            .resolve_path(ResourceKind::User, &format!("{ACME}:clearanceLevel"))
            .unwrap();
        assert_eq!(level.leaf().kind, AttrType::Integer);
        // RFC 7643 §2.2: no `type` means string.
        let cost = reg
            .resolve_path(ResourceKind::Group, "urn:example:acme:Group:costCode")
            .unwrap();
        assert_eq!(cost.leaf().kind, AttrType::String);
        assert!(reg.extension(ResourceKind::Group, ACME).is_none());

        let served = reg.schema_document(reg.schema(ACME).unwrap(), "https://r.example/scim/v2");
        assert!(served.get(EXTENDS_MEMBER).is_none());
        assert_eq!(served["name"], "AcmeUser");
        assert_eq!(served["attributes"][3]["subAttributes"][2]["name"], "$ref");
        let unnamed = reg
            .schema_document(reg.schema("urn:example:acme:Group").unwrap(), "x")
            .to_string();
        assert!(!unnamed.contains("\"name\":null"), "{unnamed}");
    }

    #[test]
    fn an_empty_directory_serves_the_builtin_schemas() {
        let dir = TempDir::with_files(&[]);
        let reg = SchemaRegistry::with_extensions(&dir.0).unwrap();
        assert_eq!(reg.schemas().len(), 3);
    }

    #[test]
    fn refuses_documents_it_cannot_serve_faithfully() {
        let with = |edit: &dyn Fn(&mut Value)| {
            let mut doc = acme_doc(acme_attributes());
            edit(&mut doc);
            doc.to_string()
        };
        let attrs = |a: Value| acme_doc(a).to_string();
        type Check = fn(&SchemaLoadError) -> bool;
        let cases: Vec<(&str, String, Check, &str)> = vec![
            (
                "invalid JSON",
                "{\"id\": ".to_string(),
                |e| matches!(e, SchemaLoadError::InvalidJson { .. }),
                "not valid JSON",
            ),
            (
                "not an object",
                "[]".to_string(),
                |e| matches!(e, SchemaLoadError::NotAnObject { .. }),
                "must be a JSON object",
            ),
            (
                "missing id",
                with(&|d| {
                    d.as_object_mut().unwrap().remove("id");
                }),
                |e| matches!(e, SchemaLoadError::Missing { member: "id", .. }),
                "missing member 'id'",
            ),
            (
                "missing attributes",
                with(&|d| {
                    d.as_object_mut().unwrap().remove("attributes");
                }),
                |e| {
                    matches!(
                        e,
                        SchemaLoadError::Missing {
                            member: "attributes",
                            ..
                        }
                    )
                },
                "missing member 'attributes'",
            ),
            (
                "id not a URN",
                with(&|d| d["id"] = "example:acme:User".into()),
                |e| matches!(e, SchemaLoadError::NotUrn { .. }),
                "'example:acme:User' is not a URN",
            ),
            (
                "id with characters a filter cannot name",
                with(&|d| d["id"] = "urn:example:acme user".into()),
                |e| matches!(e, SchemaLoadError::NotUrn { .. }),
                "is not a URN",
            ),
            (
                "id without a namespace-specific string",
                with(&|d| d["id"] = "urn:acme".into()),
                |e| matches!(e, SchemaLoadError::NotUrn { .. }),
                "urn:NID:NSS",
            ),
            (
                "id ending in a colon",
                with(&|d| d["id"] = "urn:example:acme:".into()),
                |e| matches!(e, SchemaLoadError::NotUrn { .. }),
                "is not a URN",
            ),
            (
                "id of a built-in schema, in other case",
                with(&|d| {
                    d["id"] = "urn:ietf:params:scim:schemas:extension:ENTERPRISE:2.0:User".into()
                }),
                |e| matches!(e, SchemaLoadError::DuplicateId { .. }),
                "is already used",
            ),
            (
                "no x-roster-extends",
                with(&|d| {
                    d.as_object_mut().unwrap().remove(EXTENDS_MEMBER);
                }),
                |e| {
                    matches!(
                        e,
                        SchemaLoadError::Missing {
                            member: EXTENDS_MEMBER,
                            ..
                        }
                    )
                },
                "missing member 'x-roster-extends'",
            ),
            (
                "a misspelt x-roster-extends key",
                with(&|d| d[EXTENDS_MEMBER] = serde_json::json!({"resourceTyp": "User"})),
                |e| matches!(e, SchemaLoadError::InvalidExtends { .. }),
                "invalid 'x-roster-extends'",
            ),
            (
                "unknown resource type",
                with(&|d| d[EXTENDS_MEMBER]["resourceType"] = "Device".into()),
                |e| matches!(e, SchemaLoadError::UnknownResourceType { .. }),
                "unknown resourceType 'Device'",
            ),
            (
                "attribute name with a space",
                attrs(serde_json::json!([{"name": "badge number", "type": "string"}])),
                |e| matches!(e, SchemaLoadError::AttributeName { .. }),
                "attribute name 'badge number' is not valid",
            ),
            (
                "attribute name starting with a digit",
                attrs(serde_json::json!([{"name": "2fa", "type": "boolean"}])),
                |e| matches!(e, SchemaLoadError::AttributeName { .. }),
                "'2fa'",
            ),
            (
                "$ref as a top-level attribute",
                attrs(serde_json::json!([{"name": "$ref", "type": "reference"}])),
                |e| matches!(e, SchemaLoadError::AttributeName { .. }),
                "'$ref'",
            ),
            (
                "invalid sub-attribute name",
                attrs(serde_json::json!([{"name": "sites", "type": "complex",
                    "subAttributes": [{"name": "na.me", "type": "string"}]}])),
                |e| matches!(e, SchemaLoadError::AttributeName { .. }),
                "'sites.na.me'",
            ),
            (
                "attribute without a name",
                attrs(serde_json::json!([{"type": "string"}])),
                |e| matches!(e, SchemaLoadError::Invalid { .. }),
                "attributes[0] has no string 'name'",
            ),
            (
                "attributes not an array",
                attrs(serde_json::json!({"name": "x"})),
                |e| matches!(e, SchemaLoadError::Invalid { .. }),
                "'attributes' must be an array",
            ),
            (
                "the same name twice, in other case",
                attrs(serde_json::json!([{"name": "badge"}, {"name": "Badge"}])),
                |e| matches!(e, SchemaLoadError::DuplicateAttribute { .. }),
                "'Badge' is defined twice",
            ),
            (
                "complex inside complex",
                attrs(
                    serde_json::json!([{"name": "sites", "type": "complex", "subAttributes": [
                        {"name": "address", "type": "complex", "subAttributes": [{"name": "city"}]}
                    ]}]),
                ),
                |e| matches!(e, SchemaLoadError::NestedComplex { .. }),
                "'sites.address' is complex inside a complex attribute",
            ),
            (
                "unknown type",
                attrs(serde_json::json!([{"name": "badge", "type": "text"}])),
                |e| matches!(e, SchemaLoadError::UnknownType { .. }),
                "'badge' has unknown type 'text'",
            ),
            (
                "unknown sub-attribute type",
                attrs(serde_json::json!([{"name": "sites", "type": "complex",
                    "subAttributes": [{"name": "size", "type": "float"}]}])),
                |e| matches!(e, SchemaLoadError::UnknownType { .. }),
                "'sites.size' has unknown type 'float'",
            ),
            (
                "uniqueness the server would not enforce",
                attrs(serde_json::json!([{"name": "badge", "uniqueness": "server"}])),
                |e| matches!(e, SchemaLoadError::Uniqueness { .. }),
                "uniqueness 'server'",
            ),
            (
                "invalid characteristic value",
                attrs(serde_json::json!([{"name": "badge", "mutability": "sometimes"}])),
                |e| matches!(e, SchemaLoadError::Invalid { .. }),
                "sometimes",
            ),
        ];
        for (case, text, check, message) in cases {
            let dir = TempDir::with_files(&[("acme.json", &text)]);
            let err = SchemaRegistry::with_extensions(&dir.0)
                .err()
                .unwrap_or_else(|| panic!("{case}: loaded"));
            let shown = err.to_string();
            assert!(check(&err), "{case}: {err:?}");
            assert!(shown.contains("acme.json"), "{case}: {shown}");
            assert!(shown.contains(message), "{case}: {shown}");
        }
    }

    #[test]
    fn refuses_two_files_with_one_id_naming_the_second() {
        let doc = acme_doc(acme_attributes()).to_string();
        let dir = TempDir::with_files(&[("a.json", &doc), ("b.json", &doc)]);
        let err = SchemaRegistry::with_extensions(&dir.0).unwrap_err();
        assert!(
            matches!(&err, SchemaLoadError::DuplicateId { file, .. } if file.ends_with("b.json")),
            "{err:?}"
        );
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let dir = TempDir::with_files(&[]);
        let gone = dir.0.join("nope");
        let err = SchemaRegistry::with_extensions(&gone).unwrap_err();
        assert!(matches!(err, SchemaLoadError::ReadDir { .. }), "{err:?}");
        assert!(err.to_string().contains("nope"));
    }

    #[test]
    fn schema_flags_come_from_the_documents() {
        let reg = SchemaRegistry::builtin();
        let user_name = reg.resolve_path(ResourceKind::User, "userName").unwrap();
        assert!(!user_name.leaf().case_exact);
        assert_eq!(user_name.leaf().uniqueness, Uniqueness::Server);
        let password = reg.resolve_path(ResourceKind::User, "password").unwrap();
        assert_eq!(password.leaf().returned, Returned::Never);
        let id = reg.resolve_path(ResourceKind::User, "id").unwrap();
        assert_eq!(id.leaf().returned, Returned::Always);
        assert!(id.leaf().case_exact);
    }
}
