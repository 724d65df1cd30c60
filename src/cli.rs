//! The `roster` command line: `serve`, `migrate`, and administration of tenants, directories
//! and tokens. `--json` prints one JSON object for scripts.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use crate::config::{Config, FileConfig};
use crate::domain::lifecycle::{self, Deprovisioning, PolicyChanges};
use crate::domain::tenancy::{self, Directory, DirectoryKind};
use crate::domain::{app_key, clock, directory_removal, ids::TokenId, settings, token};
use crate::google;
use crate::http::{self, AppState};
use crate::scim::cursor::CursorKey;
use crate::scim::schema::SchemaRegistry;
use crate::store::Store;

mod admin_key;
mod attribute;
mod events;
mod first_start;
mod log;
mod logging;
mod next_step;
mod replay;
mod role;
mod setup_link;
mod webhook;

#[derive(Debug, Parser)]
#[command(
    name = "roster",
    version,
    about = "Self-hosted SCIM 2.0 directory-sync server"
)]
pub struct Cli {
    /// sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://roster.db]
    #[arg(long, env = "ROSTER_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// A TOML file with database_url, bind, public_url, max_body_bytes, schema_dir, log_format.
    #[arg(long, env = "ROSTER_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the SCIM server (applies pending migrations first).
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, env = "ROSTER_BIND")]
        bind: Option<String>,
        /// URL clients use to reach this server [default: http://BIND].
        #[arg(long, env = "ROSTER_PUBLIC_URL")]
        public_url: Option<String>,
        /// Directory of extension schema documents (*.json) to serve besides the built-in ones.
        #[arg(long, env = "ROSTER_SCHEMA_DIR")]
        schema_dir: Option<PathBuf>,
        /// How long SCIM requests are kept in the request log (45s, 30m, 12h, 7d; 0 disables
        /// it) [default: 7d].
        #[arg(long, env = "ROSTER_REQUEST_LOG_RETENTION")]
        request_log_retention: Option<crate::domain::request_log::Retention>,
        /// How long events stay readable in the feed (5s, 12h, 90d; 0 keeps them for ever)
        /// [default: 90d].
        #[arg(long, env = "ROSTER_EVENTS_RETENTION")]
        events_retention: Option<crate::domain::request_log::Retention>,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Tenants: the customer organizations that own directories.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Directories: a tenant's SCIM or Google Workspace connections.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Bearer tokens of SCIM directories: issue, list, revoke.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Google Workspace directories: check credentials, sync now.
    #[command(subcommand)]
    Google(GoogleCommand),
    /// Remove soft-deleted users and groups whose retention has run out (`serve` does this
    /// hourly on its own).
    Purge,
    /// Read and export the request log of a directory.
    #[command(subcommand)]
    Log(log::LogCommand),
    /// Send recorded or corpus sequences to a server and report differences.
    Replay(replay::ReplayArgs),
    /// Application keys for the application API under /api/v1.
    #[command(subcommand, name = "app-key")]
    AppKey(AppKeyCommand),
    /// Admin keys for the admin API under /api/v1/admin (docs/admin-api.md).
    #[command(subcommand, name = "admin-key")]
    AdminKey(admin_key::AdminKeyCommand),
    /// The events feed.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Webhook endpoints (docs/webhooks.md).
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
    /// Roles derived from groups (docs/roles.md).
    #[command(subcommand)]
    Role(role::RoleCommand),
}

#[derive(Debug, Subcommand)]
enum AppKeyCommand {
    /// Issue a key (shown once) that reads one tenant, or every tenant without --tenant.
    Issue {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Every application key, live or revoked (hints only, never the key).
    List,
    /// Revoke a key by its id; requests with it fail at once.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
enum GoogleCommand {
    /// Prove the credentials and each read-only scope; names what is missing.
    Test {
        #[arg(long)]
        directory: String,
    },
    /// Run one full sync now, with progress on stderr and a summary.
    Sync {
        #[arg(long)]
        directory: String,
    },
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create a tenant with a unique name.
    Create { name: String },
    /// Every tenant, with its id.
    List,
}

#[derive(Debug, Subcommand)]
enum DirectoryCommand {
    /// Create a directory and issue its first token.
    Create {
        #[arg(long)]
        tenant: String,
        /// entra, okta, onelogin, jumpcloud, ping, rippling, generic or google.
        #[arg(long)]
        kind: String,
        name: String,
        #[command(flatten)]
        google: Box<GoogleArgs>,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// A directory's sync state (Google directories): last run, counts, last error, next run.
    Status { directory: String },
    /// Every directory, or one tenant's.
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Refuse the directory's SCIM tokens (within a second) and stop syncing it; its data stays.
    Disable { directory: String },
    /// Accept the directory's tokens again (and sync it, for Google).
    Enable { directory: String },
    /// Rename a directory, change its deprovisioning policy, or change a Google directory's
    /// settings: its key, admin, customer or domain, groups, interval (by id, or by name when
    /// unambiguous).
    Update {
        directory: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        policy: PolicyArgs,
        #[command(flatten)]
        google: Box<GoogleArgs>,
    },
    /// Delete a directory: its tokens stop at once, its users, groups and request log are
    /// removed in batches, then a `directory.deleted` event ends its feed.
    Delete { directory: String },
    /// Custom attributes: named values mapped from a source path of each user.
    #[command(subcommand)]
    Attribute(attribute::AttributeCommand),
    /// A one-time link to the directory's setup page for the customer's IT admin; `list`
    /// and `revoke` its links.
    SetupLink(setup_link::SetupLinkArgs),
}

/// The deprovisioning policy (docs/deprovisioning.md); what is not given keeps its value, or
/// the default of the directory's kind on create.
#[derive(Debug, clap::Args)]
struct PolicyArgs {
    /// What active=false means: deactivate (keep the user, state inactive) or delete.
    #[arg(long)]
    on_deactivate: Option<String>,
    /// What DELETE means: soft (state deleted, purged after the retention) or hard.
    #[arg(long)]
    on_delete: Option<String>,
    /// How long soft-deleted users and groups are kept: 30d, 12h, 90m, 0s.
    #[arg(long)]
    retention: Option<String>,
    /// What losing the last group membership means: keep or deactivate.
    #[arg(long)]
    on_group_loss: Option<String>,
}

impl PolicyArgs {
    fn changes(self) -> PolicyChanges {
        PolicyChanges {
            on_deactivate: self.on_deactivate,
            on_delete: self.on_delete,
            retention: self.retention,
            on_group_loss: self.on_group_loss,
        }
    }
}

/// The settings of a `google` directory; refused for other kinds.
#[derive(Debug, clap::Args)]
struct GoogleArgs {
    /// The service account's JSON key file (stored encrypted with ROSTER_SECRET_KEY).
    #[arg(long, value_name = "FILE")]
    service_account_key: Option<PathBuf>,
    /// The Workspace admin the service account acts as (domain-wide delegation).
    #[arg(long, value_name = "EMAIL")]
    admin: Option<String>,
    /// The customer id to list [default: my_customer].
    #[arg(long, conflicts_with = "domain")]
    customer: Option<String>,
    /// List one domain of the account instead of the whole customer.
    #[arg(long)]
    domain: Option<String>,
    /// Sync only these groups (comma-separated emails) and their members.
    #[arg(long, value_name = "EMAILS")]
    groups: Option<String>,
    /// Time between full syncs, e.g. 30s, 5m, 1h [default on create: 5m].
    #[arg(long)]
    interval: Option<String>,
}

impl GoogleArgs {
    fn given(&self) -> bool {
        self.service_account_key.is_some()
            || self.admin.is_some()
            || self.customer.is_some()
            || self.domain.is_some()
            || self.groups.is_some()
            || self.interval.is_some()
    }

    /// The key file's bytes, when one is given.
    fn key_file(&self) -> anyhow::Result<Option<Vec<u8>>> {
        self.service_account_key
            .as_ref()
            .map(|path| {
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
            })
            .transpose()
    }

    /// What is given, as a change of the settings; `--groups ""` syncs every group again.
    fn changes<'a>(
        &self,
        key_file: Option<&'a [u8]>,
    ) -> anyhow::Result<google::settings_update::SettingsChanges<'a>> {
        let target = match (&self.customer, &self.domain) {
            (_, Some(d)) => Some(google::Target::Domain(d.clone())),
            (Some(c), None) => Some(google::Target::Customer(c.clone())),
            (None, None) => None,
        };
        Ok(google::settings_update::SettingsChanges {
            key_file,
            admin: self.admin.clone(),
            target,
            groups: self.groups.as_deref().map(google::parse_groups),
            interval: self
                .interval
                .as_deref()
                .map(google::parse_interval)
                .transpose()?,
        })
    }
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Issue a new token for a directory (by id, or by name when unambiguous).
    Issue {
        #[arg(long)]
        directory: String,
    },
    /// Every token, or one directory's, live or revoked (hints only, never the token).
    List {
        #[arg(long)]
        directory: Option<String>,
    },
    /// Revoke a token by its id; every instance refuses it within a second.
    Revoke { id: String },
    /// Issue a new token for the same directory, usable at once; the old one keeps working
    /// for the overlap (0: refused within a second, like a revocation).
    Rotate {
        id: String,
        #[arg(long, default_value = "24h")]
        overlap: String,
    },
}

struct Cmd {
    config: Config,
    json: bool,
}

impl Cmd {
    fn store(&self) -> anyhow::Result<Store> {
        let store = Store::open(&self.config.database_url)?;
        store.migrate()?;
        Ok(store)
    }

    fn print(&self, value: Value, text: impl FnOnce() -> String) {
        if self.json {
            println!("{value}");
        } else {
            println!("{}", text());
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let mut file = match &cli.config {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    logging::init(crate::config::LogFormat::resolve(
        std::env::var("ROSTER_LOG_FORMAT").ok(),
        file.log_format.take(),
    )?);
    // Only `serve` loads extension schemas, so a broken schema directory never stands in the way
    // of `migrate` or the administration commands.
    let (bind, public_url, schema_dir) = match &cli.command {
        Command::Serve {
            bind,
            public_url,
            schema_dir,
            ..
        } => (bind.clone(), public_url.clone(), schema_dir.clone()),
        _ => (
            std::env::var("ROSTER_BIND").ok(),
            std::env::var("ROSTER_PUBLIC_URL").ok(),
            None,
        ),
    };
    let (secret_key, google) = (file.secret_key.take(), file.google.take());
    let mut ctx =
        Cmd {
            config: Config::resolve(file, cli.database_url, bind, public_url, schema_dir)
                .with_env(secret_key, google, &|name| std::env::var(name).ok())?,
            json: cli.json,
        };
    if let Command::Serve {
        request_log_retention,
        events_retention,
        ..
    } = &cli.command
    {
        if let Some(r) = request_log_retention {
            ctx.config.request_log_retention = *r;
        }
        if let Some(r) = events_retention {
            ctx.config.events_retention = *r;
        }
    }
    let done = match cli.command {
        Command::Serve { .. } => serve(&ctx),
        Command::Migrate => {
            let store = Store::open(&ctx.config.database_url)?;
            let applied = store.migrate()?;
            ctx.print(json!({"applied": applied}), || {
                format!("{} migration(s) applied", applied.len())
            });
            Ok(())
        }
        Command::Tenant(c) => tenant(&ctx, c),
        Command::Directory(c) => directory(&ctx, c),
        Command::Token(c) => token_command(&ctx, c),
        Command::Google(c) => google_command(&ctx, c),
        Command::Purge => {
            let purged = lifecycle::purge_expired(&ctx.store()?, clock::now())?;
            ctx.print(json!(purged), || {
                format!(
                    "purged {} user(s) and {} group(s) past their retention; emptied deleted \
                     users' records from {} event(s)",
                    purged.users, purged.groups, purged.events_redacted
                )
            });
            Ok(())
        }
        Command::Log(c) => log::log(&ctx, c),
        Command::Replay(args) => replay::replay(&ctx, args),
        Command::AppKey(c) => app_key_command(&ctx, c),
        Command::AdminKey(c) => admin_key::admin_key(&ctx, c),
        Command::Events(c) => events::events(&ctx, c),
        Command::Webhook(c) => webhook::webhook(&ctx, c),
        Command::Role(c) => role::role(&ctx, c),
    };
    done.map_err(next_step::with_next_step)
}

fn app_key_command(ctx: &Cmd, command: AppKeyCommand) -> anyhow::Result<()> {
    let store = ctx.store()?;
    match command {
        AppKeyCommand::Issue { tenant } => {
            let t = tenant
                .map(|t| tenancy::find_tenant(&store, &t))
                .transpose()?;
            let issued = app_key::issue(&store, t.as_ref(), clock::now())?;
            let reads = t
                .as_ref()
                .map_or("every tenant".to_string(), |t| format!("tenant {}", t.name));
            ctx.print(
                json!({
                    "id": issued.info.id,
                    "tenant_id": issued.info.tenant_id,
                    "hint": issued.info.hint,
                    "key": issued.secret.expose(),
                }),
                || {
                    format!(
                        "application key {} issued; it reads {reads} (shown once):\n{}",
                        issued.info.id,
                        issued.secret.expose()
                    )
                },
            );
        }
        AppKeyCommand::List => {
            let all = app_key::list(&store)?;
            ctx.print(json!({"app_keys": all}), || {
                all.iter()
                    .map(|k| {
                        let state = if k.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "live"
                        };
                        let tenant = k
                            .tenant_id
                            .as_ref()
                            .map_or("every tenant".to_string(), |t| format!("tenant {t}"));
                        format!("{}\t{}…\t{tenant}\t{state}", k.id, k.hint)
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        AppKeyCommand::Revoke { id } => {
            app_key::revoke(&store, &TokenId::from_raw(id.clone()), clock::now())?;
            ctx.print(json!({"revoked": id}), || {
                format!("application key {id} revoked")
            });
        }
    }
    Ok(())
}

fn tenant(ctx: &Cmd, command: TenantCommand) -> anyhow::Result<()> {
    let store = ctx.store()?;
    match command {
        TenantCommand::Create { name } => {
            let t = tenancy::create_tenant(&store, &name, clock::now())?;
            ctx.print(json!(t), || format!("tenant {} created: {}", t.name, t.id));
        }
        TenantCommand::List => {
            let all = tenancy::list_tenants(&store)?;
            ctx.print(json!({"tenants": all}), || {
                all.iter()
                    .map(|t| format!("{}\t{}", t.id, t.name))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}

fn directory_json(d: &Directory, tenant: &str, base_url: &str) -> Value {
    json!({
        "id": d.id,
        "name": d.name,
        "kind": d.kind,
        "tenant": tenant,
        "tenant_id": d.tenant_id,
        "scim_base_url": base_url,
        "deprovisioning": d.deprovisioning,
        "disabled_at": d.disabled_at,
    })
}

fn policy_text(p: &Deprovisioning) -> String {
    format!(
        "on deactivate: {}; on delete: {} (retention {}); on group loss: {}",
        p.on_deactivate,
        p.on_delete,
        lifecycle::format_duration(p.retention),
        p.on_group_loss
    )
}

fn directory(ctx: &Cmd, command: DirectoryCommand) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let base_url = ctx.config.scim_base_url();
    match command {
        DirectoryCommand::Create {
            tenant,
            kind,
            name,
            google: g,
            policy,
        } => {
            let kind: DirectoryKind = kind.parse()?;
            let policy = policy.changes().apply(Deprovisioning::default_for(kind))?;
            let t = tenancy::find_tenant(&store, &tenant)?;
            let now = clock::now();
            if kind == DirectoryKind::Google {
                return create_google(ctx, &store, &t, &name, *g, policy, &base_url);
            }
            if g.given() {
                anyhow::bail!(
                    "--service-account-key, --admin, --customer, --domain and --groups are for --kind google"
                );
            }
            let (d, issued) = tenancy::create_scim_directory(&store, &t, &name, kind, policy, now)?;
            let mut out = directory_json(&d, &t.name, &base_url);
            out["token"] = json!(issued.secret.expose());
            out["token_id"] = json!(issued.id);
            ctx.print(out, || {
                format!(
                    "directory {} ({}) created: {}\nSCIM base URL: {base_url}\n{}\nbearer token (shown once): {}",
                    d.name,
                    d.kind.as_str(),
                    d.id,
                    policy_text(&d.deprovisioning),
                    issued.secret.expose()
                )
            });
        }
        DirectoryCommand::Status { directory } => directory_status(ctx, &store, &directory)?,
        DirectoryCommand::Attribute(c) => attribute::attribute(ctx, &store, c)?,
        DirectoryCommand::SetupLink(a) => setup_link::setup_link(ctx, &store, a)?,
        DirectoryCommand::Disable { directory } => toggle(ctx, &store, &directory, true)?,
        DirectoryCommand::Enable { directory } => toggle(ctx, &store, &directory, false)?,
        DirectoryCommand::Update {
            directory,
            name,
            policy,
            google: g,
        } => {
            let d = tenancy::find_directory(&store, &directory)?;
            let policy = policy.changes().apply(d.deprovisioning)?;
            // The Google settings are checked and stored first: a refused key leaves the name
            // and policy unchanged too.
            let settings = if g.given() {
                let key_file = g.key_file()?;
                let changes = g.changes(key_file.as_deref())?;
                let row = google::settings_update::update(
                    &store,
                    ctx.config.secret_key.as_deref(),
                    &d,
                    changes,
                    clock::now(),
                )?;
                Some(google::SettingsView::from(&row))
            } else {
                None
            };
            let d = tenancy::update_directory(&store, &d, name.as_deref(), policy)?;
            let t = tenancy::find_tenant(&store, d.tenant_id.as_str())?;
            let mut out = directory_json(&d, &t.name, &base_url);
            if let Some(settings) = &settings {
                out["google"] = json!(settings);
            }
            ctx.print(out, || {
                let google = settings.as_ref().map_or(String::new(), |s| {
                    format!(
                        "\nGoogle: {}, next sync {}",
                        s.status,
                        clock::rfc3339(s.next_sync_at)
                    )
                });
                format!(
                    "directory {} updated: {}{google}",
                    d.name,
                    policy_text(&d.deprovisioning)
                )
            });
        }
        DirectoryCommand::Delete { directory } => {
            let d = tenancy::find_directory(&store, &directory)?;
            directory_removal::begin(&store, &d, clock::now())?;
            let removed = directory_removal::finish(
                &store,
                &d,
                |r| {
                    if !ctx.json {
                        eprintln!(
                            "removed {} users, {} groups, {} logged requests",
                            r.users, r.groups, r.requests
                        );
                    }
                },
                clock::now,
            )?;
            ctx.print(json!({"id": d.id, "deleted": true, "removed": removed}), || {
                format!(
                    "directory {} ({}) deleted: {} users, {} groups, {} logged requests removed",
                    d.name, d.id, removed.users, removed.groups, removed.requests
                )
            });
        }
        DirectoryCommand::List { tenant } => {
            let t = tenant
                .map(|t| tenancy::find_tenant(&store, &t))
                .transpose()?;
            let all = tenancy::list_directories(&store, t.as_ref())?;
            ctx.print(json!({"directories": all}), || {
                all.iter()
                    .map(|d| {
                        format!(
                            "{}\t{}\t{}\ttenant {}",
                            d.id,
                            d.name,
                            d.kind.as_str(),
                            d.tenant_id
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}

fn toggle(ctx: &Cmd, store: &Store, directory: &str, disable: bool) -> anyhow::Result<()> {
    let d = tenancy::find_directory(store, directory)?;
    let d = tenancy::set_disabled(store, &d, disable, clock::now())?;
    let t = tenancy::find_tenant(store, d.tenant_id.as_str())?;
    ctx.print(
        directory_json(&d, &t.name, &ctx.config.scim_base_url()),
        || {
            let state = if disable { "disabled" } else { "enabled" };
            format!("directory {} {state}", d.name)
        },
    );
    Ok(())
}

/// A Google directory pulls: it gets no SCIM token, and its settings (with the key sealed)
/// are stored beside it.
fn create_google(
    ctx: &Cmd,
    store: &Store,
    tenant: &tenancy::Tenant,
    name: &str,
    g: GoogleArgs,
    policy: Deprovisioning,
    base_url: &str,
) -> anyhow::Result<()> {
    let key_file = g.key_file()?;
    let changes = g.changes(key_file.as_deref())?;
    let d = match (changes.key_file, changes.admin.clone()) {
        (Some(key_file), Some(admin)) => google::create_directory(
            store,
            ctx.config.secret_key.as_deref(),
            tenant,
            name,
            policy,
            google::NewConnection {
                key_file,
                admin,
                target: changes
                    .target
                    .unwrap_or_else(|| google::Target::Customer(google::MY_CUSTOMER.into())),
                groups: changes.groups.flatten(),
                interval: changes.interval.unwrap_or(google::DEFAULT_INTERVAL),
            },
            clock::now(),
        )?,
        _ => {
            let d = google::settings_update::create_without_credentials(
                store,
                ctx.config.secret_key.as_deref(),
                tenant,
                name,
                policy,
                changes,
                clock::now(),
            )?;
            let out = directory_json(&d, &tenant.name, base_url);
            ctx.print(out, || {
                format!(
                    "directory {} (google) created: {}\nawaiting credentials: no sync until they are given, with `roster directory update {} --service-account-key FILE --admin EMAIL` or on a setup page (`roster directory setup-link {}`)",
                    d.name, d.id, d.name, d.name
                )
            });
            return Ok(());
        }
    };
    let out = directory_json(&d, &tenant.name, base_url);
    ctx.print(out, || {
        format!(
            "directory {} (google) created: {}\nfirst sync: at the next `roster serve` tick, or now with `roster google sync --directory {}`",
            d.name, d.id, d.name
        )
    });
    Ok(())
}

fn directory_status(ctx: &Cmd, store: &Store, directory: &str) -> anyhow::Result<()> {
    let d = tenancy::find_directory(store, directory)?;
    if d.kind != DirectoryKind::Google {
        ctx.print(
            json!({"id": d.id, "name": d.name, "kind": d.kind, "sync": "push"}),
            || {
                format!(
                    "directory {} ({}): SCIM push; no sync state",
                    d.name,
                    d.kind.as_str()
                )
            },
        );
        return Ok(());
    }
    let row = google::settings(store, &d)?;
    let external = google::external::counts(store, &d.scope())?;
    let time = |t: Option<chrono::NaiveDateTime>| t.map(clock::rfc3339);
    let out = json!({
        "id": d.id,
        "name": d.name,
        "kind": d.kind,
        "status": row.status,
        "admin": row.admin_email,
        "customer": row.customer,
        "domain": row.domain,
        "groups": row.group_filter.as_deref().and_then(google::parse_groups),
        "interval_secs": row.interval_secs,
        "last_sync_started_at": time(row.last_sync_started_at),
        "last_sync_finished_at": time(row.last_sync_finished_at),
        "created": row.last_created,
        "updated": row.last_updated,
        "deprovisioned": row.last_deprovisioned,
        "last_error": row.last_error,
        "next_sync_at": clock::rfc3339(row.next_sync_at),
        "watch_expires_at": time(row.watch_expires_at),
        "external_members": external,
    });
    ctx.print(out, || {
        let or_never = |t: Option<chrono::NaiveDateTime>| time(t).unwrap_or_else(|| "never".into());
        format!(
            "directory {} (google): {}\nlast sync: started {}, finished {}\n  created {}, updated {}, deprovisioned {}\nexternal members: {} in groups ({} addresses), not synced as users\nlast error: {}\nnext run: {}",
            d.name,
            row.status,
            or_never(row.last_sync_started_at),
            or_never(row.last_sync_finished_at),
            row.last_created,
            row.last_updated,
            row.last_deprovisioned,
            external.memberships,
            external.addresses,
            row.last_error.as_deref().unwrap_or("none"),
            clock::rfc3339(row.next_sync_at),
        )
    });
    Ok(())
}

fn registry(config: &Config) -> anyhow::Result<SchemaRegistry> {
    Ok(match &config.schema_dir {
        Some(dir) => SchemaRegistry::with_extensions(dir)?,
        None => SchemaRegistry::builtin(),
    })
}

/// One status line on stderr, redrawn after every page when stderr is a terminal.
struct Progress {
    terminal: bool,
    started: std::time::Instant,
}

impl Progress {
    fn stderr() -> Progress {
        Progress {
            terminal: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            started: std::time::Instant::now(),
        }
    }

    fn show(&self, c: &google::reconcile::Counts) {
        if self.terminal {
            eprint!(
                "\r\x1b[2K{:>5.0}s  pages {}  users {}  groups {}  changes {}",
                self.started.elapsed().as_secs_f64(),
                c.pages,
                c.users,
                c.groups,
                c.changes()
            );
        }
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}

fn google_command(ctx: &Cmd, command: GoogleCommand) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let reg = registry(&ctx.config)?;
    let (GoogleCommand::Test { directory } | GoogleCommand::Sync { directory }) = &command;
    let d = tenancy::find_directory(&store, directory)?;
    let puller = google::Puller::new(
        &store,
        &reg,
        &ctx.config.google,
        ctx.config.secret_key.as_deref(),
        d,
    )?;
    match command {
        GoogleCommand::Test { .. } => {
            let checks = google::test_connection(&puller);
            let ok = checks.iter().all(|c| c.ok);
            ctx.print(json!({"ok": ok, "checks": checks}), || {
                checks
                    .iter()
                    .map(|c| {
                        format!(
                            "{} {}: {}",
                            if c.ok { "ok  " } else { "FAIL" },
                            c.what,
                            c.detail
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            if !ok {
                anyhow::bail!("the Google connection is not usable; see above");
            }
        }
        GoogleCommand::Sync { .. } => {
            let owner = format!("cli-{}", uuid::Uuid::new_v4());
            let lease = google::Lease::take(&store, &puller.row.directory_id, &owner)?;
            let progress = Progress::stderr();
            let result = puller.sync(&lease, &mut |c| {
                progress.show(c);
                Ok(())
            });
            progress.finish();
            lease.release(&store);
            let c = result?;
            ctx.print(json!(c), || {
                format!(
                    "synced {}: {} users, {} groups read in {} pages; created {}, updated {}, deprovisioned {}, membership changes {}, skipped {}",
                    puller.directory.name,
                    c.users,
                    c.groups,
                    c.pages,
                    c.created(),
                    c.updated(),
                    c.deprovisioned(),
                    c.memberships_changed,
                    c.skipped
                )
            });
        }
    }
    Ok(())
}

fn token_command(ctx: &Cmd, command: TokenCommand) -> anyhow::Result<()> {
    let store = ctx.store()?;
    match command {
        TokenCommand::Issue { directory } => {
            let d = tenancy::find_directory(&store, &directory)?;
            let issued = token::issue(&store, &d, clock::now())?;
            ctx.print(
                json!({"id": issued.id, "directory_id": d.id, "token": issued.secret.expose()}),
                || {
                    format!(
                        "token {} issued for directory {} (shown once):\n{}",
                        issued.id,
                        d.name,
                        issued.secret.expose()
                    )
                },
            );
        }
        TokenCommand::List { directory } => {
            let d = directory
                .map(|d| tenancy::find_directory(&store, &d))
                .transpose()?;
            let all = token::list(&store, d.as_ref())?;
            let now = clock::now();
            // With its state, as the admin API shows a token.
            let listed: Vec<Value> = all
                .iter()
                .map(|t| {
                    let mut shown = json!(t);
                    shown["state"] = json!(t.state(now).as_str());
                    shown
                })
                .collect();
            ctx.print(json!({"tokens": listed}), || {
                all.iter()
                    .map(|t| {
                        let until = match (t.state(now), t.expires_at) {
                            (token::TokenState::Live, Some(at)) => {
                                format!(" until {}", clock::rfc3339(at))
                            }
                            _ => String::new(),
                        };
                        let used = t.last_used_at.map_or("never used".to_string(), |u| {
                            format!("last used {}", clock::rfc3339(u))
                        });
                        format!(
                            "{}\t{}…\tdirectory {}\t{}{until}\t{used}",
                            t.id,
                            t.hint,
                            t.directory_id,
                            t.state(now).as_str()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        TokenCommand::Revoke { id } => {
            token::revoke(&store, &TokenId::from_raw(id.clone()), clock::now())?;
            ctx.print(json!({"revoked": id}), || format!("token {id} revoked"));
        }
        TokenCommand::Rotate { id, overlap } => {
            let overlap = lifecycle::parse_duration(&overlap).context("--overlap")?;
            let r = token::rotate(&store, &TokenId::from_raw(id), overlap, clock::now())?;
            ctx.print(json!(rotated_json(&r)), || {
                format!(
                    "token {} issued for directory {} (shown once):\n{}\nthe old token {} works until {}",
                    r.issued.id,
                    r.issued.directory_id,
                    r.issued.secret.expose(),
                    r.old.id,
                    r.old.expires_at.map_or("now".into(), clock::rfc3339)
                )
            });
        }
    }
    Ok(())
}

/// The new token (shown once) and the old one with its expiry.
fn rotated_json(r: &token::Rotated) -> Value {
    json!({
        "id": r.issued.id,
        "directory_id": r.issued.directory_id,
        "hint": r.issued.hint,
        "token": r.issued.secret.expose(),
        "previous": r.old,
    })
}

fn serve(ctx: &Cmd) -> anyhow::Result<()> {
    // Before the database is touched: a schema mistake stops the start with nothing changed.
    let registry = registry(&ctx.config)?;
    let store = ctx.store()?;
    let listener = TcpListener::bind(&ctx.config.bind)
        .with_context(|| format!("cannot listen on {}", ctx.config.bind))?;
    let local = listener.local_addr()?;
    // Port 0 asks the OS for a free port: the URL to print is only known once bound.
    let public_url = if ctx.config.bind.ends_with(":0") {
        format!("http://{local}")
    } else {
        ctx.config.public_url.clone()
    };
    let base_url = format!("{public_url}{}", http::SCIM_PREFIX);
    if let Some(first) = tenancy::bootstrap_if_empty(&store, clock::now())? {
        // Handed over once, on the first start of an empty database; only its hash is stored.
        first_start::hand_over(&first, &base_url, &ctx.config.database_url)?;
    }
    println!(
        "roster: listening on http://{local} ({}, SCIM base {base_url})",
        store.backend_name(),
    );
    let cursor_key = CursorKey::new(settings::cursor_key(&store, clock::now())?);
    let store = Arc::new(store);
    let (syncs, deliveries) = (
        google::stats::SyncStats::default(),
        crate::delivery::stats::DeliveryStats::default(),
    );
    let metrics = Arc::new(http::metrics::Metrics::new(&store, &deliveries, &syncs)?);
    google::schedule::Scheduler {
        store: store.clone(),
        registry: registry.clone(),
        config: ctx.config.clone(),
        public_url: public_url.clone(),
        owner: format!("serve-{}", uuid::Uuid::new_v4()),
        stats: syncs,
    }
    .spawn()?;
    spawn_purger(Arc::clone(&store));
    directory_removal::resume_unfinished(Arc::clone(&store));
    crate::domain::role_sync::spawn_worker(Arc::clone(&store));
    crate::domain::custom_attribute::resume_unfinished(Arc::clone(&store));
    events::spawn_pruner(Arc::clone(&store), ctx.config.events_retention);
    let webhook_secrets = ctx.config.webhook_secrets(&store)?;
    if webhook_secrets.sealing() {
        let sealed =
            crate::delivery::secrets::seal_stored_in_clear(&store, &webhook_secrets, clock::now())?;
        if sealed > 0 {
            tracing::info!(endpoints = sealed, "sealed webhook secrets stored in clear");
        }
    } else {
        tracing::warn!(
            "webhook signing secrets are stored in clear: set ROSTER_SECRET_KEY (shared by every \
             instance) to seal them"
        );
    }
    let dispatcher = crate::delivery::dispatcher::Dispatcher {
        store: Arc::clone(&store),
        policy: ctx.config.webhook_policy(),
        secrets: webhook_secrets.clone(),
        owner: format!("serve-{}", uuid::Uuid::new_v4()),
        stats: deliveries,
    }
    .spawn()?;
    let request_log = log::recorder(&store, &registry, ctx.config.request_log_retention)?;
    let state = AppState {
        cursor_key,
        request_log,
        store,
        registry,
        base_url,
        max_body_bytes: ctx.config.max_body_bytes,
        recent_tokens: crate::domain::token::RecentTokens::default(),
        activated: Default::default(),
        webhook_policy: ctx.config.webhook_policy(),
        webhook_secrets,
        google: ctx.config.google.clone(),
        secret_key: ctx.config.secret_key.clone(),
        metrics,
        rate_limit: ctx
            .config
            .rate_limit
            .map(http::rate_limit::RateLimiter::new),
    };
    // Returns once a signal stopped the server and its requests in flight are answered.
    actix_web::rt::System::new().block_on(async move { http::serve(listener, state)?.await })?;
    dispatcher.stop(WEBHOOK_GRACE);
    tracing::info!("stopped");
    Ok(())
}

/// How long webhook deliveries in flight may take to finish once the server has stopped.
const WEBHOOK_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Soft-deleted rows past their retention are removed at start and then hourly; several
/// instances purging at once is harmless (each DELETE removes what is left).
fn spawn_purger(store: Arc<Store>) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
    std::thread::spawn(move || {
        loop {
            match lifecycle::purge_expired(&store, clock::now()) {
                Ok(p) if p.users + p.groups > 0 || p.events_redacted > 0 => {
                    tracing::info!(
                        users = p.users,
                        groups = p.groups,
                        events_redacted = p.events_redacted,
                        "purged soft-deleted rows"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purge of soft-deleted rows failed"),
            }
            std::thread::sleep(EVERY);
        }
    });
}
