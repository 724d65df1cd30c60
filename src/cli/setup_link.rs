//! `roster directory setup-link D [--expires 7d]`, `... setup-link list D` and `... setup-link
//! revoke D ID`: one-time links to a directory's setup page for the customer's IT admin
//! (docs/setup-page.md), through the same domain commands as the admin API.

use clap::{Args, Subcommand};
use serde_json::json;

use super::Cmd;
use crate::domain::clock::{self, rfc3339};
use crate::domain::setup_link::{self, SetupLinkInfo};
use crate::domain::{lifecycle, tenancy};
use crate::store::Store;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(super) struct SetupLinkArgs {
    #[command(subcommand)]
    action: Option<SetupLinkAction>,
    /// The directory (by id, or by name when unambiguous); prints its new link's URL, once.
    #[arg(required = true)]
    directory: Option<String>,
    /// How long the link works: 7d, 24h, 30m (at most 90d).
    #[arg(long, default_value = "7d")]
    expires: String,
}

#[derive(Debug, Subcommand)]
enum SetupLinkAction {
    /// The directory's links: id, hint, state, expiry, when the token was revealed.
    List { directory: String },
    /// Revoke a link; its page answers "revoked" from the next request on.
    Revoke { directory: String, id: String },
}

fn line(l: &SetupLinkInfo) -> String {
    format!(
        "{}\t{}…\t{}\texpires {}\ttoken revealed {}",
        l.id,
        l.hint,
        l.state.as_str(),
        rfc3339(l.expires_at),
        l.token_revealed_at.map_or_else(|| "never".into(), rfc3339)
    )
}

pub(super) fn setup_link(ctx: &Cmd, store: &Store, args: SetupLinkArgs) -> anyhow::Result<()> {
    let now = clock::now();
    match args.action {
        Some(SetupLinkAction::List { directory }) => {
            let d = tenancy::find_directory(store, &directory)?;
            let all = setup_link::list(store, &d, now)?;
            ctx.print(json!({"setup_links": all}), || {
                all.iter().map(line).collect::<Vec<_>>().join("\n")
            });
        }
        Some(SetupLinkAction::Revoke { directory, id }) => {
            let d = tenancy::find_directory(store, &directory)?;
            let revoked = setup_link::revoke(store, &d, &id, now)?;
            ctx.print(json!(revoked), || format!("setup link {id} revoked"));
        }
        None => {
            let directory = args.directory.unwrap_or_default();
            let d = tenancy::find_directory(store, &directory)?;
            let lifetime = lifecycle::parse_duration(&args.expires)?;
            let made = setup_link::create(store, &d, lifetime, now)?;
            let url = crate::console::setup_url(&ctx.config.scim_base_url(), made.secret.expose());
            let mut out = json!(made.info);
            out["url"] = json!(url);
            ctx.print(out, || {
                format!(
                    "setup link for directory {} (shown once; works until {}):\n{url}",
                    d.name,
                    rfc3339(made.info.expires_at)
                )
            });
        }
    }
    Ok(())
}
