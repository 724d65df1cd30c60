//! Replay: run a recorded or hand-written sequence of SCIM requests against a server and report
//! where its answers differ from the expected ones. The format is
//! `scim-conformance/replay/README.md`.

pub mod export;
pub mod format;
pub mod pattern;
pub mod runner;

use thiserror::Error;

pub use format::Sequence;
pub use runner::{Runner, SequenceReport};

#[derive(Debug, Error)]
pub enum ReplayError {
    #[error("cannot read {file}: {cause}")]
    Read { file: String, cause: String },
    #[error("{file} is not a replay sequence: {cause}")]
    Format { file: String, cause: String },
    #[error("cannot build an HTTP client: {0}")]
    Client(String),
}
