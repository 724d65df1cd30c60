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

both_backends!(
    a_start_past_the_end_is_an_empty_page,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        for name in ["a@example.com", "b@example.com", "c@example.com"] {
            assert_eq!(
                c.post("/Users", &user_body(name)).await.status,
                StatusCode::CREATED
            );
        }
        for start in ["1000000000000", "100000000000000000000"] {
            for query in [
                format!("/Users?startIndex={start}"),
                format!("/Users?startIndex={start}&sortBy=title&count=5"),
                format!(
                    "/Users?startIndex={start}&filter={}",
                    urlencode(r#"userName eq "a@example.com""#)
                ),
                format!("/Groups?startIndex={start}"),
            ] {
                let r = within(Duration::from_secs(5), &query, c.get(&query)).await;
                assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
                assert_eq!(r.body["Resources"], json!([]), "{query}");
                let total = if query.contains("filter") {
                    1
                } else if query.starts_with("/Groups") {
                    0
                } else {
                    3
                };
                assert_eq!(r.body["totalResults"], json!(total), "{query}: {}", r.body);
            }
        }
        for start in [json!(1_000_000_000_000_i64), json!(1e20)] {
            let r = c
                .post(
                    "/Users/.search",
                    &json!({
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                        "startIndex": start
                    }),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{start}: {}", r.body);
            assert_eq!(r.body["Resources"], json!([]));
            assert_eq!(r.body["totalResults"], json!(3));
        }
        // A page inside the list still reads it.
        let r = c.get("/Users?startIndex=3&sortBy=userName").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["Resources"][0]["userName"], json!("c@example.com"));
        assert_eq!(r.body["totalResults"], json!(3));
    }
);
