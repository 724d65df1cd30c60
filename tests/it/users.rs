use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::support::*;

both_backends!(create_read_replace_delete, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let mut body = user_body("bjensen@example.com");
    body["password"] = json!("t1meMa$heen");
    body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = json!({"department": "Tour Operations", "employeeNumber": "701984", "manager": {"value": "m-1"}});
    body["schemas"] = json!([
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    ]);
    let created = c.post("/Users", &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.header("content-type"),
        Some("application/scim+json")
    );
    let id = created.id();
    let location = format!("{}/Users/{id}", c.base);
    assert_eq!(created.header("location"), Some(location.as_str()));
    assert_eq!(created.body["meta"]["location"], json!(location));
    assert_eq!(created.body["meta"]["resourceType"], json!("User"));
    assert_eq!(
        created.header("etag"),
        created.body["meta"]["version"].as_str()
    );
    assert!(
        created.body.get("password").is_none(),
        "passwords are never returned"
    );
    assert_eq!(created.body["userName"], json!("bjensen@example.com"));
    assert_eq!(
        created.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        json!("Tour Operations")
    );

    let read = c.get(&format!("/Users/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["name"]["givenName"], json!("Barbara"));
    assert_eq!(
        read.body["meta"]["created"],
        created.body["meta"]["created"]
    );

    let mut replacement = user_body("bjensen@example.com");
    replacement["displayName"] = json!("Barbara J.");
    replacement["active"] = json!(false);
    let replaced = c.put(&format!("/Users/{id}"), &replacement).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["displayName"], json!("Barbara J."));
    assert_eq!(replaced.body["active"], json!(false));
    assert_ne!(
        replaced.body["meta"]["version"],
        created.body["meta"]["version"]
    );
    assert!(
        replaced
            .body
            .get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
            .is_none(),
        "PUT replaces: attributes it leaves out are gone"
    );

    assert_eq!(
        c.delete(&format!("/Users/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let gone = c.get(&format!("/Users/{id}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        gone.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(
        c.delete(&format!("/Users/{id}")).await.status,
        StatusCode::NOT_FOUND
    );

    let types: Vec<String> = events(&server.db).into_iter().map(|(_, t, _)| t).collect();
    assert_eq!(
        types,
        ["user.created", "user.deactivated", "user.deleted"],
        "the PUT turned active off: a leaver's event, not a plain update"
    );
});

both_backends!(passwords_are_not_stored_anywhere, |backend| async move {
    let server = TestServer::start(backend).await;
    let mut body = user_body("pw@example.com");
    body["password"] = json!("Sup3rSecretValue!");
    assert_eq!(
        server.client.post("/Users", &body).await.status,
        StatusCode::CREATED
    );
    let db = server.stop();
    let store = roster::store::Store::open(&db.url).unwrap();
    let mut conn = store.conn().unwrap();
    use diesel::prelude::*;
    use roster::store::schema::directory_users::dsl as u;
    let (resource, raw): (String, String) = u::directory_users
        .select((u::resource, u::raw))
        .first(&mut *conn)
        .unwrap();
    assert!(!resource.contains("Sup3rSecretValue!") && !raw.contains("Sup3rSecretValue!"));
    assert!(
        raw.contains("pw@example.com"),
        "the raw body is kept, minus secrets"
    );
});

both_backends!(filters_run_and_page, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut body = user_body(&format!("user{i}@example.com"));
        body["emails"] = json!([
            {"value": format!("user{i}@example.com"), "type": "work", "primary": true},
            {"value": format!("home{i}@example.net"), "type": "home"}
        ]);
        body["displayName"] = json!(format!("User {i}"));
        if i == 4 {
            // Too long to be searchable: the element is found only through its anchor row.
            body["addresses"] = json!([{"formatted": "A".repeat(600)}]);
        }
        let r = c.post("/Users", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(r.id());
    }
    let cases: Vec<(String, Vec<usize>)> = vec![
        (r#"userName eq "user1@example.com""#.into(), vec![1]),
        (r#"userName eq "USER1@EXAMPLE.COM""#.into(), vec![1]),
        (r#"USERNAME Eq "user2@example.com""#.into(), vec![2]),
        (r#"externalId eq "ext-user3@example.com""#.into(), vec![3]),
        (r#"externalId eq "EXT-USER3@EXAMPLE.COM""#.into(), vec![]),
        (r#"emails.value eq "home4@example.net""#.into(), vec![4]),
        (
            r#"emails[type eq "work" and value eq "user0@example.com"]"#.into(),
            vec![0],
        ),
        (
            r#"emails[type eq "work" and value eq "home0@example.net"]"#.into(),
            vec![],
        ),
        (r#"displayName eq "User 2""#.into(), vec![2]),
        (format!(r#"id eq "{}""#, ids[3]), vec![3]),
        (
            r#"userName eq "user1@example.com" and displayName eq "User 1""#.into(),
            vec![1],
        ),
        (
            r#"userName eq "user1@example.com" and displayName eq "User 2""#.into(),
            vec![],
        ),
        (
            r#"userName eq "user1@example.com" or userName eq "user4@example.com""#.into(),
            vec![1, 4],
        ),
        (
            r#"userName sw "user" and not (userName ew "0@example.com")"#.into(),
            vec![1, 2, 3, 4],
        ),
        (r#"emails.value co "%""#.into(), vec![]),
        (r#"emails pr"#.into(), vec![0, 1, 2, 3, 4]),
        (
            r#"name pr and not (phoneNumbers pr)"#.into(),
            vec![0, 1, 2, 3, 4],
        ),
        (r#"addresses pr"#.into(), vec![4]),
        (r#"addresses[not (type pr)]"#.into(), vec![4]),
        (
            r#"emails[not (type eq "work")]"#.into(),
            vec![0, 1, 2, 3, 4],
        ),
        (
            r#"emails[type eq "home" and not (value ew ".net")]"#.into(),
            vec![],
        ),
        (r#"userName eq "nobody@example.com""#.into(), vec![]),
    ];
    for (filter, expected) in cases {
        let r = c
            .get(&format!("/Users?filter={}", urlencode(&filter)))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{filter}: {}", r.body);
        let mut found: Vec<String> = r.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_string())
            .collect();
        found.sort();
        let mut want: Vec<String> = expected.iter().map(|i| ids[*i].clone()).collect();
        want.sort();
        assert_eq!(found, want, "{filter}");
        assert_eq!(r.body["totalResults"], json!(want.len()), "{filter}");
    }
    let page = c.get("/Users?startIndex=2&count=2").await;
    assert_eq!(page.body["totalResults"], json!(5));
    assert_eq!(page.body["itemsPerPage"], json!(2));
    assert_eq!(page.body["startIndex"], json!(2));
    let page_ids: Vec<&str> = page.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(page_ids, [ids[1].as_str(), ids[2].as_str()]);
    let none = c.get("/Users?count=0").await;
    assert_eq!(none.body["totalResults"], json!(5));
    assert_eq!(none.body["Resources"], json!([]));
    // The userName lookup (answered by its own query) pages like any other list, and a
    // deleted user is not found by it.
    let lookup = format!(
        "/Users?filter={}",
        urlencode(r#"userName eq "User4@example.com""#)
    );
    for (paging, total, items) in [("", 1, 1), ("&startIndex=2", 1, 0), ("&count=0", 1, 0)] {
        let r = c.get(&format!("{lookup}{paging}")).await;
        assert_eq!(r.body["totalResults"], json!(total), "{paging}: {}", r.body);
        assert_eq!(
            r.body["Resources"].as_array().map(Vec::len),
            Some(items),
            "{paging}"
        );
    }
    let deleted = c.delete(&format!("/Users/{}", ids[4])).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(c.get(&lookup).await.body["totalResults"], json!(0));
    let searched = c
        .post(
            "/Users/.search",
            &json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": "userName eq \"user3@example.com\"",
            }),
        )
        .await;
    assert_eq!(searched.status, StatusCode::OK, "{}", searched.body);
    assert_eq!(searched.body["Resources"][0]["id"], json!(ids[3]));
});

both_backends!(
    filters_compare_a_sub_attribute_after_a_value_path,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        let mut ids = Vec::new();
        for i in 0..3 {
            let mut body = user_body(&format!("vp{i}@example.com"));
            body["emails"] = json!([
                {"value": format!("work{i}@corp.example"), "type": "work"},
                {"value": format!("home{i}@home.example"), "type": "home"}
            ]);
            if i == 2 {
                body["emails"] = json!([{"value": "home2@home.example", "type": "home"}]);
            }
            let r = c.post("/Users", &body).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            ids.push(r.id());
        }
        // The form Entra ID sends: `attr[filter].sub op value`, meaning `attr[filter and sub op value]`.
        let cases: [(&str, &[usize]); 9] = [
            (
                r#"emails[type eq "work"].value eq "work1@corp.example""#,
                &[1],
            ),
            (
                r#"emails[type eq "work"].value eq "WORK1@CORP.EXAMPLE""#,
                &[1],
            ),
            (
                r#"emails[type eq "work"].value eq "home1@home.example""#,
                &[],
            ),
            (r#"emails[type eq "work"].value co "@corp""#, &[0, 1]),
            (r#"emails[type eq "home"].value sw "home2""#, &[2]),
            (r#"emails[type eq "home"].value ew ".example""#, &[0, 1, 2]),
            (r#"emails[type eq "work"].value pr"#, &[0, 1]),
            (
                r#"emails[type eq "work"].value ne "work0@corp.example""#,
                &[1],
            ),
            (
                r#"userName eq "vp2@example.com" or emails[type eq "work"].value eq "work0@corp.example""#,
                &[0, 2],
            ),
        ];
        for (filter, expected) in cases {
            let r = c.get(&format!("/Users?filter={}", urlencode(filter))).await;
            assert_eq!(r.status, StatusCode::OK, "{filter}: {}", r.body);
            let mut found: Vec<&str> = r.body["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap())
                .collect();
            found.sort();
            let mut want: Vec<&str> = expected.iter().map(|i| ids[*i].as_str()).collect();
            want.sort();
            assert_eq!(found, want, "{filter}");
        }
        let searched = c
            .post(
                "/Users/.search",
                &json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "filter": r#"emails[type eq "work"].value eq "work0@corp.example""#,
                }),
            )
            .await;
        assert_eq!(searched.status, StatusCode::OK, "{}", searched.body);
        assert_eq!(searched.body["Resources"][0]["id"], json!(ids[0]));
        let unknown = c
            .get(&format!(
                "/Users?filter={}",
                urlencode(r#"emails[type eq "work"].nosuch eq "x""#)
            ))
            .await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
        assert_eq!(unknown.body["scimType"], json!("invalidFilter"));
    }
);

both_backends!(patch_operations, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let id = c.post("/Users", &user_body("p@example.com")).await.id();
    let path = format!("/Users/{id}");
    let cases = [
        (
            json!([{"op": "replace", "path": "active", "value": false}]),
            "/active",
            json!(false),
        ),
        (
            json!([{"op": "add", "path": "title", "value": "Engineer"}]),
            "/title",
            json!("Engineer"),
        ),
        (
            json!([{"op": "replace", "value": {"displayName": "Pat"}}]),
            "/displayName",
            json!("Pat"),
        ),
        (
            json!([{"op": "replace", "path": "name.familyName", "value": "Smith"}]),
            "/name/familyName",
            json!("Smith"),
        ),
        (
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"}]),
            "/emails/0/value",
            json!("new@example.com"),
        ),
        (
            json!([{"op": "remove", "path": "title"}]),
            "/title",
            serde_json::Value::Null,
        ),
    ];
    for (ops, pointer, expected) in cases {
        let r = c.patch(&path, &patch_body(ops.clone())).await;
        assert_eq!(r.status, StatusCode::OK, "{ops}: {}", r.body);
        assert_eq!(
            r.body.pointer(pointer).cloned().unwrap_or_default(),
            expected,
            "{ops}"
        );
        let read = c.get(&path).await;
        assert_eq!(
            read.body.pointer(pointer).cloned().unwrap_or_default(),
            expected,
            "{ops} (re-read)"
        );
    }
    let filtered = c
        .get(&format!(
            "/Users?filter={}",
            urlencode(r#"emails.value eq "new@example.com""#)
        ))
        .await;
    assert_eq!(
        filtered.body["totalResults"],
        json!(1),
        "the index follows PATCHes"
    );

    let before = c.get(&path).await;
    let same = c
        .patch(
            &path,
            &patch_body(json!([{"op": "replace", "path": "active", "value": false}])),
        )
        .await;
    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(
        same.body["meta"]["version"], before.body["meta"]["version"],
        "a no-op PATCH keeps the version"
    );
});

both_backends!(preconditions, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let created = c.post("/Users", &user_body("e@example.com")).await;
    let path = format!("/Users/{}", created.id());
    let etag = created.header("etag").unwrap().to_string();
    let not_modified = c
        .send(
            reqwest::Method::GET,
            &path,
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    let ok = c
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(&patch_body(
                json!([{"op": "replace", "path": "title", "value": "A"}]),
            )),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let stale = c
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(&patch_body(
                json!([{"op": "replace", "path": "title", "value": "B"}]),
            )),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        c.get(&path).await.body["title"],
        json!("A"),
        "a failed precondition changes nothing"
    );
    let stale_delete = c
        .send(reqwest::Method::DELETE, &path, None, &[("if-match", &etag)])
        .await;
    assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED);
});

both_backends!(preconditions_take_lists_of_tags, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let created = c.post("/Users", &user_body("tags@example.com")).await;
    let path = format!("/Users/{}", created.id());
    // (method, header, its value from the current version, expected status); a PATCH that
    // passes sets a new title, so the version moves on.
    type Tags = fn(i64) -> String;
    let cases: [(reqwest::Method, &str, Tags, u16); 10] = [
        (
            reqwest::Method::PATCH,
            "if-match",
            |v| format!(r#"W/"{}", W/"{v}""#, v + 7),
            200,
        ),
        (
            reqwest::Method::PATCH,
            "if-match",
            |v| format!(r#"W/"{v}",W/"{}""#, v + 7),
            200,
        ),
        (
            reqwest::Method::PATCH,
            "if-match",
            |v| format!(r#""{}", "{v}""#, v + 7),
            200,
        ),
        (reqwest::Method::PATCH, "if-match", |_| "*".into(), 200),
        (
            reqwest::Method::PATCH,
            "if-match",
            |v| format!(r#"W/"{}", W/"{}""#, v + 1, v + 2),
            412,
        ),
        (
            reqwest::Method::PATCH,
            "if-match",
            |v| format!(r#"W/"{}""#, v - 1),
            412,
        ),
        (
            reqwest::Method::GET,
            "if-none-match",
            |v| format!(r#"W/"{}", W/"{v}""#, v + 7),
            304,
        ),
        (
            reqwest::Method::GET,
            "if-none-match",
            |v| format!(r#"W/"{}", W/"{}""#, v + 7, v + 8),
            200,
        ),
        (reqwest::Method::GET, "if-none-match", |_| "*".into(), 304),
        (
            reqwest::Method::DELETE,
            "if-match",
            |v| format!(r#"W/"{}", W/"{}""#, v + 1, v + 2),
            412,
        ),
    ];
    for (i, (method, name, tags, status)) in cases.into_iter().enumerate() {
        let current = c.get(&path).await;
        let version: i64 = current.header("etag").unwrap()[3..]
            .trim_end_matches('"')
            .parse()
            .unwrap();
        let value = tags(version);
        let body =
            patch_body(json!([{"op": "replace", "path": "title", "value": format!("t{i}")}]));
        let body = (method == reqwest::Method::PATCH).then_some(&body);
        let r = c.send(method.clone(), &path, body, &[(name, &value)]).await;
        assert_eq!(
            r.status.as_u16(),
            status,
            "{method} {name}: {value}: {}",
            r.body
        );
        let after = c.get(&path).await;
        let moved = after.header("etag") != current.header("etag");
        assert_eq!(
            moved,
            status == 200 && method == reqwest::Method::PATCH,
            "{name}: {value}"
        );
    }
    let version = c.get(&path).await.header("etag").unwrap().to_string();
    let listed = format!(r#"W/"999", {version}"#);
    let gone = c
        .send(
            reqwest::Method::DELETE,
            &path,
            None,
            &[("if-match", &listed)],
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
});

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

both_backends!(sorting_and_cursor_pagination, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    // (displayName, title): titles are missing on two users, and differ in case.
    let people = [
        ("Dana", Some("b")),
        ("alice", None),
        ("Carol", Some("A")),
        ("bob", Some("c")),
        ("Eve", None),
    ];
    let mut ids = Vec::new();
    for (i, (name, title)) in people.iter().enumerate() {
        let mut body = user_body(&format!("sort{i}@example.com"));
        body["displayName"] = json!(name);
        if let Some(t) = title {
            body["title"] = json!(t);
        }
        ids.push(c.post("/Users", &body).await.id());
    }
    let order = |r: &Response| -> Vec<String> {
        r.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["displayName"].as_str().unwrap().to_string())
            .collect()
    };
    let cases = [
        (
            "sortBy=displayName",
            vec!["alice", "bob", "Carol", "Dana", "Eve"],
        ),
        (
            "sortBy=DISPLAYNAME&sortOrder=descending",
            vec!["Eve", "Dana", "Carol", "bob", "alice"],
        ),
        ("sortBy=title", vec!["Carol", "Dana", "bob", "alice", "Eve"]),
        (
            "sortBy=title&sortOrder=descending",
            vec!["bob", "Dana", "Carol", "Eve", "alice"],
        ),
        (
            "sortBy=userName&count=2&startIndex=2",
            vec!["alice", "Carol"],
        ),
    ];
    for (query, expected) in cases {
        let r = c.get(&format!("/Users?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
        assert_eq!(order(&r), expected, "{query}");
    }
    for bad in ["sortBy=nosuch", "sortBy=displayName&sortOrder=sideways"] {
        let r = c.get(&format!("/Users?{bad}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.body["scimType"], json!("invalidValue"), "{bad}");
    }

    // Cursor pages in the default order (creation) cover everything once, then stop.
    let mut seen = Vec::new();
    let mut next = Some(String::new());
    let mut pages = 0;
    while let Some(cursor) = next {
        let r = c
            .get(&format!("/Users?count=2&cursor={}", urlencode(&cursor)))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["totalResults"], json!(5));
        assert!(r.body.get("startIndex").is_none());
        seen.extend(
            r.body["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_string()),
        );
        next = r.body["nextCursor"].as_str().map(str::to_string);
        pages += 1;
        assert!(pages <= 3, "cursor pagination must end");
    }
    assert_eq!(seen, ids);

    // Sorted cursor pages follow the sort.
    let first = c.get("/Users?count=3&cursor=&sortBy=displayName").await;
    assert_eq!(order(&first), ["alice", "bob", "Carol"]);
    let cursor = first.body["nextCursor"].as_str().unwrap().to_string();
    let second = c
        .get(&format!(
            "/Users?count=3&sortBy=displayName&cursor={}",
            urlencode(&cursor)
        ))
        .await;
    assert_eq!(order(&second), ["Dana", "Eve"]);
    assert!(second.body.get("nextCursor").is_none());

    // A cursor is good only for the query it came from, and cannot be edited.
    let mut tampered = cursor.clone();
    tampered.replace_range(0..2, if &cursor[0..2] == "7b" { "7c" } else { "7b" });
    for query in [
        format!("/Users?count=3&sortBy=title&cursor={}", urlencode(&cursor)),
        format!(
            "/Users?count=3&sortBy=displayName&cursor={}",
            urlencode(&tampered)
        ),
        "/Users?cursor=not-a-cursor".to_string(),
    ] {
        let r = c.get(&query).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(r.body["scimType"], json!("invalidCursor"), "{query}");
    }
    assert_eq!(
        c.get("/Users?cursor=&startIndex=2").await.status,
        StatusCode::BAD_REQUEST
    );
});

both_backends!(filters_follow_changed_values, |backend| async move {
    // Writes rewrite only the indexed values that changed; the rest must stay findable.
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let mut body = user_body("moves@example.com");
    body["emails"] = json!([
        {"value": "moves@example.com", "type": "work", "primary": true},
        {"value": "moves@home.example", "type": "home"}
    ]);
    body["title"] = json!("Engineer");
    let id = c.post("/Users", &body).await.id();
    let ops = json!([
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "moved@example.com"},
        {"op": "replace", "path": "active", "value": false},
        {"op": "remove", "path": "title"}
    ]);
    let r = c.patch(&format!("/Users/{id}"), &patch_body(ops)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cases = [
        (r#"emails.value eq "moves@example.com""#, 0),
        (r#"emails.value eq "moved@example.com""#, 1),
        (r#"emails.value eq "moves@home.example""#, 1),
        (
            r#"emails[type eq "work" and value eq "moved@example.com"]"#,
            1,
        ),
        (r#"active eq false"#, 1),
        (r#"active eq true"#, 0),
        (r#"title pr"#, 0),
        (r#"title eq "Engineer""#, 0),
    ];
    for (filter, expected) in cases {
        let r = c.get(&format!("/Users?filter={}", urlencode(filter))).await;
        assert_eq!(r.status, StatusCode::OK, "{filter}: {}", r.body);
        assert_eq!(
            r.body["totalResults"],
            json!(expected),
            "{filter}: {}",
            r.body
        );
    }
});

both_backends!(presence_needs_a_non_empty_value, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let mut empty = user_body("empty@example.com");
    empty["title"] = json!("");
    empty["externalId"] = json!("");
    empty["nickName"] = json!("");
    empty["name"] = json!({"givenName": ""});
    let mut full = user_body("full@example.com");
    full["title"] = json!("Engineer");
    full["nickName"] = json!("Full");
    full["name"] = json!({"givenName": "Fay"});
    let mut long = user_body("long@example.com");
    long.as_object_mut().unwrap().remove("name");
    long["addresses"] = json!([{"formatted": "A".repeat(600)}]);
    let mut ids = Vec::new();
    for body in [empty, full, long] {
        let r = c.post("/Users", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(r.id());
    }
    let cases: Vec<(&str, Vec<usize>)> = vec![
        ("title pr", vec![1]),
        ("externalId pr", vec![1, 2]),
        ("nickName pr", vec![1]),
        ("name.givenName pr", vec![1]),
        // A complex attribute is present when it has any node, as the evaluator has it.
        ("name pr", vec![0, 1]),
        ("not (title pr)", vec![0, 2]),
        // An element whose one value is too long to index is still there.
        ("addresses pr", vec![2]),
    ];
    for (filter, expected) in cases {
        let r = c.get(&format!("/Users?filter={}", urlencode(filter))).await;
        assert_eq!(r.status, StatusCode::OK, "{filter}: {}", r.body);
        let mut found: Vec<String> = r.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_string())
            .collect();
        found.sort();
        let mut want: Vec<String> = expected.iter().map(|i| ids[*i].clone()).collect();
        want.sort();
        assert_eq!(found, want, "{filter}");
    }
});
