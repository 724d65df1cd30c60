//! Load figures for the application's read API beside SCIM's own reads of the same data, in
//! one run (`scripts/bench-read.sh`, docs/performance.md), against a running `roster serve`
//! on loopback. Every loop is bounded in time.
//!
//!   bench_read BASE SCIM_TOKEN APP_KEY DIRECTORY_ID IDS_FILE SECS [CLIENTS=16]
//!
//! Runs, one after the other, each for SECS with CLIENTS concurrent clients:
//!   GET /api/v1/users/{id}                        random seeded user
//!   GET /scim/v2/Users/{id}                       the same
//!   GET /api/v1/directories/{id}/users?limit=100  after a random seeded id
//!   GET /scim/v2/Users?count=100                  at a random startIndex
//!   GET /api/v1/directories/{id}/users?limit=100  the first page
//!   GET /scim/v2/Users?count=100                  the first page
//! and prints req/s and p50/p99 for each. A non-2xx answer stops the run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// One kind of request: its name, its bearer secret, and its URL for a random number.
struct Test {
    name: &'static str,
    auth: String,
    url: Box<dyn Fn(u64) -> String + Send + Sync>,
}

/// A cheap pseudo-random stream (xorshift), so the clients do not share a generator.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

async fn run(test: Arc<Test>, clients: u64, secs: u64) -> anyhow::Result<(f64, f64, f64)> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients as usize)
        .build()?;
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (http, test) = (http.clone(), test.clone());
            tokio::spawn(async move {
                let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ (c + 1).wrapping_mul(0x2545_F491);
                let mut took = Vec::new();
                while Instant::now() < end {
                    let url = (test.url)(next(&mut seed));
                    let sent = Instant::now();
                    let r = http.get(&url).bearer_auth(&test.auth).send().await?;
                    let status = r.status();
                    r.bytes().await?;
                    if !status.is_success() {
                        bail!("{}: {url} answered {status}", test.name);
                    }
                    took.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
                anyhow::Ok(took)
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let at = |q: f64| all[((all.len() as f64 - 1.0) * q).round() as usize];
    Ok((all.len() as f64 / elapsed, at(0.5), at(0.99)))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, token, key, directory, ids_file, secs, rest @ ..] = args.as_slice() else {
        bail!("usage: bench_read BASE SCIM_TOKEN APP_KEY DIRECTORY_ID IDS_FILE SECS [CLIENTS]");
    };
    let secs: u64 = secs.parse().context("SECS")?;
    let clients: u64 = rest.first().map_or(Ok(16), |c| c.parse())?;
    let ids: Arc<Vec<String>> = Arc::new(
        std::fs::read_to_string(ids_file)?
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
    );
    if ids.len() < 200 {
        bail!("{ids_file} holds {} ids; seed at least 200", ids.len());
    }
    let n = ids.len() as u64;
    let pick = {
        let ids = ids.clone();
        move |r: u64| ids[(r % n) as usize].clone()
    };
    let (base, directory) = (base.clone(), directory.clone());
    let tests = [
        Test {
            name: "api GET /users/{id}",
            auth: key.clone(),
            url: Box::new({
                let (base, pick) = (base.clone(), pick.clone());
                move |r| format!("{base}/api/v1/users/{}", pick(r))
            }),
        },
        Test {
            name: "scim GET /Users/{id}",
            auth: token.clone(),
            url: Box::new({
                let (base, pick) = (base.clone(), pick.clone());
                move |r| format!("{base}/scim/v2/Users/{}", pick(r))
            }),
        },
        Test {
            name: "api 100 users after a random id",
            auth: key.clone(),
            url: Box::new({
                let (base, directory, pick) = (base.clone(), directory.clone(), pick.clone());
                move |r| {
                    format!(
                        "{base}/api/v1/directories/{directory}/users?limit=100&after={}",
                        pick(r)
                    )
                }
            }),
        },
        Test {
            name: "scim count=100 at a random startIndex",
            auth: token.clone(),
            url: Box::new({
                let base = base.clone();
                move |r| {
                    format!(
                        "{base}/scim/v2/Users?count=100&startIndex={}",
                        1 + r % (n - 100)
                    )
                }
            }),
        },
        Test {
            name: "api first 100 users",
            auth: key.clone(),
            url: Box::new({
                let (base, directory) = (base.clone(), directory.clone());
                move |_| format!("{base}/api/v1/directories/{directory}/users?limit=100")
            }),
        },
        Test {
            name: "scim count=100, first page",
            auth: token.clone(),
            url: Box::new({
                let base = base.clone();
                move |_| format!("{base}/scim/v2/Users?count=100")
            }),
        },
    ];
    println!("| request | req/s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|");
    for test in tests {
        let test = Arc::new(test);
        let (rps, p50, p99) = run(test.clone(), clients, secs).await?;
        println!("| {} | {rps:.0} | {p50:.2} | {p99:.2} |", test.name);
    }
    Ok(())
}
