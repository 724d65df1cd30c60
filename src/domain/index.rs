/// One searchable value of a resource, as the SCIM layer extracts it from the document.
/// `path` is the canonical attribute path folded to lower case; `elem` numbers the elements of
/// a multi-valued attribute (an element's sub-attributes share it).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedValue {
    pub path: String,
    pub elem: i32,
    pub value: String,
    /// `value` folded (`fold_case`), made with the value so that a write does not fold it.
    pub value_ci: String,
    pub number: Option<f64>,
}

/// The case-folded form used for every case-insensitive comparison and uniqueness check. One
/// function on both sides of every comparison, so SQLite and PostgreSQL agree.
pub fn fold_case(s: &str) -> String {
    s.to_lowercase()
}
