use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::support::*;

both_backends!(discovery_documents_tell_the_truth, |backend| async move {
    let server = TestServer::start(backend).await;
    let c = &server.client;
    let spc = c.get("/ServiceProviderConfig").await;
    assert_eq!(spc.status, StatusCode::OK);
    assert_eq!(spc.header("content-type"), Some("application/scim+json"));
    assert_eq!(spc.body["patch"]["supported"], json!(true));
    assert_eq!(spc.body["filter"]["supported"], json!(true));
    assert_eq!(spc.body["etag"]["supported"], json!(true));
    assert_eq!(spc.body["bulk"]["supported"], json!(true));
    assert_eq!(spc.body["bulk"]["maxOperations"], json!(1000));
    assert_eq!(spc.body["sort"]["supported"], json!(true));
    assert_eq!(spc.body["pagination"]["cursor"], json!(true));
    assert_eq!(spc.body["pagination"]["maxPageSize"], json!(1000));

    let types = c.get("/ResourceTypes").await;
    assert_eq!(types.body["totalResults"], json!(2));
    let user_type = c.get("/ResourceTypes/User").await;
    assert_eq!(
        user_type.body["schemaExtensions"][0]["schema"],
        json!("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    );
    assert_eq!(
        c.get("/ResourceTypes/Nope").await.status,
        StatusCode::NOT_FOUND
    );

    let schemas = c.get("/Schemas").await;
    assert_eq!(schemas.body["totalResults"], json!(3));
    let user_schema = c
        .get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")
        .await;
    assert_eq!(user_schema.status, StatusCode::OK);
    assert_eq!(user_schema.body["attributes"][0]["name"], json!("userName"));
    assert_eq!(
        c.get("/Schemas/urn:nope").await.status,
        StatusCode::NOT_FOUND
    );

    for path in [
        "/ServiceProviderConfig",
        "/ResourceTypes",
        "/Schemas",
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
    ] {
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let r = c.raw(method.clone(), path, "{}").await;
            assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_eq!(r.body["status"], json!("405"));
        }
    }
});

both_backends!(
    service_configuration_is_the_service_provider_config,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        let spc = c.get("/ServiceProviderConfig").await;
        let alias = c.get("/serviceConfiguration").await;
        assert_eq!(alias.status, StatusCode::OK, "{}", alias.body);
        assert_eq!(alias.header("content-type"), Some("application/scim+json"));
        assert_eq!(alias.body, spc.body);
        let r = c.raw(Method::POST, "/serviceConfiguration", "{}").await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    }
);
