//! A resource's SCIM document as the store keeps it: JSON text. Reads that send it on as it is
//! (see `scim::verbatim`) never parse it into a tree; what needs the tree asks for one.

use serde::{Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::error::{DomainError, DomainResult};
use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct Document(String);

impl Document {
    pub fn from_value(doc: &Value) -> Document {
        Document(json_text(doc))
    }

    /// The JSON of anything serializable, written straight to text: documents inside it go in
    /// as they are, not through a tree.
    pub fn of(value: &impl Serialize) -> DomainResult<Document> {
        serde_json::to_string(value).map(Document).map_err(|e| {
            DomainError::Store(StoreError::Corrupt(format!("serializing a document: {e}")))
        })
    }

    /// Text read back from the store, trusted to be what `from_value` wrote; a parse by
    /// `value` or a verbatim read finds out if it is not.
    pub fn from_stored(text: String) -> Document {
        Document(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn value(&self) -> DomainResult<Value> {
        serde_json::from_str(&self.0)
            .map_err(|e| DomainError::Store(StoreError::Corrupt(format!("stored document: {e}"))))
    }

    /// Whether this document holds exactly `doc`: what a write compares to tell a no-op.
    pub fn holds(&self, doc: &Value) -> bool {
        self.value().is_ok_and(|stored| stored == *doc)
    }
}

/// A JSON value's text, written straight into the string: `Value::to_string` goes through
/// `fmt::Display` and costs about twice as much.
pub fn json_text(value: &Value) -> String {
    serde_json::to_string(value).expect("a JSON value always serializes")
}

/// Serialized as the JSON it is, not as a string.
impl Serialize for Document {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue = serde_json::from_str(&self.0).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn round_trips_and_serializes_as_json() {
        let doc = json!({"userName": "ada", "name": {"givenName": "Ada"}, "active": true});
        let stored = Document::from_stored(Document::from_value(&doc).as_str().to_string());
        assert_eq!(stored.value().unwrap(), doc);
        assert!(stored.holds(&doc));
        assert!(!stored.holds(&json!({"userName": "ada"})));
        assert_eq!(
            serde_json::to_value(json!({"resource": stored})).unwrap(),
            json!({"resource": doc})
        );
    }

    #[test]
    fn corrupt_text_is_an_error_not_a_panic() {
        let broken = Document::from_stored("{\"userName\":".into());
        assert!(matches!(
            broken.value(),
            Err(DomainError::Store(StoreError::Corrupt(_)))
        ));
        assert!(!broken.holds(&json!({})));
        assert!(serde_json::to_string(&broken).is_err());
    }
}
