//! Load figures for the application's feed (`scripts/bench-feed.sh`, docs/performance.md),
//! against a running `roster serve` on loopback. Every loop is bounded in time or count.
//!
//!   bench_feed writes BASE TOKENS_FILE SECS             POST then PATCH, a client per token
//!   bench_feed read BASE KEY SECS                       events read at limit=1000
//!   bench_feed latency BASE KEY TOKEN SAMPLES           commit to long-poll wake-up
//!   bench_feed webhooks BASE DATABASE_URL DIRS EVENTS   deliveries per second to a sink
//!   bench_feed endpoints BASE DATABASE_URL TOKENS_FILE SECS   POST with 0, 1, 10 endpoints
//!
//! The sink is a plain HTTP/1.1 server in this process on 127.0.0.1 that answers 204.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use roster::delivery::{self, Changes, target::TargetPolicy};
use roster::domain::lifecycle::Deprovisioning;
use roster::domain::{clock, tenancy, token};
use roster::store::Store;

#[derive(serde::Deserialize)]
struct Page {
    data: Vec<serde::de::IgnoredAny>,
    next_after: String,
}

fn user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name,
           "name": {"givenName": "Bench", "familyName": "User"},
           "emails": [{"value": name, "type": "work", "primary": true}], "active": true})
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client")
}

async fn post_user(
    c: &reqwest::Client,
    base: &str,
    token: &str,
    name: &str,
) -> anyhow::Result<String> {
    let r = c
        .post(format!("{base}/scim/v2/Users"))
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(user(name).to_string())
        .send()
        .await?;
    if r.status() != 201 {
        bail!("POST answered {}", r.status());
    }
    let body: Value = r.json().await?;
    Ok(body["id"].as_str().unwrap_or_default().to_string())
}

/// Each token's client POSTs (then PATCHes its own users) for `secs`; prints requests/s.
async fn writes(base: &str, tokens: &[String], secs: u64) -> anyhow::Result<(f64, f64)> {
    let run = |patch: bool, ids: Vec<Vec<String>>| {
        let tasks: Vec<_> = tokens
            .iter()
            .cloned()
            .zip(ids)
            .enumerate()
            .map(|(t, (token, mine))| {
                let base = base.to_string();
                tokio::spawn(async move {
                    let c = http();
                    let end = Instant::now() + Duration::from_secs(secs);
                    let mut made = Vec::new();
                    let mut n = 0u64;
                    while Instant::now() < end {
                        if patch {
                            let id = &mine[n as usize % mine.len().max(1)];
                            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                "Operations": [{"op": "replace", "path": "title", "value": format!("t{n}")}]});
                            let r = c
                                .patch(format!("{base}/scim/v2/Users/{id}"))
                                .bearer_auth(&token)
                                .header("content-type", "application/scim+json")
                                .body(body.to_string())
                                .send()
                                .await;
                            if !r.is_ok_and(|r| r.status().is_success()) {
                                eprintln!("a PATCH failed");
                            }
                        } else {
                            let name = format!("w{t}-{}-{n}@example.com", uuid::Uuid::new_v4().simple());
                            match post_user(&c, &base, &token, &name).await {
                                Ok(id) => made.push(id),
                                Err(e) => eprintln!("{e}"),
                            }
                        }
                        n += 1;
                    }
                    (n, made)
                })
            })
            .collect();
        async move {
            let mut total = 0;
            let mut made = Vec::new();
            for t in tasks {
                let (n, m) = t.await.expect("writer");
                total += n;
                made.push(m);
            }
            (total as f64 / secs as f64, made)
        }
    };
    let (post, made) = run(false, vec![Vec::new(); tokens.len()]).await;
    let (patch, _) = run(true, made).await;
    Ok((post, patch))
}

/// Reads the whole feed from the start at limit=1000, again and again, with two readers.
async fn read(base: &str, key: &str, secs: u64) -> anyhow::Result<f64> {
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let (base, key) = (base.to_string(), key.to_string());
            tokio::spawn(async move {
                let c = http();
                let end = Instant::now() + Duration::from_secs(secs);
                let mut events = 0u64;
                let mut after: Option<String> = None;
                while Instant::now() < end {
                    let url = match &after {
                        Some(a) => format!("{base}/api/v1/events?limit=1000&after={a}"),
                        None => format!("{base}/api/v1/events?limit=1000"),
                    };
                    // Counted without building each event: the reader's own parsing would
                    // otherwise be most of what this measures.
                    let page: Page = c.get(url).bearer_auth(&key).send().await?.json().await?;
                    let n = page.data.len();
                    events += n as u64;
                    after = (n == 1000).then_some(page.next_after);
                }
                anyhow::Ok(events)
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / secs as f64)
}

/// A reader long-polls after the newest event; a writer POSTs a user, one at a time. Each
/// sample is the time from the writer's answer to the reader's answer carrying the event.
async fn latency(base: &str, key: &str, token: &str, samples: usize) -> anyhow::Result<Vec<f64>> {
    let c = http();
    let newest: Value = c
        .get(format!(
            "{base}/api/v1/events?limit=1000&types=directory.deleted"
        ))
        .bearer_auth(key)
        .send()
        .await?
        .json()
        .await?;
    let mut after = newest["next_after"].as_str().unwrap_or("0").to_string();
    // Start after everything there is.
    loop {
        let page: Value = c
            .get(format!("{base}/api/v1/events?limit=1000&after={after}"))
            .bearer_auth(key)
            .send()
            .await?
            .json()
            .await?;
        after = page["next_after"].as_str().unwrap_or("0").to_string();
        if page["data"].as_array().is_none_or(Vec::is_empty) {
            break;
        }
    }
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples {
        let reader = {
            let (c, base, key, after) =
                (c.clone(), base.to_string(), key.to_string(), after.clone());
            tokio::spawn(async move {
                let page: Value = c
                    .get(format!("{base}/api/v1/events?after={after}&wait=30"))
                    .bearer_auth(&key)
                    .send()
                    .await?
                    .json()
                    .await?;
                anyhow::Ok((Instant::now(), page))
            })
        };
        tokio::time::sleep(Duration::from_millis(15)).await;
        post_user(
            &c,
            base,
            token,
            &format!("lat{i}-{}@example.com", uuid::Uuid::new_v4().simple()),
        )
        .await?;
        let answered = Instant::now();
        let (woke, page) = reader.await??;
        after = page["next_after"].as_str().unwrap_or("0").to_string();
        out.push(woke.saturating_duration_since(answered).as_secs_f64() * 1000.0);
    }
    out.sort_by(f64::total_cmp);
    Ok(out)
}

/// Answers every request with 204 and counts them.
fn sink() -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the sink");
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let count = Arc::new(AtomicU64::new(0));
    let counting = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let counting = counting.clone();
            std::thread::spawn(move || answer(stream, &counting));
        }
    });
    (url, count)
}

fn answer(stream: TcpStream, count: &AtomicU64) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut out = stream;
    loop {
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        count.fetch_add(1, Ordering::Relaxed);
        if out.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").is_err() {
            return;
        }
    }
}

const LOCAL: TargetPolicy = TargetPolicy {
    allow_http: true,
    allow_private: true,
};

/// `dirs` directories with `events / dirs` users each are written while the endpoint is off;
/// then it is turned on, and the time until the sink has every event is measured.
async fn webhooks(base: &str, url: &str, dirs: usize, events: usize) -> anyhow::Result<f64> {
    let store = Store::open(url)?;
    let t = tenancy::create_tenant(&store, &format!("wh{}", std::process::id()), clock::now())?;
    let mut tokens = Vec::with_capacity(dirs);
    for d in 0..dirs {
        let kind = tenancy::DirectoryKind::Generic;
        let dir = tenancy::create_directory(
            &store,
            &t,
            &format!("d{d}"),
            kind,
            Deprovisioning::default_for(kind),
            clock::now(),
        )?;
        tokens.push(
            token::issue(&store, &dir, clock::now())?
                .secret
                .expose()
                .to_string(),
        );
    }
    let (sink_url, count) = sink();
    let endpoint = delivery::create(
        &store,
        LOCAL,
        &sealed_as_serve_does(&store)?,
        Some(&t.id),
        &sink_url,
        None,
        clock::now(),
    )?;
    let off = Changes {
        enabled: Some(false),
        ..Changes::default()
    };
    delivery::update(&store, LOCAL, &endpoint.endpoint.id, off, clock::now())?;
    let per = events / dirs;
    let chunks: Vec<Vec<String>> = tokens
        .chunks(dirs.div_ceil(16))
        .map(<[String]>::to_vec)
        .collect();
    let writers: Vec<_> = chunks
        .into_iter()
        .map(|mine| {
            let base = base.to_string();
            tokio::spawn(async move {
                let c = http();
                for token in &mine {
                    for i in 0..per {
                        post_user(
                            &c,
                            &base,
                            token,
                            &format!("{i}-{}@example.com", uuid::Uuid::new_v4().simple()),
                        )
                        .await?;
                    }
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for w in writers {
        w.await??;
    }
    // Every directory's first request also wrote `directory.activated`.
    let expected = (dirs * (per + 1)) as u64;
    let started = Instant::now();
    let on = Changes {
        enabled: Some(true),
        ..Changes::default()
    };
    delivery::update(&store, LOCAL, &endpoint.endpoint.id, on, clock::now())?;
    let deadline = started + Duration::from_secs(600);
    while count.load(Ordering::Relaxed) < expected {
        if Instant::now() > deadline {
            bail!(
                "only {} of {expected} deliveries in 600 s",
                count.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    println!("webhooks: {expected} events over {dirs} directories delivered in {secs:.2} s");
    delivery::delete(&store, &endpoint.endpoint.id)?;
    Ok(expected as f64 / secs)
}

/// Secrets sealed as `serve` without ROSTER_SECRET_KEY would seal them, so the figures include
/// opening them.
fn sealed_as_serve_does(store: &Store) -> anyhow::Result<delivery::secrets::Secrets> {
    let key = roster::domain::sealing::SecretKey::resolve(None, store.sqlite_file())?;
    Ok(delivery::secrets::Secrets::new(key))
}

/// POST throughput with 0, 1 and 10 endpoints subscribed to a sink, twice in turn.
async fn endpoints(base: &str, url: &str, tokens: &[String], secs: u64) -> anyhow::Result<()> {
    let store = Store::open(url)?;
    let (sink_url, count) = sink();
    let secrets = sealed_as_serve_does(&store)?;
    let mut made: Vec<String> = Vec::new();
    for round in 0..2 {
        for wanted in [0usize, 1, 10] {
            while made.len() < wanted {
                made.push(
                    delivery::create(&store, LOCAL, &secrets, None, &sink_url, None, clock::now())?
                        .endpoint
                        .id,
                );
            }
            while made.len() > wanted {
                delivery::delete(&store, &made.pop().expect("an endpoint"))?;
            }
            let before = count.load(Ordering::Relaxed);
            let (post, _) = writes(base, tokens, secs).await?;
            println!(
                "round {round}: {wanted:>2} endpoint(s): POST {post:.0} req/s (sink got {} deliveries meanwhile)",
                count.load(Ordering::Relaxed) - before
            );
        }
    }
    for id in made {
        delivery::delete(&store, &id)?;
    }
    Ok(())
}

fn lines(path: &str) -> anyhow::Result<Vec<String>> {
    Ok(std::fs::read_to_string(path)
        .with_context(|| format!("read {path}"))?
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["writes", base, tokens, secs] => {
            let (post, patch) = writes(base, &lines(tokens)?, secs.parse()?).await?;
            println!("writes: POST {post:.0} req/s, PATCH {patch:.0} req/s");
        }
        ["read", base, key, secs] => {
            println!(
                "read: {:.0} events/s at limit=1000",
                read(base, key, secs.parse()?).await?
            );
        }
        ["latency", base, key, token, samples] => {
            let ms = latency(base, key, token, samples.parse()?).await?;
            let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
            println!(
                "latency: {} samples, commit answered -> long-poll answered: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                ms.len(),
                at(0.5),
                at(0.99),
                at(1.0)
            );
        }
        ["webhooks", base, url, dirs, events] => {
            let rate = webhooks(base, url, dirs.parse()?, events.parse()?).await?;
            println!("webhooks: {rate:.0} deliveries/s");
        }
        ["endpoints", base, url, tokens, secs] => {
            endpoints(base, url, &lines(tokens)?, secs.parse()?).await?;
        }
        _ => bail!("usage: see the top of examples/bench_feed.rs"),
    }
    Ok(())
}
