//! Typed queries over directory users and groups. The SCIM layer builds them from filters;
//! the store runs them in SQL.

use chrono::NaiveDateTime;

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Test(Test),
    /// Some element of the multi-valued attribute at `path` satisfies `filter`, whose tests name
    /// that element's sub-attributes (`emails[type eq "work" and value co "@x.com"]`).
    Element {
        path: String,
        filter: Box<Filter>,
    },
}

impl Filter {
    /// How many attribute tests the filter makes, counted through `and`, `or`, `not` and
    /// `attr[...]`.
    pub fn test_count(&self) -> usize {
        match self {
            Filter::And(all) | Filter::Or(all) => all.iter().map(Filter::test_count).sum(),
            Filter::Not(inner) | Filter::Element { filter: inner, .. } => inner.test_count(),
            Filter::Test(_) => 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    pub target: Target,
    pub op: Op,
}

/// What a test reads: a column kept on the resource row, or an indexed attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Id,
    ExternalId,
    /// `userName` of a user, `displayName` of a group: compared case-insensitively.
    Name,
    Created,
    LastModified,
    /// A group's member ids.
    Member,
    /// The ids of the groups a user belongs to directly.
    GroupOf,
    /// A value from the attribute index; `path` is canonical and case-folded. `complex`: the
    /// path names a complex attribute, present when any element exists (an element whose
    /// values are all too long to index keeps an empty anchor row); a simple attribute is
    /// present only with a non-empty value (RFC 7644 §3.4.2.2).
    Indexed {
        path: String,
        complex: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Present,
    Compare(Comparison, Operand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// Compared as text; folded to lower case on both sides unless `case_exact`.
    Text {
        value: String,
        case_exact: bool,
    },
    Number(f64),
    Time(NaiveDateTime),
}

/// What a list is ordered by. Resources without a value sort last in either direction; ties
/// break on id.
#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    pub target: Target,
    /// How an indexed value compares: as folded text, exact text, or a number.
    pub compare: SortCompare,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortCompare {
    Folded,
    Exact,
    Numeric,
}

/// A position in the default order (creation time, then id): the page starts after it.
#[derive(Debug, Clone, PartialEq)]
pub struct After {
    pub created: NaiveDateTime,
    pub id: String,
}

/// One page of a list: `start_index` is 1-based as in SCIM. `after` (cursor pagination) applies
/// only to the default order.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    pub start_index: u64,
    pub count: u64,
    pub sort: Option<Sort>,
    pub after: Option<After>,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub total: u64,
    pub items: Vec<T>,
}
