//! `roster webhook ...`: endpoints, secrets, the delivery log, test events and replays.

use std::sync::Arc;

use clap::Subcommand;
use serde_json::json;

use super::Cmd;
use crate::delivery::{self, Changes};
use crate::domain::{clock, lifecycle, tenancy};

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add an endpoint; it receives the events committed from now on. Prints its secret once.
    Create {
        #[arg(long)]
        url: String,
        /// Only this tenant's events [default: every tenant's].
        #[arg(long)]
        tenant: Option<String>,
        /// Comma-separated event types [default: every type].
        #[arg(long)]
        types: Option<String>,
    },
    /// Every webhook endpoint, or one tenant's, with its state.
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Change an endpoint's URL or types, or turn it off and on.
    Update {
        id: String,
        #[arg(long)]
        url: Option<String>,
        /// Comma-separated event types; an empty value means every type.
        #[arg(long)]
        types: Option<String>,
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        #[arg(long)]
        disable: bool,
    },
    /// Delete an endpoint with its delivery log; nothing more is sent to it.
    Delete { id: String },
    /// A new secret, used at once; the old one keeps signing beside it for the overlap.
    RotateSecret {
        id: String,
        #[arg(long, default_value = "24h")]
        overlap: String,
    },
    /// Send a signed `webhook.test` event now.
    Test { id: String },
    /// The delivery log, newest first.
    Deliveries {
        id: String,
        #[arg(long)]
        failed: bool,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Send the events after cursor --from (up to --to) again, now, in order.
    Replay {
        id: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: Option<String>,
    },
}

fn types(text: &str) -> anyhow::Result<Option<Vec<String>>> {
    let names: Vec<String> = text.split(',').map(str::to_string).collect();
    Ok(delivery::parse_types(&names)?)
}

pub(super) fn webhook(ctx: &Cmd, command: WebhookCommand) -> anyhow::Result<()> {
    let store = Arc::new(ctx.store()?);
    let policy = ctx.config.webhook_policy();
    let secrets = ctx.config.webhook_secrets(&store)?;
    let now = clock::now();
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    match command {
        WebhookCommand::Create {
            url,
            tenant,
            types: t,
        } => {
            let tenant = tenant
                .map(|t| tenancy::find_tenant(&store, &t))
                .transpose()?;
            let t = t.as_deref().map(types).transpose()?.flatten();
            let created = delivery::create(
                &store,
                policy,
                &secrets,
                tenant.as_ref().map(|t| &t.id),
                &url,
                t,
                now,
            )?;
            let mut out = json!(created.endpoint);
            out["secret"] = json!(created.secret);
            ctx.print(out, || {
                format!(
                    "webhook endpoint {} created for {url}\nsigning secret (shown once): {}",
                    created.endpoint.id, created.secret
                )
            });
        }
        WebhookCommand::List { tenant } => {
            let tenant = tenant
                .map(|t| tenancy::find_tenant(&store, &t))
                .transpose()?;
            let all = delivery::list(&store, tenant.as_ref().map(|t| &t.id))?;
            ctx.print(json!({"webhooks": all}), || {
                all.iter()
                    .map(|e| {
                        format!(
                            "{}\t{}\t{}\t{}",
                            e.id,
                            e.url,
                            if e.enabled { "enabled" } else { "disabled" },
                            e.types.as_ref().map_or("all types".into(), |t| t.join(","))
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        WebhookCommand::Update {
            id,
            url,
            types: t,
            enable,
            disable,
        } => {
            let changes = Changes {
                url,
                types: t.as_deref().map(types).transpose()?,
                enabled: (enable || disable).then_some(enable),
            };
            let e = delivery::update(&store, policy, &id, changes, now)?;
            ctx.print(json!(e), || format!("webhook endpoint {} updated", e.id));
        }
        WebhookCommand::Delete { id } => {
            delivery::delete(&store, &id)?;
            ctx.print(json!({"deleted": id}), || {
                format!("webhook endpoint {id} deleted")
            });
        }
        WebhookCommand::RotateSecret { id, overlap } => {
            let overlap = lifecycle::parse_duration(&overlap)?
                .to_std()
                .map_err(|_| anyhow::anyhow!("--overlap must not be negative"))?;
            let (e, secret) = delivery::rotate_secret(&store, &secrets, &id, overlap, now)?;
            let mut out = json!(e);
            out["secret"] = json!(secret);
            ctx.print(out, || {
                format!(
                    "new signing secret for {} (shown once): {secret}\nthe old one also signs until {}",
                    e.id,
                    e.previous_secret_until.as_deref().unwrap_or("now")
                )
            });
        }
        WebhookCommand::Test { id } => {
            let client = delivery::target::client(policy);
            let outcome =
                runtime()?.block_on(delivery::test(store, &client, policy, &secrets, &id))?;
            ctx.print(json!(outcome), || {
                format!(
                    "test event {}: {}{}",
                    outcome.status,
                    outcome
                        .response_code
                        .map_or(String::new(), |c| format!("HTTP {c} ")),
                    outcome.error.as_deref().unwrap_or("")
                )
            });
            if !outcome.succeeded() {
                anyhow::bail!("the endpoint did not accept the test event");
            }
        }
        WebhookCommand::Deliveries { id, failed, limit } => {
            let all = delivery::deliveries(&store, &id, failed, limit)?;
            ctx.print(json!({"deliveries": all}), || {
                all.iter()
                    .map(|d| {
                        format!(
                            "{}\t{}\t{}\tattempt {}\t{}\t{} ms\t{}",
                            d.attempted_at,
                            d.event_type,
                            d.status,
                            d.attempt,
                            d.response_code.map_or("-".into(), |c| c.to_string()),
                            d.latency_ms,
                            d.next_attempt_at
                                .as_deref()
                                .map_or(String::new(), |n| format!("next {n}"))
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        WebhookCommand::Replay { id, from, to } => {
            let client = delivery::target::client(policy);
            let done = runtime()?.block_on(delivery::replay(
                store,
                &client,
                policy,
                &secrets,
                &id,
                &from,
                to.as_deref(),
            ))?;
            ctx.print(json!(done), || {
                format!(
                    "replayed {} event(s): {} accepted, {} failed",
                    done.sent, done.succeeded, done.failed
                )
            });
        }
    }
    Ok(())
}
