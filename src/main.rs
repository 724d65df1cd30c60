use clap::Parser;

/// A request allocates and frees hundreds of small blocks (JSON trees, strings, diesel's bind
/// buffers) on one thread and a few on another (the request log's writer); glibc's allocator
/// spent a tenth of a GET's time in malloc and free, mimalloc's thread-local free lists less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    match roster::cli::run(roster::cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roster: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
