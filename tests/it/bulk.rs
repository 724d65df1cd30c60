use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::*;

fn bulk(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops})
}

fn statuses(r: &Response) -> Vec<String> {
    r.body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap().to_string())
        .collect()
}

both_backends!(bulk_with_references, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let doomed = c
        .post("/Users", &user_body("doomed@example.com"))
        .await
        .id();
    // The group comes first and refers to a user created later in the same request.
    let r = c
        .post("/Bulk", &bulk(json!([
            {"method": "POST", "path": "/Groups", "bulkId": "g", "data": group_body("Bulk team", &["bulkId:u"])},
            {"method": "POST", "path": "/Users", "bulkId": "u", "data": user_body("bulk@example.com")},
            {"method": "PATCH", "path": "/Groups/bulkId:g", "data": patch_body(json!([{"op": "replace", "path": "displayName", "value": "Renamed"}]))},
            {"method": "DELETE", "path": format!("/Users/{doomed}")},
            {"method": "POST", "path": "/Groups", "bulkId": "bad", "data": group_body("Broken", &["bulkId:nope"])},
        ])))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"])
    );
    let mut got = statuses(&r);
    got.sort();
    assert_eq!(got, ["200", "201", "201", "204", "400"], "{}", r.body);
    let ops = r.body["Operations"].as_array().unwrap();
    let group_op = ops.iter().find(|o| o["bulkId"] == json!("g")).unwrap();
    let location = group_op["location"].as_str().unwrap();
    let gid = location.rsplit('/').next().unwrap();
    let group = c.get(&format!("/Groups/{gid}")).await;
    assert_eq!(group.body["displayName"], json!("Renamed"));
    let user_op = ops.iter().find(|o| o["bulkId"] == json!("u")).unwrap();
    let uid = user_op["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    assert_eq!(group.body["members"][0]["value"], json!(uid));
    assert_eq!(
        c.get(&format!("/Users/{doomed}")).await.status,
        StatusCode::NOT_FOUND
    );
    let bad = ops.iter().find(|o| o["bulkId"] == json!("bad")).unwrap();
    assert_eq!(bad["response"]["scimType"], json!("invalidValue"));
});

both_backends!(
    bulk_stops_after_fail_on_errors_and_refuses_cycles,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        c.post("/Users", &user_body("taken@example.com")).await;
        let mut body = bulk(json!([
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": user_body("taken@example.com")},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": user_body("never@example.com")},
        ]));
        body["failOnErrors"] = json!(1);
        let r = c.post("/Bulk", &body).await;
        assert_eq!(statuses(&r), ["409"], "{}", r.body);
        assert_eq!(
            c.get("/Users").await.body["totalResults"],
            json!(1),
            "nothing ran after the first error"
        );

        let cycle = c
        .post("/Bulk", &bulk(json!([
            {"method": "POST", "path": "/Groups", "bulkId": "x", "data": group_body("X", &["bulkId:y"])},
            {"method": "POST", "path": "/Groups", "bulkId": "y", "data": group_body("Y", &["bulkId:x"])},
        ])))
        .await;
        assert_eq!(statuses(&cycle), ["400", "400"], "{}", cycle.body);
        assert_eq!(c.get("/Groups").await.body["totalResults"], json!(0));

        let many: Vec<Value> = (0..1001)
            .map(|i| json!({"method": "DELETE", "path": format!("/Users/{i}")}))
            .collect();
        let too_many = c.post("/Bulk", &bulk(json!(many))).await;
        assert_eq!(too_many.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(too_many.body["scimType"], json!("tooMany"));
    }
);
