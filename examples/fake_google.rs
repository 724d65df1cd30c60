//! The tests' fake Google as a process of its own, for `scripts/bench-google.sh`: one
//! implementation serves both, so the benchmark reads exactly what the tests check.
//!
//!     cargo run --release --example fake_google -- --bind 127.0.0.1:9900 \
//!         --users 100000 --groups 2000 --key-file /tmp/key.json
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
            other => panic!("unknown flag {other}"),
        }
    }
    let fake = fake_google::FakeGoogle::start_on(&bind);
    fake.populate(users, groups);
    let written = fake.key_file(key_file.parent().unwrap_or(std::path::Path::new(".")));
    if written != key_file {
        std::fs::rename(&written, &key_file).expect("move the key file");
    }
    println!(
        "fake Google listening on {} ({users} users, {groups} groups)",
        fake.url
    );
    loop {
        std::thread::park();
    }
}
