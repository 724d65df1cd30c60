//! `roster log list|show|export`, and starting the request log for `roster serve`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use chrono::NaiveDateTime;
use clap::Subcommand;
use serde_json::json;

use super::Cmd;
use crate::domain::request_log::{self, Entry, LogQuery, Retention, StatusFilter};
use crate::domain::{clock, tenancy};
use crate::http::request_log::Recorder;
use crate::replay::export;
use crate::scim::schema::SchemaRegistry;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub(super) enum LogCommand {
    /// A directory's recorded SCIM requests, the most recent last.
    List {
        /// Directory id, or name when unambiguous.
        #[arg(long)]
        directory: String,
        /// RFC 3339 time, or how long ago (45s, 30m, 12h, 7d).
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        until: Option<String>,
        /// A status (404) or a class (4xx).
        #[arg(long)]
        status: Option<StatusFilter>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// One recorded request with its headers and bodies.
    Show { id: i64 },
    /// Write a directory's recorded requests as one replay sequence (the corpus format).
    Export {
        #[arg(long)]
        directory: String,
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        until: Option<String>,
        #[arg(long)]
        from_id: Option<i64>,
        #[arg(long)]
        to_id: Option<i64>,
        #[arg(long)]
        status: Option<StatusFilter>,
        /// The sequence's name [default: DIRECTORY-FIRST_ID-LAST_ID].
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
}

/// The request log for `roster serve`: a writer when enabled. When disabled, entries kept from
/// an earlier run are deleted, since a retention of zero keeps nothing.
pub(super) fn recorder(
    store: &Arc<Store>,
    registry: &SchemaRegistry,
    retention: Retention,
) -> anyhow::Result<Option<Recorder>> {
    if retention.is_enabled() {
        let recorder = Recorder::start(store.clone(), registry.clone(), retention)
            .context("cannot start the request log writer")?;
        return Ok(Some(recorder));
    }
    request_log::purge(store, retention, clock::now())?;
    Ok(None)
}

fn when(text: &str) -> anyhow::Result<NaiveDateTime> {
    Ok(request_log::parse_when(text, clock::now())?)
}

fn line(e: &Entry) -> String {
    let x = &e.exchange;
    let query = if x.query.is_empty() {
        String::new()
    } else {
        format!("?{}", x.query)
    };
    format!(
        "{}\t{}\t{} {}\t{}{}\t{} µs",
        e.id,
        clock::rfc3339(x.received_at),
        x.status,
        x.method,
        x.path,
        query,
        x.duration_us
    )
}

fn shown(e: &Entry) -> String {
    let x = &e.exchange;
    let body = |b: &Option<String>, truncated: bool| {
        let text = b.as_deref().map_or("(none)".to_string(), |t| {
            serde_json::from_str::<serde_json::Value>(t)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| t.to_string())
        });
        if truncated {
            format!("{text}\n(truncated)")
        } else {
            text
        }
    };
    let headers = |h: &std::collections::BTreeMap<String, String>| {
        h.iter()
            .map(|(k, v)| format!("{k}: {v}\n"))
            .collect::<String>()
    };
    format!(
        "{}\ndirectory {} (tenant {}), base {}\n\nrequest\n{}{}\n\nresponse\n{}{}",
        line(e),
        x.directory_id,
        x.tenant_id,
        x.base_url,
        headers(&x.request_headers),
        body(&x.request_body, x.request_truncated),
        headers(&x.response_headers),
        body(&x.response_body, x.response_truncated),
    )
}

pub(super) fn log(ctx: &Cmd, command: LogCommand) -> anyhow::Result<()> {
    let store = ctx.store()?;
    match command {
        LogCommand::List {
            directory,
            since,
            until,
            status,
            limit,
        } => {
            let d = tenancy::find_directory(&store, &directory)?;
            let query = LogQuery {
                since: since.as_deref().map(when).transpose()?,
                until: until.as_deref().map(when).transpose()?,
                status,
                limit: Some(limit),
                latest: true,
                ..LogQuery::default()
            };
            let entries = request_log::list(&store, &d.id, &query)?;
            let summaries: Vec<_> = entries.iter().map(Entry::summary).collect();
            ctx.print(json!({"entries": summaries}), || {
                entries.iter().map(line).collect::<Vec<_>>().join("\n")
            });
        }
        LogCommand::Show { id } => {
            let entry = request_log::get(&store, id)?;
            ctx.print(json!(entry), || shown(&entry));
        }
        LogCommand::Export {
            directory,
            since,
            until,
            from_id,
            to_id,
            status,
            name,
            out,
        } => {
            let d = tenancy::find_directory(&store, &directory)?;
            let query = LogQuery {
                since: since.as_deref().map(when).transpose()?,
                until: until.as_deref().map(when).transpose()?,
                from_id,
                to_id,
                status,
                ..LogQuery::default()
            };
            let entries = request_log::list(&store, &d.id, &query)?;
            let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
                anyhow::bail!("no recorded requests of directory {} match", d.name);
            };
            let name = name.unwrap_or_else(|| format!("{}-{}-{}", d.name, first.id, last.id));
            let description = format!(
                "Exported from the request log of directory {} ({}): entries {} to {}, {} to {}",
                d.name,
                d.id,
                first.id,
                last.id,
                clock::rfc3339(first.exchange.received_at),
                clock::rfc3339(last.exchange.received_at)
            );
            let exported = export::sequence(&name, d.kind.as_str(), &description, &entries);
            for w in &exported.warnings {
                eprintln!("roster: warning: {w}");
            }
            let text = serde_json::to_string_pretty(&exported.sequence)?;
            std::fs::write(&out, text + "\n")
                .with_context(|| format!("cannot write {}", out.display()))?;
            let steps = exported.sequence.steps.len();
            ctx.print(
                json!({"file": out, "name": name, "steps": steps, "warnings": exported.warnings}),
                || format!("{steps} step(s) written to {} as '{name}'", out.display()),
            );
        }
    }
    Ok(())
}
