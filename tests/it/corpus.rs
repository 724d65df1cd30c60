//! The replay corpus (`scim-conformance/replay/<kind>/*.json`): every sequence runs against a
//! fresh directory of its kind, on both backends, with zero differences.

use std::path::{Path, PathBuf};

use roster::replay::{Runner, Sequence};
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::*;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scim-conformance/replay")
}

/// Every `<kind>/<name>.json` under the corpus, sorted. An empty corpus is a failure: a test
/// that silently checks nothing is worse than none.
fn corpus_files() -> Vec<PathBuf> {
    let root = corpus_root();
    let mut files = Vec::new();
    for kind in std::fs::read_dir(&root).expect("the corpus folder exists") {
        let kind = kind.expect("corpus entry").path();
        if !kind.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&kind).expect("kind folder") {
            let file = file.expect("corpus file").path();
            if file.extension().is_some_and(|e| e == "json") {
                files.push(file);
            }
        }
    }
    files.sort();
    assert!(
        !files.is_empty(),
        "no replay sequences under {}/*/*.json",
        root.display()
    );
    files
}

both_backends!(
    every_corpus_sequence_replays_cleanly,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let mut failures = Vec::new();
        let files = corpus_files();
        for (i, file) in files.iter().enumerate() {
            let shown = file.strip_prefix(corpus_root()).unwrap_or(file).display();
            let sequence = Sequence::load(file).unwrap_or_else(|e| panic!("{e}"));
            let folder = file.parent().and_then(Path::file_name).unwrap_or_default();
            assert_eq!(
                folder.to_str(),
                Some(sequence.kind.as_str()),
                "{shown}: a sequence lives in the folder of its kind"
            );
            let dir = create_directory(&server.db, &sequence.kind, &format!("corpus-{i}"));
            let token = dir["token"].as_str().expect("token").to_string();
            let base = server.client.base.clone();
            let report = tokio::task::spawn_blocking(move || {
                Runner::new(&base, &token)
                    .expect("HTTP client")
                    .run(&sequence)
            })
            .await
            .expect("runner thread");
            for step in report.failed_steps() {
                let list: Vec<String> = step
                    .differences
                    .iter()
                    .map(|d| format!("    {d}"))
                    .collect();
                failures.push(format!(
                    "{shown} step {} '{}' ({} {}):\n{}",
                    step.step,
                    step.name,
                    step.method,
                    step.path,
                    list.join("\n")
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of the corpus's steps differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
);

both_backends!(
    replay_names_each_difference_and_fails,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let file =
            std::env::temp_dir().join(format!("roster-replay-{}.json", uuid::Uuid::new_v4()));
        let sequence = json!({
            "name": "wrong-on-purpose",
            "kind": "generic",
            "steps": [
                {
                    "name": "create",
                    "request": {"method": "POST", "path": "/Users", "body": {
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "userName": "zed@example.com"}},
                    "expect": {"status": 201, "body": {"userName": "zed@example.com"}},
                    "capture": {"zed": "/id"}
                },
                {
                    "name": "read back, expecting what is not there",
                    "request": {"method": "GET", "path": "/Users/{{zed}}"},
                    "expect": {"status": 200, "body": {
                        "userName": "someone-else@example.com",
                        "id": "{{absent}}",
                        "emails": [{"value": "zed@example.com"}]}}
                },
                {
                    "name": "a variable nobody captured",
                    "request": {"method": "GET", "path": "/Users/{{nobody}}"},
                    "expect": {"status": 200}
                }
            ]
        });
        std::fs::write(&file, sequence.to_string()).expect("write sequence");
        let out = cli(
            &server.db,
            &[
                "--json",
                "replay",
                file.to_str().expect("utf-8 path"),
                "--against",
                &server.client.base,
                "--token",
                &server.client.token,
            ],
        );
        let _ = std::fs::remove_file(&file);
        assert!(!out.status.success(), "differences make replay fail");
        let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
        assert_eq!(report["steps"], json!(3));
        assert_eq!(report["failed_steps"], json!(2));
        let steps = &report["sequences"][0]["steps"];
        assert_eq!(steps[0]["differences"], json!([]));
        assert_eq!(steps[1]["status"], json!(200));
        let mut at: Vec<&str> = steps[1]["differences"]
            .as_array()
            .expect("differences")
            .iter()
            .filter_map(|d| d["at"].as_str())
            .collect();
        at.sort_unstable();
        assert_eq!(at, ["body.emails", "body.id", "body.userName"]);
        assert_eq!(steps[2]["status"], Value::Null, "nothing is sent");
        assert!(
            steps[2]["differences"][0]["expected"]
                .as_str()
                .is_some_and(|e| e.contains("nobody"))
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("4 difference(s) in 2 step(s)"));
    }
);
