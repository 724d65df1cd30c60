//! Request ids and JSON log lines: every answer names its request, the log line says the same
//! id, and no bearer token reaches the log.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::both_backends;
use crate::support::*;

/// `roster serve` with JSON logs at `info` going to a file; stopped when dropped.
struct LoggingServer {
    child: std::process::Child,
    origin: String,
    log: std::path::PathBuf,
}

impl LoggingServer {
    fn start(db: &TestDb) -> LoggingServer {
        let log = std::env::temp_dir().join(format!("roster-log-{}.txt", uuid::Uuid::new_v4()));
        let mut child = Command::new(roster_bin())
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("ROSTER_DATABASE_URL", &db.url)
            .env("ROSTER_LOG", "info")
            .env("ROSTER_LOG_FORMAT", "json")
            .env_remove("ROSTER_CONFIG")
            .env_remove("ROSTER_PUBLIC_URL")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let origin = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|l| {
                l.strip_prefix("roster: listening on ")
                    .and_then(|r| r.split_whitespace().next())
                    .map(str::to_string)
            })
            .expect("the server says where it listens");
        LoggingServer { child, origin, log }
    }

    /// Everything logged so far.
    fn logged(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for LoggingServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

both_backends!(
    json_logs_carry_the_request_id_and_no_token,
    |backend| async move {
        let db = TestDb::new(backend);
        cli_json(&db, &["tenant", "create", "acme"]);
        let token = create_directory(&db, "okta", "main")["token"]
            .as_str()
            .unwrap()
            .to_string();
        let server = LoggingServer::start(&db);
        let http = reqwest::Client::new();
        let users = format!("{}/scim/v2/Users", server.origin);

        let sent_id = "it-req-0123456789";
        let r = http
            .post(&users)
            .bearer_auth(&token)
            .header("x-request-id", sent_id)
            .header("content-type", "application/scim+json")
            .body(user_body("logged@example.com").to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers()["x-request-id"], sent_id);

        // No id, or one not worth keeping: a new one is made.
        let wrong_token = "roster_thisisnotarealtokenbutasecretallthesame";
        for sent in [None, Some("has spaces in it")] {
            let mut req = http.get(&users).bearer_auth(wrong_token);
            if let Some(id) = sent {
                req = req.header("x-request-id", id);
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 401);
            let made = r.headers()["x-request-id"].to_str().unwrap();
            assert!(
                made.len() == 32 && made.bytes().all(|b| b.is_ascii_hexdigit()),
                "{made}"
            );
        }
        // Outside SCIM too.
        let r = http
            .get(format!("{}/healthz", server.origin))
            .send()
            .await
            .unwrap();
        assert!(r.headers().contains_key("x-request-id"));

        let mut lines = Vec::new();
        for _ in 0..50 {
            lines = server
                .logged()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
                .collect();
            if lines.iter().any(|l| l["request_id"] == sent_id) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let access = lines
            .iter()
            .find(|l| l["request_id"] == sent_id)
            .unwrap_or_else(|| panic!("no line names {sent_id}: {lines:?}"));
        assert_eq!(access["status"], 201, "{access}");
        assert_eq!(access["route"], "/scim/v2/Users", "{access}");
        assert_eq!(access["method"], "POST", "{access}");
        assert_eq!(access["span"]["request_id"], sent_id, "{access}");
        let logged = server.logged();
        assert!(!logged.contains(&token), "the directory's token was logged");
        assert!(
            !logged.contains(wrong_token),
            "a presented token was logged"
        );
    }
);
