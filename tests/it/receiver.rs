//! A real local webhook receiver: HTTP/1.1 over TCP on 127.0.0.1, recording every request it
//! reads and answering with the status the test sets, after the delay the test sets. It can be
//! stopped and started again on the same port, like a receiver that goes down.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
    /// The status this request was answered with.
    pub status: u16,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// What a receiver has recorded, kept across a stop and a restart.
#[derive(Default)]
pub struct Shared {
    got: Mutex<Vec<Received>>,
    status: AtomicU16,
    delay_ms: AtomicU64,
    in_flight: Mutex<HashSet<String>>,
    /// Ids that arrived while a request with the same id was still being answered.
    concurrent_duplicates: Mutex<Vec<String>>,
}

pub struct Receiver {
    pub port: u16,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    pub fn start() -> Receiver {
        Self::start_on(0, Arc::new(Shared::default()))
    }

    fn start_on(port: u16, shared: Arc<Shared>) -> Receiver {
        if shared.status.load(Ordering::SeqCst) == 0 {
            shared.status.store(200, Ordering::SeqCst);
        }
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the receiver");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let (stopping, serving) = (stop.clone(), shared.clone());
        std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (stopping, serving) = (stopping.clone(), serving.clone());
                        std::thread::spawn(move || serve(stream, &serving, &stopping));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Receiver { port, shared, stop }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    pub fn set_status(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }

    pub fn set_delay(&self, delay: Duration) {
        self.shared
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.got.lock().unwrap().clone()
    }

    /// The requests answered 2xx.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }

    pub fn concurrent_duplicates(&self) -> Vec<String> {
        self.shared.concurrent_duplicates.lock().unwrap().clone()
    }

    /// Stops listening and drops open connections unanswered; `restart` listens again on the
    /// same port with what was recorded.
    pub fn stop(self) -> (u16, Arc<Shared>) {
        self.stop.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(50));
        (self.port, self.shared.clone())
    }

    pub fn restart((port, shared): (u16, Arc<Shared>)) -> Receiver {
        Self::start_on(port, shared)
    }

    /// Waits until every one of `ids` was accepted, or panics after `timeout`.
    pub async fn wait_for_ids(&self, ids: &HashSet<String>, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let got: HashSet<String> = self.accepted().into_iter().map(|r| r.id).collect();
            if ids.is_subset(&got) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {} events arrived within {timeout:?}",
                ids.intersection(&got).count(),
                ids.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Answers the requests of one connection until it closes or the receiver stops.
fn serve(stream: TcpStream, shared: &Shared, stop: &AtomicBool) {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut head = Vec::new();
        loop {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) => return,
                Ok(_) => {
                    if line == "\r\n" {
                        break;
                    }
                    head.push(line.trim_end().to_string());
                }
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return,
            }
        }
        let header = |name: &str| {
            head.iter()
                .find_map(|h| {
                    let (k, v) = h.split_once(':')?;
                    k.trim()
                        .eq_ignore_ascii_case(name)
                        .then(|| v.trim().to_string())
                })
                .unwrap_or_default()
        };
        let length: usize = header("content-length").parse().unwrap_or(0);
        let mut body = vec![0u8; length];
        let mut read = 0;
        while read < length {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            match reader.read(&mut body[read..]) {
                Ok(0) => return,
                Ok(n) => read += n,
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return,
            }
        }
        let id = header("webhook-id");
        if !shared.in_flight.lock().unwrap().insert(id.clone()) {
            shared
                .concurrent_duplicates
                .lock()
                .unwrap()
                .push(id.clone());
        }
        let status = shared.status.load(Ordering::SeqCst);
        shared.got.lock().unwrap().push(Received {
            id: id.clone(),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            body,
            status,
        });
        let delay = Duration::from_millis(shared.delay_ms.load(Ordering::SeqCst));
        let until = Instant::now() + delay;
        while Instant::now() < until {
            if stop.load(Ordering::SeqCst) {
                shared.in_flight.lock().unwrap().remove(&id);
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        shared.in_flight.lock().unwrap().remove(&id);
        let reason = if status < 300 { "OK" } else { "Refused" };
        let answer = format!("HTTP/1.1 {status} {reason}\r\ncontent-length: 0\r\n\r\n");
        if out.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}
