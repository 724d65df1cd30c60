//! SIGTERM: the server stops accepting, finishes what is in flight, and exits with every
//! acknowledged write kept and no webhook stream left leased.

use std::time::Duration;

use diesel::{Connection, RunQueryDsl};

use crate::both_backends;
use crate::receiver::Receiver;
use crate::support::*;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn leased_streams(db: &TestDb) -> i64 {
    let sql = "SELECT COUNT(*) AS n FROM webhook_streams WHERE lease_owner IS NOT NULL";
    let counted: Count = match db.url.strip_prefix("sqlite://") {
        Some(path) => {
            let mut c = diesel::SqliteConnection::establish(path).unwrap();
            diesel::sql_query(sql).get_result(&mut c).unwrap()
        }
        None => {
            let mut c = diesel::PgConnection::establish(&db.url).unwrap();
            diesel::sql_query(sql).get_result(&mut c).unwrap()
        }
    };
    counted.n
}

both_backends!(
    sigterm_finishes_in_flight_work_and_gives_leases_up,
    |backend| async move {
        let receiver = Receiver::start();
        // Slow enough that deliveries are in flight when the signal comes.
        receiver.set_delay(Duration::from_millis(700));
        let local = [
            ("ROSTER_ALLOW_HTTP_WEBHOOKS", "1"),
            ("ROSTER_ALLOW_PRIVATE_WEBHOOK_TARGETS", "1"),
        ];
        let mut server = TestServer::start_with_env(backend, &local).await;
        let created = std::process::Command::new(roster_bin())
            .args(["--json", "webhook", "create", "--url", &receiver.url()])
            .env("ROSTER_DATABASE_URL", &server.db.url)
            .envs(local)
            .output()
            .unwrap();
        assert!(created.status.success(), "{created:?}");
        let mut acknowledged = Vec::new();
        for i in 0..5 {
            let r = server
                .client
                .post("/Users", &user_body(&format!("stop{i}@example.com")))
                .await;
            assert_eq!(r.status, 201);
            acknowledged.push(r.id());
        }
        for _ in 0..100 {
            if !receiver.received().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(!receiver.received().is_empty(), "a delivery started");

        let status = server.terminate(Duration::from_secs(30));
        assert!(status.success(), "exit status {status}");
        assert_eq!(leased_streams(&server.db), 0, "a stream is still leased");
        let stored: Vec<String> = events(&server.db)
            .into_iter()
            .filter(|(_, t, _)| t == "user.created")
            .map(|(_, _, id)| id)
            .collect();
        for id in &acknowledged {
            assert!(stored.contains(id), "acknowledged user {id} lost");
        }
    }
);
