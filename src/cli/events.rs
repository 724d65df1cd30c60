//! `roster events tail` and the background pruning of old events.

use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;

use super::Cmd;
use crate::domain::feed::{self, Cursor, EventsRequest};
use crate::domain::request_log::Retention;
use crate::domain::{clock, tenancy};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print events as they commit: one line each, or the event's JSON with --json.
    Tail {
        /// Start after this cursor [default: the oldest retained event, or with --follow the
        /// newest].
        #[arg(long)]
        after: Option<String>,
        /// Keep printing new events until interrupted.
        #[arg(long)]
        follow: bool,
        /// Only this directory's events (by id, or by name when unambiguous).
        #[arg(long)]
        directory: Option<String>,
    },
}

/// How often `--follow` looks for new events: this process is not woken by another's commits.
const FOLLOW_EVERY: Duration = Duration::from_millis(200);

pub(super) fn events(ctx: &Cmd, command: EventsCommand) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let EventsCommand::Tail {
        after,
        follow,
        directory,
    } = command;
    let directory_id = directory
        .map(|d| tenancy::find_directory(&store, &d))
        .transpose()?
        .map(|d| d.id);
    let mut after = match after {
        Some(c) => Some(Cursor::parse(&c)?),
        None if follow => Some(feed::newest(&store)?),
        None => None,
    };
    loop {
        let page = feed::read(
            &store,
            &EventsRequest {
                after: after.clone(),
                limit: feed::MAX_LIMIT,
                types: None,
                tenant_ids: None,
                directory_id: directory_id.clone(),
            },
        )?;
        for event in &page.data {
            if ctx.json {
                let mut line = Vec::new();
                event.write_json(&mut line);
                println!("{}", String::from_utf8_lossy(&line));
            } else {
                println!(
                    "{}\t{}\t{}\tdirectory {}",
                    event.created_at, event.cursor, event.event_type, event.directory_id
                );
            }
        }
        let empty = page.data.is_empty();
        after = Some(Cursor::parse(&page.next_after)?);
        if empty {
            if !follow {
                return Ok(());
            }
            std::thread::sleep(FOLLOW_EVERY);
        }
    }
}

/// Prunes events past the retention at start and then at least once a minute (more often for
/// a short retention), in small transactions that never hold writers up for long. Several
/// instances pruning at once take turns on the pruning mark.
pub(super) fn spawn_pruner(store: Arc<Store>, retention: Retention) {
    if !retention.is_enabled() {
        return;
    }
    let every = (retention.duration() / 5).clamp(Duration::from_secs(1), Duration::from_secs(60));
    std::thread::spawn(move || {
        loop {
            match feed::prune(&store, retention.cutoff(clock::now())) {
                Ok(n) if n > 0 => tracing::info!(events = n, "pruned events past their retention"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "pruning events failed"),
            }
            std::thread::sleep(every);
        }
    });
}
