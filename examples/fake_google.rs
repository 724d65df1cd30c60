//! The tests' fake Google as a process of its own, for `scripts/bench-google.sh`: one
//! implementation serves both, so the benchmark reads exactly what the tests check.
//!
//!     cargo run --release --example fake_google -- --bind 127.0.0.1:9900 \
//!         --users 100000 --groups 2000 --shape realistic --key-file /tmp/key.json
//!
//! `--shape realistic` (the default): heavy-tailed groups up to 5,000 members, nested groups,
//! external members, custom schemas, several domains, Unicode names (`fake_google::Shape`).
//! `--shape uniform`: user i in group i mod GROUPS, plain records, as earlier benchmarks used.
//!
//! Writes a service-account key file (test-only key) pointing at itself, prints
//! `fake Google listening on URL`, and serves until killed.

// The tests use parts of the fake this program does not.
#[allow(dead_code)]
#[path = "../tests/it/fake_google.rs"]
mod fake_google;

fn main() {
    let mut bind = "127.0.0.1:0".to_string();
    let (mut users, mut groups) = (1000usize, 10usize);
    let mut key_file = std::path::PathBuf::from("service-account.json");
    let mut shape = "realistic".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--bind" => bind = value,
            "--users" => users = value.parse().expect("--users N"),
            "--groups" => groups = value.parse().expect("--groups N"),
            "--key-file" => key_file = value.into(),
            "--shape" => shape = value,
            other => panic!("unknown flag {other}"),
        }
    }
    let fake = fake_google::FakeGoogle::start_on(&bind);
    match shape.as_str() {
        "realistic" => fake.populate_shape(&fake_google::Shape::realistic(users, groups)),
        "uniform" => fake.populate(users, groups),
        other => panic!("unknown shape {other}: realistic or uniform"),
    }
    let written = fake.key_file(key_file.parent().unwrap_or(std::path::Path::new(".")));
    if written != key_file {
        std::fs::rename(&written, &key_file).expect("move the key file");
    }
    println!(
        "fake Google listening on {} ({users} users, {groups} groups, {shape})",
        fake.url
    );
    loop {
        std::thread::park();
    }
}
