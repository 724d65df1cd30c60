//! Turns request-log entries into one corpus-format sequence: server-generated ids become
//! captures and `{{var}}`s, volatile values `{{*}}`, the server's base URL `{{base}}`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::format::{Expect, Request, Sequence, Step};
use super::pattern::ANY;
use crate::domain::request_log::Entry;

/// The sequence, and what could not be exported faithfully (truncated bodies).
pub struct Export {
    pub sequence: Sequence,
    pub warnings: Vec<String>,
}

/// Values seen in responses and the variable standing for each, plus the base URL.
struct Templates {
    vars: Vec<(String, String)>,
    counters: BTreeMap<String, usize>,
}

impl Templates {
    fn name_for(&mut self, prefix: &str) -> String {
        let n = self.counters.entry(prefix.to_string()).or_default();
        *n += 1;
        format!("{prefix}{n}")
    }

    fn known(&self, value: &str) -> bool {
        self.vars.iter().any(|(v, _)| v == value)
    }

    fn text(&self, s: &str, base: &str) -> String {
        let mut out = if base.is_empty() {
            s.to_string()
        } else {
            s.replace(base, "{{base}}")
        };
        for (value, var) in &self.vars {
            out = out.replace(value.as_str(), &format!("{{{{{var}}}}}"));
        }
        out
    }

    fn json(&self, v: &Value, base: &str) -> Value {
        match v {
            Value::String(s) => Value::String(self.text(s, base)),
            Value::Array(items) => Value::Array(items.iter().map(|i| self.json(i, base)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.json(v, base)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// `meta.created`, `meta.lastModified` and `meta.version` anywhere, and a list's `nextCursor`
/// nobody reuses, differ on every run.
fn volatile_to_any(v: &mut Value) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(volatile_to_any),
        Value::Object(map) => {
            if let Some(Value::Object(meta)) = map.get_mut("meta") {
                for key in ["created", "lastModified", "version"] {
                    if let Some(v) = meta.get_mut(key) {
                        *v = Value::String(ANY.into());
                    }
                }
            }
            if let Some(Value::String(c)) = map.get_mut("nextCursor")
                && !c.starts_with("{{")
            {
                *c = ANY.into();
            }
            map.values_mut().for_each(volatile_to_any);
        }
        _ => {}
    }
}

/// A value a response introduces that later steps may refer to.
struct Introduced {
    pointer: String,
    value: String,
    prefix: &'static str,
    /// Captured even when no later request uses it: a create's id, which the expected final
    /// state may still refer to.
    always: bool,
}

/// The ids (and list cursor) in a response body.
fn introduced(body: &Value, path: &str, created: bool) -> Vec<Introduced> {
    let fallback = if path.to_ascii_lowercase().starts_with("/groups") {
        "group"
    } else {
        "user"
    };
    let prefix = |resource: &Value| match resource
        .pointer("/meta/resourceType")
        .and_then(Value::as_str)
    {
        Some("User") => "user",
        Some("Group") => "group",
        _ => fallback,
    };
    let mut found = Vec::new();
    if let Some(id) = body.get("id").and_then(Value::as_str) {
        found.push(Introduced {
            pointer: "/id".into(),
            value: id.to_string(),
            prefix: prefix(body),
            always: created,
        });
    }
    if let Some(items) = body.get("Resources").and_then(Value::as_array) {
        for (i, item) in items.iter().enumerate() {
            if let Some(id) = item.get("id").and_then(Value::as_str) {
                found.push(Introduced {
                    pointer: format!("/Resources/{i}/id"),
                    value: id.to_string(),
                    prefix: prefix(item),
                    always: false,
                });
            }
        }
    }
    if let Some(c) = body.get("nextCursor").and_then(Value::as_str) {
        found.push(Introduced {
            pointer: "/nextCursor".into(),
            value: c.to_string(),
            prefix: "cursor",
            always: false,
        });
    }
    found
}

fn request_text(e: &Entry) -> String {
    let x = &e.exchange;
    format!(
        "{} {} {}",
        x.path,
        x.query,
        x.request_body.as_deref().unwrap_or_default()
    )
}

pub fn sequence(name: &str, kind: &str, description: &str, entries: &[Entry]) -> Export {
    let mut t = Templates {
        vars: Vec::new(),
        counters: BTreeMap::new(),
    };
    let mut warnings = Vec::new();
    let mut steps = Vec::new();
    // Every request's text, so "is this value used later" is a search in one suffix.
    let mut requests = String::new();
    let mut starts = Vec::with_capacity(entries.len() + 1);
    for e in entries {
        starts.push(requests.len());
        requests.push_str(&request_text(e));
        requests.push('\n');
    }
    starts.push(requests.len());
    for (i, entry) in entries.iter().enumerate() {
        let x = &entry.exchange;
        let base = x.base_url.as_str();
        let number = i + 1;
        let mut path = x.path.clone();
        if !x.query.is_empty() {
            path = format!("{path}?{}", x.query);
        }
        let (body, raw_body) = match &x.request_body {
            None => (None, None),
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(v) => (Some(t.json(&v, base)), None),
                Err(_) => (None, Some(t.text(text, base))),
            },
        };
        if x.request_truncated {
            warnings.push(format!(
                "step {number} (log entry {}): the request body was truncated when recorded; \
                 the step sends only its first part",
                entry.id
            ));
        }
        let request = Request {
            method: x.method.clone(),
            path: t.text(&path, base),
            headers: x
                .request_headers
                .iter()
                .map(|(k, v)| (k.clone(), t.text(v, base)))
                .collect(),
            body,
            raw_body,
        };
        let response: Option<Value> = x
            .response_body
            .as_deref()
            .map(|text| serde_json::from_str(text).unwrap_or(Value::String(text.to_string())));
        let mut capture = BTreeMap::new();
        if let Some(body) = &response {
            let later = &requests[starts[i + 1]..];
            let created = x.method.eq_ignore_ascii_case("POST") && x.status == 201;
            for found in introduced(body, &x.path, created) {
                if t.known(&found.value) || !(found.always || later.contains(&found.value)) {
                    continue;
                }
                let var = t.name_for(found.prefix);
                capture.insert(var.clone(), found.pointer);
                t.vars.push((found.value, var));
            }
        }
        let body = if x.response_truncated {
            warnings.push(format!(
                "step {number} (log entry {}): the response body was truncated when recorded; \
                 it is not checked",
                entry.id
            ));
            None
        } else {
            Some(match &response {
                None => Value::Null,
                Some(v) => {
                    let mut v = t.json(v, base);
                    volatile_to_any(&mut v);
                    v
                }
            })
        };
        let headers = x
            .response_headers
            .iter()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("etag") {
                    ANY.to_string()
                } else {
                    t.text(v, base)
                };
                (k.clone(), v)
            })
            .collect();
        steps.push(Step {
            name: format!(
                "{} {} → {} (log entry {})",
                x.method,
                t.text(&x.path, base),
                x.status,
                entry.id
            ),
            request,
            expect: Expect {
                status: x.status,
                headers,
                body,
            },
            capture,
        });
    }
    Export {
        sequence: Sequence {
            name: name.to_string(),
            kind: kind.to_string(),
            description: Some(description.to_string()),
            sources: Vec::new(),
            steps,
        },
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{DirectoryId, TenantId};
    use crate::domain::request_log::Exchange;
    use serde_json::json;

    const BASE: &str = "http://10.0.0.1:8080/scim/v2";

    fn entry(
        id: i64,
        method: &str,
        path: &str,
        query: &str,
        req: Option<Value>,
        status: u16,
        resp: Option<Value>,
    ) -> Entry {
        Entry {
            id,
            exchange: Exchange {
                tenant_id: TenantId::from_raw("t"),
                directory_id: DirectoryId::from_raw("d"),
                received_at: chrono::NaiveDateTime::default(),
                method: method.into(),
                path: path.into(),
                query: query.into(),
                base_url: BASE.into(),
                request_headers: [(
                    "User-Agent".to_string(),
                    "Okta SCIM Client 1.0.0".to_string(),
                )]
                .into(),
                request_body: req.map(|b| b.to_string()),
                request_truncated: false,
                status,
                response_headers: [
                    ("ETag".to_string(), "W/\"1\"".to_string()),
                    ("Location".to_string(), format!("{BASE}/Users/u-1")),
                ]
                .into(),
                response_body: resp.map(|b| b.to_string()),
                response_truncated: false,
                duration_us: 1,
            },
        }
    }

    #[test]
    fn ids_become_captures_and_volatile_values_wildcards() {
        let user = json!({"id": "u-1", "userName": "ann", "meta": {"resourceType": "User",
            "created": "2026-01-01T00:00:00Z", "lastModified": "2026-01-01T00:00:00Z",
            "version": "W/\"1\"", "location": format!("{BASE}/Users/u-1")}});
        let entries = [
            entry(
                7,
                "POST",
                "/Users",
                "",
                Some(json!({"userName": "ann"})),
                201,
                Some(user.clone()),
            ),
            entry(
                8,
                "GET",
                "/Groups",
                "count=1&cursor=",
                None,
                200,
                Some(
                    json!({"Resources": [{"id": "g-old"}, {"id": "g-unused"}], "nextCursor": "c-1"}),
                ),
            ),
            entry(
                9,
                "PATCH",
                "/Groups/g-old",
                "",
                Some(json!({"Operations": [
                {"op": "add", "path": "members", "value": [{"value": "u-1", "$ref": format!("{BASE}/Users/u-1")}]}]})),
                204,
                None,
            ),
            entry(
                10,
                "GET",
                "/Groups",
                "cursor=c-1",
                None,
                200,
                Some(json!({"Resources": []})),
            ),
        ];
        let out = sequence("s", "okta", "d", &entries);
        assert!(out.warnings.is_empty());
        let steps = serde_json::to_value(&out.sequence.steps).unwrap();
        assert_eq!(steps[0]["capture"], json!({"user1": "/id"}));
        assert_eq!(
            steps[0]["request"]["headers"],
            json!({"User-Agent": "Okta SCIM Client 1.0.0"})
        );
        assert_eq!(
            steps[0]["expect"]["headers"],
            json!({"ETag": "{{*}}", "Location": "{{base}}/Users/{{user1}}"})
        );
        assert_eq!(
            steps[0]["expect"]["body"],
            json!({"id": "{{user1}}", "userName": "ann", "meta": {"resourceType": "User",
                "created": "{{*}}", "lastModified": "{{*}}", "version": "{{*}}",
                "location": "{{base}}/Users/{{user1}}"}})
        );
        // Only what a later request uses is captured from a list.
        assert_eq!(
            steps[1]["capture"],
            json!({"group1": "/Resources/0/id", "cursor1": "/nextCursor"})
        );
        assert_eq!(
            steps[1]["expect"]["body"],
            json!({"Resources": [{"id": "{{group1}}"}, {"id": "g-unused"}], "nextCursor": "{{cursor1}}"})
        );
        assert_eq!(steps[2]["request"]["path"], json!("/Groups/{{group1}}"));
        assert_eq!(
            steps[2]["request"]["body"]["Operations"][0]["value"][0],
            json!({"value": "{{user1}}", "$ref": "{{base}}/Users/{{user1}}"})
        );
        assert_eq!(steps[2]["expect"]["body"], Value::Null);
        assert!(steps[2]["expect"].as_object().unwrap().contains_key("body"));
        assert_eq!(
            steps[3]["request"]["path"],
            json!("/Groups?cursor={{cursor1}}")
        );
        assert_eq!(out.sequence.kind, "okta");
    }

    #[test]
    fn truncated_bodies_are_said_and_not_checked() {
        let mut e = entry(
            1,
            "POST",
            "/Users",
            "",
            Some(json!({})),
            201,
            Some(json!({"id": "u"})),
        );
        e.exchange.request_truncated = true;
        e.exchange.response_truncated = true;
        let out = sequence("s", "generic", "d", &[e]);
        assert_eq!(out.warnings.len(), 2);
        assert_eq!(out.sequence.steps[0].expect.body, None);
    }
}
