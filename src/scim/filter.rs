//! SCIM filters (RFC 7644 §3.4.2.2) to typed domain queries. Parsing is `scim_v2`'s (complete
//! grammar, depth-bounded); resolving names against the schemas and typing values is ours.

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, Filter as ScimFilter, ValFilter};

use super::error::{ScimError, ScimResult};
use super::index::normalize_datetime;
use super::schema::{AttrType, Attribute, ResolvedAttr, ResourceKind, SchemaRegistry, split_urn};
use crate::domain::index::fold_case;
use crate::domain::query::{Comparison, Filter, Op, Operand, SortCompare, Target, Test};

/// Longer filters are refused before parsing.
pub const MAX_FILTER_LEN: usize = 8192;

/// Filters of more attribute tests are refused. Each test is a subquery, so a long `or` of
/// `co` tests made one request cost that many scans of the directory's values; identity
/// providers send one or two. Advertised nowhere in `/ServiceProviderConfig` (RFC 7643 has
/// no member for it), documented in the README.
pub const MAX_FILTER_TESTS: usize = 100;

pub fn parse(reg: &SchemaRegistry, kind: ResourceKind, text: &str) -> ScimResult<Filter> {
    if text.len() > MAX_FILTER_LEN {
        return Err(ScimError::InvalidFilter(format!(
            "filter is longer than {MAX_FILTER_LEN} characters"
        )));
    }
    let parsed: ScimFilter = match simple_comparison(text) {
        Some(parsed) => parsed,
        None => text
            .parse()
            .or_else(|e| {
                let rewritten = sub_attribute_comparisons(text);
                if rewritten == text {
                    return Err(e);
                }
                // The original's error says more than the rewritten text's would.
                rewritten.parse().map_err(|_| e)
            })
            .map_err(|e| ScimError::InvalidFilter(format!("cannot parse filter: {e}")))?,
    };
    let filter = Resolver { reg, kind }.filter(&parsed)?;
    let tests = filter.test_count();
    if tests > MAX_FILTER_TESTS {
        return Err(ScimError::InvalidFilter(format!(
            "the filter makes {tests} attribute tests; at most {MAX_FILTER_TESTS} are allowed"
        )));
    }
    Ok(filter)
}

/// `emails[type eq "work"].value eq "x"` → `emails[(type eq "work") and value eq "x"]`: the
/// RFC grammar has no sub-attribute after a value path in a filter (RFC 7644 §3.4.2.2), yet
/// Entra ID sends it (`idp-behaviour.md` §1.1 Create user step 1) and means one element with
/// both properties.
fn sub_attribute_comparisons(text: &str) -> String {
    let tokens: Vec<Token<'_>> = scan(text).collect();
    let mut out = String::with_capacity(text.len() + 16);
    // Where in `out` the last `[` was written.
    let mut open = None;
    let mut i = 0;
    while let Some(token) = tokens.get(i) {
        i += 1;
        match (token, open, tokens.get(i)) {
            (Token::Punct("]"), Some(at), Some(Token::Word(w)))
                if w.len() > 1 && w.starts_with('.') =>
            {
                let inner = out.split_off(at + 1);
                out.push('(');
                out.push_str(&inner);
                out.push_str(") and ");
                out.push_str(&w[1..]);
                i += 1;
                // The operator and, unless it is `pr`, the value move inside the brackets.
                let (mut taken, mut wanted) = (0, 2);
                while taken < wanted {
                    match tokens.get(i) {
                        Some(Token::Punct(p)) if p.trim().is_empty() => out.push_str(p),
                        Some(Token::Word(op)) if taken == 0 => {
                            out.push_str(op);
                            taken = 1;
                            if op.eq_ignore_ascii_case("pr") {
                                wanted = 1;
                            }
                        }
                        Some(Token::Word(v) | Token::Quoted(v)) if taken == 1 => {
                            out.push_str(v);
                            taken = 2;
                        }
                        _ => break,
                    }
                    i += 1;
                }
                out.push(']');
                open = None;
            }
            (Token::Punct("["), ..) => {
                open = Some(out.len());
                out.push('[');
            }
            (Token::Punct(p) | Token::Quoted(p) | Token::Word(p), ..) => out.push_str(p),
        }
    }
    out
}

/// Where a filter's text stands while it is scanned.
pub(crate) struct Scan<'t> {
    text: &'t str,
    pos: usize,
}

pub(crate) enum Token<'t> {
    /// A JSON string literal, quotes included.
    Quoted(&'t str),
    /// `(`, `)`, `[`, `]` or a run of whitespace.
    Punct(&'t str),
    /// Anything else up to whitespace or punctuation: names, keywords, bare values.
    Word(&'t str),
}

impl<'t> Iterator for Scan<'t> {
    type Item = Token<'t>;

    fn next(&mut self) -> Option<Token<'t>> {
        let rest = &self.text[self.pos..];
        let first = rest.chars().next()?;
        let len = if first == '"' {
            let mut escaped = false;
            rest.char_indices()
                .skip(1)
                .find(|&(_, c)| {
                    let end = c == '"' && !escaped;
                    escaped = c == '\\' && !escaped;
                    end
                })
                .map_or(rest.len(), |(i, _)| i + 1)
        } else if "()[]".contains(first) {
            1
        } else if first.is_whitespace() {
            rest.find(|c: char| !c.is_whitespace())
                .unwrap_or(rest.len())
        } else {
            rest.find(|c: char| c.is_whitespace() || "()[]\"".contains(c))
                .unwrap_or(rest.len())
        };
        let piece = &rest[..len];
        self.pos += len;
        Some(if first == '"' {
            Token::Quoted(piece)
        } else if first.is_whitespace() || "()[]".contains(first) {
            Token::Punct(piece)
        } else {
            Token::Word(piece)
        })
    }
}

pub(crate) fn scan(text: &str) -> Scan<'_> {
    Scan { text, pos: 0 }
}

/// The commonest filter, `attr op "value"` (how every IdP looks a user up), read directly.
/// scim_v2's lexer starts a fresh lazy DFA on every parse, which cost a filtered GET 8% of its
/// time. It returns the tree scim_v2 would, and only for text it is sure of: plain attribute
/// names that are no keyword, one space around the operator, a string without escapes or
/// control characters. Everything else goes to scim_v2 (a unit test holds the two equal).
fn simple_comparison(text: &str) -> Option<ScimFilter> {
    let (path, rest) = text.trim().split_once(' ')?;
    let (op, value) = rest.split_once(' ')?;
    let op = match op.to_ascii_lowercase().as_str() {
        "eq" => CompareOp::Eq,
        "ne" => CompareOp::Ne,
        "co" => CompareOp::Co,
        "sw" => CompareOp::Sw,
        "ew" => CompareOp::Ew,
        "gt" => CompareOp::Gt,
        "ge" => CompareOp::Ge,
        "lt" => CompareOp::Lt,
        "le" => CompareOp::Le,
        _ => return None,
    };
    let value = value.strip_prefix('"')?.strip_suffix('"')?;
    if value.chars().any(|c| c == '"' || c == '\\' || c < ' ') {
        return None;
    }
    Some(ScimFilter::Attr(AttrExp::Comparison(
        plain_attr_path(path)?,
        op,
        CompValue::Str(value.to_string()),
    )))
}

/// `name` or `name.sub` of plain names, as scim_v2 reads it; `None` for anything else. Also
/// spares a PATCH's `path` the lexer.
pub(super) fn plain_attr_path(path: &str) -> Option<AttrPath> {
    let (name, sub_attr) = match path.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (path, None),
    };
    (plain_name(name) && sub_attr.is_none_or(plain_name)).then(|| AttrPath {
        uri: None,
        name: name.to_string(),
        sub_attr: sub_attr.map(str::to_string),
    })
}

/// ATTRNAME (RFC 7644 §3.4.2.2: ALPHA *(nameChar)) that the filter grammar cannot also read as
/// a keyword.
fn plain_name(s: &str) -> bool {
    const KEYWORDS: [&str; 16] = [
        "and", "or", "not", "eq", "ne", "co", "sw", "ew", "pr", "gt", "ge", "lt", "le", "true",
        "false", "null",
    ];
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s))
}

/// What `sortBy` names, as a sort target (RFC 7644 §3.4.2.3). A complex attribute sorts by its
/// `value` sub-attribute, as a filter compares it.
pub fn sort_target(
    reg: &SchemaRegistry,
    kind: ResourceKind,
    path: &str,
) -> ScimResult<(Target, SortCompare)> {
    let unknown = || ScimError::InvalidValue(format!("sortBy: unknown attribute '{path}'"));
    let (uri, rest) = split_urn(path);
    let (name, sub) = match rest.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (rest, None),
    };
    let attr_path = AttrPath {
        uri: uri.map(str::to_string),
        name: name.to_string(),
        sub_attr: sub.map(str::to_string),
    };
    let resolver = Resolver { reg, kind };
    let resolved = resolver.resolve(&attr_path).map_err(|_| unknown())?;
    let (target, leaf) = resolver
        .target(&resolved, &attr_path)
        .map_err(|_| ScimError::InvalidValue(format!("sortBy: cannot sort by '{path}'")))?;
    let compare = match (&target, leaf.kind) {
        (Target::Member | Target::GroupOf, _) => {
            return Err(ScimError::InvalidValue(format!(
                "sortBy: cannot sort by '{path}'"
            )));
        }
        (_, AttrType::Integer | AttrType::Decimal) => SortCompare::Numeric,
        (Target::Name, _) => SortCompare::Folded,
        (_, AttrType::String | AttrType::Reference) if !leaf.case_exact => SortCompare::Folded,
        _ => SortCompare::Exact,
    };
    Ok((target, compare))
}

struct Resolver<'a> {
    reg: &'a SchemaRegistry,
    kind: ResourceKind,
}

impl Resolver<'_> {
    fn filter(&self, f: &ScimFilter) -> ScimResult<Filter> {
        Ok(match f {
            ScimFilter::Attr(exp) => self.expression(exp, None)?,
            ScimFilter::Not(inner) => Filter::Not(Box::new(self.filter(inner)?)),
            ScimFilter::And(items) => Filter::And(
                items
                    .as_slice()
                    .iter()
                    .map(|i| self.filter(i))
                    .collect::<ScimResult<_>>()?,
            ),
            ScimFilter::Or(items) => Filter::Or(
                items
                    .as_slice()
                    .iter()
                    .map(|i| self.filter(i))
                    .collect::<ScimResult<_>>()?,
            ),
            ScimFilter::ValuePath(vp) => {
                let parent = self.resolve(&vp.attr)?;
                if parent.attr.kind != AttrType::Complex || parent.sub.is_some() {
                    return Err(ScimError::InvalidFilter(format!(
                        "'{}' is not a complex attribute, so it takes no [filter]",
                        vp.attr
                    )));
                }
                if self.kind == ResourceKind::Group && parent.attr.name == "members" {
                    // Members live in their own table; `members[value eq "x"]` is a member test.
                    return self.member_filter(&vp.filter);
                }
                Filter::Element {
                    path: fold_case(&parent.canonical_path()),
                    filter: Box::new(self.val_filter(&vp.filter, &parent)?),
                }
            }
        })
    }

    fn member_filter(&self, f: &ValFilter) -> ScimResult<Filter> {
        match f {
            ValFilter::Attr(AttrExp::Comparison(path, op, value))
                if path.sub_attr.is_none() && path.name.eq_ignore_ascii_case("value") =>
            {
                self.test(Target::Member, None, op, value, "members.value")
            }
            ValFilter::Attr(AttrExp::Present(path)) if path.name.eq_ignore_ascii_case("value") => {
                Ok(Filter::Test(Test {
                    target: Target::Member,
                    op: Op::Present,
                }))
            }
            ValFilter::And(items) => Ok(Filter::And(
                items
                    .as_slice()
                    .iter()
                    .map(|i| self.member_filter(i))
                    .collect::<ScimResult<_>>()?,
            )),
            ValFilter::Or(items) => Ok(Filter::Or(
                items
                    .as_slice()
                    .iter()
                    .map(|i| self.member_filter(i))
                    .collect::<ScimResult<_>>()?,
            )),
            ValFilter::Not(inner) => Ok(Filter::Not(Box::new(self.member_filter(inner)?))),
            _ => Err(ScimError::InvalidFilter(
                "a members filter can only test members' value".into(),
            )),
        }
    }

    fn val_filter(&self, f: &ValFilter, parent: &ResolvedAttr<'_>) -> ScimResult<Filter> {
        Ok(match f {
            ValFilter::Attr(exp) => self.expression(exp, Some(parent))?,
            ValFilter::Not(inner) => Filter::Not(Box::new(self.val_filter(inner, parent)?)),
            ValFilter::And(items) => Filter::And(
                items
                    .as_slice()
                    .iter()
                    .map(|i| self.val_filter(i, parent))
                    .collect::<ScimResult<_>>()?,
            ),
            ValFilter::Or(items) => Filter::Or(
                items
                    .as_slice()
                    .iter()
                    .map(|i| self.val_filter(i, parent))
                    .collect::<ScimResult<_>>()?,
            ),
        })
    }

    fn resolve(&self, path: &AttrPath) -> ScimResult<ResolvedAttr<'_>> {
        self.reg
            .resolve(
                self.kind,
                path.uri.as_deref(),
                &path.name,
                path.sub_attr.as_deref(),
            )
            .ok_or_else(|| ScimError::InvalidFilter(format!("unknown attribute '{path}'")))
    }

    /// `parent` is set inside `attr[...]`, where names are the element's sub-attributes.
    fn expression(&self, exp: &AttrExp, parent: Option<&ResolvedAttr<'_>>) -> ScimResult<Filter> {
        let path = match exp {
            AttrExp::Present(p) | AttrExp::Comparison(p, _, _) => p,
        };
        let resolved = match parent {
            Some(parent) => {
                let sub = parent.attr.sub_attribute(&path.name).ok_or_else(|| {
                    ScimError::InvalidFilter(format!(
                        "'{}' has no sub-attribute '{}'",
                        parent.attr.name, path.name
                    ))
                })?;
                ResolvedAttr {
                    sub: Some(sub),
                    ..*parent
                }
            }
            None => self.resolve(path)?,
        };
        let (target, leaf) = self.target(&resolved, path)?;
        match exp {
            AttrExp::Present(_) => Ok(Filter::Test(Test {
                target,
                op: Op::Present,
            })),
            AttrExp::Comparison(_, op, value) => {
                self.test(target, Some(leaf), op, value, &path.to_string())
            }
        }
    }

    /// Where a resolved attribute is stored, and the attribute whose type governs comparisons.
    fn target<'r>(
        &self,
        r: &ResolvedAttr<'r>,
        path: &AttrPath,
    ) -> ScimResult<(Target, &'r Attribute)> {
        let canonical = r.canonical_path();
        let column = match (self.kind, canonical.as_str()) {
            (_, "id") => Some(Target::Id),
            (_, "externalId") => Some(Target::ExternalId),
            (_, "meta.created") => Some(Target::Created),
            (_, "meta.lastModified") => Some(Target::LastModified),
            (ResourceKind::User, "userName") | (ResourceKind::Group, "displayName") => {
                Some(Target::Name)
            }
            (ResourceKind::Group, "members" | "members.value") => Some(Target::Member),
            (ResourceKind::User, "groups" | "groups.value") => Some(Target::GroupOf),
            _ => None,
        };
        if let Some(t) = column {
            return Ok((t, r.leaf()));
        }
        if r.schema.is_none() {
            return Err(ScimError::InvalidFilter(format!(
                "filtering on '{path}' is not supported"
            )));
        }
        // `emails co "x"` means the elements' value (RFC 7644 §3.4.2.2 on multi-valued
        // attributes); a presence test on a complex attribute looks for any row of its
        // elements (`store::filter`).
        if let (None, AttrType::Complex, Some(value)) =
            (r.sub, r.attr.kind, r.attr.sub_attribute("value"))
        {
            return Ok((
                Target::Indexed {
                    path: fold_case(&format!("{canonical}.value")),
                    complex: false,
                },
                value,
            ));
        }
        let complex = r.sub.is_none() && r.attr.kind == AttrType::Complex;
        Ok((
            Target::Indexed {
                path: fold_case(&canonical),
                complex,
            },
            r.leaf(),
        ))
    }

    fn test(
        &self,
        target: Target,
        leaf: Option<&Attribute>,
        op: &CompareOp,
        value: &CompValue,
        name: &str,
    ) -> ScimResult<Filter> {
        let cmp = match op {
            CompareOp::Eq => Comparison::Eq,
            CompareOp::Ne => Comparison::Ne,
            CompareOp::Co => Comparison::Co,
            CompareOp::Sw => Comparison::Sw,
            CompareOp::Ew => Comparison::Ew,
            CompareOp::Gt => Comparison::Gt,
            CompareOp::Ge => Comparison::Ge,
            CompareOp::Lt => Comparison::Lt,
            CompareOp::Le => Comparison::Le,
        };
        let ordering = matches!(
            cmp,
            Comparison::Gt | Comparison::Ge | Comparison::Lt | Comparison::Le
        );
        let substring = matches!(cmp, Comparison::Co | Comparison::Sw | Comparison::Ew);
        let bad = |why: &str| Err(ScimError::InvalidFilter(format!("'{name}': {why}")));
        if let CompValue::Null = value {
            let present = Filter::Test(Test {
                target,
                op: Op::Present,
            });
            return match cmp {
                Comparison::Eq => Ok(Filter::Not(Box::new(present))),
                Comparison::Ne => Ok(present),
                _ => bad("null can only be compared with eq or ne"),
            };
        }
        let kind = leaf.map_or(AttrType::String, |a| a.kind);
        let case_exact = match &target {
            Target::Id | Target::ExternalId | Target::Member | Target::GroupOf => true,
            Target::Name => false,
            _ => leaf.is_some_and(|a| a.case_exact),
        };
        let operand = match (kind, value) {
            (AttrType::Boolean, CompValue::True | CompValue::False) => {
                if ordering || substring {
                    return bad("booleans can only be compared with eq or ne");
                }
                Operand::Text {
                    value: matches!(value, CompValue::True).to_string(),
                    case_exact: true,
                }
            }
            (AttrType::Integer | AttrType::Decimal, CompValue::Number(n)) => {
                if substring {
                    return bad("numbers cannot be compared with co, sw or ew");
                }
                Operand::Number(n.as_f64().unwrap_or(f64::NAN))
            }
            (AttrType::DateTime, CompValue::Str(s)) => {
                if substring {
                    return bad("dateTimes cannot be compared with co, sw or ew");
                }
                let normalized = normalize_datetime(s).ok_or_else(|| {
                    ScimError::InvalidFilter(format!("'{name}': '{s}' is not an RFC 3339 dateTime"))
                })?;
                match target {
                    Target::Created | Target::LastModified => Operand::Time(
                        chrono::DateTime::parse_from_rfc3339(&normalized)
                            .map_err(|e| ScimError::InvalidFilter(e.to_string()))?
                            .naive_utc(),
                    ),
                    // Compared folded, where the index is: every normalized dateTime has
                    // the same shape, and folding its `T` and `Z` keeps the order.
                    _ => Operand::Text {
                        value: normalized,
                        case_exact: false,
                    },
                }
            }
            (
                AttrType::String | AttrType::Reference | AttrType::Binary | AttrType::Complex,
                CompValue::Str(s),
            ) => Operand::Text {
                value: s.clone(),
                case_exact,
            },
            _ => return bad("the value's type does not match the attribute's type"),
        };
        Ok(Filter::Test(Test {
            target,
            op: Op::Compare(cmp, operand),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scim_v2::filter::PatchPath;

    #[test]
    fn the_simple_path_reads_what_scim_v2_reads_or_leaves_it_alone() {
        // (filter, read by the simple path)
        let cases = [
            (r#"userName eq "bjensen@example.com""#, true),
            (r#"userName EQ "x""#, true),
            (r#"  userName Eq "x"  "#, true),
            (r#"userName eq "John Smith""#, true),
            (r#"userName eq """#, true),
            (r#"userName eq "ünïcödé""#, true),
            (r#"name.familyName co "O'Malley""#, true),
            (r#"emails.value eq "a@b.c""#, true),
            (r#"a-b_c9 sw "x""#, true),
            (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, true),
            (r#"userName eq "a"b""#, false),
            (r#"userName eq "a\"b""#, false),
            (r#"userName eq "a\b""#, false),
            ("userName eq \"tab\there\"", false),
            (r#"userName  eq "x""#, false),
            (r#"userName eq "x" and active eq true"#, false),
            (r#"true eq "x""#, false),
            (r#"NOT eq "x""#, false),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x""#,
                false,
            ),
            (r#"name.familyName.x eq "y""#, false),
            (r#"1abc eq "x""#, false),
            ("userName eq 5", false),
            ("userName pr", false),
            (r#"emails[type eq "work"]"#, false),
        ];
        agrees(&cases, simple_comparison, |t| t.parse::<ScimFilter>().ok());
        let paths = [
            ("active", true),
            ("name.familyName", true),
            ("x-y_z", true),
            ("true", false),
            ("name.familyName.x", false),
            ("name.", false),
            ("urn:ietf:params:scim:schemas:core:2.0:User:userName", false),
            (r#"emails[type eq "work"].value"#, false),
        ];
        agrees(
            &paths,
            |t| plain_attr_path(t).map(PatchPath::Attr),
            |t| t.parse::<PatchPath>().ok(),
        );
    }

    /// The fast reading takes exactly the texts marked `true`, and reads each as scim_v2 does.
    fn agrees<T: PartialEq + std::fmt::Debug>(
        cases: &[(&str, bool)],
        fast: impl Fn(&str) -> Option<T>,
        scim_v2: impl Fn(&str) -> Option<T>,
    ) {
        for &(text, simple) in cases {
            let read = fast(text);
            assert_eq!(read.is_some(), simple, "{text}");
            if read.is_some() {
                assert_eq!(read, scim_v2(text), "{text}");
            }
        }
    }

    fn user(text: &str) -> ScimResult<Filter> {
        parse(&SchemaRegistry::builtin(), ResourceKind::User, text)
    }

    fn text(value: &str, case_exact: bool) -> Operand {
        Operand::Text {
            value: value.into(),
            case_exact,
        }
    }

    fn test(target: Target, cmp: Comparison, operand: Operand) -> Filter {
        Filter::Test(Test {
            target,
            op: Op::Compare(cmp, operand),
        })
    }

    fn indexed(path: &str) -> Target {
        Target::Indexed {
            path: path.into(),
            complex: false,
        }
    }

    #[test]
    fn filters_resolve_to_typed_tests() {
        let cases = [
            (
                r#"userName eq "BJensen""#,
                test(Target::Name, Comparison::Eq, text("BJensen", false)),
            ),
            (
                r#"USERNAME EQ "x""#,
                test(Target::Name, Comparison::Eq, text("x", false)),
            ),
            (
                r#"externalId eq "E1""#,
                test(Target::ExternalId, Comparison::Eq, text("E1", true)),
            ),
            (
                r#"emails.value eq "a@b.c""#,
                test(
                    indexed("emails.value"),
                    Comparison::Eq,
                    text("a@b.c", false),
                ),
            ),
            (
                r#"emails co "@b.c""#,
                test(indexed("emails.value"), Comparison::Co, text("@b.c", false)),
            ),
            (
                "active eq true",
                test(indexed("active"), Comparison::Eq, text("true", true)),
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales""#,
                test(
                    indexed(
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department",
                    ),
                    Comparison::Eq,
                    text("Sales", false),
                ),
            ),
            (
                r#"emails[type eq "work"]"#,
                Filter::Element {
                    path: "emails".into(),
                    filter: Box::new(test(
                        indexed("emails.type"),
                        Comparison::Eq,
                        text("work", false),
                    )),
                },
            ),
            (
                "title pr",
                Filter::Test(Test {
                    target: indexed("title"),
                    op: Op::Present,
                }),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(user(input).unwrap(), expected, "{input}");
        }
    }

    #[test]
    fn a_sub_attribute_compared_after_a_value_path_moves_inside_it() {
        let cases = [
            (
                r#"emails[type eq "work"].value eq "a@b.c""#,
                r#"emails[(type eq "work") and value eq "a@b.c"]"#,
            ),
            (
                r#"emails[type eq "work"].value co "@b" and active eq true"#,
                r#"emails[(type eq "work") and value co "@b"] and active eq true"#,
            ),
            (
                r#"emails[type eq "work"].value pr"#,
                r#"emails[(type eq "work") and value pr]"#,
            ),
            (
                r#"(emails[type eq "work" or primary eq true].value SW "a")"#,
                r#"(emails[(type eq "work" or primary eq true) and value SW "a"])"#,
            ),
            (
                r#"title eq "a ] b" and x eq 12"#,
                r#"title eq "a ] b" and x eq 12"#,
            ),
            (r#"title eq "].value eq 1""#, r#"title eq "].value eq 1""#),
            ("emails[", "emails["),
            ("].x", "].x"),
        ];
        for (given, want) in cases {
            assert_eq!(sub_attribute_comparisons(given), want, "{given}");
        }
    }

    #[test]
    fn a_sub_attribute_after_a_value_path_means_one_element_with_both() {
        // (sent, what it means)
        let cases = [
            (
                r#"emails[type eq "work"].value eq "a@b.c""#,
                r#"emails[type eq "work" and value eq "a@b.c"]"#,
            ),
            (
                r#"emails[type eq "work"].value ew "@b.c""#,
                r#"emails[type eq "work" and value ew "@b.c"]"#,
            ),
            (
                r#"emails[type eq "work"].value pr"#,
                r#"emails[type eq "work" and value pr]"#,
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].primary eq true"#,
                r#"emails[type eq "work" and primary eq true]"#,
            ),
            (
                r#"userName eq "x" or addresses[type eq "work"].locality ne "Paris""#,
                r#"userName eq "x" or addresses[type eq "work" and locality ne "Paris"]"#,
            ),
        ];
        for (sent, meant) in cases {
            assert_eq!(user(sent).unwrap(), user(meant).unwrap(), "{sent}");
        }
        match user(r#"emails[type eq "work"].nosuch eq "x""#) {
            Err(ScimError::InvalidFilter(detail)) => {
                assert!(detail.contains("no sub-attribute"), "{detail}")
            }
            other => panic!("expected invalidFilter, got {other:?}"),
        }
    }

    #[test]
    fn and_or_not_keep_their_structure() {
        let f = user(r#"userName eq "a" and (title pr or not (active eq false))"#).unwrap();
        let Filter::And(items) = f else {
            panic!("and expected")
        };
        assert_eq!(items.len(), 2);
        assert!(matches!(&items[1], Filter::Or(or) if matches!(or[1], Filter::Not(_))));
    }

    #[test]
    fn bad_filters_say_what_is_wrong() {
        let cases = [
            ("userName eq", "parse"),
            ("nosuch eq \"x\"", "unknown attribute 'nosuch'"),
            ("active gt true", "booleans"),
            ("active eq \"yes\"", "type"),
            ("meta.created gt \"yesterday\"", "RFC 3339"),
            ("emails[nosuch eq \"x\"]", "no sub-attribute"),
            ("userName[value eq \"x\"]", "not a complex attribute"),
        ];
        for (input, expected) in cases {
            match user(input) {
                Err(ScimError::InvalidFilter(detail)) => {
                    assert!(detail.contains(expected), "{input}: {detail}")
                }
                other => panic!("{input}: expected invalidFilter, got {other:?}"),
            }
        }
        let deep = format!(
            "{}userName eq \"x\"{}",
            "not (".repeat(500),
            ")".repeat(500)
        );
        assert!(matches!(user(&deep), Err(ScimError::InvalidFilter(_))));
        let long = format!("userName eq \"{}\"", "x".repeat(MAX_FILTER_LEN));
        assert!(matches!(user(&long), Err(ScimError::InvalidFilter(_))));
    }

    #[test]
    fn filters_of_more_tests_than_the_cap_are_refused() {
        let chain = |n: usize, test: &str| vec![test; n].join(" or ");
        // (filter, accepted)
        let cases = [
            (chain(MAX_FILTER_TESTS, "title co \"a\""), true),
            (chain(MAX_FILTER_TESTS + 1, "title co \"a\""), false),
            (chain(MAX_FILTER_TESTS + 1, "id pr"), false),
            (
                format!("emails[{}]", chain(MAX_FILTER_TESTS, "type eq \"w\"")),
                true,
            ),
            (
                format!(
                    "title pr and emails[{}]",
                    chain(MAX_FILTER_TESTS, "type eq \"w\"")
                ),
                false,
            ),
            (
                format!("not ({})", chain(MAX_FILTER_TESTS + 1, "title pr")),
                false,
            ),
        ];
        for (text, accepted) in &cases {
            match user(text) {
                Ok(_) => assert!(accepted, "{text}"),
                Err(ScimError::InvalidFilter(detail)) => {
                    assert!(!accepted, "{text}: {detail}");
                    assert!(detail.contains(&MAX_FILTER_TESTS.to_string()), "{detail}");
                }
                Err(other) => panic!("{text}: {other:?}"),
            }
        }
    }
}
