//! Seeds a directory for the scale benchmark (`scripts/bench-scale.sh`) through the same domain
//! commands the SCIM path uses, a batch per transaction: a million users over HTTP would take
//! half an hour, and seeding is not what the benchmark measures.
//!
//!   cargo run --release --example seed -- DATABASE_URL DIRECTORY USERS OUT_DIR [GROUP_SIZE...]
//!
//! Users get the shape `../shared/peers/seed_users.py` posts (userName `user{10000+i}@example.com`,
//! a work email, externalId), so the peers' wrk scripts find them. Writes `OUT_DIR/ids.txt` (one
//! user id per line, in order) and `OUT_DIR/groups.txt` (`SIZE GROUP_ID` per line); group
//! `i` of size `S` holds users `0..S`.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use serde_json::json;

use roster::domain::{clock, group, tenancy, user};
use roster::scim::resource::canonicalize;
use roster::scim::schema::{ResourceKind, SchemaRegistry};
use roster::scim::secret::strip_secrets;
use roster::scim::{group::group_write, user::user_write};
use roster::store::Store;

const BATCH: usize = 2_000;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, directory, users, out, sizes @ ..] = args.as_slice() else {
        anyhow::bail!("usage: seed DATABASE_URL DIRECTORY USERS OUT_DIR [GROUP_SIZE...]");
    };
    let n: usize = users.parse().context("USERS")?;
    let sizes: Vec<usize> = sizes
        .iter()
        .map(|s| s.parse().context("GROUP_SIZE"))
        .collect::<anyhow::Result<_>>()?;
    let store = Store::open(url)?;
    store.migrate()?;
    let reg = SchemaRegistry::builtin();
    let scope = tenancy::find_directory(&store, directory)?.scope();
    std::fs::create_dir_all(out)?;
    let mut ids_out = std::io::BufWriter::new(std::fs::File::create(format!("{out}/ids.txt"))?);

    let started = Instant::now();
    let mut first_ids: Vec<String> = Vec::new();
    let wanted_members = sizes.iter().copied().max().unwrap_or(0);
    for start in (0..n).step_by(BATCH) {
        let writes = (start..n.min(start + BATCH))
            .map(|i| {
                let name = format!("user{}@example.com", 10_000 + i);
                let body = json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": name,
                    "externalId": format!("ext-{i}"),
                    "name": {"givenName": "Load", "familyName": format!("User{i}"),
                             "formatted": format!("Load user{i}")},
                    "displayName": format!("Load user{i}"),
                    "emails": [{"value": name, "type": "work", "primary": true}],
                    "active": true,
                });
                let doc = canonicalize(&reg, ResourceKind::User, &body)?.doc;
                Ok(user_write(
                    &reg,
                    doc,
                    strip_secrets(&reg, ResourceKind::User, &body),
                ))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        for u in user::create_many(&store, &scope, writes, clock::now())? {
            writeln!(ids_out, "{}", u.id)?;
            if first_ids.len() < wanted_members {
                first_ids.push(u.id.to_string());
            }
        }
        if (start / BATCH).is_multiple_of(50) {
            eprint!("\rseeded {} users", start + BATCH);
        }
    }
    ids_out.flush()?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "\rseeded {n} users in {seconds:.1} s ({:.0} users/s)",
        n as f64 / seconds
    );

    let mut groups_out = std::fs::File::create(format!("{out}/groups.txt"))?;
    for (i, size) in sizes.iter().enumerate() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": format!("bench-group-{i}-{size}"),
        });
        let doc = canonicalize(&reg, ResourceKind::Group, &body)?.doc;
        let started = Instant::now();
        let g = group::create(
            &store,
            &scope,
            group_write(&reg, doc, body),
            first_ids[..*size].iter().cloned().map(Into::into).collect(),
            clock::now(),
        )?;
        eprintln!(
            "group of {size} members created in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        writeln!(groups_out, "{size} {}", g.id)?;
    }
    Ok(())
}
