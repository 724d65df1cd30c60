//! List parameters (RFC 7644 §3.4.2), cursor pagination (RFC 9865) and the ListResponse.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use super::cursor::{self, CursorKey, Position};
use super::error::{ScimError, ScimResult};
use super::filter;
use super::schema::{LIST_RESPONSE_SCHEMA, ResourceKind, SchemaRegistry};
use crate::domain::query::{After, ListQuery, Sort};

/// Page size when the client names none, and the most one page holds (advertised as
/// `filter.maxResults` and `pagination.maxPageSize`).
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
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    /// RFC 9865: present (even empty, for the first page) switches to cursor pagination.
    pub cursor: Option<String>,
}

/// An integer parameter, with values past `i64` read as the nearest `i64`: a `startIndex` of
/// 10^20 is a page past the end (empty), not a malformed request.
pub fn saturating_integer(text: &str) -> Option<i64> {
    let text = text.trim();
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<i64>().unwrap_or(if text.starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    }))
}

/// How the response pages: by index, or by cursor (then with the query's fingerprint, to sign
/// the next cursor, and whether the list is sorted: sorted lists continue at an offset, the
/// default order after the last row).
#[derive(Debug, Clone)]
pub enum Paging {
    Index,
    Cursor {
        query: String,
        count: u64,
        offset: u64,
        sorted: bool,
    },
}

impl ListParams {
    /// From `(name, value)` pairs; names are case-insensitive.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> ScimResult<Self> {
        let mut p = ListParams::default();
        for (k, v) in pairs {
            let number = |v: &str| {
                saturating_integer(v).ok_or_else(|| {
                    ScimError::InvalidValue(format!("'{k}' must be an integer, got '{v}'"))
                })
            };
            match k.to_ascii_lowercase().as_str() {
                "filter" => p.filter = Some(v.to_string()),
                "startindex" => p.start_index = Some(number(v)?),
                "count" => p.count = Some(number(v)?),
                "attributes" => p.attributes = Some(v.to_string()),
                "excludedattributes" => p.excluded_attributes = Some(v.to_string()),
                "sortby" => p.sort_by = Some(v.to_string()),
                "sortorder" => p.sort_order = Some(v.to_string()),
                "cursor" => p.cursor = Some(v.to_string()),
                _ => {}
            }
        }
        Ok(p)
    }

    pub fn query(
        &self,
        reg: &SchemaRegistry,
        kind: ResourceKind,
        key: &CursorKey,
        now: DateTime<Utc>,
    ) -> ScimResult<(ListQuery, Paging)> {
        let filter = match self.filter.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => Some(filter::parse(reg, kind, text)?),
            _ => None,
        };
        let sort = self.sort(reg, kind)?;
        // RFC 7644 §3.4.2.4: a negative count is read as 0.
        let count = self
            .count
            .map_or(DEFAULT_COUNT, |c| u64::try_from(c).unwrap_or(0))
            .min(MAX_COUNT);
        let mut query = ListQuery {
            filter,
            start_index: 1,
            count,
            sort,
            after: None,
        };
        let Some(cursor) = &self.cursor else {
            // A startIndex below 1 is read as 1.
            query.start_index = u64::try_from(self.start_index.unwrap_or(1))
                .unwrap_or(1)
                .max(1);
            return Ok((query, Paging::Index));
        };
        if self.start_index.is_some() {
            return Err(ScimError::InvalidValue(
                "'cursor' and 'startIndex' cannot be combined".into(),
            ));
        }
        let fingerprint = cursor::fingerprint(&[
            kind.name(),
            self.filter.as_deref().unwrap_or(""),
            self.sort_by.as_deref().unwrap_or(""),
            self.sort_order.as_deref().unwrap_or(""),
        ]);
        let mut offset = 0;
        if !cursor.is_empty() {
            match cursor::decode(key, cursor, &fingerprint, now)? {
                Position::After { created, id } => query.after = Some(After { created, id }),
                Position::Offset(n) => {
                    offset = n;
                    query.start_index = n + 1;
                }
            }
        }
        // One row more than asked tells whether a next page exists.
        query.count = count + 1;
        let sorted = query.sort.is_some();
        Ok((
            query,
            Paging::Cursor {
                query: fingerprint,
                count,
                offset,
                sorted,
            },
        ))
    }

    fn sort(&self, reg: &SchemaRegistry, kind: ResourceKind) -> ScimResult<Option<Sort>> {
        let descending = match self
            .sort_order
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("ascending") => false,
            Some("descending") => true,
            Some(other) => {
                return Err(ScimError::InvalidValue(format!(
                    "sortOrder must be 'ascending' or 'descending', not '{other}'"
                )));
            }
        };
        match self.sort_by.as_deref().map(str::trim) {
            Some(path) if !path.is_empty() => {
                let (target, compare) = filter::sort_target(reg, kind, path)?;
                Ok(Some(Sort {
                    target,
                    compare,
                    descending,
                }))
            }
            _ => Ok(None),
        }
    }
}

/// Trims a cursor page to its size and signs the cursor of the next page, if there is one.
/// `position_of` gives an item's creation time and id.
pub fn next_cursor<T>(
    paging: &Paging,
    items: &mut Vec<T>,
    position_of: impl Fn(&T) -> (NaiveDateTime, String),
    key: &CursorKey,
    now: DateTime<Utc>,
) -> Option<String> {
    let Paging::Cursor {
        query,
        count,
        offset,
        sorted,
    } = paging
    else {
        return None;
    };
    let count = usize::try_from(*count).unwrap_or(usize::MAX);
    if items.len() <= count {
        return None;
    }
    items.truncate(count);
    let position = if *sorted {
        Position::Offset(offset + count as u64)
    } else {
        let (created, id) = position_of(items.last()?);
        Position::After { created, id }
    };
    Some(cursor::encode(key, query, position, now))
}

/// A ListResponse (RFC 7644 §3.4.2): `startIndex` when paging by index, `nextCursor` when a
/// cursor page has a next one.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse<T> {
    schemas: [&'static str; 1],
    total_results: u64,
    items_per_page: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    /// Last: `list_text` relies on it.
    #[serde(rename = "Resources")]
    resources: Vec<T>,
}

/// A ListResponse's JSON text around resources that are JSON text already: they go in as they
/// are, not parsed and serialized again.
pub fn list_text(
    total: u64,
    start_index: u64,
    resources: &[String],
    paging: &Paging,
    next: Option<String>,
) -> String {
    let mut envelope = list_response::<()>(total, start_index, Vec::new(), paging, next);
    envelope.items_per_page = resources.len();
    let text = serde_json::to_string(&envelope).unwrap_or_default();
    // `Resources` is the last field, so the text ends with its empty array.
    let Some(open) = text.strip_suffix("]}") else {
        return text;
    };
    let mut out = String::with_capacity(
        open.len() + resources.iter().map(|r| r.len() + 1).sum::<usize>() + 2,
    );
    out.push_str(open);
    for (i, resource) in resources.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(resource);
    }
    out.push_str("]}");
    out
}

pub fn list_response<T: Serialize>(
    total: u64,
    start_index: u64,
    resources: Vec<T>,
    paging: &Paging,
    next: Option<String>,
) -> ListResponse<T> {
    let (start_index, next_cursor) = match paging {
        Paging::Index => (Some(start_index), None),
        Paging::Cursor { .. } => (None, next),
    };
    ListResponse {
        schemas: [LIST_RESPONSE_SCHEMA],
        total_results: total,
        items_per_page: resources.len(),
        start_index,
        next_cursor,
        resources,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn integers_past_i64_saturate_and_anything_else_is_refused() {
        let cases = [
            ("1", Some(1)),
            (" 42 ", Some(42)),
            ("+7", Some(7)),
            ("-3", Some(-3)),
            ("1000000000000", Some(1_000_000_000_000)),
            ("100000000000000000000", Some(i64::MAX)),
            ("-100000000000000000000", Some(i64::MIN)),
            ("", None),
            ("-", None),
            ("1.5", None),
            ("1e3", None),
            ("ten", None),
        ];
        for (text, expected) in cases {
            assert_eq!(saturating_integer(text), expected, "{text:?}");
        }
    }

    #[test]
    fn list_text_equals_the_list_of_parsed_resources() {
        let cursor = Paging::Cursor {
            query: "q".into(),
            count: 2,
            offset: 0,
            sorted: false,
        };
        let resources = [json!({"id": "a", "userName": "x"}), json!({"id": "b"})];
        for paging in [Paging::Index, cursor] {
            for n in 0..=resources.len() {
                let parsed = resources[..n].to_vec();
                let texts: Vec<String> = parsed.iter().map(Value::to_string).collect();
                let next = Some("next".to_string());
                let text = list_text(7, 3, &texts, &paging, next.clone());
                let expected = list_response(7, 3, parsed, &paging, next);
                assert_eq!(
                    serde_json::from_str::<Value>(&text).unwrap(),
                    serde_json::to_value(expected).unwrap()
                );
            }
        }
    }
}
