//! Filters and sortBy order text the same way on both backends: by bytes (code points), not by
//! a database locale. The PostgreSQL test databases use ICU's en-US, where "é" sorts before
//! "z", "a" before "B", and "_" before letters.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::support::*;
use crate::users::urlencode;

/// (userName, externalId, title). Folded names in byte order:
/// a-b < ab < apple < bob < zebra < éclair < émile.
const PEOPLE: [(&str, &str, &str); 7] = [
    ("Zebra", "Z1", "Zebra"),
    ("apple", "a1", "apple"),
    ("éclair", "é1", "Éclair"),
    ("Bob", "B1", "Bob"),
    ("ab", "_1", "ab"),
    ("a-b", "a-2", "A-B"),
    ("Émile", "É1", "émile"),
];

async fn user_names(c: &Client, query: &str) -> Vec<String> {
    let r = c.get(query).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
    r.body["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("{query}: {}", r.body))
        .iter()
        .map(|u| u["userName"].as_str().expect("userName").to_string())
        .collect()
}

both_backends!(text_compares_and_sorts_by_bytes, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    for (name, external_id, title) in PEOPLE {
        let mut body = user_body(name);
        body["externalId"] = json!(external_id);
        body["title"] = json!(title);
        let r = c.post("/Users", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    for (group, external_id) in [("Zeta", "Z"), ("alpha", "a"), ("Éta", "É"), ("beta", "B")] {
        let mut body = group_body(group, &[]);
        body["externalId"] = json!(external_id);
        let r = c.post("/Groups", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let filtered = |f: &str, sort: &str| format!("/Users?filter={}&sortBy={sort}", urlencode(f));
    let by_name = ["a-b", "ab", "apple", "Bob", "Zebra", "éclair", "Émile"];
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("/Users?sortBy=userName".into(), by_name.to_vec()),
        (
            "/Users?sortBy=userName&sortOrder=descending".into(),
            by_name.iter().rev().copied().collect(),
        ),
        // title is an indexed attribute (attribute_values), compared folded.
        ("/Users?sortBy=title".into(), by_name.to_vec()),
        (
            filtered(r#"userName gt "f""#, "userName"),
            vec!["Zebra", "éclair", "Émile"],
        ),
        (
            filtered(r#"userName le "ab""#, "userName"),
            vec!["a-b", "ab"],
        ),
        (
            filtered(r#"title ge "zebra""#, "title"),
            vec!["Zebra", "éclair", "Émile"],
        ),
        (
            filtered(r#"title lt "B""#, "title"),
            vec!["a-b", "ab", "apple"],
        ),
        (
            filtered(r#"userName sw "é""#, "userName"),
            vec!["éclair", "Émile"],
        ),
        // externalId is case-exact: "B" < "Z" < "_" < "a" < "É" < "é".
        (
            "/Users?sortBy=externalId".into(),
            vec!["Bob", "Zebra", "ab", "a-b", "apple", "Émile", "éclair"],
        ),
        (
            filtered(r#"externalId gt "Z1""#, "externalId"),
            vec!["ab", "a-b", "apple", "Émile", "éclair"],
        ),
    ];
    for (query, expected) in &cases {
        assert_eq!(&user_names(c, query).await, expected, "{query}");
    }
    let r = c.get("/Groups?sortBy=displayName").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let names: Vec<&str> = r.body["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .map(|g| g["displayName"].as_str().expect("displayName"))
        .collect();
    assert_eq!(names, ["alpha", "beta", "Zeta", "Éta"]);
    let r = c
        .get(&format!(
            "/Groups?filter={}&sortBy=externalId",
            urlencode(r#"externalId lt "a""#)
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let names: Vec<&str> = r.body["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .map(|g| g["displayName"].as_str().expect("displayName"))
        .collect();
    assert_eq!(names, ["beta", "Zeta"]);
});

// A value-path filter selects the same elements in a PATCH (evaluated in memory) as in a
// list (evaluated in SQL): folding, ordering and substrings mean one thing.
both_backends!(patch_paths_and_list_filters_agree, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let types = [
        "STRAẞE",
        "éclair",
        "Bob",
        "a-b",
        "Zebra",
        "İstanbul",
        "\u{212A}elvin",
    ];
    let mut users = Vec::new();
    for (i, t) in types.iter().enumerate() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": format!("u{i}"),
            "emails": [{"value": format!("u{i}@example.com"), "type": t}]
        });
        let r = c.post("/Users", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        users.push(r.id());
    }
    let filters = [
        r#"type eq "straße""#,
        r#"type gt "z""#,
        r#"type lt "b""#,
        r#"type ge "bob""#,
        r#"type sw "é""#,
        r#"type eq "İSTANBUL""#,
        r#"type co "-""#,
        r#"type eq "KELVIN""#,
        r#"not (type le "kelvin")"#,
    ];
    for f in filters {
        let r = c
            .get(&format!(
                "/Users?filter={}&count=100",
                urlencode(&format!("emails[{f}]"))
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{f}: {}", r.body);
        let mut listed: Vec<String> = r.body["Resources"]
            .as_array()
            .expect("Resources")
            .iter()
            .map(|u| u["id"].as_str().expect("id").to_string())
            .collect();
        listed.sort();
        let mut patched = Vec::new();
        for id in &users {
            let r = c
                .patch(
                    &format!("/Users/{id}"),
                    &patch_body(json!([
                        {"op": "replace", "path": format!("emails[{f}].display"), "value": f}
                    ])),
                )
                .await;
            match r.status {
                StatusCode::OK => patched.push(id.clone()),
                StatusCode::BAD_REQUEST if r.body["scimType"] == json!("noTarget") => {}
                other => panic!("{f}: PATCH answered {other}: {}", r.body),
            }
        }
        patched.sort();
        assert!(!listed.is_empty(), "{f} selects nothing");
        assert_eq!(
            listed, patched,
            "{f}: list (SQL) and PATCH (in memory) disagree"
        );
    }
});
