//! Load figures for the application's read API beside SCIM's own reads of the same data, in
//! one run (`scripts/bench-read.sh`, docs/performance.md), against a running `roster serve`
//! on loopback. Every loop is bounded in time.
//!
//!   bench_read BASE SCIM_TOKEN APP_KEY DIRECTORY_ID IDS_FILE SECS [CLIENTS=16 [GROUP_ID SIZE]]
//!
//! Runs, one after the other, each for SECS with CLIENTS concurrent clients:
//!   GET /api/v1/users/{id}                        random seeded user
//!   GET /scim/v2/Users/{id}                       the same
//!   GET /api/v1/directories/{id}/users?limit=100  after a random seeded id
//!   GET /api/v1/directories/{id}/users?limit=100  the first page
//!   GET /scim/v2/Users?count=100                  the first page
//! and prints req/s and p50/p99 for each. A non-2xx answer or a failed connection ends that
//! test, which is reported as failed. Given a group, then
//! reads `GET /api/v1/groups/{id}/users?limit=1000` to its end, checks it saw SIZE users in id
//! order with no repeat, and prints how long that took.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

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

/// A GET, sent again (up to twice) when the connection fails before any answer: a pooled
/// keep-alive connection the server was closing, as an application's client would retry.
async fn send(http: &reqwest::Client, url: &str, auth: &str) -> anyhow::Result<reqwest::Response> {
    let mut tries = 0;
    loop {
        match http.get(url).bearer_auth(auth).send().await {
            Ok(r) => return Ok(r),
            Err(e) if tries < 2 && e.is_request() => tries += 1,
            Err(e) => return Err(anyhow::anyhow!("{e:?}")),
        }
    }
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
                    let r = send(&http, &url, &test.auth).await?;
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

/// Every user of a group, a page of 1,000 at a time; the time it took and the pages read.
async fn walk_group(base: &str, key: &str, group: &str, size: usize) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let (mut seen, mut pages, mut last) = (0usize, 0usize, String::new());
    let mut after: Option<String> = None;
    let mut slowest = 0f64;
    loop {
        let url = match &after {
            Some(a) => format!("{base}/api/v1/groups/{group}/users?limit=1000&after={a}"),
            None => format!("{base}/api/v1/groups/{group}/users?limit=1000"),
        };
        let sent = Instant::now();
        let page: Value = http.get(&url).bearer_auth(key).send().await?.json().await?;
        slowest = slowest.max(sent.elapsed().as_secs_f64() * 1000.0);
        pages += 1;
        for user in page["data"].as_array().context("data")? {
            let id = user["id"].as_str().context("id")?;
            if id <= last.as_str() {
                bail!("{id} came after {last}: a repeat or out of order");
            }
            last = id.to_string();
            seen += 1;
        }
        match &page["next_after"] {
            Value::String(next) => after = Some(next.clone()),
            _ => break,
        }
        if pages > size / 1000 + 2 {
            bail!("more pages than a group of {size} has");
        }
    }
    if seen != size {
        bail!("read {seen} users of a group of {size}");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "\ngroup of {size}: every member once, in id order, {pages} pages in {secs:.2} s \
         ({:.0} users/s, slowest page {slowest:.1} ms)",
        seen as f64 / secs
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, token, key, directory, ids_file, secs, rest @ ..] = args.as_slice() else {
        bail!(
            "usage: bench_read BASE SCIM_TOKEN APP_KEY DIRECTORY_ID IDS_FILE SECS [CLIENTS [GROUP_ID SIZE]]"
        );
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
    if let [_, group, size] = rest {
        walk_group(&base, key, group, size.parse().context("SIZE")?).await?;
    }
    println!("| request | req/s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|");
    for test in tests {
        let test = Arc::new(test);
        match run(test.clone(), clients, secs).await {
            Ok((rps, p50, p99)) => println!("| {} | {rps:.0} | {p50:.2} | {p99:.2} |", test.name),
            Err(e) => println!("| {} | failed: {e:#} | | |", test.name),
        }
    }
    Ok(())
}
