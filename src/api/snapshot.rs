//! `GET /api/v1/directories/{id}/snapshot`: every live record of a directory as NDJSON, read
//! in one consistent transaction, ending with the cursor the read reflects. Streamed a page at
//! a time, so a directory of any size costs the same memory.

use std::convert::Infallible;

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use tokio::sync::mpsc;

use super::ApiState;
use super::auth::AppKey;
use super::error::AppError;
use super::schemas::{self, ErrorBody};
use crate::domain::feed::{self, SnapshotLine};

/// Bytes gathered before a chunk is handed to the response.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks in flight between the reading thread and the response: what bounds memory when the
/// client reads slower than the database.
const CHUNKS_IN_FLIGHT: usize = 8;

#[utoipa::path(
    get,
    path = "/directories/{id}/snapshot",
    operation_id = "snapshot_directory",
    params(("id" = String, Path, description = "A directory id")),
    responses(
        (status = 200, description = "NDJSON: one `SnapshotLine` per line, the cursor line last", content_type = "application/x-ndjson", body = schemas::SnapshotLine),
        (status = 404, description = "No such directory, or not one of the key's tenants", body = ErrorBody),
    )
)]
pub async fn stream(
    state: web::Data<ApiState>,
    key: AppKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let directory = key.directory(&state, &id).await?;
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, AppError>>(CHUNKS_IN_FLIGHT);
    let store = state.store.clone();
    // A thread of its own: a large directory's read outlasts what the blocking pool is for.
    std::thread::Builder::new()
        .name("snapshot".into())
        .spawn(move || {
            let mut chunk = Vec::with_capacity(CHUNK_BYTES);
            let mut reader_gone = false;
            let result = feed::snapshot(&store, &directory.scope(), &mut |line: SnapshotLine| {
                serde_json::to_writer(&mut chunk, &line).expect("a line serializes");
                chunk.push(b'\n');
                if chunk.len() >= CHUNK_BYTES || matches!(line, SnapshotLine::Cursor { .. }) {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_BYTES));
                    reader_gone = tx.blocking_send(Ok(Bytes::from(full))).is_err();
                }
                !reader_gone
            });
            if let Err(e) = result {
                let _ = tx.blocking_send(Err(e.into()));
            }
        })
        .map_err(|e| AppError::Internal(format!("snapshot thread: {e}")))?;
    // A failure before the first line is an error response; one after it ends the stream
    // without its cursor line, which tells the application the snapshot is incomplete.
    let first = match rx.recv().await {
        Some(Ok(bytes)) => bytes,
        Some(Err(e)) => return Err(e),
        None => {
            return Err(AppError::Internal(
                "the snapshot ended before it began".into(),
            ));
        }
    };
    let body = futures_util::stream::unfold((Some(first), rx), |(first, mut rx)| async move {
        if let Some(bytes) = first {
            return Some((Ok::<_, Infallible>(bytes), (None, rx)));
        }
        match rx.recv().await {
            Some(Ok(bytes)) => Some((Ok(bytes), (None, rx))),
            Some(Err(e)) => {
                tracing::error!(error = %e, "snapshot stopped part way");
                None
            }
            None => None,
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(body))
}
