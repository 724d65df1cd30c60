//! The SCIM schema documents in `schema/`, parsed once, and look-ups over them.
//!
//! Attribute names are case-insensitive in SCIM (RFC 7643 §2.1), so every look-up here ignores
//! case and hands back the attribute as the schema spells it.

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AttrType {
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
    #[serde(rename = "type")]
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
    pub name: String,
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
