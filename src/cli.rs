//! The `roster` command line: `serve`, `migrate`, and administration of tenants, directories
//! and tokens. `--json` prints one JSON object for scripts.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use crate::config::{Config, FileConfig};
use crate::domain::lifecycle::{self, Deprovisioning};
use crate::domain::tenancy::{self, Directory, DirectoryKind};
use crate::domain::{clock, ids::TokenId, settings, token};
use crate::http::{self, AppState};
use crate::scim::cursor::CursorKey;
use crate::scim::schema::SchemaRegistry;
use crate::store::Store;

mod log;
mod replay;

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
    /// A TOML file with database_url, bind, public_url, max_body_bytes, schema_dir.
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
    },
    /// Apply pending database migrations.
    Migrate,
    #[command(subcommand)]
    Tenant(TenantCommand),
    #[command(subcommand)]
    Directory(DirectoryCommand),
    #[command(subcommand)]
    Token(TokenCommand),
    /// Remove soft-deleted users and groups whose retention has run out (`serve` does this
    /// hourly on its own).
    Purge,
    /// Read and export the request log of a directory.
    #[command(subcommand)]
    Log(log::LogCommand),
    /// Send recorded or corpus sequences to a server and report differences.
    Replay(replay::ReplayArgs),
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    Create { name: String },
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
        policy: PolicyArgs,
    },
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Change a directory's deprovisioning policy (by id, or by name when unambiguous).
    Update {
        directory: String,
        #[command(flatten)]
        policy: PolicyArgs,
    },
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
    fn apply(self, mut p: Deprovisioning) -> anyhow::Result<Deprovisioning> {
        if let Some(v) = self.on_deactivate {
            p.on_deactivate = v.parse().context("--on-deactivate")?;
        }
        if let Some(v) = self.on_delete {
            p.on_delete = v.parse().context("--on-delete")?;
        }
        if let Some(v) = self.retention {
            p.retention = lifecycle::parse_duration(&v).context("--retention")?;
        }
        if let Some(v) = self.on_group_loss {
            p.on_group_loss = v.parse().context("--on-group-loss")?;
        }
        Ok(p)
    }
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Issue a new token for a directory (by id, or by name when unambiguous).
    Issue {
        #[arg(long)]
        directory: String,
    },
    List {
        #[arg(long)]
        directory: Option<String>,
    },
    /// Revoke a token by its id; requests with it fail at once.
    Revoke { id: String },
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
    let file = match &cli.config {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
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
    let mut ctx = Cmd {
        config: Config::resolve(file, cli.database_url, bind, public_url, schema_dir),
        json: cli.json,
    };
    if let Command::Serve {
        request_log_retention: Some(r),
        ..
    } = &cli.command
    {
        ctx.config.request_log_retention = *r;
    }
    match cli.command {
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
        Command::Purge => {
            let purged = lifecycle::purge_expired(&ctx.store()?, clock::now())?;
            ctx.print(json!(purged), || {
                format!(
                    "purged {} user(s) and {} group(s) past their retention",
                    purged.users, purged.groups
                )
            });
            Ok(())
        }
        Command::Log(c) => log::log(&ctx, c),
        Command::Replay(args) => replay::replay(&ctx, args),
    }
}

fn tenant(ctx: &Cmd, command: TenantCommand) -> anyhow::Result<()> {
    let store = ctx.store()?;
    match command {
        TenantCommand::Create { name } => {
            let t = tenancy::create_tenant(&store, &name, clock::now())
                .map_err(|e| already_exists(e, "tenant", &name))?;
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

/// A duplicate name is a unique-constraint failure in the store; say it in the user's words.
fn already_exists(e: crate::domain::error::DomainError, what: &str, name: &str) -> anyhow::Error {
    match &e {
        crate::domain::error::DomainError::Store(s) if s.unique_violation().is_some() => {
            anyhow::anyhow!("a {what} named '{name}' already exists")
        }
        _ => e.into(),
    }
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
            policy,
        } => {
            let kind: DirectoryKind = kind.parse()?;
            let policy = policy.apply(Deprovisioning::default_for(kind))?;
            let t = tenancy::find_tenant(&store, &tenant)?;
            let now = clock::now();
            let d = tenancy::create_directory(&store, &t, &name, kind, policy, now)
                .map_err(|e| already_exists(e, "directory", &name))?;
            let issued = token::issue(&store, &d, now)?;
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
        DirectoryCommand::Update { directory, policy } => {
            let d = tenancy::find_directory(&store, &directory)?;
            let policy = policy.apply(d.deprovisioning)?;
            let d = tenancy::set_deprovisioning(&store, &d, policy)?;
            let t = tenancy::find_tenant(&store, d.tenant_id.as_str())?;
            ctx.print(directory_json(&d, &t.name, &base_url), || {
                format!(
                    "directory {} updated: {}",
                    d.name,
                    policy_text(&d.deprovisioning)
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
            ctx.print(json!({"tokens": all}), || {
                all.iter()
                    .map(|t| {
                        let state = if t.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "live"
                        };
                        format!(
                            "{}\t{}…\tdirectory {}\t{state}",
                            t.id, t.hint, t.directory_id
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
    }
    Ok(())
}

fn serve(ctx: &Cmd) -> anyhow::Result<()> {
    // Before the database is touched: a schema mistake stops the start with nothing changed.
    let registry = match &ctx.config.schema_dir {
        Some(dir) => SchemaRegistry::with_extensions(dir)?,
        None => SchemaRegistry::builtin(),
    };
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
        // Printed once, on the first start of an empty database; only its hash is stored.
        println!(
            "First start: created tenant '{}' with directory '{}' (kind generic).\n\
             SCIM base URL: {base_url}\n\
             Bearer token (shown once, keep it): {}",
            first.tenant.name,
            first.directory.name,
            first.token.secret.expose()
        );
    }
    println!(
        "roster: listening on http://{local} ({}, SCIM base {base_url})",
        store.backend_name(),
    );
    let cursor_key = CursorKey::new(settings::cursor_key(&store, clock::now())?);
    let store = Arc::new(store);
    spawn_purger(Arc::clone(&store));
    let request_log = log::recorder(&store, ctx.config.request_log_retention)?;
    let state = AppState {
        cursor_key,
        request_log,
        store,
        registry,
        base_url,
        max_body_bytes: ctx.config.max_body_bytes,
    };
    actix_web::rt::System::new().block_on(async move { http::serve(listener, state)?.await })?;
    Ok(())
}

/// Soft-deleted rows past their retention are removed at start and then hourly; several
/// instances purging at once is harmless (each DELETE removes what is left).
fn spawn_purger(store: Arc<Store>) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
    std::thread::spawn(move || {
        loop {
            match lifecycle::purge_expired(&store, clock::now()) {
                Ok(p) if p.users + p.groups > 0 => {
                    tracing::info!(
                        users = p.users,
                        groups = p.groups,
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
