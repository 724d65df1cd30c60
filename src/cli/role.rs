//! `roster role create|list|update|delete|rule|recompute`: a tenant's roles and the rules that
//! derive them from groups (docs/roles.md), through the same commands as the admin API.

use clap::Subcommand;
use serde_json::json;

use super::Cmd;
use crate::domain::role_admin::{self, NewRole, RoleChanges};
use crate::domain::role_sync::{self, Progress};
use crate::domain::roles::{MatchBy, Rule};
use crate::domain::{clock, tenancy};

#[derive(Debug, Subcommand)]
pub(super) enum RoleCommand {
    /// Create a role with an immutable slug.
    Create {
        #[arg(long)]
        tenant: String,
        /// a-z, 0-9, '-', '_', '.'; what applications see.
        slug: String,
        #[arg(long)]
        name: String,
        /// Of a user's roles, the highest priority is its `role`.
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        priority: i64,
        /// Make it the default role, held by every user no rule gives a role.
        #[arg(long)]
        default: bool,
    },
    /// List a tenant's roles with their rules, and the recompute's progress.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Change a role's name, priority or whether it is the default.
    Update {
        #[arg(long)]
        tenant: String,
        slug: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, allow_negative_numbers = true)]
        priority: Option<i64>,
        /// true: make it the default role; false: leave the tenant without one.
        #[arg(long)]
        default: Option<bool>,
    },
    /// Delete a role; its users get their other roles or the default in the background.
    Delete {
        #[arg(long)]
        tenant: String,
        slug: String,
    },
    /// Rules that give a role to the members of groups.
    #[command(subcommand)]
    Rule(RuleCommand),
    /// Run the tenant's pending recompute here, printing progress (a server runs it too).
    Recompute {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum RuleCommand {
    /// Give ROLE to the direct members of the groups matched by id, IdP id or name.
    Add {
        #[arg(long)]
        tenant: String,
        /// The role's slug.
        role: String,
        /// group_id, idp_id (the group's externalId) or name (its displayName).
        #[arg(long = "match", value_name = "HOW")]
        match_by: String,
        /// The group id, IdP id or name to match.
        value: String,
    },
    /// List a role's rules.
    List {
        #[arg(long)]
        tenant: String,
        role: String,
    },
    /// Delete a rule by its id.
    Delete {
        #[arg(long)]
        tenant: String,
        role: String,
        id: String,
    },
}

fn progress_text(p: Option<&Progress>) -> String {
    p.map_or("no recompute yet".to_string(), |p| {
        format!(
            "recompute {}: {} of {} users, {} changed{}",
            p.state,
            p.done,
            p.total,
            p.changed,
            p.elapsed_ms
                .map_or(String::new(), |ms| format!(", in {ms} ms"))
        )
    })
}

fn rule_text(r: &Rule) -> String {
    format!("{}\t{} = {}", r.id, r.match_by.as_str(), r.value)
}

pub(super) fn role(ctx: &Cmd, command: RoleCommand) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let tenant_of = |name: &str| tenancy::find_tenant(&store, name).map(|t| t.id);
    match command {
        RoleCommand::Create {
            tenant,
            slug,
            name,
            priority,
            default,
        } => {
            let t = tenant_of(&tenant)?;
            let new = NewRole {
                slug,
                name,
                priority,
                default,
            };
            let role = role_admin::create(&store, &t, new, clock::now())?;
            ctx.print(json!(role), || format!("role {} created", role.slug));
        }
        RoleCommand::List { tenant } => {
            let roles = role_admin::list(&store, &tenant_of(&tenant)?)?;
            ctx.print(json!(roles), || {
                let mut lines: Vec<String> = roles
                    .data
                    .iter()
                    .flat_map(|v| {
                        let r = &v.role;
                        let head = format!(
                            "{}\t{}\tpriority {}{}",
                            r.slug,
                            r.name,
                            r.priority,
                            if r.default { "\tdefault" } else { "" }
                        );
                        std::iter::once(head)
                            .chain(v.rules.iter().map(|x| format!("  {}", rule_text(x))))
                    })
                    .collect();
                lines.push(progress_text(roles.recompute.as_ref()));
                lines.join("\n")
            });
        }
        RoleCommand::Update {
            tenant,
            slug,
            name,
            priority,
            default,
        } => {
            let changes = RoleChanges {
                name,
                priority,
                default,
            };
            let role =
                role_admin::update(&store, &tenant_of(&tenant)?, &slug, changes, clock::now())?;
            ctx.print(json!(role), || format!("role {} updated", role.slug));
        }
        RoleCommand::Delete { tenant, slug } => {
            role_admin::delete(&store, &tenant_of(&tenant)?, &slug, clock::now())?;
            ctx.print(json!({"deleted": slug}), || {
                format!("role {slug} deleted; its users are recomputed in the background")
            });
        }
        RoleCommand::Rule(RuleCommand::Add {
            tenant,
            role,
            match_by,
            value,
        }) => {
            let how: MatchBy = match_by.parse()?;
            let rule = role_admin::add_rule(
                &store,
                &tenant_of(&tenant)?,
                &role,
                how,
                &value,
                clock::now(),
            )?;
            ctx.print(json!(rule), || format!("rule {}", rule_text(&rule)));
        }
        RoleCommand::Rule(RuleCommand::List { tenant, role }) => {
            let rules = role_admin::rules(&store, &tenant_of(&tenant)?, &role)?;
            ctx.print(json!({"rules": rules}), || {
                rules.iter().map(rule_text).collect::<Vec<_>>().join("\n")
            });
        }
        RoleCommand::Rule(RuleCommand::Delete { tenant, role, id }) => {
            role_admin::delete_rule(&store, &tenant_of(&tenant)?, &role, &id, clock::now())?;
            ctx.print(json!({"deleted": id}), || format!("rule {id} deleted"));
        }
        RoleCommand::Recompute { tenant } => {
            let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let done = role_sync::run(&store, &tenant_of(&tenant)?, |p| {
                if terminal {
                    eprint!("\r\x1b[2K{}", progress_text(Some(p)));
                }
            })?;
            if terminal {
                eprintln!();
            }
            ctx.print(json!({"recompute": done}), || progress_text(done.as_ref()));
        }
    }
    Ok(())
}
