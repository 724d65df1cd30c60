//! One request costs a bounded amount whatever the client asks: filters have a cap on their
//! tests, a page past the end is not read, and a read stops at the statement timeout.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

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

/// Values `co` compares in time proportional to the value's length times the pattern's: a
/// pattern of `a`s that never matches costs each value about a million character steps.
const VALUE: usize = 500;
const USERS: usize = 12;
const EMAILS: usize = 1500;

fn crowded_user(i: usize) -> Value {
    let emails: Vec<Value> = (0..EMAILS)
        .map(|e| json!({"value": format!("{}{e:04}{i:02}", "a".repeat(VALUE - 6)), "type": "work"}))
        .collect();
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("user{i:02}"),
        "emails": emails
    })
}

both_backends!(
    a_runaway_read_stops_at_the_statement_timeout,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let token = server.client.token.clone();
        let mut ids = Vec::new();
        for i in 0..USERS {
            let r = server.client.post("/Users", &crowded_user(i)).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            ids.push(r.id());
        }
        let db = server.stop();
        let url = with_statement_timeout(&db, 500);
        let server = TestServer::start_on(db, token, &[("ROSTER_DATABASE_URL", &url)]).await;
        let c = &server.client;

        // Every value is compared with a pattern it never matches, then the directory sorted by
        // each user's least email: 15 s of work without the limit (SQLite, debug build).
        let runaway = format!(
            "/Users?filter={}&sortBy=emails.value",
            urlencode(&format!(r#"emails co "{}b""#, "a".repeat(300)))
        );
        let r = within(Duration::from_secs(4), "runaway read", c.get(&runaway)).await;
        assert_error(
            &r,
            StatusCode::BAD_REQUEST,
            "tooMany",
            "500 ms",
            "runaway read",
        );

        // Normal reads and writes under the same limit are not affected.
        let r = c
            .get(&format!(
                "/Users?filter={}",
                urlencode(r#"userName eq "user03""#)
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["totalResults"], json!(1));
        let r = c
            .get("/Users?sortBy=userName&sortOrder=descending&count=3&attributes=userName")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let names: Vec<&str> = r.body["Resources"]
            .as_array()
            .expect("Resources")
            .iter()
            .map(|u| u["userName"].as_str().expect("userName"))
            .collect();
        assert_eq!(names, ["user11", "user10", "user09"]);
        let email = format!(r#"emails.value eq "{}000703""#, "A".repeat(VALUE - 6));
        let r = c
            .get(&format!(
                "/Users?filter={}&attributes=userName",
                urlencode(&format!(r#"{email} and userName sw "user0""#))
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            r.body["Resources"][0]["userName"],
            json!("user03"),
            "{}",
            r.body
        );
        assert_eq!(r.body["totalResults"], json!(1));
        assert_eq!(
            c.get(&format!("/Users/{}", ids[0])).await.status,
            StatusCode::OK
        );
        let r = c.post("/Users", &user_body("new@example.com")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let new = r.id();
        let r = c
            .patch(
                &format!("/Users/{new}"),
                &patch_body(json!([{"op": "replace", "path": "title", "value": "Boss"}])),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
);
