//! The Google Workspace puller end to end: the real `roster` binary against the fake Google
//! (`fake_google.rs`), on both backends.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::both_backends;
use crate::fake_google::{self, ADMIN, FakeGoogle, group, member, user};
use crate::support::*;

const SECRET_KEY: &str = "4f1c2b7a9d0e3f5a6b8c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a";

/// One Google directory `gw` of tenant `acme` over its own database, wired to a fake Google.
pub(crate) struct Setup {
    pub(crate) db: TestDb,
    pub(crate) fake: FakeGoogle,
    dir: PathBuf,
}

impl Setup {
    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ROSTER_SECRET_KEY", SECRET_KEY.to_string()),
            ("ROSTER_GOOGLE_API_URL", self.fake.url.clone()),
            ("ROSTER_GOOGLE_BACKOFF_MS", "5".to_string()),
        ]
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(roster_bin());
        cmd.args(args)
            .env("ROSTER_DATABASE_URL", &self.db.url)
            .env("ROSTER_LOG", "warn")
            .env_remove("ROSTER_CONFIG");
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        cmd.output().expect("run roster")
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let out = self.run(&full);
        assert!(
            out.status.success(),
            "roster {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        serde_json::from_slice(&out.stdout).expect("one JSON object")
    }

    fn sync(&self) -> Value {
        self.json(&["google", "sync", "--directory", "gw"])
    }

    fn status(&self) -> Value {
        self.json(&["directory", "status", "gw"])
    }
}

pub(crate) fn setup(backend: Backend, extra: &[&str]) -> Setup {
    let fake = FakeGoogle::start();
    let dir = std::env::temp_dir().join(format!("roster-google-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let s = Setup {
        db: TestDb::new(backend),
        fake,
        dir,
    };
    s.json(&["tenant", "create", "acme"]);
    let key = s.fake.key_file(&s.dir);
    let key = key.to_str().unwrap();
    let mut args = vec![
        "directory",
        "create",
        "--tenant",
        "acme",
        "--kind",
        "google",
        "gw",
        "--service-account-key",
        key,
        "--admin",
        ADMIN,
        "--customer",
        "my_customer",
    ];
    args.extend_from_slice(extra);
    s.json(&args);
    // Stored sealed now; the file is not needed any more.
    std::fs::remove_dir_all(&s.dir).unwrap();
    s
}

/// A small Workspace: ada (manager relation, employee id, custom schema), bob, cy (suspended);
/// eng = {ada, bob, ops}, ops = {cy}.
fn seed(fake: &FakeGoogle) {
    let mut ada = user("1001", "ada@example.com", "Ada", "Lovelace");
    ada["organizations"] = json!([{"title": "Engineer", "department": "R&D", "primary": true}]);
    ada["externalIds"] = json!([{"type": "organization", "value": "E-1001"}]);
    ada["relations"] = json!([{"type": "manager", "value": "grace@example.com"}]);
    ada["customSchemas"] = json!({"HR": {"badge": "42"}});
    fake.put_user(ada);
    fake.put_user(user("1002", "bob@example.com", "Bob", "Builder"));
    let mut cy = user("1003", "cy@example.com", "Cy", "Young");
    cy["suspended"] = json!(true);
    fake.put_user(cy);
    fake.put_group(
        group("g-eng", "eng@example.com", "Engineering"),
        vec![
            member("1001", "USER"),
            member("1002", "USER"),
            member("g-ops", "GROUP"),
        ],
    );
    fake.put_group(
        group("g-ops", "ops@example.com", "Operations"),
        vec![member("1003", "USER")],
    );
}

#[derive(Debug, Queryable)]
struct StoredUser {
    user_name: String,
    external_id: Option<String>,
    active: bool,
    given_name: Option<String>,
    job_title: Option<String>,
    department: Option<String>,
    employee_id: Option<String>,
    manager_id: Option<String>,
    resource: String,
    raw: String,
}

fn users(db: &TestDb) -> Vec<StoredUser> {
    use roster::store::schema::directory_users::dsl as u;
    let store = roster::store::Store::open(&db.url).unwrap();
    let mut conn = store.conn().unwrap();
    u::directory_users
        .filter(u::deleted_at.is_null())
        .order(u::user_name)
        .select((
            u::user_name,
            u::external_id,
            u::active,
            u::given_name,
            u::job_title,
            u::department,
            u::employee_id,
            u::manager_id,
            u::resource,
            u::raw,
        ))
        .load(&mut *conn)
        .unwrap()
}

fn user_named<'a>(all: &'a [StoredUser], name: &str) -> &'a StoredUser {
    all.iter().find(|u| u.user_name == name).unwrap_or_else(|| {
        panic!(
            "{name} not stored: {:?}",
            all.iter().map(|u| &u.user_name).collect::<Vec<_>>()
        )
    })
}

/// Every membership as (group displayName, member userName or group displayName), sorted.
fn memberships(db: &TestDb) -> Vec<(String, String)> {
    use roster::store::schema::{directory_groups as g, directory_users as u, memberships as m};
    let store = roster::store::Store::open(&db.url).unwrap();
    let mut conn = store.conn().unwrap();
    let groups: Vec<(String, String)> = g::table
        .filter(g::deleted_at.is_null())
        .select((g::id, g::display_name))
        .load(&mut *conn)
        .unwrap();
    let names: std::collections::HashMap<String, String> = u::table
        .select((u::id, u::user_name))
        .load::<(String, String)>(&mut *conn)
        .unwrap()
        .into_iter()
        .chain(groups.iter().cloned())
        .collect();
    let mut out: Vec<(String, String)> = m::table
        .select((m::group_id, m::member_id))
        .load::<(String, String)>(&mut *conn)
        .unwrap()
        .into_iter()
        .map(|(gid, mid)| (names[&gid].clone(), names[&mid].clone()))
        .collect();
    out.sort();
    out
}

fn event_types(db: &TestDb) -> Vec<String> {
    events(db).into_iter().map(|(_, t, _)| t).collect()
}

fn count(types: &[String], t: &str) -> usize {
    types.iter().filter(|x| *x == t).count()
}

both_backends!(
    first_sync_stores_users_groups_and_memberships,
    |backend| async move {
        let s = setup(backend, &[]);
        seed(&s.fake);
        let test = s.json(&["google", "test", "--directory", "gw"]);
        assert_eq!(test["ok"], json!(true), "{test}");

        let summary = s.sync();
        assert_eq!(summary["users_created"], json!(3), "{summary}");
        assert_eq!(summary["groups_created"], json!(2));

        let all = users(&s.db);
        assert_eq!(all.len(), 3);
        let ada = user_named(&all, "ada@example.com");
        assert_eq!(
            ada.external_id.as_deref(),
            Some("1001"),
            "Google's immutable id is the externalId"
        );
        assert!(ada.active);
        assert_eq!(ada.given_name.as_deref(), Some("Ada"));
        assert_eq!(ada.job_title.as_deref(), Some("Engineer"));
        assert_eq!(ada.department.as_deref(), Some("R&D"));
        assert_eq!(ada.employee_id.as_deref(), Some("E-1001"));
        assert_eq!(ada.manager_id.as_deref(), Some("grace@example.com"));
        let resource: Value = serde_json::from_str(&ada.resource).unwrap();
        let google = &resource["urn:roster:params:scim:schemas:extension:google:2.0:User"];
        assert_eq!(google["customSchemas"]["HR"]["badge"], json!("42"));
        assert_eq!(google["orgUnitPath"], json!("/"));
        let raw: Value = serde_json::from_str(&ada.raw).unwrap();
        assert_eq!(
            raw["etag"],
            json!("\"etag-1001\""),
            "the raw resource is Google's, as received"
        );
        assert!(
            !user_named(&all, "cy@example.com").active,
            "suspended users are inactive"
        );

        assert_eq!(
            memberships(&s.db),
            vec![
                ("Engineering".into(), "Operations".into()),
                ("Engineering".into(), "ada@example.com".into()),
                ("Engineering".into(), "bob@example.com".into()),
                ("Operations".into(), "cy@example.com".into()),
            ],
            "nested groups are kept as group members"
        );
        let types = event_types(&s.db);
        assert_eq!(count(&types, "user.created"), 3);
        assert_eq!(count(&types, "group.created"), 2);
        assert_eq!(count(&types, "group.user_added"), 4);

        let status = s.status();
        assert_eq!(status["status"], json!("ok"), "{status}");
        assert_eq!(status["created"], json!(5));
        assert_eq!(status["deprovisioned"], json!(0));
        assert!(status["last_sync_finished_at"].is_string());
        assert!(status["next_sync_at"].is_string());
    }
);

both_backends!(
    a_sync_without_changes_writes_nothing,
    |backend| async move {
        let s = setup(backend, &[]);
        seed(&s.fake);
        s.sync();
        let before = events(&s.db);
        let versions = users(&s.db)
            .into_iter()
            .map(|u| u.resource)
            .collect::<Vec<_>>();
        // What changes on its own at Google is not a change.
        s.fake.with(|st| {
            for u in st.users.values_mut() {
                u["etag"] = json!("\"new\"");
                u["lastLoginTime"] = json!("2026-05-05T00:00:00.000Z");
                u["thumbnailPhotoEtag"] = json!("\"t\"");
            }
            for g in st.groups.values_mut() {
                g["etag"] = json!("\"new\"");
            }
        });
        let summary = s.sync();
        assert_eq!(summary["users"], json!(3));
        assert_eq!(events(&s.db), before, "no event: {summary}");
        assert_eq!(
            users(&s.db)
                .into_iter()
                .map(|u| u.resource)
                .collect::<Vec<_>>(),
            versions
        );
        let status = s.status();
        assert_eq!(
            (status["created"].clone(), status["updated"].clone()),
            (json!(0), json!(0))
        );
    }
);

both_backends!(
    renames_suspensions_deletions_and_group_moves_are_applied,
    |backend| async move {
        let s = setup(backend, &[]);
        seed(&s.fake);
        s.sync();
        let before = events(&s.db).len();
        s.fake.with(|st| {
            let bob = st.users.get_mut("1002").unwrap();
            bob["primaryEmail"] = json!("robert@example.com");
            bob["name"]["givenName"] = json!("Robert");
            st.users.get_mut("1001").unwrap()["suspended"] = json!(true);
            st.users.remove("1003");
            // bob moves from eng to ops.
            st.members
                .get_mut("g-eng")
                .unwrap()
                .retain(|m| m["id"] != json!("1002"));
            st.members
                .get_mut("g-ops")
                .unwrap()
                .retain(|m| m["id"] != json!("1003"));
            st.members
                .get_mut("g-ops")
                .unwrap()
                .push(member("1002", "USER"));
        });
        let summary = s.sync();
        assert_eq!(summary["users_updated"], json!(2), "{summary}");
        assert_eq!(summary["users_deprovisioned"], json!(1));

        let all = users(&s.db);
        assert_eq!(all.len(), 2);
        let bob = user_named(&all, "robert@example.com");
        assert_eq!(bob.given_name.as_deref(), Some("Robert"));
        assert_eq!(
            bob.external_id.as_deref(),
            Some("1002"),
            "a rename keeps the same row"
        );
        assert!(!user_named(&all, "ada@example.com").active);
        assert_eq!(
            memberships(&s.db),
            vec![
                ("Engineering".into(), "Operations".into()),
                ("Engineering".into(), "ada@example.com".into()),
                ("Operations".into(), "robert@example.com".into()),
            ]
        );
        let types: Vec<String> = event_types(&s.db).split_off(before);
        assert_eq!(count(&types, "user.updated"), 1, "{types:?}");
        assert_eq!(
            count(&types, "user.deactivated"),
            1,
            "suspension deactivates"
        );
        assert_eq!(count(&types, "user.deleted"), 1);
        {
            // The directory's policy (for google by default: soft delete) decided how.
            use roster::store::schema::directory_users::dsl as u;
            let store = roster::store::Store::open(&s.db.url).unwrap();
            let mut conn = store.conn().unwrap();
            let state: String = u::directory_users
                .filter(u::external_id.eq("1003"))
                .select(u::state)
                .first(&mut *conn)
                .unwrap();
            assert_eq!(state, "deleted");
        }
        assert_eq!(count(&types, "group.user_added"), 1);
        // eng loses bob; ops loses cy when cy is deleted.
        assert_eq!(count(&types, "group.user_removed"), 2);
        assert_eq!(s.status()["deprovisioned"], json!(1));

        // A deleted group goes too, and its memberships with it.
        s.fake.with(|st| {
            st.groups.remove("g-ops");
            st.members
                .get_mut("g-eng")
                .unwrap()
                .retain(|m| m["id"] != json!("g-ops"));
        });
        let summary = s.sync();
        assert_eq!(summary["groups_deprovisioned"], json!(1), "{summary}");
        assert_eq!(
            memberships(&s.db),
            vec![("Engineering".into(), "ada@example.com".into())]
        );
    }
);

both_backends!(
    a_sync_failing_halfway_deprovisions_nobody,
    |backend| async move {
        let s = setup(backend, &[]);
        s.fake.populate(1200, 3);
        s.sync();
        assert_eq!(users(&s.db).len(), 1200);
        let deleted_before = count(&event_types(&s.db), "user.deleted");
        // Users leave Google, and page 2 of 3 keeps failing: nothing may be deprovisioned.
        s.fake.with(|st| {
            st.users.remove("000000001");
            st.users.remove("000001200");
            st.users.get_mut("000000002").unwrap()["name"]["givenName"] = json!("Changed");
        });
        s.fake.fail(
            "/admin/directory/v1/users",
            Some(2),
            500,
            "backendError",
            100,
        );
        let out = s.run(&["google", "sync", "--directory", "gw"]);
        assert!(!out.status.success(), "the sync must fail");
        assert_eq!(users(&s.db).len(), 1200, "nobody deprovisioned");
        assert_eq!(count(&event_types(&s.db), "user.deleted"), deleted_before);
        let status = s.status();
        assert_eq!(status["status"], json!("error"), "{status}");
        assert!(
            status["last_error"].as_str().unwrap().contains("500"),
            "{status}"
        );
        // What page 1 said was applied all the same.
        assert_eq!(
            user_named(&users(&s.db), "u1@example.com")
                .given_name
                .as_deref(),
            Some("Changed")
        );

        // Once Google answers again, the complete listing deprovisions the two.
        s.fake.with(|st| st.faults.clear());
        let summary = s.sync();
        assert_eq!(summary["users_deprovisioned"], json!(2), "{summary}");
        assert_eq!(users(&s.db).len(), 1198);
        assert_eq!(s.status()["status"], json!("ok"));
    }
);

both_backends!(
    rate_limits_and_server_errors_are_retried,
    |backend| async move {
        let s = setup(backend, &[]);
        seed(&s.fake);
        s.fake.fail(
            "/admin/directory/v1/users",
            None,
            403,
            "userRateLimitExceeded",
            2,
        );
        s.fake.fail(
            "/admin/directory/v1/groups",
            None,
            429,
            "rateLimitExceeded",
            1,
        );
        s.fake.fail(
            "/admin/directory/v1/groups/g-eng/members",
            None,
            503,
            "backendError",
            1,
        );
        s.fake.fail(
            "/admin/directory/v1/groups/g-ops/members",
            None,
            403,
            "quotaExceeded",
            1,
        );
        let summary = s.sync();
        assert_eq!(summary["users_created"], json!(3), "{summary}");
        assert_eq!(memberships(&s.db).len(), 4);
        let (user_lists, token_requests) = s.fake.with(|st| {
            (
                st.requests
                    .iter()
                    .filter(|r| r.starts_with("GET /admin/directory/v1/users?"))
                    .count(),
                st.token_requests,
            )
        });
        assert_eq!(user_lists, 3, "two refusals, then the page");
        assert_eq!(
            token_requests, 1,
            "the access token is reused across requests"
        );
    }
);

both_backends!(
    refused_credentials_mark_the_directory_once,
    |backend| async move {
        let s = setup(backend, &[]);
        seed(&s.fake);
        s.fake.with(|st| st.delegated = false);
        let test = s.run(&["--json", "google", "test", "--directory", "gw"]);
        assert!(!test.status.success());
        let checks: Value = serde_json::from_slice(&test.stdout).unwrap();
        let detail = checks["checks"][0]["detail"].as_str().unwrap();
        assert!(
            detail.contains("admin.directory.user.readonly"),
            "names the scopes: {detail}"
        );

        for _ in 0..2 {
            let out = s.run(&["google", "sync", "--directory", "gw"]);
            assert!(!out.status.success());
            assert!(String::from_utf8_lossy(&out.stderr).contains("invalid credentials"));
        }
        let status = s.status();
        assert_eq!(status["status"], json!("invalid_credentials"), "{status}");
        assert!(
            status["last_error"]
                .as_str()
                .unwrap()
                .contains("unauthorized_client")
        );
        assert_eq!(
            count(&event_types(&s.db), "directory.invalid_credentials"),
            1,
            "one event per transition"
        );
        assert!(users(&s.db).is_empty());

        // A scope the admin did not delegate shows up as a 403 on its API and is named.
        s.fake.with(|st| {
            st.delegated = true;
            st.forbidden.push("groups".into());
        });
        let test = s.run(&["--json", "google", "test", "--directory", "gw"]);
        let checks: Value = serde_json::from_slice(&test.stdout).unwrap();
        assert_eq!(checks["checks"][1]["ok"], json!(true), "{checks}");
        assert_eq!(checks["checks"][2]["ok"], json!(false));
        assert!(
            checks["checks"][2]["detail"]
                .as_str()
                .unwrap()
                .contains("admin.directory.group.readonly")
        );

        s.fake.with(|st| st.forbidden.clear());
        s.sync();
        assert_eq!(s.status()["status"], json!("ok"));
    }
);

both_backends!(
    a_group_filter_syncs_only_those_groups_members,
    |backend| async move {
        let s = setup(backend, &["--groups", "ops@example.com"]);
        seed(&s.fake);
        s.fake
            .put_user(user("1004", "dee@example.com", "Dee", "Outside"));
        s.sync();
        let names: Vec<String> = users(&s.db).into_iter().map(|u| u.user_name).collect();
        assert_eq!(names, vec!["cy@example.com"]);
        assert_eq!(
            memberships(&s.db),
            vec![("Operations".into(), "cy@example.com".into())]
        );
        // Leaving the group is leaving the sync.
        s.fake.with(|st| {
            st.members
                .insert("g-ops".into(), vec![member("1002", "USER")])
        });
        let summary = s.sync();
        assert_eq!(summary["users_deprovisioned"], json!(1), "{summary}");
        let names: Vec<String> = users(&s.db).into_iter().map(|u| u.user_name).collect();
        assert_eq!(names, vec!["bob@example.com"]);
    }
);

both_backends!(
    a_customer_member_stands_for_everyone,
    |backend| async move {
        let s = setup(backend, &[]);
        seed(&s.fake);
        s.fake.put_group(
            group("g-all", "all@example.com", "Everyone"),
            vec![member(fake_google::CUSTOMER, "CUSTOMER")],
        );
        s.sync();
        let everyone: Vec<String> = memberships(&s.db)
            .into_iter()
            .filter(|(g, _)| g == "Everyone")
            .map(|(_, m)| m)
            .collect();
        assert_eq!(
            everyone,
            vec!["ada@example.com", "bob@example.com", "cy@example.com"]
        );
    }
);

both_backends!(the_key_is_sealed_and_never_printed, |backend| async move {
    let s = setup(backend, &[]);
    let key_marker = "BEGIN PRIVATE KEY";
    {
        use roster::store::schema::google_directories::dsl as gd;
        let store = roster::store::Store::open(&s.db.url).unwrap();
        let mut conn = store.conn().unwrap();
        let sealed: String = gd::google_directories
            .select(gd::sealed_key)
            .first(&mut *conn)
            .unwrap();
        assert!(!sealed.contains(key_marker));
        assert!(!sealed.contains(&hex::encode(key_marker)));
    }
    seed(&s.fake);
    for args in [
        vec!["google", "sync", "--directory", "gw"],
        vec!["directory", "status", "gw"],
        vec!["--json", "directory", "status", "gw"],
    ] {
        let out = s.run(&args);
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !printed.contains(key_marker) && !printed.contains("ya29."),
            "{printed}"
        );
    }
    // Without the server key there is no Google directory to create, and nothing is stored.
    let mut cmd = Command::new(roster_bin());
    std::fs::create_dir_all(&s.dir).unwrap();
    let key = s.fake.key_file(&s.dir);
    let out = cmd
        .args([
            "directory",
            "create",
            "--tenant",
            "acme",
            "--kind",
            "google",
            "gw2",
        ])
        .args([
            "--service-account-key",
            key.to_str().unwrap(),
            "--admin",
            ADMIN,
        ])
        .env("ROSTER_DATABASE_URL", &s.db.url)
        .env_remove("ROSTER_SECRET_KEY")
        .env_remove("ROSTER_CONFIG")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&s.dir).unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ROSTER_SECRET_KEY"));
    let listed = s.json(&["directory", "list"]);
    assert_eq!(listed["directories"].as_array().unwrap().len(), 1);
    // A different server key cannot open the stored key.
    let out = Command::new(roster_bin())
        .args(["google", "sync", "--directory", "gw"])
        .env("ROSTER_DATABASE_URL", &s.db.url)
        .env("ROSTER_SECRET_KEY", SECRET_KEY.replace('4', "5"))
        .env("ROSTER_GOOGLE_API_URL", &s.fake.url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be decrypted"));
});

/// Polls `check` until it holds, for up to 20 s.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

both_backends!(
    serve_syncs_on_schedule_and_follows_push_notifications,
    |backend| async move {
        let s = setup(backend, &["--interval", "1h"]);
        seed(&s.fake);
        let mut env: Vec<(&str, String)> = s.env();
        env.push(("ROSTER_GOOGLE_WATCH", "true".into()));
        // A short channel lifetime, so the renewal happens within the test.
        env.push(("ROSTER_GOOGLE_WATCH_TTL_SECS", "20".into()));
        let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let Setup { db, fake, .. } = s;
        let server = TestServer::start_on(db, String::new(), &env_refs).await;
        let origin = server.client.base.trim_end_matches("/scim/v2").to_string();
        let db = &server.db;

        eventually("the first scheduled sync", || users(db).len() == 3).await;
        eventually("a push channel", || fake.with(|st| !st.watches.is_empty())).await;
        let channel = fake.with(|st| st.watches.last().cloned().unwrap());
        let directory_id = cli_json(db, &["directory", "list"])["directories"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            channel["address"],
            json!(format!("{origin}/google/notifications/{directory_id}"))
        );
        assert_eq!(channel["type"], json!("web_hook"));

        let http = reqwest::Client::new();
        let notify = |token: &str, state: &str, id: &str| {
            http.post(channel["address"].as_str().unwrap())
            .header("X-Goog-Channel-ID", channel["id"].as_str().unwrap())
            .header("X-Goog-Channel-Token", token)
            .header("X-Goog-Resource-State", state)
            .header("X-Goog-Message-Number", "2")
            .json(&json!({"kind": "admin#directory#user", "id": id, "primaryEmail": "x@example.com"}))
            .send()
        };
        let token = channel["token"].as_str().unwrap();
        assert_eq!(
            notify("wrong", "update", "1002").await.unwrap().status(),
            401
        );
        assert_eq!(notify(token, "sync", "1002").await.unwrap().status(), 200);

        // An hour before the next full sync, only the push can bring these changes in.
        fake.with(|st| {
            st.users.get_mut("1002").unwrap()["name"]["givenName"] = json!("Pushed");
            st.users.remove("1003");
        });
        assert_eq!(notify(token, "update", "1002").await.unwrap().status(), 200);
        eventually("the pushed update", || {
            users(db)
                .iter()
                .any(|u| u.given_name.as_deref() == Some("Pushed"))
        })
        .await;
        assert_eq!(notify(token, "delete", "1003").await.unwrap().status(), 200);
        eventually("the pushed deletion", || users(db).len() == 2).await;
        let reads = fake.with(|st| {
            st.requests
                .iter()
                .filter(|r| r.starts_with("GET /admin/directory/v1/users?"))
                .count()
        });
        assert_eq!(
            reads, 1,
            "push notifications re-read single users, not the list"
        );

        // The channel is renewed before it expires, and the old one stopped.
        eventually("a renewed channel", || {
            fake.with(|st| st.watches.len() >= 2 && !st.stops.is_empty())
        })
        .await;
        let stopped = fake.with(|st| st.stops[0].clone());
        assert_eq!(stopped["id"], channel["id"]);
        let status = cli_json(db, &["directory", "status", "gw"]);
        assert_eq!(status["status"], json!("ok"), "{status}");
        drop(server);
    }
);

both_backends!(
    a_channel_is_renewed_from_the_expiry_google_grants,
    |backend| async move {
        let s = setup(backend, &["--interval", "1h"]);
        seed(&s.fake);
        // Roster asks for the default 6 h; Google grants 12 s.
        s.fake.with(|st| st.channel_ttl_cap = Some(12));
        let mut env: Vec<(&str, String)> = s.env();
        env.push(("ROSTER_GOOGLE_WATCH", "true".into()));
        let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let Setup { db, fake, .. } = s;
        let server = TestServer::start_on(db, String::new(), &env_refs).await;
        let db = &server.db;
        let watches = || fake.with(|st| st.watches.len());

        eventually("a push channel", || watches() == 1).await;
        let opened = Instant::now();
        let status = cli_json(db, &["directory", "status", "gw"]);
        let expires =
            chrono::DateTime::parse_from_rfc3339(status["watch_expires_at"].as_str().unwrap())
                .unwrap()
                .with_timezone(&chrono::Utc);
        let granted = (expires - chrono::Utc::now()).num_seconds();
        assert!(
            (8..=12).contains(&granted),
            "the expiry Google granted is kept: {status}"
        );

        // Before, a channel lifetime asked for (6 h) and not granted made every tick renew.
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert_eq!(
            watches(),
            1,
            "no new channel while the granted one has time left"
        );
        eventually("the renewal", || watches() == 2).await;
        let renewed_after = opened.elapsed();
        assert!(
            renewed_after >= Duration::from_secs(4) && renewed_after < Duration::from_secs(12),
            "renewed shortly before the granted expiry, not at once nor after it: {renewed_after:?}"
        );
        eventually("the old channel stopped", || {
            fake.with(|st| st.stops.len()) == 1
        })
        .await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            watches(),
            2,
            "the new channel is not renewed at once either"
        );
        drop(server);
    }
);

both_backends!(one_sync_per_directory_at_a_time, |backend| async move {
    let s = setup(backend, &[]);
    s.fake.populate(50, 2);
    s.fake.with(|st| st.delay = Duration::from_millis(300));
    let first = {
        let mut cmd = Command::new(roster_bin());
        cmd.args(["google", "sync", "--directory", "gw"])
            .env("ROSTER_DATABASE_URL", &s.db.url)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (k, v) in s.env() {
            cmd.env(k, v);
        }
        cmd.spawn().unwrap()
    };
    let db = &s.db;
    eventually("the first sync to start", || {
        cli_json(db, &["directory", "status", "gw"])["last_sync_started_at"].is_string()
    })
    .await;
    let second = s.run(&["google", "sync", "--directory", "gw"]);
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("another sync"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let out = first.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(users(&s.db).len(), 50);
    s.fake.with(|st| st.delay = Duration::ZERO);
    s.sync();
});

both_backends!(
    push_answers_alike_for_unknown_directories_and_bad_tokens,
    |backend| async move {
        let s = setup(backend, &["--interval", "1h"]);
        let env: Vec<(&str, String)> = s.env();
        let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let Setup { db, fake, .. } = s;
        let server = TestServer::start_on(db, String::new(), &env_refs).await;
        let origin = server.client.base.trim_end_matches("/scim/v2").to_string();
        let google_id = cli_json(&server.db, &["directory", "list"])["directories"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let http = reqwest::Client::new();
        let mut answers = Vec::new();
        for directory in [google_id.as_str(), "00000000-0000-7000-8000-000000000000"] {
            let r = http
                .post(format!("{origin}/google/notifications/{directory}"))
                .header("X-Goog-Channel-ID", "guessed")
                .header("X-Goog-Channel-Token", "guessed")
                .header("X-Goog-Resource-State", "update")
                .json(&json!({"id": "1002"}))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            answers.push((status, r.text().await.unwrap()));
        }
        assert_eq!(answers[0].0, 401, "{answers:?}");
        assert_eq!(answers[0], answers[1]);
        drop(server);
        drop(fake);
    }
);

both_backends!(a_disabled_directory_is_not_synced, |backend| async move {
    let s = setup(backend, &[]);
    seed(&s.fake);
    s.json(&["directory", "disable", "gw"]);
    let env: Vec<(&str, String)> = s.env();
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let Setup { db, fake, .. } = s;
    let asked_before = fake.with(|st| st.requests.len());
    let server = TestServer::start_on(db, String::new(), &env_refs).await;
    // The scheduler looks every second; a few of its rounds pass.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let asked = fake.with(|st| st.requests[asked_before..].to_vec());
    assert!(
        asked.is_empty(),
        "a disabled directory asked Google: {asked:?}"
    );
    assert!(users(&server.db).is_empty());
    cli_json(&server.db, &["directory", "enable", "gw"]);
    eventually("the first sync once enabled", || {
        users(&server.db).len() == 3
    })
    .await;
});

both_backends!(
    google_directories_over_the_admin_api,
    |backend| async move {
        use reqwest::Method;
        let fake = FakeGoogle::start();
        seed(&fake);
        let server = TestServer::start_with_env(
            backend,
            &[
                ("ROSTER_SECRET_KEY", SECRET_KEY),
                ("ROSTER_GOOGLE_API_URL", &fake.url),
                ("ROSTER_GOOGLE_BACKOFF_MS", "5"),
            ],
        )
        .await;
        let key = cli_json(&server.db, &["admin-key", "issue"])["key"]
            .as_str()
            .unwrap()
            .to_string();
        let admin = server.api(&key);
        let tenant = admin.get("/admin/tenants").await.body["data"][0]["id"].clone();
        let dir =
            std::env::temp_dir().join(format!("roster-gapi-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let key_file: Value =
            serde_json::from_slice(&std::fs::read(fake.key_file(&dir)).unwrap()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let private_key = key_file["private_key"].as_str().unwrap().to_string();
        let google = json!({"service_account_key": key_file, "admin": ADMIN,
                        "groups": ["ENG@example.com"], "interval": "10m"});
        let directories = || async { admin.get("/admin/directories").await.body["data"].clone() };
        let before = directories().await;

        let mut bad_key = google.clone();
        bad_key["service_account_key"] = json!({"type": "service_account"});
        let mut bad_admin = google.clone();
        bad_admin["admin"] = json!("nobody");
        for (body, status, why) in [
            (
                json!({"tenant_id": tenant, "name": "g0", "kind": "google",
                       "google": {"interval": "often"}}),
                400,
                "bad interval",
            ),
            (
                json!({"tenant_id": tenant, "name": "g1", "kind": "okta", "google": google}),
                400,
                "not google",
            ),
            (
                json!({"tenant_id": tenant, "name": "g2", "kind": "google", "google": bad_key}),
                400,
                "bad key",
            ),
            (
                json!({"tenant_id": tenant, "name": "g3", "kind": "google", "google": bad_admin}),
                400,
                "bad admin",
            ),
        ] {
            let r = admin
                .send(Method::POST, "/admin/directories", Some(&body))
                .await;
            assert_eq!(r.status.as_u16(), status, "{why}: {}", r.body);
        }
        assert_eq!(
            directories().await,
            before,
            "a refused directory leaves nothing behind"
        );

        let body = json!({"tenant_id": tenant, "name": "gw", "kind": "google", "google": google});
        let made = admin
            .send(Method::POST, "/admin/directories", Some(&body))
            .await;
        assert_eq!(made.status.as_u16(), 201, "{}", made.body);
        assert_eq!(made.body["kind"], json!("google"));
        assert!(
            made.body.get("token").is_none(),
            "Roster pulls: no SCIM token"
        );
        assert_eq!(made.body["google"]["admin_email"], json!(ADMIN));
        let id = made.body["id"].as_str().unwrap();
        let settings = admin.get(&format!("/admin/directories/{id}/google")).await;
        assert_eq!(settings.status.as_u16(), 200);
        assert_eq!(settings.body["groups"], json!(["eng@example.com"]));
        assert_eq!(settings.body["interval_secs"], json!(600));
        assert_eq!(settings.body["status"], json!("never_synced"));
        for answer in [&made.body, &settings.body] {
            assert!(
                !answer.to_string().contains(&private_key[40..80]),
                "the key is never shown"
            );
        }
        let tested = admin
            .send(
                Method::POST,
                &format!("/admin/directories/{id}/google/test"),
                None,
            )
            .await;
        assert_eq!(tested.status.as_u16(), 200, "{}", tested.body);
        assert_eq!(tested.body["ok"], json!(true), "{}", tested.body);
        // The key was sealed with the server key: the server's own scheduler opens it and syncs.
        let deadline = Instant::now() + Duration::from_secs(30);
        let synced = loop {
            let now = admin
                .get(&format!("/admin/directories/{id}/google"))
                .await
                .body;
            if now["status"] != json!("never_synced") || Instant::now() > deadline {
                break now;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(synced["status"], json!("ok"), "{synced}");
        assert!(synced["last_created"].as_i64().unwrap() > 0, "{synced}");

        let main = directories()
            .await
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == json!("main"))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        for path in [
            format!("/admin/directories/{main}/google"),
            "/admin/directories/nope/google".into(),
        ] {
            assert_eq!(admin.get(&path).await.status.as_u16(), 404, "{path}");
        }
    }
);

/// The benchmark's shape, small: heavy-tailed groups, nesting, outsiders, Unicode, custom
/// schemas over three domains.
fn small_realistic() -> fake_google::Shape {
    fake_google::Shape {
        max_group: 400,
        ..fake_google::Shape::realistic(1500, 60)
    }
}

both_backends!(
    a_realistic_workspace_syncs_then_rests,
    |backend| async move {
        let s = setup(backend, &[]);
        let shape = small_realistic();
        s.fake.populate_shape(&shape);
        // One outsider in two groups: two external memberships, one address.
        s.fake.with(|st| {
            st.members
                .get_mut("g000001")
                .unwrap()
                .push(fake_google::external_member(0))
        });
        let summary = s.sync();
        assert_eq!(summary["users_created"], json!(1500), "{summary}");
        assert_eq!(summary["groups_created"], json!(60), "{summary}");
        let all = users(&s.db);
        assert_eq!(all.len(), 1500, "outsiders are not Workspace users");
        assert!(all.iter().any(|u| u.given_name.as_deref() == Some("Zoë")));
        assert!(all.iter().any(|u| u.user_name.ends_with("@eu.example.com")));
        let resource: Value = serde_json::from_str(&all[0].resource).unwrap();
        let google = &resource["urn:roster:params:scim:schemas:extension:google:2.0:User"];
        assert!(
            google["customSchemas"]["Access"]["clearance"].is_array(),
            "{google}"
        );
        let nested = (0..60)
            .filter(|j| j % shape.nested_every == 0)
            .map(|j| [j + 1, j + 7].iter().filter(|c| **c < 60).count())
            .sum::<usize>();
        let direct: usize = (0..60).map(|j| fake_google::group_size(j, &shape)).sum();
        assert_eq!(memberships(&s.db).len(), direct + nested);
        assert_eq!(fake_google::group_size(0, &shape), 400, "the largest group");

        // Groups 0, 25 and 50 hold 1, 2 and 3 outsiders, and group 1 one of group 0's.
        assert_eq!(summary["external_members"], json!(7), "{summary}");
        let status = s.status();
        assert_eq!(
            status["external_members"],
            json!({"memberships": 7, "addresses": 6}),
            "{status}"
        );
        let text = String::from_utf8(s.run(&["directory", "status", "gw"]).stdout).unwrap();
        assert!(
            text.contains("external members: 7 in groups (6 addresses)"),
            "{text}"
        );

        let before = events(&s.db);
        let again = s.sync();
        assert_eq!(again["users"], json!(1500), "{again}");
        assert_eq!(again["memberships_changed"], json!(0), "{again}");
        assert_eq!(
            events(&s.db).len(),
            before.len(),
            "no change, no event: {again}"
        );

        // An outsider leaves a group: recorded, and still no event (no user, no membership).
        s.fake
            .with(|st| st.members.get_mut("g000001").unwrap().pop());
        s.sync();
        assert_eq!(
            s.status()["external_members"],
            json!({"memberships": 6, "addresses": 6})
        );
        assert_eq!(events(&s.db).len(), before.len());
    }
);
