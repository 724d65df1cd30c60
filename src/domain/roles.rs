//! Roles derived from groups: a tenant's roles, the rules that map groups to them, and the one
//! function that says which roles a user has (`docs/roles.md`). Pure: no store, no clock.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::error::{DomainError, DomainResult};
use super::ids::TenantId;
use super::index::fold_case;

/// A tenant's role. The slug is what applications see and never changes.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Role {
    pub id: String,
    #[schema(value_type = String)]
    pub tenant_id: TenantId,
    pub slug: String,
    pub name: String,
    /// Of two roles a user holds, the higher priority comes first (`role` in the record).
    pub priority: i64,
    pub default: bool,
    /// UTC, without an offset.
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    /// UTC, without an offset.
    #[schema(value_type = String)]
    pub updated_at: NaiveDateTime,
}

/// How a rule names its groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchBy {
    /// Roster's group id: one group.
    GroupId,
    /// The group's `externalId` (the IdP's id), in any directory of the tenant.
    IdpId,
    /// The group's `displayName`, compared case-insensitively, in any directory of the tenant;
    /// a renamed group leaves or joins the rule with its new name.
    Name,
}

impl MatchBy {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchBy::GroupId => "group_id",
            MatchBy::IdpId => "idp_id",
            MatchBy::Name => "name",
        }
    }
}

impl std::str::FromStr for MatchBy {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [MatchBy::GroupId, MatchBy::IdpId, MatchBy::Name]
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                DomainError::Invalid(format!("match '{s}' is not one of: group_id, idp_id, name"))
            })
    }
}

/// A rule: the direct members of the groups it matches hold its role.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Rule {
    pub id: String,
    pub role_id: String,
    #[serde(rename = "match")]
    pub match_by: MatchBy,
    pub value: String,
    /// UTC, without an offset.
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
}

impl Rule {
    pub fn matches(&self, group: &GroupFacts) -> bool {
        match self.match_by {
            MatchBy::GroupId => group.id == self.value,
            MatchBy::IdpId => group.external_id.as_deref() == Some(self.value.as_str()),
            MatchBy::Name => fold_case(&group.display_name) == fold_case(&self.value),
        }
    }
}

/// What a rule can match a group on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupFacts {
    pub id: String,
    pub external_id: Option<String>,
    pub display_name: String,
}

/// A tenant's roles and rules, as one write reads them.
#[derive(Debug, Clone, Default)]
pub struct RoleBook {
    pub roles: Vec<Role>,
    pub rules: Vec<Rule>,
}

impl RoleBook {
    /// The slugs of the roles a live user holds, highest priority first (ties by slug): those
    /// of every rule matching one of the groups it belongs to directly, or, when none does,
    /// the tenant's default role. No roles at all when the tenant has none.
    pub fn effective(&self, groups: &[GroupFacts]) -> Vec<String> {
        let held: BTreeSet<&str> = self
            .rules
            .iter()
            .filter(|rule| groups.iter().any(|g| rule.matches(g)))
            .map(|rule| rule.role_id.as_str())
            .collect();
        let mut roles: Vec<&Role> = self
            .roles
            .iter()
            .filter(|r| held.contains(r.id.as_str()))
            .collect();
        if roles.is_empty() {
            roles.extend(self.roles.iter().filter(|r| r.default));
        }
        roles.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.slug.cmp(&b.slug)));
        roles.into_iter().map(|r| r.slug.clone()).collect()
    }

    /// Whether some rule could match `group` under one of its names: a change of that group's
    /// name, id or members may change roles.
    pub fn concerns(&self, group: &GroupFacts) -> bool {
        self.rules.iter().any(|rule| rule.matches(group))
    }

    pub fn default_role(&self) -> Option<&Role> {
        self.roles.iter().find(|r| r.default)
    }
}

/// A slug is what applications compare, so it is kept plain: 1 to 64 of `a-z 0-9 - _ .`.
pub fn check_slug(slug: &str) -> DomainResult<()> {
    let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c);
    if slug.is_empty() || slug.len() > 64 || !slug.chars().all(plain) {
        return Err(DomainError::Invalid(format!(
            "slug '{slug}' must be 1 to 64 of a-z, 0-9, '-', '_' and '.'"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: &str, priority: i64, default: bool) -> Role {
        Role {
            id: id.into(),
            tenant_id: TenantId::from_raw("t"),
            slug: id.into(),
            name: id.to_uppercase(),
            priority,
            default,
            created_at: NaiveDateTime::default(),
            updated_at: NaiveDateTime::default(),
        }
    }

    fn rule(role: &str, match_by: MatchBy, value: &str) -> Rule {
        Rule {
            id: format!("{role}-{value}"),
            role_id: role.into(),
            match_by,
            value: value.into(),
            created_at: NaiveDateTime::default(),
        }
    }

    fn group(id: &str, external_id: Option<&str>, name: &str) -> GroupFacts {
        GroupFacts {
            id: id.into(),
            external_id: external_id.map(Into::into),
            display_name: name.into(),
        }
    }

    #[test]
    fn a_user_holds_the_roles_its_groups_match_highest_priority_first() {
        let book = RoleBook {
            roles: vec![
                role("member", 0, true),
                role("admin", 100, false),
                role("editor", 50, false),
                role("viewer", 50, false),
            ],
            rules: vec![
                rule("admin", MatchBy::GroupId, "g-admins"),
                rule("editor", MatchBy::IdpId, "okta-editors"),
                rule("viewer", MatchBy::Name, "Everyone"),
                rule("viewer", MatchBy::GroupId, "g-admins"),
            ],
        };
        let admins = group("g-admins", None, "Admins");
        let editors = group("g-2", Some("okta-editors"), "Editors");
        let everyone = group("g-3", Some("x"), "EVERYONE");
        let other = group("g-4", Some("g-admins"), "okta-editors");
        let cases: [(&[GroupFacts], &[&str]); 6] = [
            (&[], &["member"]),
            (std::slice::from_ref(&other), &["member"]),
            (std::slice::from_ref(&admins), &["admin", "viewer"]),
            (std::slice::from_ref(&editors), &["editor"]),
            (&[everyone.clone(), editors.clone()], &["editor", "viewer"]),
            (
                &[everyone.clone(), editors.clone(), admins.clone()],
                &["admin", "editor", "viewer"],
            ),
        ];
        for (groups, want) in cases {
            assert_eq!(book.effective(groups), want, "{groups:?}");
        }
    }

    #[test]
    fn without_a_default_an_unmapped_user_holds_nothing() {
        let book = RoleBook {
            roles: vec![role("admin", 1, false)],
            rules: vec![rule("admin", MatchBy::Name, "admins")],
        };
        assert!(book.effective(&[group("g", None, "staff")]).is_empty());
        assert_eq!(book.effective(&[group("g", None, "Admins")]), ["admin"]);
        assert!(RoleBook::default().effective(&[]).is_empty());
    }

    #[test]
    fn slugs_are_plain() {
        for good in ["admin", "billing-admin", "v2.reader", "a_b"] {
            assert!(check_slug(good).is_ok(), "{good}");
        }
        for bad in ["", "Admin", "a b", "é", &"x".repeat(65)] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
    }
}
