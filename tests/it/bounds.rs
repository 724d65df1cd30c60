//! One request costs a bounded amount whatever the client asks: filters have a cap on their
//! tests, a page past the end is not read, and a read stops at the statement timeout.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::support::*;
use crate::users::urlencode;

/// Fails the test if `request` takes longer than `limit`, instead of waiting it out.
async fn within<T>(
    limit: Duration,
    what: &str,
    request: impl std::future::Future<Output = T>,
) -> T {
    let started = Instant::now();
    let answer = tokio::time::timeout(limit, request)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {limit:?}"));
    eprintln!("{what}: {:?}", started.elapsed());
    answer
}

fn assert_error(r: &Response, status: StatusCode, scim_type: &str, detail: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.body);
    assert_eq!(r.body["scimType"], json!(scim_type), "{what}: {}", r.body);
    let said = r.body["detail"].as_str().unwrap_or_default();
    assert!(said.contains(detail), "{what}: {said}");
}

both_backends!(
    filters_with_too_many_tests_are_refused,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        assert_eq!(
            c.post("/Users", &user_body("ada@example.com")).await.status,
            StatusCode::CREATED
        );
        let chain = |n: usize, test: &str| vec![test; n].join(" or ");
        // (filter, accepted)
        let cases = [
            (chain(1024, r#"title co "x""#), false),
            (chain(1024, "id pr"), false),
            (chain(101, r#"title co "x""#), false),
            (chain(100, r#"title co "x""#), true),
            (
                format!(
                    r#"userName eq "ada@example.com" and ({})"#,
                    chain(99, "id pr")
                ),
                true,
            ),
        ];
        for (filter, accepted) in &cases {
            let what = format!("{} characters", filter.len());
            let mut answers = Vec::new();
            // Longer filters go in a /.search body, as clients send them.
            if filter.len() <= 4096 {
                let url = format!("/Users?filter={}", urlencode(filter));
                answers.push(within(Duration::from_secs(5), &what, c.get(&url)).await);
            }
            let searched = within(
                Duration::from_secs(5),
                &what,
                c.post(
                    "/Users/.search",
                    &json!({
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                        "filter": filter
                    }),
                ),
            )
            .await;
            answers.push(searched);
            for r in answers {
                if *accepted {
                    assert_eq!(r.status, StatusCode::OK, "{what}: {}", r.body);
                } else {
                    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {}", r.body);
                    assert_eq!(r.body["scimType"], json!("invalidFilter"), "{}", r.body);
                }
            }
        }
        let r = c
            .get(&format!(
                "/Users?filter={}",
                urlencode(&chain(101, r#"title co "x""#))
            ))
            .await;
        assert_error(
            &r,
            StatusCode::BAD_REQUEST,
            "invalidFilter",
            "at most 100",
            "101 tests",
        );
    }
);
