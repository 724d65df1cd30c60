//! The directory's kind picks its IdP adapter: tolerance for one IdP never loosens another.
//!
//! Each IdP has a table of cases: the literal requests `../shared/reference/idp-behaviour.md`
//! quotes (section named per case), sent to a directory of that kind, with the status the IdP
//! expects and reads of the state they must leave. Every case starts from its own users A, B, C
//! and group G (members B and C); `{{a}}`, `{{b}}`, `{{c}}`, `{{g}}` in a path or a body stand
//! for their ids, `{{an}}` for A's userName (`{{AN}}` in capitals) and `{{gn}}` for G's displayName.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::*;

/// What a case reads back after its request.
enum Check {
    /// `GET path` answers 200 and the value at the JSON pointer equals the given one
    /// (`Value::Null` for absent).
    At(&'static str, &'static str, Value),
    /// `GET path` answers this status.
    Status(&'static str, u16),
    /// G's members, as the ids they stand for.
    Members(&'static [&'static str]),
}

struct Case {
    name: &'static str,
    method: Method,
    path: &'static str,
    body: Option<Value>,
    status: u16,
    checks: Vec<Check>,
}

fn case(name: &'static str, method: Method, path: &'static str, status: u16) -> Case {
    Case {
        name,
        method,
        path,
        body: None,
        status,
        checks: Vec::new(),
    }
}

impl Case {
    fn body(mut self, body: Value) -> Case {
        self.body = Some(body);
        self
    }

    fn at(mut self, path: &'static str, pointer: &'static str, want: Value) -> Case {
        self.checks.push(Check::At(path, pointer, want));
        self
    }

    fn gone(mut self, path: &'static str) -> Case {
        self.checks.push(Check::Status(path, 404));
        self
    }

    fn members(mut self, ids: &'static [&'static str]) -> Case {
        self.checks.push(Check::Members(ids));
        self
    }
}

struct Seed(Vec<(&'static str, String)>);

impl Seed {
    fn fill(&self, text: &str) -> String {
        self.0.iter().fold(text.to_string(), |t, (k, v)| {
            t.replace(&format!("{{{{{k}}}}}"), v)
        })
    }

    fn fill_json(&self, v: &Value) -> Value {
        serde_json::from_str(&self.fill(&v.to_string())).expect("filled body is JSON")
    }
}

/// Users A, B, C and group G holding B and C, named after the case.
async fn seed(c: &Client, n: usize) -> Seed {
    let mut vars = Vec::new();
    let mut ids = Vec::new();
    for who in ["a", "b", "c"] {
        let name = format!("case{n}-{who}@example.com");
        let r = c.post("/Users", &user_body(&name)).await;
        assert_eq!(r.status, StatusCode::CREATED, "seeding: {}", r.body);
        ids.push(r.id());
        vars.push((who, r.id()));
        match who {
            "a" => {
                vars.push(("AN", name.to_uppercase()));
                vars.push(("an", name));
            }
            "b" => vars.push(("bn", name)),
            _ => vars.push(("cn", name)),
        }
    }
    let gn = format!("case{n}-group");
    let g = c
        .post("/Groups", &group_body(&gn, &[&ids[1], &ids[2]]))
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "seeding: {}", g.body);
    vars.push(("g", g.id()));
    vars.push(("gn", gn));
    Seed(vars)
}

/// Runs every case against a directory of `kind`, each over its own seed; reports all the
/// cases that fail, not only the first.
async fn run(backend: Backend, kind: &str, cases: Vec<Case>) {
    let server = TestServer::start(backend).await;
    let dir = create_directory(&server.db, kind, kind);
    let c = server.client.with_token(dir["token"].as_str().unwrap());
    let mut failures = Vec::new();
    for (n, case) in cases.into_iter().enumerate() {
        let s = seed(&c, n).await;
        let body = case.body.as_ref().map(|b| s.fill_json(b));
        let r = c
            .send(case.method.clone(), &s.fill(case.path), body.as_ref(), &[])
            .await;
        if r.status.as_u16() != case.status {
            failures.push(format!(
                "{kind} / {}: {} {} answered {}, not {}: {}",
                case.name, case.method, case.path, r.status, case.status, r.body
            ));
            continue;
        }
        for check in &case.checks {
            let problem = match check {
                Check::At(path, pointer, want) => {
                    let got = c.get(&s.fill(path)).await;
                    let have = got.body.pointer(pointer).cloned().unwrap_or(Value::Null);
                    let want = s.fill_json(want);
                    (got.status != StatusCode::OK || have != want).then(|| {
                        format!("GET {path} ({}) {pointer} = {have}, not {want}", got.status)
                    })
                }
                Check::Status(path, want) => {
                    let got = c.get(&s.fill(path)).await;
                    (got.status.as_u16() != *want)
                        .then(|| format!("GET {path} answered {}, not {want}", got.status))
                }
                Check::Members(ids) => {
                    let got = c.get(&s.fill("/Groups/{{g}}")).await;
                    let mut have: Vec<String> = got.body["members"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|m| m["value"].as_str().map(str::to_string))
                        .collect();
                    let mut want: Vec<String> = ids.iter().map(|i| s.fill(i)).collect();
                    have.sort();
                    want.sort();
                    (have != want).then(|| format!("members {have:?}, not {want:?}"))
                }
            };
            if let Some(p) = problem {
                failures.push(format!("{kind} / {}: {p}", case.name));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn entra_cases() -> Vec<Case> {
    use Method as M;
    vec![
        // §1.1 Test Connection and the create pre-check.
        case(
            "test connection: userName of nobody",
            M::GET,
            "/Users?filter=userName eq \"Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee\"",
            200,
        ),
        case(
            "pre-check on externalId",
            M::GET,
            "/Users?filter=externalId eq \"ext-{{an}}\"",
            200,
        ),
        case(
            "pre-check on the work e-mail",
            M::GET,
            "/Users?filter=emails[type eq \"work\"].value eq \"{{an}}\"",
            200,
        ),
        // §1.1 literal requests: the older example's unquoted value.
        case(
            "pre-check with an unquoted value",
            M::GET,
            "/Users?filter=externalId eq ext-{{an}}",
            200,
        )
        .at(
            "/Users?filter=externalId eq ext-{{an}}",
            "/totalResults",
            json!(1),
        ),
        case("the same through /.search", M::POST, "/Users/.search", 200).body(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "externalId eq ext-{{an}}"
        })),
        case("and through the root /.search", M::POST, "/.search", 200).body(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "emails[type eq \"work\"].value eq \"{{an}}\""
        })),
        // §1.1 Create user: enterprise URN listed without enterprise attributes, meta, roles [].
        case("create user", M::POST, "/Users", 201).body(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
            "active": true,
            "emails": [{"primary": true, "type": "work",
                        "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName",
                     "givenName": "givenName"},
            "roles": []
        })),
        // §1.1 "Example 2": explicit nulls, top-level department/manager, URN missing a colon.
        case("create user, older example", M::POST, "/Users", 201).body(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
            "externalId": "jyoung", "userName": "jyoung@testuser.com", "active": true,
            "addresses": null, "displayName": "Joy Young",
            "emails": [{"type": "work", "value": "jyoung@Contoso.com", "primary": true}],
            "meta": {"resourceType": "User"},
            "name": {"familyName": "Young", "givenName": "Joy"},
            "phoneNumbers": null, "preferredLanguage": null, "title": null,
            "department": null, "manager": null
        })),
        // §1.4 POST duplicate → 409 with detail.
        case("duplicate create", M::POST, "/Users", 409)
            .body(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                         "userName": "{{an}}"})),
        // §1.1 Update user: one op per attribute, capitalised.
        case("update e-mail and family name", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value",
                 "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
            ])))
            .at("/Users/{{a}}", "/emails/0/value", json!("updatedEmail@microsoft.com"))
            .at("/Users/{{a}}", "/name/familyName", json!("updatedFamilyName")),
        case("update userName", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([{"op": "Replace", "path": "userName",
                              "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}])))
            .at(
                "/Users/{{a}}",
                "/userName",
                json!("5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"),
            ),
        // §1.1 value-path adds on elements that do not exist yet land in one element.
        case("address adds on a missing element", M::PATCH, "/Users/{{a}}", 204)
            .body(json!({"Operations": [
                {"op": "add", "path": "addresses[type eq \"work\"].formatted", "value": "USZLTUSJXBYV"},
                {"op": "add", "path": "addresses[type eq \"work\"].locality", "value": "OSGODHEVDCVD"},
                {"op": "add", "path": "addresses[type eq \"work\"].region", "value": "YMVMOEMXAYGD"}
            ], "schemas": [PATCH_OP]}))
            .at("/Users/{{a}}", "/addresses/0/locality", json!("OSGODHEVDCVD"))
            .at("/Users/{{a}}", "/addresses/0/type", json!("work"))
            .at("/Users/{{a}}", "/addresses/1", Value::Null),
        // §1.1 (SCIM-SDK #416, #668): a value-path add creates the work e-mail; a replace
        // through it leaves the other e-mails alone.
        case("add a work e-mail to a user without one", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([
                {"op": "Replace", "path": "emails", "value": [{"value": "home@example.com", "type": "home"}]},
                {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "work@example.com"}
            ])))
            .at("/Users/{{a}}", "/emails/0/value", json!("home@example.com"))
            .at("/Users/{{a}}", "/emails/1/value", json!("work@example.com"))
            .at("/Users/{{a}}", "/emails/1/type", json!("work")),
        case("replace the work e-mail only", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([
                {"op": "Add", "path": "emails", "value": [{"value": "home@example.com", "type": "home"}]},
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"}
            ])))
            .at("/Users/{{a}}", "/emails/0/value", json!("new@example.com"))
            .at("/Users/{{a}}", "/emails/1/value", json!("home@example.com")),
        // §9 (Microsoft's gallery validator, "null update"): empty strings, then nulls.
        case("null update", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([
                {"op": "Replace", "path": "title", "value": ""},
                {"op": "Replace", "path": "nickName", "value": null}
            ])))
            .at("/Users/{{a}}", "/nickName", Value::Null),
        // §1.1 Manager: the older reference shape and the real bare string.
        case("manager as a reference list", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([{"op": "Add", "path": "manager", "value": [
                {"$ref": "http://example.com/scim/Users/{{b}}", "value": "{{b}}"}]}])))
            .at("/Users/{{a}}", MANAGER, json!("{{b}}")),
        case("manager as a bare string", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([{"op": "add", "path": format!("{ENTERPRISE}:manager"),
                              "value": "{{b}}"}])))
            .at("/Users/{{a}}", MANAGER, json!("{{b}}")),
        case("manager changed with Replace", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([{"op": "Replace", "path": format!("{ENTERPRISE}:manager"),
                              "value": "{{c}}"}])))
            .at("/Users/{{a}}", MANAGER, json!("{{c}}")),
        // §1.1 Roles: PATCH values are JSON strings; selector filters compare "True".
        case("roles added as JSON strings", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([{"op": "Add", "path": "roles", "value": [{"value":
                "{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}]}])))
            .at(
                "/Users/{{a}}",
                "/roles/0/value",
                json!("{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"25\",\"displayName\":\"Role1234\"}"),
            ),
        case("roles replaced, lower-case op", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([{"op": "replace", "path": "roles", "value": [
                {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "display": "User", "value": "User"},
                {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "display": "Test", "value": "Test"}
            ]}])))
            .at("/Users/{{a}}", "/roles/1/value", json!("Test")),
        case("role selector with a string boolean", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([
                {"op": "Add", "path": "roles", "value": [{"primary": "True", "value": "Admin"}]},
                {"op": "Replace", "path": "roles[primary eq \"True\"].value", "value": "Owner"}
            ])))
            .at("/Users/{{a}}", "/roles/0/value", json!("Owner"))
            .at("/Users/{{a}}", "/roles/0/primary", json!(true)),
        // §1.2 The four shapes without and with aadOptscim062020.
        case("disable, default shape", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([{"op": "Replace", "path": "active", "value": "False"}])))
            .at("/Users/{{a}}", "/active", json!(false)),
        case("disable, flag shape", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([{"op": "replace", "path": "active", "value": false}])))
            .at("/Users/{{a}}", "/active", json!(false)),
        case("add nickName, default shape", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([{"op": "Add", "path": "nickName", "value": "Babs"}])))
            .at("/Users/{{a}}", "/nickName", json!("Babs")),
        case("replace several, default shape", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([
                {"op": "Replace", "path": "displayName", "value": "Pvlo"},
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "TestBcwqnm@test.microsoft.com"},
                {"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
                {"op": "Replace", "path": "name.familyName", "value": "Pkqf"},
                {"op": "Replace", "path": "externalId", "value": "Eqpj"},
                {"op": "Replace", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "Eqpj"}
            ])))
            .at("/Users/{{a}}", "/name/givenName", json!("Gtfd"))
            .at("/Users/{{a}}", EMPLOYEE_NUMBER, json!("Eqpj")),
        case("replace several, flag shape", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "TestMhvaes@test.microsoft.com"},
                {"op": "replace", "value": {
                    "displayName": "Bjfe",
                    "name.givenName": "Kkom",
                    "name.familyName": "Unua",
                    format!("{ENTERPRISE}:employeeNumber"): "Aklq"
                }}
            ])))
            .at("/Users/{{a}}", "/displayName", json!("Bjfe"))
            .at("/Users/{{a}}", "/name/givenName", json!("Kkom"))
            .at("/Users/{{a}}", "/name/familyName", json!("Unua"))
            .at("/Users/{{a}}", EMPLOYEE_NUMBER, json!("Aklq"))
            .at("/Users/{{a}}", "/emails/0/value", json!("TestMhvaes@test.microsoft.com")),
        // §1.3 displayName as a bare string, with its leading space.
        case("displayName bare string", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([{"op": "Replace", "path": "displayName", "value": " User X"}])))
            .at("/Users/{{a}}", "/displayName", json!(" User X")),
        // §1.1 Disable again, restore, delete.
        case("disable twice", M::PATCH, "/Users/{{a}}", 204)
            .body(patch_body(json!([
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Replace", "path": "active", "value": "False"}
            ])))
            .at("/Users/{{a}}", "/active", json!(false)),
        case("restore", M::PATCH, "/Users/{{b}}", 204)
            .body(patch_body(json!([{"op": "Replace", "path": "active", "value": "True"}])))
            .at("/Users/{{b}}", "/active", json!(true))
            .members(&["{{b}}", "{{c}}"]),
        case("delete user", M::DELETE, "/Users/{{a}}", 204).gone("/Users/{{a}}"),
        // §1.1 Create group: the ADSCIM schema URN, with and without members [].
        case("create group", M::POST, "/Groups", 201).body(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"}
        })),
        case("create group with members []", M::POST, "/Groups", 201).body(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "9bb1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "with-members", "members": [],
            "meta": {"resourceType": "Group"}
        })),
        // §1.1 Group lookups always exclude members.
        case(
            "get group without members",
            M::GET,
            "/Groups/{{g}}?excludedAttributes=members",
            200,
        ),
        case(
            "find group by displayName",
            M::GET,
            "/Groups?excludedAttributes=members&filter=displayName eq \"{{gn}}\"",
            200,
        ),
        case("rename group", M::PATCH, "/Groups/{{g}}", 204)
            .body(patch_body(json!([{"op": "Replace", "path": "displayName",
                              "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}])))
            .at(
                "/Groups/{{g}}",
                "/displayName",
                json!("1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"),
            ),
        case("add member with $ref null", M::PATCH, "/Groups/{{g}}", 204)
            .body(patch_body(json!([{"op": "Add", "path": "members",
                              "value": [{"$ref": null, "value": "{{a}}"}]}])))
            .members(&["{{a}}", "{{b}}", "{{c}}"]),
        case("add an existing member", M::PATCH, "/Groups/{{g}}", 204)
            .body(patch_body(json!([{"op": "Add", "path": "members", "value": [{"value": "{{b}}"}]}])))
            .members(&["{{b}}", "{{c}}"]),
        case("remove one member, default shape", M::PATCH, "/Groups/{{g}}", 204)
            .body(patch_body(json!([{"op": "Remove", "path": "members",
                              "value": [{"$ref": null, "value": "{{b}}"}]}])))
            .members(&["{{c}}"]),
        case("remove one member, flag shape", M::PATCH, "/Groups/{{g}}", 204)
            .body(patch_body(json!([{"op": "remove", "path": "members[value eq \"{{c}}\"]"}])))
            .members(&["{{b}}"]),
        case("remove a member that is not one", M::PATCH, "/Groups/{{g}}", 204)
            .body(patch_body(json!([{"op": "Remove", "path": "members", "value": [{"value": "{{a}}"}]}])))
            .members(&["{{b}}", "{{c}}"]),
        case("delete group", M::DELETE, "/Groups/{{g}}", 204).gone("/Groups/{{g}}"),
    ]
}

const MANAGER: &str = "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager/value";
const DEPARTMENT: &str = "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/department";
const EMPLOYEE_NUMBER: &str =
    "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/employeeNumber";

both_backends!(entra_sends, |backend| async move {
    run(backend, "entra", entra_cases()).await
});

fn okta_cases() -> Vec<Case> {
    use Method as M;
    let core = "urn:ietf:params:scim:schemas:core:2.0:User";
    vec![
        // §2.1 Create: the pre-check GET, literally.
        case(
            "pre-check finds nobody",
            M::GET,
            "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100",
            200,
        )
        .at(
            "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100",
            "/totalResults",
            json!(0),
        ),
        case(
            "pre-check finds A",
            M::GET,
            "/Users?filter=userName%20eq%20%22{{an}}%22&startIndex=1&count=100",
            200,
        )
        .at(
            "/Users?filter=userName%20eq%20%22{{an}}%22&startIndex=1&count=100",
            "/totalResults",
            json!(1),
        ),
        // §2.2 step 9: userName matching ignores case.
        case(
            "pre-check in capitals",
            M::GET,
            "/Users?filter=userName%20eq%20%22{{AN}}%22",
            200,
        )
        .at(
            "/Users?filter=userName%20eq%20%22{{AN}}%22",
            "/totalResults",
            json!(1),
        ),
        // §2.1 Create: password and read-only groups [] sent; never echoed.
        case("create user", M::POST, "/Users", 201).body(json!({
            "schemas": [core],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": true
        })),
        // §2.1 Duplicate → 409, and the stored user is untouched.
        case("create an existing user", M::POST, "/Users", 409)
            .body(json!({"schemas": [core], "userName": "{{an}}",
                         "name": {"givenName": "Other", "familyName": "Person"}}))
            .at("/Users/{{a}}", "/name/givenName", json!("Barbara")),
        // §2.1 Update: the whole object, with id, meta and read-only groups [].
        case("update by PUT", M::PUT, "/Users/{{b}}", 200)
            .body(json!({
                "schemas": [core],
                "id": "{{b}}",
                "userName": "case-b-renamed@okta.local",
                "name": {"givenName": "Another", "middleName": "Excited", "familyName": "User"},
                "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work",
                            "display": "test.user@okta.local"}],
                "active": true,
                "groups": [],
                "meta": {"resourceType": "User"}
            }))
            .at("/Users/{{b}}", "/name/middleName", json!("Excited"))
            .at("/Users/{{b}}", "/externalId", json!("ext-{{bn}}"))
            .at("/Users/{{b}}", "/password", Value::Null)
            .members(&["{{b}}", "{{c}}"]),
        case(
            "re-push of the same user with a password",
            M::PUT,
            "/Users/{{b}}",
            200,
        )
        .body(json!({
            "schemas": [core], "id": "{{b}}", "userName": "{{bn}}",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"primary": true, "value": "{{bn}}", "type": "work"}],
            "active": true, "groups": [], "password": "1mz050nq"
        }))
        .at("/Users/{{b}}", "/userName", json!("{{bn}}"))
        .members(&["{{b}}", "{{c}}"]),
        case(
            "PUT with an explicit null externalId",
            M::PUT,
            "/Users/{{b}}",
            200,
        )
        .body(json!({"schemas": [core], "userName": "{{bn}}", "externalId": null}))
        .at("/Users/{{b}}", "/externalId", Value::Null),
        // §2.1 Deactivate (OIN): path-less replace; reactivation the same with true.
        case("deactivate", M::PATCH, "/Users/{{b}}", 200)
            .body(patch_body(
                json!([{"op": "replace", "value": {"active": false}}]),
            ))
            .at("/Users/{{b}}", "/active", json!(false))
            .members(&["{{b}}", "{{c}}"]),
        case(
            "deactivate twice, then reactivate",
            M::PATCH,
            "/Users/{{b}}",
            200,
        )
        .body(patch_body(json!([
            {"op": "replace", "value": {"active": false}},
            {"op": "replace", "value": {"active": false}},
            {"op": "replace", "value": {"active": true}}
        ])))
        .at("/Users/{{b}}", "/active", json!(true))
        .members(&["{{b}}", "{{c}}"]),
        // §2.1 Deactivate (AIW): PUT with active false.
        case("deactivate by PUT", M::PUT, "/Users/{{b}}", 200)
            .body(
                json!({"schemas": [core], "id": "{{b}}", "userName": "{{bn}}",
                         "name": {"givenName": "Barbara", "familyName": "Jensen"},
                         "active": false, "groups": []}),
            )
            .at("/Users/{{b}}", "/active", json!(false))
            .members(&["{{b}}", "{{c}}"]),
        // §2.1 Import.
        case("import users", M::GET, "/Users?startIndex=1&count=100", 200).at(
            "/Users?startIndex=1&count=100",
            "/startIndex",
            json!(1),
        ),
        case(
            "import groups",
            M::GET,
            "/Groups?startIndex=1&count=100",
            200,
        ),
        // §2.1 Group push.
        case("push group", M::POST, "/Groups", 201).body(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Test SCIMv2",
            "members": []
        })),
        case(
            "rename with id in the value",
            M::PATCH,
            "/Groups/{{g}}",
            204,
        )
        .body(patch_body(json!([{"op": "replace",
                              "value": {"id": "{{g}}", "displayName": "Test SCIMv2"}}])))
        .at("/Groups/{{g}}", "/displayName", json!("Test SCIMv2"))
        .members(&["{{b}}", "{{c}}"]),
        case("rename to the same name", M::PATCH, "/Groups/{{g}}", 204)
            .body(patch_body(json!([{"op": "replace",
                              "value": {"id": "{{g}}", "displayName": "{{gn}}"}}])))
            .at("/Groups/{{g}}", "/displayName", json!("{{gn}}"))
            .members(&["{{b}}", "{{c}}"]),
        case(
            "remove one, add one with display",
            M::PATCH,
            "/Groups/{{g}}",
            204,
        )
        .body(patch_body(json!([
            {"op": "remove", "path": "members[value eq \"{{b}}\"]"},
            {"op": "add", "path": "members", "value": [{"value": "{{a}}", "display": "{{an}}"}]}
        ])))
        .members(&["{{a}}", "{{c}}"]),
        case("add an existing member", M::PATCH, "/Groups/{{g}}", 204)
            .body(patch_body(json!([{"op": "add", "path": "members",
                              "value": [{"value": "{{c}}", "display": "c"}]}])))
            .members(&["{{b}}", "{{c}}"]),
        case("full membership push", M::PATCH, "/Groups/{{g}}", 204)
            .body(patch_body(
                json!([{"op": "replace", "path": "members", "value": [
                    {"value": "{{a}}", "display": "{{an}}"},
                    {"value": "{{b}}", "display": "b"}
                ]}]),
            ))
            .members(&["{{a}}", "{{b}}"]),
        case("empty group push", M::PATCH, "/Groups/{{g}}", 204)
            .body(patch_body(
                json!([{"op": "replace", "path": "members", "value": []}]),
            ))
            .members(&[]),
        // §2.1 AIW group updates: PUT with the full member list.
        case("group PUT with members", M::PUT, "/Groups/{{g}}", 200)
            .body(
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                         "id": "{{g}}", "displayName": "{{gn}}",
                         "members": [{"value": "{{a}}", "display": "{{an}}"},
                                     {"value": "{{c}}", "display": "c"}]}),
            )
            .members(&["{{a}}", "{{c}}"]),
        case("delete group", M::DELETE, "/Groups/{{g}}", 204).gone("/Groups/{{g}}"),
        // §2.2 steps 4 and 12.
        case("unknown id", M::GET, "/Users/00919288221112222", 404),
    ]
}

both_backends!(okta_sends, |backend| async move {
    run(backend, "okta", okta_cases()).await
});

fn onelogin_cases() -> Vec<Case> {
    use Method as M;
    let body = json!({
        "schemas": ["urn:scim:schemas:core:2.0", "urn:scim:schemas:extension:enterprise:2.0"],
        "userName": "onelogin-test-user01",
        "name": {"familyName": " User 01", "givenName": "AAA Test"},
        "emails": [{"value": "onelogin-test-user01@example.com", "primary": true}]
    });
    let mut put = body.clone();
    put["userName"] = json!("{{an}}");
    let mut enterprise = put.clone();
    enterprise["urn:scim:schemas:extension:enterprise:2.0"] =
        json!({"department": "Sales", "manager": {"value": "{{b}}"}});
    let mut string_active = put.clone();
    string_active["active"] = json!("false");
    vec![
        // §3 observed: '+' for spaces and a trailing '&'.
        case(
            "connection check finds nobody",
            M::GET,
            "/Users?filter=userName+eq+%22onelogin-test-user01%22&",
            200,
        )
        .at(
            "/Users?filter=userName+eq+%22onelogin-test-user01%22&",
            "/totalResults",
            json!(0),
        ),
        case(
            "lookup finds A",
            M::GET,
            "/Users?filter=userName+eq+%22{{an}}%22&",
            200,
        )
        .at(
            "/Users?filter=userName+eq+%22{{an}}%22&",
            "/totalResults",
            json!(1),
        ),
        // §3 observed: the SCIM 1.1-style schema URNs.
        case("create user", M::POST, "/Users", 201).body(body),
        case(
            "update by PUT with a trailing '?'",
            M::PUT,
            "/Users/{{a}}?",
            200,
        )
        .body(put)
        .at("/Users/{{a}}", "/name/familyName", json!(" User 01"))
        .at("/Users/{{a}}", "/name/givenName", json!("AAA Test")),
        case(
            "enterprise attributes under the old URN",
            M::PUT,
            "/Users/{{a}}",
            200,
        )
        .body(enterprise)
        .at("/Users/{{a}}", MANAGER, json!("{{b}}"))
        .at("/Users/{{a}}", DEPARTMENT, json!("Sales")),
        // §3 (customer templates, 3rd-party): "active": "{$user.active}" arrives as a string.
        case("active as a string", M::PUT, "/Users/{{a}}", 200)
            .body(string_active)
            .at("/Users/{{a}}", "/active", json!(false)),
        // §3 observed: membership through PATCH /Groups (body not published: RFC shape).
        case("add member", M::PATCH, "/Groups/{{g}}", 204)
            .body(patch_body(
                json!([{"op": "add", "path": "members", "value": [{"value": "{{a}}"}]}]),
            ))
            .members(&["{{a}}", "{{b}}", "{{c}}"]),
        case("delete user", M::DELETE, "/Users/{{a}}", 204).gone("/Users/{{a}}"),
    ]
}

both_backends!(onelogin_sends, |backend| async move {
    run(backend, "onelogin", onelogin_cases()).await
});

fn jumpcloud_cases() -> Vec<Case> {
    use Method as M;
    vec![
        // §4: Test Connection creates a test user and group, then deletes them.
        case("test user", M::POST, "/Users", 201).body(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                         "userName": "jumpcloud-test@example.com"}),
        ),
        case("test group", M::POST, "/Groups", 201).body(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                         "displayName": "jumpcloud-test"}),
        ),
        case("delete the test group", M::DELETE, "/Groups/{{g}}", 204).gone("/Groups/{{g}}"),
        case("delete the test user", M::DELETE, "/Users/{{a}}", 204).gone("/Users/{{a}}"),
        // §4 observed: member adds are repeated.
        case("add an existing member", M::PATCH, "/Groups/{{g}}", 204)
            .body(patch_body(
                json!([{"op": "add", "path": "members", "value": [{"value": "{{b}}"}]}]),
            ))
            .members(&["{{b}}", "{{c}}"]),
        case("add the same member twice", M::PATCH, "/Groups/{{g}}", 204)
            .body(patch_body(json!([
                {"op": "add", "path": "members", "value": [{"value": "{{a}}"}]},
                {"op": "add", "path": "members", "value": [{"value": "{{a}}"}, {"value": "{{a}}"}]}
            ])))
            .members(&["{{a}}", "{{b}}", "{{c}}"]),
    ]
}

both_backends!(jumpcloud_sends, |backend| async move {
    run(backend, "jumpcloud", jumpcloud_cases()).await
});

fn ping_cases() -> Vec<Case> {
    use Method as M;
    let core = "urn:ietf:params:scim:schemas:core:2.0:User";
    vec![
        // §5.2 PingOne's own filter examples: capitalised operators, any attribute case.
        case(
            "lookup with Eq",
            M::GET,
            "/Users?filter=username Eq \"{{an}}\"",
            200,
        )
        .at(
            "/Users?filter=username Eq \"{{an}}\"",
            "/totalResults",
            json!(1),
        ),
        case(
            "lookup with Co",
            M::GET,
            "/Users?filter=emails Co \"{{an}}\"",
            200,
        )
        .at(
            "/Users?filter=emails Co \"{{an}}\"",
            "/totalResults",
            json!(1),
        ),
        // §5.1 Users are replaced whole (PATCH for users: No), disabled by active false.
        case("update by PUT", M::PUT, "/Users/{{b}}", 200)
            .body(json!({"schemas": [core], "userName": "{{bn}}",
                         "name": {"givenName": "Bee", "familyName": "Jensen"}, "active": true}))
            .at("/Users/{{b}}", "/name/givenName", json!("Bee"))
            .members(&["{{b}}", "{{c}}"]),
        case("disable by PUT", M::PUT, "/Users/{{b}}", 200)
            .body(json!({"schemas": [core], "userName": "{{bn}}", "active": false}))
            .at("/Users/{{b}}", "/active", json!(false))
            .members(&["{{b}}", "{{c}}"]),
        // §5.1 "Provision Disabled Users".
        case("create disabled", M::POST, "/Users", 201)
            .body(json!({"schemas": [core], "userName": "disabled@example.com", "active": false})),
        // §5.1 Groups are found by listing them all.
        case("list all groups", M::GET, "/Groups", 200),
        case(
            "list groups by page",
            M::GET,
            "/Groups?startIndex=1&count=2",
            200,
        )
        .at("/Groups?startIndex=1&count=2", "/startIndex", json!(1)),
        // §5.1 PATCH for groups (body not published: RFC shape).
        case("add member", M::PATCH, "/Groups/{{g}}", 204)
            .body(patch_body(
                json!([{"op": "add", "path": "members", "value": [{"value": "{{a}}"}]}]),
            ))
            .members(&["{{a}}", "{{b}}", "{{c}}"]),
        case("remove member", M::PATCH, "/Groups/{{g}}", 204)
            .body(patch_body(
                json!([{"op": "remove", "path": "members[value eq \"{{b}}\"]"}]),
            ))
            .members(&["{{c}}"]),
        // §5.1 "Remove User Action": delete.
        case("delete user", M::DELETE, "/Users/{{a}}", 204).gone("/Users/{{a}}"),
    ]
}

both_backends!(ping_sends, |backend| async move {
    run(backend, "ping", ping_cases()).await
});

fn rippling_cases() -> Vec<Case> {
    use Method as M;
    vec![
        // §6 (3rd-party): Test connection reads ServiceProviderConfig and checks its fields.
        case(
            "service provider config",
            M::GET,
            "/ServiceProviderConfig",
            200,
        )
        .at("/ServiceProviderConfig", "/patch/supported", json!(true))
        .at("/ServiceProviderConfig", "/filter/supported", json!(true))
        .at("/ServiceProviderConfig", "/bulk/supported", json!(true))
        .at(
            "/ServiceProviderConfig",
            "/changePassword/supported",
            json!(false),
        )
        .at("/ServiceProviderConfig", "/sort/supported", json!(true))
        .at("/ServiceProviderConfig", "/etag/supported", json!(true))
        .at(
            "/ServiceProviderConfig",
            "/authenticationSchemes/0/type",
            json!("oauthbearertoken"),
        ),
    ]
}

both_backends!(rippling_sends, |backend| async move {
    run(backend, "rippling", rippling_cases()).await
});

fn generic_cases() -> Vec<Case> {
    use Method as M;
    vec![
        // Bends every IdP above shares (§1.3, §2.1, §3, §5.2), accepted by the RFC layer.
        case(
            "capitalised op and $ref null",
            M::PATCH,
            "/Groups/{{g}}",
            204,
        )
        .body(patch_body(json!([{"op": "Add", "path": "members",
                              "value": [{"$ref": null, "value": "{{a}}"}]}])))
        .members(&["{{a}}", "{{b}}", "{{c}}"]),
        case(
            "trailing '&'",
            M::GET,
            "/Users?filter=userName+eq+%22{{an}}%22&",
            200,
        )
        .at(
            "/Users?filter=userName+eq+%22{{an}}%22&",
            "/totalResults",
            json!(1),
        ),
        case(
            "operator in capitals",
            M::GET,
            "/Users?filter=userName EQ \"{{an}}\"",
            200,
        ),
        // RFC 7644 §3.5.1: a PUT that leaves out externalId clears it (only okta keeps it).
        case("PUT without externalId", M::PUT, "/Users/{{a}}", 200)
            .body(
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                         "userName": "{{an}}"}),
            )
            .at("/Users/{{a}}", "/externalId", Value::Null),
        // …and nothing more: a string boolean stays an error.
        case("string boolean", M::PATCH, "/Users/{{a}}", 400).body(patch_body(
            json!([{"op": "replace", "path": "active", "value": "False"}]),
        )),
    ]
}

both_backends!(generic_sends, |backend| async move {
    run(backend, "generic", generic_cases()).await
});

both_backends!(
    entra_string_booleans_and_204_only_for_entra,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let generic = &server.client;
        let dir = create_directory(&server.db, "entra", "azure");
        let entra = generic.with_token(dir["token"].as_str().unwrap());

        let mut body = user_body("emp1@example.com");
        body["active"] = json!("True");
        let refused = generic.post("/Users", &body).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "the generic directory stays RFC-strict"
        );
        assert_eq!(refused.body["scimType"], json!("invalidValue"));

        let created = entra.post("/Users", &body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.body["active"], json!(true));
        let path = format!("/Users/{}", created.id());
        let patched = entra
            .patch(
                &path,
                &patch_body(json!([{"op": "Replace", "path": "active", "value": "False"}])),
            )
            .await;
        assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.body);
        assert_eq!(entra.get(&path).await.body["active"], json!(false));

        // The generic directory's user PATCH still answers with the resource.
        let own = generic
            .post("/Users", &user_body("g@example.com"))
            .await
            .id();
        let r = generic
            .patch(
                &format!("/Users/{own}"),
                &patch_body(json!([{"op": "replace", "path": "title", "value": "x"}])),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
);

both_backends!(
    lower_case_endpoints_and_trailing_slashes,
    |backend| async move {
        let server = TestServer::start(backend).await;
        let c = &server.client;
        let id = c.post("/users", &user_body("lc@example.com")).await.id();
        assert_eq!(c.get(&format!("/users/{id}")).await.status, StatusCode::OK);
        let listed = c
            .get("/Users/?filter=userName%20eq%20%22lc@example.com%22")
            .await;
        assert_eq!(listed.status, StatusCode::OK);
        assert_eq!(listed.body["totalResults"], json!(1));
        assert_eq!(c.get("/groups").await.status, StatusCode::OK);
    }
);

// §3 vendor doc: OneLogin wants `application/json` on every response, errors included; every
// other kind keeps `application/scim+json`. (Discovery needs no token, so it cannot tell.)
both_backends!(each_kind_labels_its_responses, |backend| async move {
    let server = TestServer::start(backend).await;
    for (kind, want) in [
        ("onelogin", "application/json"),
        ("okta", "application/scim+json"),
        ("generic", "application/scim+json"),
    ] {
        let dir = create_directory(&server.db, kind, kind);
        let c = server.client.with_token(dir["token"].as_str().unwrap());
        let user = user_body(&format!("label-{kind}@example.com"));
        let requests = [
            (Method::POST, "/Users".to_string(), Some(user), 201),
            (
                Method::GET,
                format!("/Users?filter=userName+eq+%22label-{kind}@example.com%22"),
                None,
                200,
            ),
            (Method::GET, "/Users/nobody".to_string(), None, 404),
        ];
        for (method, path, body, status) in requests {
            let r = c.send(method.clone(), &path, body.as_ref(), &[]).await;
            assert_eq!(r.status.as_u16(), status, "{kind}: {method} {path}");
            assert_eq!(
                r.header("content-type"),
                Some(want),
                "{kind}: {method} {path}"
            );
        }
    }
});
