//! The corpus's matching rules: a pattern is a JSON value in which objects name only the keys
//! they care about, `"{{*}}"` stands for any present value and `"{{absent}}"` for a missing key;
//! `{{name}}` inside a string is a captured variable.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

pub const ANY: &str = "{{*}}";
pub const ABSENT: &str = "{{absent}}";

/// Captured values by name, plus `base`.
pub type Vars = BTreeMap<String, Value>;

/// One way a response failed its expectation. `at` is a JSON path (`body.Resources[0].id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub at: String,
    pub expected: String,
    pub found: String,
}

impl Difference {
    pub fn new(at: &str, expected: impl Into<String>, found: impl Into<String>) -> Difference {
        Difference {
            at: at.to_string(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {}, found {}",
            self.at, self.expected, self.found
        )
    }
}

/// Replaces every `{{name}}` in `s` by its variable; `{{*}}` and `{{absent}}` stay. A string
/// value is inserted as is, any other value as JSON text. Err names the first unknown variable.
pub fn substitute_str(s: &str, vars: &Vars) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else {
            break;
        };
        let name = &rest[start + 2..start + 2 + len];
        out.push_str(&rest[..start]);
        let whole = &rest[start..start + len + 4];
        if whole == ANY || whole == ABSENT {
            out.push_str(whole);
        } else {
            match vars.get(name) {
                Some(Value::String(v)) => out.push_str(v),
                Some(other) => out.push_str(&other.to_string()),
                None => return Err(name.to_string()),
            }
        }
        rest = &rest[start + len + 4..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `substitute_str` on every string of a JSON value. A string that is exactly one `{{name}}`
/// becomes the variable's value itself, so a captured number stays a number.
pub fn substitute(value: &Value, vars: &Vars) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => {
            let whole = s
                .strip_prefix("{{")
                .and_then(|r| r.strip_suffix("}}"))
                .filter(|name| !name.contains("{{") && !name.contains("}}"));
            match whole.and_then(|name| vars.get(name)) {
                Some(v) => v.clone(),
                None => Value::String(substitute_str(s, vars)?),
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute(v, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), substitute(v, vars)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// The JSON path of `key` under `at`.
pub fn child(at: &str, key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    {
        format!("{at}.{key}")
    } else {
        format!("{at}[{}]", Value::String(key.to_string()))
    }
}

fn describe(v: &Value) -> String {
    let text = v.to_string();
    if text.len() > 200 {
        let cut = (0..=200)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        format!("{}…", &text[..cut])
    } else {
        text
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Adds to `out` every way `actual` (present) fails `pattern`.
pub fn compare(pattern: &Value, actual: &Value, at: &str, out: &mut Vec<Difference>) {
    match (pattern, actual) {
        (Value::String(p), _) if p == ANY => {}
        (Value::String(p), _) if p == ABSENT => {
            out.push(Difference::new(at, "no value", describe(actual)));
        }
        (Value::Object(p), Value::Object(a)) => {
            for (key, want) in p {
                let here = child(at, key);
                match (a.get(key), want) {
                    (None, Value::String(w)) if w == ABSENT => {}
                    (None, _) => out.push(Difference::new(&here, describe(want), "nothing")),
                    (Some(got), _) => compare(want, got, &here, out),
                }
            }
        }
        (Value::Array(p), Value::Array(a)) => {
            if p.len() != a.len() {
                out.push(Difference::new(
                    at,
                    format!("{} element(s)", p.len()),
                    format!("{}: {}", a.len(), describe(actual)),
                ));
                return;
            }
            for (i, (want, got)) in p.iter().zip(a).enumerate() {
                compare(want, got, &format!("{at}[{i}]"), out);
            }
        }
        (Value::Object(_) | Value::Array(_), _) => out.push(Difference::new(
            at,
            kind_of(pattern),
            format!("{} {}", kind_of(actual), describe(actual)),
        )),
        (Value::Number(p), Value::Number(a)) if p.as_f64() == a.as_f64() => {}
        _ if pattern == actual => {}
        _ => out.push(Difference::new(at, describe(pattern), describe(actual))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matching_rules() {
        // (pattern, actual, the paths that must differ)
        let cases: Vec<(Value, Value, Vec<&str>)> = vec![
            (json!({"a": 1}), json!({"a": 1, "extra": true}), vec![]),
            (json!({"a": 1}), json!({"a": 2}), vec!["$.a"]),
            (json!({"a": 1}), json!({}), vec!["$.a"]),
            (json!({"a": 1.0}), json!({"a": 1}), vec![]),
            (json!({"id": "{{*}}"}), json!({"id": "x"}), vec![]),
            (json!({"id": "{{*}}"}), json!({"id": null}), vec![]),
            (json!({"id": "{{*}}"}), json!({}), vec!["$.id"]),
            (json!({"password": "{{absent}}"}), json!({}), vec![]),
            (
                json!({"password": "{{absent}}"}),
                json!({"password": "x"}),
                vec!["$.password"],
            ),
            (json!([1, 2]), json!([1, 2]), vec![]),
            (json!([1, 2]), json!([2, 1]), vec!["$[0]", "$[1]"]),
            (json!([1]), json!([1, 2]), vec!["$"]),
            (json!([{"v": "a"}]), json!([{"v": "a", "w": 1}]), vec![]),
            (
                json!({"a": {"b": [true]}}),
                json!({"a": {"b": [false]}}),
                vec!["$.a.b[0]"],
            ),
            (json!({"a": {}}), json!({"a": []}), vec!["$.a"]),
            (json!({"a": "1"}), json!({"a": 1}), vec!["$.a"]),
            (json!({"a": null}), json!({"a": null}), vec![]),
            (json!({"a": null}), json!({}), vec!["$.a"]),
            (
                json!({"urn:x:User": {"n": 1}}),
                json!({"urn:x:User": {"n": 2}}),
                vec!["$[\"urn:x:User\"].n"],
            ),
            (json!("{{*}}"), json!([1]), vec![]),
        ];
        for (pattern, actual, want) in cases {
            let mut out = Vec::new();
            compare(&pattern, &actual, "$", &mut out);
            let got: Vec<&str> = out.iter().map(|d| d.at.as_str()).collect();
            assert_eq!(got, want, "pattern {pattern} against {actual}: {out:?}");
        }
    }

    #[test]
    fn substitution() {
        let vars: Vars = [
            ("base".to_string(), json!("http://h/scim/v2")),
            ("ann".to_string(), json!("u-1")),
            ("n".to_string(), json!(3)),
        ]
        .into();
        let cases: Vec<(&str, Result<&str, &str>)> = vec![
            ("/Users/{{ann}}", Ok("/Users/u-1")),
            ("{{base}}/Users/{{ann}}", Ok("http://h/scim/v2/Users/u-1")),
            (
                "members[value eq \"{{ann}}\"]",
                Ok("members[value eq \"u-1\"]"),
            ),
            ("count={{n}}", Ok("count=3")),
            ("{{*}} and {{absent}}", Ok("{{*}} and {{absent}}")),
            ("no braces {{", Ok("no braces {{")),
            ("/Users/{{bob}}", Err("bob")),
        ];
        for (input, want) in cases {
            assert_eq!(
                substitute_str(input, &vars),
                want.map(str::to_string).map_err(str::to_string),
                "{input}"
            );
        }
        assert_eq!(
            substitute(&json!({"n": "{{n}}", "s": ["{{ann}}", "{{*}}"]}), &vars),
            Ok(json!({"n": 3, "s": ["u-1", "{{*}}"]}))
        );
        assert_eq!(
            substitute(&json!({"x": "{{nobody}}"}), &vars),
            Err("nobody".into())
        );
    }
}
