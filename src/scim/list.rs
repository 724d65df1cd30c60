//! List parameters (RFC 7644 §3.4.2.4) and the ListResponse.

use serde_json::{Value, json};

use super::error::{ScimError, ScimResult};
use super::filter;
use super::schema::{LIST_RESPONSE_SCHEMA, ResourceKind, SchemaRegistry};
use crate::domain::query::ListQuery;

/// Page size when the client names none, and the most one page holds (advertised as
/// `filter.maxResults`).
pub const DEFAULT_COUNT: u64 = 100;
pub const MAX_COUNT: u64 = 1000;

/// List parameters as they arrive in a query string or a `/.search` body.
#[derive(Debug, Default, Clone)]
pub struct ListParams {
    pub filter: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

impl ListParams {
    /// From `(name, value)` pairs; names are case-insensitive.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> ScimResult<Self> {
        let mut p = ListParams::default();
        for (k, v) in pairs {
            let number = |v: &str| {
                v.trim().parse::<i64>().map_err(|_| {
                    ScimError::InvalidValue(format!("'{k}' must be an integer, got '{v}'"))
                })
            };
            match k.to_ascii_lowercase().as_str() {
                "filter" => p.filter = Some(v.to_string()),
                "startindex" => p.start_index = Some(number(v)?),
                "count" => p.count = Some(number(v)?),
                "attributes" => p.attributes = Some(v.to_string()),
                "excludedattributes" => p.excluded_attributes = Some(v.to_string()),
                _ => {}
            }
        }
        Ok(p)
    }

    pub fn query(&self, reg: &SchemaRegistry, kind: ResourceKind) -> ScimResult<ListQuery> {
        let filter = match self.filter.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => Some(filter::parse(reg, kind, text)?),
            _ => None,
        };
        // RFC 7644 §3.4.2.4: a startIndex below 1 is read as 1, a negative count as 0.
        let start_index = u64::try_from(self.start_index.unwrap_or(1))
            .unwrap_or(1)
            .max(1);
        let count = self
            .count
            .map_or(DEFAULT_COUNT, |c| u64::try_from(c).unwrap_or(0))
            .min(MAX_COUNT);
        Ok(ListQuery {
            filter,
            start_index,
            count,
        })
    }
}

pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}
