//! The replay corpus format (`scim-conformance/replay/README.md`): a sequence of requests, each
//! with the response it must get.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::ReplayError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sequence {
    pub name: String,
    /// The directory kind the sequence runs against; it picks the IdP adapter.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub name: String,
    pub request: Request,
    pub expect: Expect,
    /// Variable name → JSON pointer into the response body.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capture: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub method: String,
    /// Relative to the SCIM base URL, query string included.
    pub path: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Sent byte for byte instead of `body`, for bodies that are not valid JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_body: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub status: u16,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// `None`: not checked. `Some(Value::Null)`: the response has no body.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub body: Option<Value>,
}

/// Keeps an explicit `null` apart from a missing key, which plain `Option<Value>` merges.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl Sequence {
    pub fn load(path: &Path) -> Result<Sequence, ReplayError> {
        let text = std::fs::read_to_string(path).map_err(|e| ReplayError::Read {
            file: path.display().to_string(),
            cause: e.to_string(),
        })?;
        serde_json::from_str(&text).map_err(|e| ReplayError::Format {
            file: path.display().to_string(),
            cause: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_null_body_expectation_differs_from_none() {
        let with_null: Expect =
            serde_json::from_value(json!({"status": 204, "body": null})).unwrap();
        assert_eq!(with_null.body, Some(Value::Null));
        let without: Expect = serde_json::from_value(json!({"status": 204})).unwrap();
        assert_eq!(without.body, None);
        assert_eq!(
            serde_json::to_value(&with_null).unwrap(),
            json!({"status": 204, "body": null})
        );
    }

    #[test]
    fn the_readme_example_parses_and_typos_do_not() {
        let readme = include_str!("../../scim-conformance/replay/README.md");
        let example = readme
            .split("```json")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("the README shows an example");
        let parsed: Sequence = serde_json::from_str(example).unwrap();
        assert_eq!(parsed.kind, "okta");
        assert_eq!(parsed.steps[1].capture["ann"], "/id");
        let typo = json!({"name": "x", "kind": "generic", "steps": [
            {"name": "s", "request": {"method": "GET", "path": "/Users"}, "expected": {"status": 200}}
        ]});
        assert!(serde_json::from_value::<Sequence>(typo).is_err());
    }
}
