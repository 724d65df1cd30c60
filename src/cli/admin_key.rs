//! `roster admin-key issue|list|revoke`: keys for the admin API under /api/v1/admin.

use clap::Subcommand;
use serde_json::json;

use super::Cmd;
use crate::domain::ids::TokenId;
use crate::domain::{admin_key, cidr, clock, tenancy};

#[derive(Debug, Subcommand)]
pub(super) enum AdminKeyCommand {
    /// Issue a key (shown once) for every route under /api/v1/admin.
    Issue {
        /// The one tenant the key manages [default: every tenant].
        #[arg(long)]
        tenant: Option<String>,
        /// Only requests from these client addresses (comma-separated CIDRs, e.g.
        /// 127.0.0.1/32,::1/128) may use it; others get 403. The address is the TCP peer's:
        /// behind a proxy, that is the proxy.
        #[arg(long, value_name = "CIDRS")]
        allow: Option<String>,
    },
    /// List admin keys: id, hint, tenant, allow list, created, revoked.
    List,
    /// Revoke a key by its id; requests with it fail at once.
    Revoke { id: String },
}

fn allow_text(allow: Option<&[cidr::Cidr]>) -> String {
    allow.map_or("from any address".to_string(), |list| {
        let ranges: Vec<String> = list.iter().map(ToString::to_string).collect();
        format!("from {}", ranges.join(", "))
    })
}

pub(super) fn admin_key(ctx: &Cmd, command: AdminKeyCommand) -> anyhow::Result<()> {
    let store = ctx.store()?;
    match command {
        AdminKeyCommand::Issue { tenant, allow } => {
            let tenant = tenant
                .map(|t| tenancy::find_tenant(&store, &t))
                .transpose()?;
            let allow = allow.as_deref().map(cidr::parse_list).transpose()?;
            let issued = admin_key::issue(&store, tenant.as_ref(), allow, clock::now())?;
            let manages = tenant
                .as_ref()
                .map_or("every tenant".to_string(), |t| format!("tenant {}", t.name));
            let info = &issued.info;
            ctx.print(
                json!({
                    "id": info.id,
                    "tenant_id": info.tenant_id,
                    "hint": info.hint,
                    "allow": info.allow,
                    "key": issued.secret.expose(),
                }),
                || {
                    format!(
                        "admin key {} issued; it manages {manages} and works {} (shown once):\n{}",
                        info.id,
                        allow_text(info.allow.as_deref()),
                        issued.secret.expose()
                    )
                },
            );
        }
        AdminKeyCommand::List => {
            let all = admin_key::list(&store)?;
            ctx.print(json!({"admin_keys": all}), || {
                all.iter()
                    .map(|k| {
                        let state = if k.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "live"
                        };
                        let allow = allow_text(k.allow.as_deref());
                        let tenant = k
                            .tenant_id
                            .as_ref()
                            .map_or("every tenant".to_string(), |t| format!("tenant {t}"));
                        format!("{}\t{}…\t{tenant}\t{allow}\t{state}", k.id, k.hint)
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        AdminKeyCommand::Revoke { id } => {
            admin_key::revoke(&store, &TokenId::from_raw(id.clone()), clock::now())?;
            ctx.print(json!({"revoked": id}), || format!("admin key {id} revoked"));
        }
    }
    Ok(())
}
