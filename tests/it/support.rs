//! Starts real `roster` processes over fresh databases, and talks HTTP to them as an IdP would.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs one async test body against each backend.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let f = $body;
                f($crate::support::Backend::Sqlite).await;
            }

            #[tokio::test]
            async fn postgres() {
                let f = $body;
                f($crate::support::Backend::Postgres).await;
            }
        }
    };
}

fn admin_url() -> String {
    std::env::var("ROSTER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database of its own for one test, removed when dropped.
pub struct TestDb {
    pub url: String,
    backend: Backend,
    name: String,
    file: Option<PathBuf>,
}

impl TestDb {
    pub fn new(backend: Backend) -> TestDb {
        let name = format!("roster_test_{}", uuid::Uuid::new_v4().simple());
        match backend {
            Backend::Sqlite => {
                let file = std::env::temp_dir().join(format!("{name}.db"));
                TestDb {
                    url: format!("sqlite://{}", file.display()),
                    backend,
                    name,
                    file: Some(file),
                }
            }
            Backend::Postgres => {
                let admin = admin_url();
                let mut conn = PgConnection::establish(&admin).unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is required for these tests and is not reachable at {admin}: {e}. \
                         Run `bash scripts/test.sh`, which starts one if needed."
                    )
                });
                // Not the cluster's locale, which test clusters make C (byte order) and so
                // hide every answer that depends on collation: ICU's en-US, which orders "é"
                // before "z" and "a" before "B". PostgreSQL 15 packages carry ICU, so nothing
                // needs installing.
                diesel::sql_query(format!(
                    "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' \
                     LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'"
                ))
                .execute(&mut conn)
                .expect("create test database");
                let (base, _) = admin.rsplit_once('/').expect("admin URL names a database");
                TestDb {
                    url: format!("{base}/{name}"),
                    backend,
                    name,
                    file: None,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self.backend {
            Backend::Sqlite => {
                if let Some(file) = &self.file {
                    for suffix in [
                        "",
                        "-wal",
                        "-shm",
                        "-requests",
                        "-requests-wal",
                        "-requests-shm",
                        ".key",
                    ] {
                        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                    }
                }
            }
            Backend::Postgres => {
                if let Ok(mut conn) = PgConnection::establish(&admin_url()) {
                    let _ = diesel::sql_query(format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        self.name
                    ))
                    .execute(&mut conn);
                }
            }
        }
    }
}

pub fn roster_bin() -> &'static str {
    env!("CARGO_BIN_EXE_roster")
}

/// Runs the `roster` CLI against `db`.
pub fn cli(db: &TestDb, args: &[&str]) -> Output {
    Command::new(roster_bin())
        .args(args)
        .env("ROSTER_DATABASE_URL", &db.url)
        .env_remove("ROSTER_CONFIG")
        .output()
        .expect("run roster")
}

/// Runs `roster --json ARGS` and parses its one JSON object; panics with stderr on failure.
pub fn cli_json(db: &TestDb, args: &[&str]) -> Value {
    let mut full = vec!["--json"];
    full.extend_from_slice(args);
    let out = cli(db, &full);
    assert!(
        out.status.success(),
        "roster {args:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "roster {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// `roster directory create --tenant acme --kind KIND NAME`: the directory as JSON, its token
/// under `token`.
pub fn create_directory(db: &TestDb, kind: &str, name: &str) -> Value {
    cli_json(
        db,
        &[
            "directory",
            "create",
            "--tenant",
            "acme",
            "--kind",
            kind,
            name,
        ],
    )
}

/// One SCIM client of one directory.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub token: String,
    http: reqwest::Client,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn id(&self) -> String {
        self.body["id"].as_str().expect("resource id").to_string()
    }
}

impl Client {
    pub fn with_token(&self, token: &str) -> Client {
        Client {
            token: token.to_string(),
            ..self.clone()
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(body) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(body.to_string());
        }
        let resp = req.send().await.expect("request reaches the server");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("response body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Response {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.send(Method::PUT, path, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(Method::DELETE, path, None, &[]).await
    }

    pub async fn raw(&self, method: Method, path: &str, body: &str) -> Response {
        let resp = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
            .await
            .expect("request reaches the server");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.json().await.unwrap_or(Value::Null);
        Response {
            status,
            headers,
            body,
        }
    }
}

/// A running server over its own database, with one tenant and directory ready.
pub struct TestServer {
    pub db: TestDb,
    pub client: Client,
    child: Child,
}

impl TestServer {
    /// A server whose database holds tenant `acme` with directory `main` (kind `generic`).
    pub async fn start(backend: Backend) -> TestServer {
        Self::start_with_env(backend, &[]).await
    }

    /// `start`, with extra environment for `roster serve`.
    pub async fn start_with_env(backend: Backend, env: &[(&str, &str)]) -> TestServer {
        let db = TestDb::new(backend);
        let migrated = cli(&db, &["migrate"]);
        assert!(
            migrated.status.success(),
            "{}",
            String::from_utf8_lossy(&migrated.stderr)
        );
        cli_json(&db, &["tenant", "create", "acme"]);
        let dir = create_directory(&db, "generic", "main");
        let token = dir["token"].as_str().expect("token").to_string();
        Self::start_on(db, token, env).await
    }

    /// Starts `roster serve` on an existing database, with extra environment.
    pub async fn start_on(db: TestDb, token: String, env: &[(&str, &str)]) -> TestServer {
        let (child, origin) = spawn_serve(&db.url, env);
        TestServer {
            client: Client {
                base: format!("{origin}/scim/v2"),
                token,
                http: reqwest::Client::new(),
            },
            db,
            child,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        self.client.base.trim_end_matches("/scim/v2").to_string()
    }

    /// A client of the application API with `key`.
    pub fn api(&self, key: &str) -> Api {
        Api::new(&self.origin(), key)
    }

    /// Another `roster serve` on the same database, stopped when dropped.
    pub fn another_instance(&self, env: &[(&str, &str)]) -> Instance {
        let (child, origin) = spawn_serve(&self.db.url, env);
        Instance { child, origin }
    }

    /// Sends the server SIGTERM and waits up to `within` for it to exit; its exit status.
    pub fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success());
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for roster serve") {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "roster serve did not exit within {within:?} of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server and hands back its database.
    pub fn stop(mut self) -> TestDb {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(
            &mut self.db,
            TestDb {
                url: String::new(),
                backend: Backend::Sqlite,
                name: String::new(),
                file: None,
            },
        )
    }
}

/// Starts `roster serve` on `url` at a free port; returns the process and its origin.
fn spawn_serve(url: &str, env: &[(&str, &str)]) -> (Child, String) {
    let mut command = Command::new(roster_bin());
    command
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("ROSTER_DATABASE_URL", url)
        .env("ROSTER_LOG", "warn")
        .env_remove("ROSTER_PUBLIC_URL")
        .env_remove("ROSTER_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("start roster serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut printed = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) {
        if let Some(rest) = line.strip_prefix("roster: listening on ") {
            let origin = rest.split_whitespace().next().unwrap_or_default();
            return (child, origin.to_string());
        }
        printed.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("roster serve did not start; it printed: {printed:?}");
}

/// A second server process on a test's database.
pub struct Instance {
    child: Child,
    pub origin: String,
}

impl Instance {
    /// `roster serve` on `db`, which it migrates itself when it must, stopped when dropped.
    pub fn start(db: &TestDb, env: &[(&str, &str)]) -> Instance {
        let (child, origin) = spawn_serve(&db.url, env);
        Instance { child, origin }
    }

    pub fn api(&self, key: &str) -> Api {
        Api::new(&self.origin, key)
    }

    pub fn scim(&self, token: &str) -> Client {
        Client {
            base: format!("{}/scim/v2", self.origin),
            token: token.to_string(),
            http: reqwest::Client::new(),
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client of the application API under `/api/v1`.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub key: String,
    http: reqwest::Client,
}

impl Api {
    pub fn new(origin: &str, key: &str) -> Api {
        Api {
            base: format!("{origin}/api/v1"),
            key: key.to_string(),
            http: reqwest::Client::new(),
        }
    }

    /// GET `path` (with its query); the status and the body, as JSON when it is JSON. A GET
    /// is sent again when the connection fails before any answer (a pooled keep-alive
    /// connection the server was closing), as an application's client would.
    pub async fn get(&self, path: &str) -> Response {
        let url = format!("{}{path}", self.base);
        let mut tries = 0;
        let resp = loop {
            match self.http.get(&url).bearer_auth(&self.key).send().await {
                Ok(resp) => break resp,
                Err(e) if tries < 3 && e.is_request() => tries += 1,
                Err(e) => panic!("request reaches the server: {e:?}"),
            }
        };
        Self::answer(resp).await
    }

    /// Any method, with a JSON body when given; sent once.
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        Self::answer(req.send().await.expect("request reaches the server")).await
    }

    async fn answer(resp: reqwest::Response) -> Response {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("response body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Response {
            status,
            headers,
            body,
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `db`'s URL with Roster's statement timeout set to `ms` milliseconds.
pub fn with_statement_timeout(db: &TestDb, ms: u64) -> String {
    let joiner = if db.url.contains('?') { '&' } else { '?' };
    format!("{}{joiner}statement_timeout={ms}", db.url)
}

/// A SCIM User body with the fields IdPs usually send.
pub fn user_body(user_name: &str) -> Value {
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "externalId": format!("ext-{user_name}"),
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "displayName": "Babs Jensen",
        "emails": [{"value": user_name, "type": "work", "primary": true}],
        "active": true
    })
}

pub fn group_body(name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members
        .iter()
        .map(|m| serde_json::json!({"value": m}))
        .collect();
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": name,
        "members": members
    })
}

pub fn patch_body(ops: Value) -> Value {
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": ops
    })
}

/// Every event row, oldest first: (cursor, type, resource id).
/// `directory.activated` (written by the first request) is left out.
pub fn events(db: &TestDb) -> Vec<(i64, String, String)> {
    use diesel::prelude::*;
    use roster::store::Store;
    use roster::store::schema::events::dsl as e;
    let store = Store::open(&db.url).expect("open store");
    let mut conn = store.conn().expect("connection");
    e::events
        .filter(e::event_type.ne("directory.activated"))
        .order(e::cursor)
        .select((e::cursor, e::event_type, e::resource_id))
        .load(&mut *conn)
        .expect("read events")
}

/// Headless Chromium driven over WebDriver by a chromedriver of its own on a free port; both
/// from Debian's packages, installed by `scripts/install-browser.sh`. Without them a test
/// fails, never skips. Chromedriver and the browser it starts share a process group, ended
/// together when dropped.
pub struct Browser {
    pub client: fantoccini::Client,
    driver: Child,
    _profile: TempDir,
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

impl Browser {
    /// A browser with a laptop-sized window.
    pub async fn start() -> Browser {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(tool).exists(),
                "{tool} is missing: the console's browser tests need Debian's chromium and \
                 chromium-driver; run `bash scripts/install-browser.sh` (scripts/test.sh does)"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut command = Command::new(CHROMEDRIVER);
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command.spawn().expect("start chromedriver");
        let profile =
            TempDir(std::env::temp_dir().join(format!("roster-chromium-{}", uuid::Uuid::new_v4())));
        // The flags Chromium needs as root in a container with no network beyond loopback.
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // Crash reporting would start handlers outside the process group.
            "--disable-crash-reporter",
            "--disable-breakpad",
            "--window-size=1280,860",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", profile.0.display())])
        .collect::<Vec<_>>();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({"binary": CHROMIUM, "args": args}),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last = String::new();
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match fantoccini::ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        driver,
                        _profile: profile,
                    };
                }
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver on port {port} did not start a browser: {last}");
    }

    /// Clicks `element` and waits until the page it leads to has loaded: a mark left on the
    /// old page's `window` is gone from the new one.
    pub async fn click_and_wait(&self, element: fantoccini::elements::Element) {
        self.client
            .execute("window.__rosterOld = true;", vec![])
            .await
            .expect("mark the page");
        element.click().await.expect("click");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let loaded = self
                .client
                .execute(
                    "return window.__rosterOld === undefined && document.readyState === 'complete';",
                    vec![],
                )
                .await;
            if matches!(loaded, Ok(serde_json::Value::Bool(true))) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no new page within 20 s of a click"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Ends the browser session; the driver and what it started go when dropped.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole process group: chromedriver and the Chromium processes it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.wait();
    }
}
