//! `/metrics`: counters move with SCIM traffic, and no label carries an id or a raw path.

use crate::both_backends;
use crate::support::*;

async fn scrape(server: &TestServer) -> String {
    let r = reqwest::get(format!("{}/metrics", server.origin()))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        r.headers()
    );
    r.text().await.unwrap()
}

/// The value of the series `name{labels}` exactly as written, 0 when absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.parse().unwrap())
}

both_backends!(
    counters_move_and_labels_stay_bounded,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let before = scrape(&server).await;
        let get_by_id = r#"roster_http_requests_total{kind="generic",method="GET",route="/scim/v2/Users/{id}",status="200"}"#;
        assert_eq!(value(&before, get_by_id), 0.0);

        let c = &server.client;
        let created = c.post("/Users", &user_body("metrics@example.com")).await;
        assert_eq!(created.status, 201);
        let id = created.id();
        for _ in 0..3 {
            assert_eq!(c.get(&format!("/Users/{id}")).await.status, 200);
        }
        let missing = "2b1c0c1e-0000-4000-8000-00000000abcd";
        assert_eq!(c.get(&format!("/Users/{missing}")).await.status, 404);
        assert_eq!(c.with_token("roster_nope").get("/Users").await.status, 401);

        let after = scrape(&server).await;
        assert_eq!(value(&after, get_by_id), 3.0, "{after}");
        let not_found = r#"roster_http_requests_total{kind="generic",method="GET",route="/scim/v2/Users/{id}",status="404"}"#;
        assert_eq!(value(&after, not_found), 1.0, "{after}");
        let created_series = r#"roster_http_requests_total{kind="generic",method="POST",route="/scim/v2/Users",status="201"}"#;
        assert_eq!(value(&after, created_series), 1.0, "{after}");
        // No directory is known before the token is.
        let refused = r#"roster_http_requests_total{kind="none",method="GET",route="/scim/v2/Users",status="401"}"#;
        assert_eq!(value(&after, refused), 1.0, "{after}");
        assert!(
            value(
                &after,
                r#"roster_http_request_duration_seconds_count{kind="generic",method="GET",route="/scim/v2/Users/{id}"}"#
            ) >= 3.0,
            "{after}"
        );
        // The user's creation (and the directory's activation) appended events.
        assert!(
            value(&after, "roster_events_appended_total") >= 1.0,
            "{after}"
        );
        for gauge in [
            "roster_write_queue_depth",
            "roster_db_pool_connections_in_use",
            "roster_db_pool_connections_idle",
        ] {
            assert!(
                after.lines().any(|l| l.starts_with(&format!("{gauge} "))),
                "{gauge} missing: {after}"
            );
        }
        if backend == Backend::Sqlite {
            assert!(
                value(&after, "roster_group_commit_size_count") >= 1.0,
                "{after}"
            );
        }
        for secret in [
            id.as_str(),
            missing,
            "metrics@example.com",
            &c.token,
            "roster_nope",
        ] {
            assert!(!after.contains(secret), "{secret} is in a label: {after}");
        }
    }
);

both_backends!(
    webhook_lag_is_the_age_of_the_oldest_undelivered_event,
    |backend| async move {
        let receiver = crate::receiver::Receiver::start();
        receiver.set_status(500);
        let local = [
            ("ROSTER_ALLOW_HTTP_WEBHOOKS", "1"),
            ("ROSTER_ALLOW_PRIVATE_WEBHOOK_TARGETS", "1"),
        ];
        let server = TestServer::start_with_env(backend, &local).await;
        let created = std::process::Command::new(roster_bin())
            .args(["--json", "webhook", "create", "--url", &receiver.url()])
            .env("ROSTER_DATABASE_URL", &server.db.url)
            .envs(local)
            .output()
            .unwrap();
        assert!(created.status.success(), "{created:?}");
        let r = server
            .client
            .post("/Users", &user_body("lag@example.com"))
            .await;
        assert_eq!(r.status, 201);
        let mut lag = 0.0;
        for _ in 0..60 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let text = scrape(&server).await;
            lag = value(&text, "roster_webhook_lag_seconds");
            let failed = value(
                &text,
                r#"roster_webhook_deliveries_total{outcome="failed"}"#,
            );
            if lag >= 1.0 && failed >= 1.0 {
                break;
            }
        }
        assert!(lag >= 1.0, "lag {lag} while the receiver refuses");
    }
);
