//! Where and how the process logs: stderr, filtered by `ROSTER_LOG` (default `info`), as text
//! or as one JSON object per line (`ROSTER_LOG_FORMAT=json`, docs/operations.md).

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the process's subscriber. Called once, after the config file is read (it may
/// name the format) and before anything logs.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("ROSTER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        // Fields at the top level, where collectors index them; the request's span (its
        // `request_id`) under `span`.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}
