//! Per-directory rate limits: over the limit, 429 with `Retry-After` and a SCIM error body;
//! another directory keeps its own allowance.

use crate::both_backends;
use crate::support::*;

both_backends!(
    over_the_limit_a_directory_gets_429_with_retry_after,
    |backend| async move {
        let server = TestServer::start_with_env(
            backend,
            &[
                ("ROSTER_RATE_LIMIT_PER_SECOND", "0.2"),
                ("ROSTER_RATE_LIMIT_BURST", "3"),
            ],
        )
        .await;
        let other = create_directory(&server.db, "entra", "other")["token"]
            .as_str()
            .unwrap()
            .to_string();
        let c = &server.client;
        for _ in 0..3 {
            assert_eq!(c.get("/Users").await.status, 200);
        }
        let refused = c.get("/Users").await;
        assert_eq!(refused.status, 429, "{:?}", refused.body);
        let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=5).contains(&wait), "Retry-After {wait}");
        assert_eq!(
            refused.body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
        assert_eq!(refused.body["status"], "429");
        assert!(
            refused.body["detail"]
                .as_str()
                .unwrap()
                .contains("too many requests"),
            "{}",
            refused.body
        );
        assert_eq!(c.with_token(&other).get("/Users").await.status, 200);
    }
);

both_backends!(without_settings_there_is_no_limit, |backend| async move {
    let server = TestServer::start(backend).await;
    for _ in 0..30 {
        assert_eq!(server.client.get("/Users").await.status, 200);
    }
});
