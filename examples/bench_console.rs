//! Times the admin console's pages over loopback with a large directory
//! (`scripts/bench-console.sh`, docs/performance.md): signs in with an admin key as a browser
//! would, then GETs each page ROUNDS times one after another and prints the median, the 95th
//! percentile and the slowest answer, each the time to the last byte of the HTML.
//!
//!   bench_console ORIGIN ADMIN_KEY DIRECTORY_ID GROUP_ID IDS_FILE ROUNDS

use std::time::Instant;

use anyhow::{Context, bail};
use reqwest::header::{COOKIE, SET_COOKIE};

fn cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
}

fn csrf(html: &str) -> anyhow::Result<String> {
    let at = html
        .find("name=\"csrf\" value=\"")
        .context("no CSRF field")?
        + 19;
    Ok(html[at..at + 64].to_string())
}

async fn sign_in(http: &reqwest::Client, origin: &str, key: &str) -> anyhow::Result<String> {
    let form = http.get(format!("{origin}/admin/sign-in")).send().await?;
    let pre = cookie(&form, "roster_sign_in").context("no sign-in cookie")?;
    let token = csrf(&form.text().await?)?;
    let r = http
        .post(format!("{origin}/admin/sign-in"))
        .header(COOKIE, format!("roster_sign_in={pre}"))
        .form(&[("csrf", token.as_str()), ("key", key)])
        .send()
        .await?;
    cookie(&r, "roster_session").context("sign-in refused")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [origin, key, directory, group, ids_file, rounds] = args.as_slice() else {
        bail!("usage: bench_console ORIGIN ADMIN_KEY DIRECTORY_ID GROUP_ID IDS_FILE ROUNDS");
    };
    let rounds: usize = rounds.parse().context("ROUNDS")?;
    let ids: Vec<String> = std::fs::read_to_string(ids_file)?
        .lines()
        .map(str::to_string)
        .collect();
    let middle = &ids[ids.len() / 2];
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let session = sign_in(&http, origin, key).await?;
    let d = format!("/admin/directories/{directory}");
    let pages = [
        ("tenants", "/admin/tenants".to_string()),
        ("directories", "/admin/directories".to_string()),
        ("a directory", d.clone()),
        ("users, first page", format!("{d}/users")),
        ("users, a middle page", format!("{d}/users?after={middle}")),
        (
            "users, search by userName",
            format!("{d}/users?field=username&q=user60000%40example.com"),
        ),
        ("groups", format!("{d}/groups")),
        ("group members, first page", format!("{d}/groups/{group}")),
        (
            "group members, a middle page",
            format!("{d}/groups/{group}?after={middle}"),
        ),
        ("request log", format!("{d}/requests")),
        ("events", "/admin/events".to_string()),
        ("webhooks", "/admin/webhooks".to_string()),
    ];
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>9}",
        "page", "p50 ms", "p95 ms", "max ms", "KiB"
    );
    for (name, path) in pages {
        let mut times = Vec::with_capacity(rounds);
        let mut size = 0;
        // One unmeasured request first: the first read of a page warms the caches.
        for round in 0..=rounds {
            let started = Instant::now();
            let r = http
                .get(format!("{origin}{path}"))
                .header(COOKIE, format!("roster_session={session}"))
                .send()
                .await?;
            let status = r.status();
            let body = r.bytes().await?;
            let took = started.elapsed().as_secs_f64() * 1000.0;
            if !status.is_success() {
                bail!("{path}: {status}");
            }
            size = body.len();
            if round > 0 {
                times.push(took);
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name:<30} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            times[times.len() - 1],
            size as f64 / 1024.0
        );
    }
    Ok(())
}
