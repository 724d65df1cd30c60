//! `roster directory attribute add|list|update|remove`: a directory's custom attributes,
//! through the same domain commands as the admin API. A change re-derives the directory's
//! users here, in the foreground, printing progress on stderr.

use clap::Subcommand;
use serde_json::json;

use super::{Cmd, registry};
use crate::domain::clock;
use crate::domain::custom_attribute::{self, Rederive, SourceKind};
use crate::domain::tenancy::{self, Scope};
use crate::scim::source_path;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub(super) enum AttributeCommand {
    /// Map a new custom attribute from a source path and re-derive the directory's users.
    Add {
        directory: String,
        name: String,
        /// A SCIM path (e.g. 'addresses[type eq "work"].locality') or, with --google, a field
        /// of Google's user record (e.g. 'organizations[primary eq true].costCenter').
        #[arg(long)]
        source: String,
        /// The source is a field of Google's user record.
        #[arg(long)]
        google: bool,
    },
    /// A directory's custom attributes and its last re-derivation.
    List { directory: String },
    /// Map a custom attribute from another source path and re-derive the directory's users.
    Update {
        directory: String,
        name: String,
        #[arg(long)]
        source: String,
        #[arg(long)]
        google: bool,
    },
    /// Remove a custom attribute and re-derive the directory's users without it.
    Remove { directory: String, name: String },
    /// Finish a re-derivation a stopped server left unfinished.
    Rederive { directory: String },
}

fn kind(google: bool) -> SourceKind {
    if google {
        SourceKind::Google
    } else {
        SourceKind::Scim
    }
}

fn progress_text(r: &Rederive) -> String {
    format!(
        "re-derived {} of {} users, {} changed ({})",
        r.checked, r.total, r.changed, r.state
    )
}

/// Runs the directory's re-derivation to its end, printing progress unless `--json`.
fn rederive(ctx: &Cmd, store: &Store, scope: &Scope) -> anyhow::Result<Option<Rederive>> {
    Ok(custom_attribute::rederive(
        store,
        scope,
        |r| {
            if !ctx.json {
                eprintln!("{}", progress_text(r));
            }
        },
        clock::now,
    )?)
}

pub(super) fn attribute(ctx: &Cmd, store: &Store, command: AttributeCommand) -> anyhow::Result<()> {
    let find =
        |d: &str| -> anyhow::Result<Scope> { Ok(tenancy::find_directory(store, d)?.scope()) };
    match command {
        AttributeCommand::Add {
            directory,
            name,
            source,
            google,
        } => {
            let scope = find(&directory)?;
            let path = source_path::parse(&registry(&ctx.config)?, kind(google), &source)?;
            let m = custom_attribute::create(store, &scope, &name, path, clock::now())?;
            let done = rederive(ctx, store, &scope)?;
            ctx.print(json!({"attribute": m, "rederive": done}), || {
                format!("custom attribute {} added, from {}", m.name, m.source.text)
            });
        }
        AttributeCommand::Update {
            directory,
            name,
            source,
            google,
        } => {
            let scope = find(&directory)?;
            let path = source_path::parse(&registry(&ctx.config)?, kind(google), &source)?;
            let m = custom_attribute::update(store, &scope, &name, path, clock::now())?;
            let done = rederive(ctx, store, &scope)?;
            ctx.print(json!({"attribute": m, "rederive": done}), || {
                format!("custom attribute {} now from {}", m.name, m.source.text)
            });
        }
        AttributeCommand::Remove { directory, name } => {
            let scope = find(&directory)?;
            custom_attribute::remove(store, &scope, &name, clock::now())?;
            let done = rederive(ctx, store, &scope)?;
            ctx.print(
                json!({"name": name, "deleted": true, "rederive": done}),
                || format!("custom attribute {name} removed"),
            );
        }
        AttributeCommand::Rederive { directory } => {
            let scope = find(&directory)?;
            let done = rederive(ctx, store, &scope)?;
            ctx.print(json!({"rederive": done}), || {
                done.as_ref()
                    .map_or("no custom attribute was ever mapped".into(), progress_text)
            });
        }
        AttributeCommand::List { directory } => {
            let scope = find(&directory)?;
            let all = custom_attribute::list(store, &scope)?;
            let progress = custom_attribute::progress(store, &scope)?;
            ctx.print(json!({"data": all, "rederive": progress}), || {
                let mut lines: Vec<String> = all
                    .iter()
                    .map(|m| format!("{}\t{}\t{}", m.name, m.source.kind.as_str(), m.source.text))
                    .collect();
                if let Some(p) = &progress {
                    lines.push(progress_text(p));
                }
                lines.join("\n")
            });
        }
    }
    Ok(())
}
