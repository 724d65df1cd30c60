//! Domain filters to SQL. A filter becomes one boolean SQL fragment with bound parameters, the
//! same text on SQLite and PostgreSQL; every test is answered by an index (the resource table's
//! typed columns or `attribute_values`), never by loading resources into memory.

use chrono::NaiveDateTime;
use diesel::QueryResult;
use diesel::expression::{
    AppearsOnTable, Expression, SelectableExpression, ValidGrouping, is_aggregate,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use std::marker::PhantomData;

use diesel::sql_types::{Bool, Double, Text, Timestamp};

use super::conn::MultiBackend;
use crate::domain::index::fold_case;
use crate::domain::query::{
    After, Comparison, Filter, Op, Operand, Sort, SortCompare, Target, Test,
};
use crate::domain::tenancy::Scope;

#[derive(Debug, Clone)]
enum Part {
    Sql(String),
    Text(String),
    Double(f64),
    Time(NaiveDateTime),
}

/// SQL assembled at run time, with its bind parameters: a boolean condition, or an ORDER BY
/// list (`ST` is then only nominal).
#[derive(Debug, Clone)]
pub struct SqlFragment<ST> {
    parts: Vec<Part>,
    /// Whether the statement this is part of may stay prepared (see `condition`).
    cacheable: bool,
    sql_type: PhantomData<ST>,
}

pub type SqlCondition = SqlFragment<Bool>;
pub type SqlOrder = SqlFragment<Text>;

impl<ST> Default for SqlFragment<ST> {
    fn default() -> Self {
        SqlFragment {
            parts: Vec::new(),
            cacheable: true,
            sql_type: PhantomData,
        }
    }
}

impl<ST> SqlFragment<ST> {
    fn sql(&mut self, s: &str) -> &mut Self {
        self.parts.push(Part::Sql(s.to_string()));
        self
    }

    fn text(&mut self, v: impl Into<String>) -> &mut Self {
        self.parts.push(Part::Text(v.into()));
        self
    }
}

impl<ST: diesel::sql_types::SingleValue> Expression for SqlFragment<ST> {
    type SqlType = ST;
}

impl<QS, ST: diesel::sql_types::SingleValue> AppearsOnTable<QS> for SqlFragment<ST> {}
impl<QS, ST: diesel::sql_types::SingleValue> SelectableExpression<QS> for SqlFragment<ST> {}

impl<ST> ValidGrouping<()> for SqlFragment<ST> {
    type IsAggregate = is_aggregate::Never;
}

impl<ST: 'static> QueryId for SqlFragment<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST> QueryFragment<MultiBackend> for SqlFragment<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        if !self.cacheable {
            out.unsafe_to_cache_prepared();
        }
        for part in &self.parts {
            match part {
                Part::Sql(s) => out.push_sql(s),
                Part::Text(v) => out.push_bind_param::<Text, _>(v)?,
                Part::Double(v) => out.push_bind_param::<Double, _>(v)?,
                Part::Time(v) => out.push_bind_param::<Timestamp, _>(v)?,
            }
        }
        Ok(())
    }
}

/// The resource table a filter runs against.
#[derive(Debug, Clone, Copy)]
pub struct ResourceTable {
    pub table: &'static str,
    pub resource_type: &'static str,
    /// The case-folded name column: `user_name_ci` or `display_name_ci`.
    pub name_ci: &'static str,
}

pub const USERS: ResourceTable = ResourceTable {
    table: "directory_users",
    resource_type: "User",
    name_ci: "user_name_ci",
};

pub const GROUPS: ResourceTable = ResourceTable {
    table: "directory_groups",
    resource_type: "Group",
    name_ci: "display_name_ci",
};

/// Rows strictly after `after` in the default order (creation time, then id).
pub fn after(after: &After, table: ResourceTable) -> SqlCondition {
    let t = table.table;
    let mut out = SqlCondition::default();
    out.sql(&format!("({t}.created_at > "));
    out.parts.push(Part::Time(after.created));
    out.sql(&format!(" OR ({t}.created_at = "));
    out.parts.push(Part::Time(after.created));
    out.sql(&format!(" AND {t}.id > ")).text(after.id.as_str());
    out.sql("))");
    out
}

/// The ORDER BY list: the sort key with missing values last, then id; or the default order.
pub fn order(sort: Option<&Sort>, scope: &Scope, table: ResourceTable) -> SqlOrder {
    let t = table.table;
    let mut out = SqlOrder::default();
    let Some(sort) = sort else {
        out.sql(&format!("{t}.created_at, {t}.id"));
        return out;
    };
    let direction = if sort.descending { "DESC" } else { "ASC" };
    let mut key = SqlOrder::default();
    match &sort.target {
        Target::Indexed { path, .. } => {
            let column = match sort.compare {
                SortCompare::Folded => "value_ci",
                SortCompare::Exact => "value",
                SortCompare::Numeric => "value_num",
            };
            // A multi-valued attribute sorts by its least value.
            key.sql(&format!(
                "(SELECT MIN(x.{column}) FROM attribute_values x WHERE x.directory_id = {t}.directory_id AND x.resource_id = {t}.id AND "
            ));
            path_is(&mut key, "x", scope, table, path);
            key.sql(")");
        }
        Target::Id => {
            key.sql(&format!("{t}.id"));
        }
        Target::ExternalId => {
            key.sql(&format!("{t}.external_id"));
        }
        Target::Name => {
            key.sql(&format!("{t}.{}", table.name_ci));
        }
        Target::Created => {
            key.sql(&format!("{t}.created_at"));
        }
        Target::LastModified | Target::Member | Target::GroupOf => {
            key.sql(&format!("{t}.updated_at"));
        }
    }
    out.parts.push(Part::Sql("(".into()));
    out.parts.extend(key.parts.iter().cloned());
    out.sql(" IS NULL), ");
    out.parts.extend(key.parts);
    out.sql(&format!(" {direction}, {t}.id {direction}"));
    out
}

/// `filter` as a boolean SQL condition on `table`, scoped to the directory.
///
/// Only the statement of a filter with one test stays prepared. diesel keeps every statement
/// text it has prepared for as long as the connection lives, and filters of several tests
/// have more shapes than any bound: a client sending `or` chains of every length would grow
/// every connection's cache without end. One test has a few hundred shapes at most (its
/// values and attribute paths are bound parameters); a filter of several is prepared anew.
pub fn condition(filter: &Filter, scope: &Scope, table: ResourceTable) -> SqlCondition {
    let mut out = SqlCondition::default();
    Builder { scope, table }.filter(filter, None, &mut out);
    out.cacheable = filter.test_count() <= 1;
    out
}

struct Builder<'a> {
    scope: &'a Scope,
    table: ResourceTable,
}

/// `{alias}.path_id = ` the number of `path` in the scope's directory, for the table's resource
/// type: a scalar subquery the database runs once per statement, not once per row. A path
/// without a number (no resource ever had a value there) makes the test NULL, so it matches
/// nothing.
fn path_is<ST>(
    out: &mut SqlFragment<ST>,
    alias: &str,
    scope: &Scope,
    table: ResourceTable,
    path: &str,
) {
    out.sql(&format!("{alias}.path_id = "));
    numbers_where(out, scope, table);
    out.sql("p.path = ").text(path);
    out.sql(")");
}

/// `{alias}.path_id IN` the numbers of `path` and of its sub-attributes' paths (`path.*`):
/// each element of a complex attribute has a row under one of them, its sub-attributes'
/// values, or an anchor row of the bare path when none of those is searchable.
fn path_or_under<ST>(
    out: &mut SqlFragment<ST>,
    alias: &str,
    scope: &Scope,
    table: ResourceTable,
    path: &str,
) {
    out.sql(&format!("{alias}.path_id IN "));
    numbers_where(out, scope, table);
    out.sql("(p.path = ").text(path);
    // LIKE, not a range: PostgreSQL orders text by the database's collation, not by bytes.
    out.sql(" OR p.path LIKE ")
        .text(format!("{}.%", like_escape(path)));
    out.sql(" ESCAPE '\\'))");
}

/// The head of a subquery for path numbers of the scope's directory and the table's resource
/// type, open for one more condition on `p.path` and the closing parenthesis.
fn numbers_where<ST>(out: &mut SqlFragment<ST>, scope: &Scope, table: ResourceTable) {
    out.sql("(SELECT p.id FROM attribute_paths p WHERE p.directory_id = ");
    out.text(scope.directory_id.as_str());
    out.sql(" AND p.resource_type = ").text(table.resource_type);
    out.sql(" AND ");
}

/// Escapes LIKE wildcards in a user-supplied value; the queries declare `ESCAPE '\'`.
fn like_escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

impl Builder<'_> {
    /// `element` is the alias of a row of the element when inside `attr[...]`.
    fn filter(&self, f: &Filter, element: Option<&str>, out: &mut SqlCondition) {
        match f {
            Filter::And(items) | Filter::Or(items) => {
                let joiner = if matches!(f, Filter::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                out.sql("(");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.sql(joiner);
                    }
                    self.filter(item, element, out);
                }
                out.sql(")");
            }
            Filter::Not(inner) => {
                out.sql("NOT (");
                self.filter(inner, element, out);
                out.sql(")");
            }
            Filter::Test(test) => self.test(test, element, out),
            Filter::Element { path, filter } => {
                out.sql(&format!(
                    "{}.id IN (SELECT e.resource_id FROM attribute_values e WHERE ",
                    self.table.table
                ));
                path_or_under(out, "e", self.scope, self.table, path);
                out.sql(" AND ");
                self.filter(filter, Some("e"), out);
                out.sql(")");
            }
        }
    }

    fn test(&self, test: &Test, element: Option<&str>, out: &mut SqlCondition) {
        // `ne` is "not equal", including resources that lack the attribute.
        if let Op::Compare(Comparison::Ne, operand) = &test.op {
            out.sql("NOT (");
            self.test(
                &Test {
                    target: test.target.clone(),
                    op: Op::Compare(Comparison::Eq, operand.clone()),
                },
                element,
                out,
            );
            out.sql(")");
            return;
        }
        let t = self.table.table;
        match &test.target {
            Target::Indexed { path, complex } => {
                match element {
                    Some(e) => {
                        out.sql(&format!(
                            "EXISTS (SELECT 1 FROM attribute_values x WHERE x.directory_id = {e}.directory_id AND x.resource_id = {e}.resource_id AND "
                        ));
                    }
                    None => {
                        out.sql(&format!(
                            "{t}.id IN (SELECT x.resource_id FROM attribute_values x WHERE "
                        ));
                    }
                }
                if test.op == Op::Present {
                    path_or_under(out, "x", self.scope, self.table, path);
                    if !complex {
                        // An empty string is not a value (RFC 7644 §3.4.2.2).
                        out.sql(" AND x.value <> ''");
                    }
                } else {
                    path_is(out, "x", self.scope, self.table, path);
                }
                if let Some(e) = element {
                    out.sql(&format!(" AND x.elem = {e}.elem"));
                }
                if let Op::Compare(cmp, operand) = &test.op {
                    out.sql(" AND ");
                    let column = match operand {
                        Operand::Text {
                            case_exact: false, ..
                        } => "x.value_ci",
                        Operand::Number(_) => "x.value_num",
                        Operand::Text { value, .. } if *cmp == Comparison::Eq => {
                            // Only the folded value is indexed; equal values fold equally.
                            out.sql("x.value_ci = ").text(fold_case(value));
                            out.sql(" AND ");
                            "x.value"
                        }
                        _ => "x.value",
                    };
                    compare(column, *cmp, operand, out);
                }
                out.sql(")");
            }
            Target::Member | Target::GroupOf => {
                // A group's members, or a user's groups: either side of a membership row.
                let (this, other) = match test.target {
                    Target::Member => ("m.group_id", "m.member_id"),
                    _ => ("m.member_id", "m.group_id"),
                };
                out.sql(&format!(
                    "{t}.id IN (SELECT {this} FROM memberships m WHERE m.directory_id = "
                ));
                out.text(self.scope.directory_id.as_str());
                if let Op::Compare(cmp, operand) = &test.op {
                    out.sql(" AND ");
                    compare(other, *cmp, operand, out);
                }
                out.sql(")");
            }
            column_target => {
                let column = match column_target {
                    Target::Id => format!("{t}.id"),
                    Target::ExternalId => format!("{t}.external_id"),
                    Target::Name => format!("{t}.{}", self.table.name_ci),
                    Target::Created => format!("{t}.created_at"),
                    _ => format!("{t}.updated_at"),
                };
                match &test.op {
                    Op::Present => {
                        let text = !matches!(column_target, Target::Created | Target::LastModified);
                        if text {
                            out.sql(&format!("({column} IS NOT NULL AND {column} <> '')"));
                        } else {
                            out.sql(&format!("{column} IS NOT NULL"));
                        }
                    }
                    Op::Compare(cmp, operand) => {
                        let operand = match (column_target, operand) {
                            // The folded column holds folded text whatever the caller asked.
                            (Target::Name, Operand::Text { value, .. }) => Operand::Text {
                                value: fold_case(value),
                                case_exact: true,
                            },
                            _ => operand.clone(),
                        };
                        // Never NULL, so `not (...)` of it is exact; the bare comparison
                        // stays visible to the column's index.
                        out.sql(&format!("({column} IS NOT NULL AND "));
                        compare(&column, *cmp, &operand, out);
                        out.sql(")");
                    }
                }
            }
        }
    }
}

fn compare(column: &str, cmp: Comparison, operand: &Operand, out: &mut SqlCondition) {
    let symbol = match cmp {
        Comparison::Eq => "=",
        Comparison::Ne => "<>",
        Comparison::Gt => ">",
        Comparison::Ge => ">=",
        Comparison::Lt => "<",
        Comparison::Le => "<=",
        Comparison::Co | Comparison::Sw | Comparison::Ew => "LIKE",
    };
    out.sql(&format!("{column} {symbol} "));
    match operand {
        Operand::Text { value, case_exact } => {
            let value = if *case_exact {
                value.clone()
            } else {
                fold_case(value)
            };
            let bound = match cmp {
                Comparison::Co => format!("%{}%", like_escape(&value)),
                Comparison::Sw => format!("{}%", like_escape(&value)),
                Comparison::Ew => format!("%{}", like_escape(&value)),
                _ => value,
            };
            out.text(bound);
        }
        Operand::Number(n) => {
            out.parts.push(Part::Double(*n));
        }
        Operand::Time(t) => {
            out.parts.push(Part::Time(*t));
        }
    }
    if matches!(cmp, Comparison::Co | Comparison::Sw | Comparison::Ew) {
        out.sql(" ESCAPE '\\'");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{DirectoryId, TenantId};
    use crate::domain::query::{Comparison, Operand, Target, Test};

    fn eq(target: Target, value: &str) -> Filter {
        Filter::Test(Test {
            target,
            op: Op::Compare(
                Comparison::Eq,
                Operand::Text {
                    value: value.into(),
                    case_exact: false,
                },
            ),
        })
    }

    fn indexed(path: &str) -> Target {
        Target::Indexed {
            path: path.into(),
            complex: false,
        }
    }

    #[test]
    fn only_filters_of_one_test_stay_prepared() {
        let scope = Scope {
            tenant_id: TenantId::from_raw("t"),
            directory_id: DirectoryId::from_raw("d"),
        };
        let element = |filter: Filter| Filter::Element {
            path: "emails".into(),
            filter: Box::new(filter),
        };
        let cases = [
            (eq(Target::Name, "a"), true),
            (Filter::Not(Box::new(eq(Target::ExternalId, "a"))), true),
            (element(eq(indexed("emails.type"), "work")), true),
            (
                Filter::Or(vec![eq(Target::Name, "a"), eq(Target::Name, "b")]),
                false,
            ),
            (
                element(Filter::And(vec![
                    eq(indexed("emails.type"), "work"),
                    eq(indexed("emails.value"), "a@example.com"),
                ])),
                false,
            ),
        ];
        for backend in [
            MultiBackend::Sqlite(diesel::sqlite::Sqlite),
            MultiBackend::Postgres(diesel::pg::Pg),
        ] {
            for (filter, prepared) in &cases {
                let kept = condition(filter, &scope, USERS)
                    .is_safe_to_cache_prepared(&backend)
                    .unwrap();
                assert_eq!(kept, *prepared, "{filter:?}");
            }
        }
    }
}
