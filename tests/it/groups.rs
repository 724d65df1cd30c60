use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::*;
use crate::users::urlencode;

fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|m| m["value"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

both_backends!(groups_and_memberships, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let a = c.post("/Users", &user_body("a@example.com")).await.id();
    let b = c.post("/Users", &user_body("b@example.com")).await.id();
    let d = c.post("/Users", &user_body("d@example.com")).await.id();

    let created = c
        .post("/Groups", &group_body("Engineering", &[&a, &b]))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.header("location").is_some());
    let gid = created.id();
    let path = format!("/Groups/{gid}");
    assert_eq!(member_ids(&created.body), sorted(&[&a, &b]));

    let read = c.get(&path).await;
    assert_eq!(member_ids(&read.body), sorted(&[&a, &b]));
    assert_eq!(read.body["members"][0]["type"], json!("User"));
    let lean = c.get(&format!("{path}?excludedAttributes=members")).await;
    assert!(lean.body.get("members").is_none(), "{}", lean.body);
    assert_eq!(lean.body["displayName"], json!("Engineering"));

    let user = c.get(&format!("/Users/{a}")).await;
    assert_eq!(
        user.body["groups"][0]["value"],
        json!(gid),
        "a user shows its groups"
    );

    // Okta adds one member at a time.
    let added = c
        .patch(
            &path,
            &patch_body(json!([{"op": "add", "path": "members", "value": [{"value": d}]}])),
        )
        .await;
    assert_eq!(added.status, StatusCode::NO_CONTENT, "{}", added.body);
    assert_eq!(member_ids(&c.get(&path).await.body), sorted(&[&a, &b, &d]));
    // Adding an existing member again changes nothing.
    let again = c
        .patch(
            &path,
            &patch_body(json!([{"op": "add", "path": "members", "value": [{"value": d}]}])),
        )
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    // Okta's removal shape: a value filter and no value.
    let okta_remove = c
        .patch(
            &path,
            &patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{b}\"]")}])),
        )
        .await;
    assert_eq!(
        okta_remove.status,
        StatusCode::NO_CONTENT,
        "{}",
        okta_remove.body
    );
    assert_eq!(member_ids(&c.get(&path).await.body), sorted(&[&a, &d]));
    // Entra's removal shape: path "members" with the members to remove as the value; only
    // those leave.
    let entra_remove = c
        .patch(
            &path,
            &patch_body(json!([{"op": "remove", "path": "members", "value": [{"value": a}]}])),
        )
        .await;
    assert_eq!(
        entra_remove.status,
        StatusCode::NO_CONTENT,
        "{}",
        entra_remove.body
    );
    assert_eq!(member_ids(&c.get(&path).await.body), sorted(&[&d]));
    // Asking for attributes gets the resource back.
    let renamed = c
        .patch(
            &format!("{path}?excludedAttributes=members"),
            &patch_body(json!([{"op": "replace", "path": "displayName", "value": "Platform"}])),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(renamed.body["displayName"], json!("Platform"));

    let by_name = c
        .get(&format!(
            "/Groups?filter={}",
            urlencode(r#"displayName eq "platform""#)
        ))
        .await;
    assert_eq!(by_name.body["totalResults"], json!(1));
    let by_member = c
        .get(&format!(
            "/Groups?filter={}",
            urlencode(&format!(r#"members[value eq "{d}"]"#))
        ))
        .await;
    assert_eq!(
        by_member.body["totalResults"],
        json!(1),
        "{}",
        by_member.body
    );
    let unknown = c
        .patch(
            &path,
            &patch_body(
                json!([{"op": "add", "path": "members", "value": [{"value": "no-such-user"}]}]),
            ),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);

    // PUT replaces membership.
    let put = c.put(&path, &group_body("Platform", &[&a])).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(member_ids(&put.body), sorted(&[&a]));

    // Deleting a user takes it out of its groups.
    assert_eq!(
        c.delete(&format!("/Users/{a}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(member_ids(&c.get(&path).await.body), Vec::<String>::new());

    assert_eq!(c.delete(&path).await.status, StatusCode::NO_CONTENT);
    assert_eq!(c.get(&path).await.status, StatusCode::NOT_FOUND);

    let types: Vec<String> = events(&server.db).into_iter().map(|(_, t, _)| t).collect();
    let count = |t: &str| types.iter().filter(|x| *x == t).count();
    assert_eq!(count("group.created"), 1);
    assert_eq!(count("group.user_added"), 4, "{types:?}"); // a, b, d, then a again by PUT
    assert_eq!(count("group.user_removed"), 4, "{types:?}"); // b, a, d (PUT), a (user deleted)
    assert_eq!(count("group.updated"), 1, "{types:?}");
    assert_eq!(count("group.deleted"), 1);
    let cursors: Vec<i64> = events(&server.db).into_iter().map(|(c, _, _)| c).collect();
    // Consecutive only on SQLite; on PostgreSQL a cursor starts with its transaction's id.
    assert!(
        cursors.windows(2).all(|w| w[1] > w[0]),
        "cursors increase: {cursors:?}"
    );
});

both_backends!(root_search_spans_users_then_groups, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let mut user = user_body("s@example.com");
    user["displayName"] = json!("Shared Name");
    let uid = c.post("/Users", &user).await.id();
    let gid = c
        .post("/Groups", &group_body("Shared Name", &[&uid]))
        .await
        .id();
    c.post("/Groups", &group_body("Other", &[])).await;
    let search = |body: Value| async move {
        let mut body = body;
        body["schemas"] = json!(["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]);
        c.post("/.search", &body).await
    };
    let both = search(json!({"filter": "displayName eq \"shared name\""})).await;
    assert_eq!(both.status, StatusCode::OK, "{}", both.body);
    assert_eq!(both.body["totalResults"], json!(2));
    assert_eq!(both.body["Resources"][0]["id"], json!(uid));
    assert_eq!(both.body["Resources"][1]["id"], json!(gid));
    let second =
        search(json!({"filter": "displayName eq \"shared name\"", "startIndex": 2, "count": 1}))
            .await;
    assert_eq!(second.body["Resources"].as_array().map(Vec::len), Some(1));
    assert_eq!(second.body["Resources"][0]["id"], json!(gid));
    let users_only =
        search(json!({"filter": "userName eq \"s@example.com\"", "attributes": ["userName"]}))
            .await;
    assert_eq!(users_only.body["totalResults"], json!(1));
    assert_eq!(
        users_only.body["Resources"][0],
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": uid, "userName": "s@example.com"})
    );
    let everything = search(json!({})).await;
    assert_eq!(everything.body["totalResults"], json!(3));
    let bad = search(json!({"filter": "nosuch eq 1"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["scimType"], json!("invalidFilter"));
});

both_backends!(members_page_through_a_users_filter, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let mut members = Vec::new();
    for i in 0..5 {
        members.push(
            c.post("/Users", &user_body(&format!("m{i}@example.com")))
                .await
                .id(),
        );
    }
    let outsider = c.post("/Users", &user_body("out@example.com")).await.id();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    let gid = c.post("/Groups", &group_body("Big", &refs)).await.id();
    let filter = urlencode(&format!(r#"groups.value eq "{gid}""#));
    let mut seen = Vec::new();
    let mut next = Some(String::new());
    while let Some(cursor) = next {
        let r = c
            .get(&format!(
                "/Users?filter={filter}&count=2&attributes=id&cursor={}",
                urlencode(&cursor)
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["totalResults"], json!(5));
        seen.extend(
            r.body["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_string()),
        );
        next = r.body["nextCursor"].as_str().map(str::to_string);
        assert!(seen.len() <= 5);
    }
    assert_eq!(seen, members);
    assert!(!seen.contains(&outsider));
    let not_member = c
        .get(&format!(
            "/Users?filter={}",
            urlencode(&format!(r#"not (groups.value eq "{gid}")"#))
        ))
        .await;
    assert_eq!(not_member.body["totalResults"], json!(1));
});

both_backends!(
    group_lists_carry_each_groups_own_members,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        let a = c.post("/Users", &user_body("la@example.com")).await.id();
        let b = c.post("/Users", &user_body("lb@example.com")).await.id();
        c.post("/Groups", &group_body("One", &[&a])).await;
        c.post("/Groups", &group_body("Both", &[&a, &b])).await;
        c.post("/Groups", &group_body("None", &[])).await;
        let listed = c.get("/Groups").await;
        let groups = listed.body["Resources"].as_array().unwrap();
        assert_eq!(member_ids(&groups[0]), sorted(&[&a]));
        assert_eq!(member_ids(&groups[1]), sorted(&[&a, &b]));
        assert!(groups[2].get("members").is_none());
        let lean = c.get("/Groups?excludedAttributes=members").await;
        assert!(
            lean.body["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .all(|g| g.get("members").is_none())
        );
    }
);

both_backends!(
    a_member_list_longer_than_the_bind_limit_is_checked_not_crashed,
    |backend| async move {
        // 40,000 ids exceed SQLite's 32,766 bound parameters in one statement; the body is
        // about 2 MB, so the limit is raised through a config file.
        let config = std::env::temp_dir().join(format!("roster-big-{}.toml", uuid::Uuid::new_v4()));
        std::fs::write(&config, "max_body_bytes = 8388608").unwrap();
        let server =
            TestServer::start_with_env(backend, &[("ROSTER_CONFIG", config.to_str().unwrap())])
                .await;
        let c = &server.client;
        let real = c.post("/Users", &user_body("real@example.com")).await.id();
        let group = c.post("/Groups", &group_body("big", &[&real])).await.id();
        let mut members: Vec<Value> = (0..40_000)
            .map(|_| json!({"value": uuid::Uuid::new_v4().to_string()}))
            .collect();
        members.push(json!({"value": real}));
        let r = c
            .patch(
                &format!("/Groups/{group}"),
                &patch_body(json!([{"op": "add", "path": "members", "value": members}])),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.body["scimType"], json!("invalidValue"));
        let after = c.get(&format!("/Groups/{group}")).await;
        assert_eq!(after.body["members"].as_array().unwrap().len(), 1);
        std::fs::remove_file(config).ok();
    }
);

both_backends!(nested_group_cycles_are_refused, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let a = c.post("/Groups", &group_body("A", &[])).await.id();
    let b = c.post("/Groups", &group_body("B", &[&a])).await.id();
    let add =
        |id: &str| patch_body(json!([{"op": "add", "path": "members", "value": [{"value": id}]}]));
    // C holds B, which holds A: a chain, not a cycle.
    let created = c.post("/Groups", &group_body("C", &[&b])).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let cg = created.id();

    let refused = c.patch(&format!("/Groups/{a}"), &add(&cg)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(refused.body["scimType"], json!("invalidValue"));
    let replaced = c
        .patch(
            &format!("/Groups/{a}"),
            &patch_body(json!([{"op": "replace", "path": "members", "value": [{"value": cg}]}])),
        )
        .await;
    assert_eq!(
        replaced.status,
        StatusCode::BAD_REQUEST,
        "{}",
        replaced.body
    );
    let put = c
        .put(&format!("/Groups/{a}"), &group_body("A", &[&cg]))
        .await;
    assert_eq!(put.status, StatusCode::BAD_REQUEST, "{}", put.body);
    let itself = c.patch(&format!("/Groups/{a}"), &add(&a)).await;
    assert_eq!(itself.status, StatusCode::BAD_REQUEST, "{}", itself.body);

    // A POST names only groups that exist already, which cannot hold the new one; the
    // chain it extends stays a chain.
    let d = c.post("/Groups", &group_body("D", &[&cg, &a])).await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.body);
    let refused = c.patch(&format!("/Groups/{a}"), &add(&d.id())).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);

    assert_eq!(
        member_ids(&c.get(&format!("/Groups/{a}")).await.body),
        Vec::<String>::new()
    );
    assert_eq!(
        member_ids(&c.get(&format!("/Groups/{b}")).await.body),
        [a.as_str()]
    );
    assert_eq!(
        member_ids(&c.get(&format!("/Groups/{cg}")).await.body),
        [b.as_str()]
    );
});
// A user's `groups` is part of its resource, so its ETag must change with them.
both_backends!(a_users_etag_changes_with_its_groups, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let id = c.post("/Users", &user_body("g@example.com")).await.id();
    let path = format!("/Users/{id}");
    let get_if_none_match = |etag: String| {
        let path = path.clone();
        async move {
            c.send(
                reqwest::Method::GET,
                &path,
                None,
                &[("if-none-match", &etag)],
            )
            .await
        }
    };
    let etag = |r: &Response| r.header("etag").unwrap().to_string();
    let before = etag(&c.get(&path).await);

    let gid = c.post("/Groups", &group_body("staff", &[])).await.id();
    let added = c
        .patch(
            &format!("/Groups/{gid}"),
            &patch_body(json!([{"op": "add", "path": "members", "value": [{"value": id}]}])),
        )
        .await;
    assert_eq!(added.status, StatusCode::NO_CONTENT, "{}", added.body);
    let after_add = get_if_none_match(before.clone()).await;
    assert_eq!(after_add.status, StatusCode::OK, "{}", after_add.body);
    assert_eq!(after_add.body["groups"][0]["value"], json!(gid));
    assert_ne!(etag(&after_add), before);

    let other = c.post("/Groups", &group_body("other", &[&id])).await.id();
    let after_post = get_if_none_match(etag(&after_add)).await;
    assert_eq!(after_post.status, StatusCode::OK, "a POST with members");
    assert_eq!(after_post.body["groups"].as_array().map(Vec::len), Some(2));

    let removed = c
        .patch(
            &format!("/Groups/{gid}"),
            &patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{id}\"]")}])),
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    let after_remove = get_if_none_match(etag(&after_post)).await;
    assert_eq!(after_remove.status, StatusCode::OK, "a removal");
    assert_eq!(after_remove.body["groups"][0]["value"], json!(other));

    assert_eq!(
        c.delete(&format!("/Groups/{other}")).await.status,
        StatusCode::NO_CONTENT
    );
    let after_delete = get_if_none_match(etag(&after_remove)).await;
    assert_eq!(after_delete.status, StatusCode::OK, "its group deleted");
    assert_eq!(
        after_delete
            .body
            .get("groups")
            .and_then(|g| g.as_array().map(Vec::len))
            .unwrap_or(0),
        0
    );
    let unchanged = get_if_none_match(etag(&after_delete)).await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
});

// RFC 7643 §4.2: a group read shows each member's name beside its id. `display` is immutable
// (§2.4): the text a client sends with a member is kept; a member added without one shows its
// own current name, and follows renames.
both_backends!(members_show_their_display_names, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let typed = c.post("/Users", &user_body("typed@example.com")).await.id();
    let named = c.post("/Users", &user_body("named@example.com")).await.id();
    let mut bare = user_body("bare@example.com");
    bare.as_object_mut().unwrap().remove("displayName");
    let bare = c.post("/Users", &bare).await.id();
    let nested = c
        .post("/Groups", &group_body("Nested Ünits", &[]))
        .await
        .id();
    let mut body = group_body("Outer", &[]);
    body["members"] = json!([
        {"value": typed, "display": "what the client typed"},
        {"value": named, "display": null},
        {"value": nested, "type": "Group"},
    ]);
    let created = c.post("/Groups", &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let path = format!("/Groups/{}", created.id());
    let added = c
        .patch(
            &path,
            &patch_body(json!([{"op": "add", "path": "members", "value": [{"value": bare}]}])),
        )
        .await;
    assert!(added.status.is_success(), "{}", added.body);

    let display_of = |group: &Value, id: &str| -> Value {
        group["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["value"] == json!(id))
            .map(|m| m["display"].clone())
            .unwrap_or(Value::Null)
    };
    let listed = c
        .get(&format!(
            "/Groups?filter={}",
            urlencode(r#"displayName eq "Outer""#)
        ))
        .await
        .body["Resources"][0]
        .clone();
    for group in [&c.get(&path).await.body, &listed] {
        for (id, display) in [
            (&typed, "what the client typed"),
            (&named, "Babs Jensen"),
            (&bare, "bare@example.com"),
            (&nested, "Nested Ünits"),
        ] {
            assert_eq!(display_of(group, id), json!(display), "{group}");
        }
    }

    for user in [&typed, &named] {
        let renamed = c
            .patch(
                &format!("/Users/{user}"),
                &patch_body(
                    json!([{"op": "replace", "path": "displayName", "value": "Barbara J."}]),
                ),
            )
            .await;
        assert!(renamed.status.is_success(), "{}", renamed.body);
    }
    let read = c.get(&path).await.body;
    assert_eq!(display_of(&read, &typed), json!("what the client typed"));
    assert_eq!(display_of(&read, &named), json!("Barbara J."));
    let only_display = c
        .get(&format!("{path}?attributes=members.display"))
        .await
        .body;
    let mut names: Vec<&str> = only_display["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["display"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Barbara J.",
            "Nested Ünits",
            "bare@example.com",
            "what the client typed"
        ],
        "{only_display}"
    );
});
