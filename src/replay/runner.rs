//! Sends a sequence's steps to a SCIM server and collects where its responses differ from the
//! expected ones.

use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::Serialize;
use serde_json::Value;

use super::ReplayError;
use super::format::{Sequence, Step};
use super::pattern::{ANY, Difference, Vars, compare, substitute, substitute_str};

/// What one step did: the request as sent and every difference found (none means it passed).
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// 1-based, as a person counts the steps of a file.
    pub step: usize,
    pub name: String,
    pub method: String,
    pub path: String,
    pub status: Option<u16>,
    pub differences: Vec<Difference>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SequenceReport {
    pub name: String,
    pub kind: String,
    pub steps: Vec<StepReport>,
}

impl SequenceReport {
    pub fn differences(&self) -> usize {
        self.steps.iter().map(|s| s.differences.len()).sum()
    }

    pub fn failed_steps(&self) -> impl Iterator<Item = &StepReport> {
        self.steps.iter().filter(|s| !s.differences.is_empty())
    }
}

/// One SCIM client of one directory: the base URL (`…/scim/v2`) and its bearer token.
pub struct Runner {
    http: Client,
    base: String,
    token: String,
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Option<Value>,
}

impl Runner {
    pub fn new(base: &str, token: &str) -> Result<Runner, ReplayError> {
        let http = Client::builder()
            .timeout(Duration::from_secs(30))
            // A redirect is itself a response worth comparing, not something to follow.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ReplayError::Client(e.to_string()))?;
        Ok(Runner {
            http,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        })
    }

    /// Runs every step in order; a failed step does not stop the ones after it.
    pub fn run(&self, sequence: &Sequence) -> SequenceReport {
        let mut vars = Vars::new();
        vars.insert("base".into(), Value::String(self.base.clone()));
        let steps = sequence
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| self.step(i + 1, step, &mut vars))
            .collect();
        SequenceReport {
            name: sequence.name.clone(),
            kind: sequence.kind.clone(),
            steps,
        }
    }

    fn step(&self, number: usize, step: &Step, vars: &mut Vars) -> StepReport {
        let mut report = StepReport {
            step: number,
            name: step.name.clone(),
            method: step.request.method.clone(),
            path: step.request.path.clone(),
            status: None,
            differences: Vec::new(),
        };
        let unknown = |name: String| {
            Difference::new(
                "request",
                format!("variable {name} captured by an earlier step"),
                "nothing",
            )
        };
        let reply = match substitute_str(&step.request.path, vars) {
            Ok(path) => {
                report.path = path;
                self.send(step, &report.path, vars)
            }
            Err(name) => Err(unknown(name)),
        };
        let reply = match reply {
            Ok(reply) => reply,
            Err(d) => {
                report.differences.push(d);
                return report;
            }
        };
        report.status = Some(reply.status);
        // Captures first, so a step's own expectations may use what it captured.
        for (name, pointer) in &step.capture {
            match reply.body.as_ref().and_then(|b| b.pointer(pointer)) {
                Some(v) => {
                    vars.insert(name.clone(), v.clone());
                }
                None => report.differences.push(Difference::new(
                    &format!("capture.{name}"),
                    format!("a value at {pointer}"),
                    "nothing",
                )),
            }
        }
        if reply.status != step.expect.status {
            report.differences.push(Difference::new(
                "status",
                step.expect.status.to_string(),
                reply.status.to_string(),
            ));
        }
        for (name, want) in &step.expect.headers {
            let at = format!("headers.{name}");
            let want = match substitute_str(want, vars) {
                Ok(w) => w,
                Err(n) => {
                    report.differences.push(unknown(n));
                    continue;
                }
            };
            match reply.headers.get(name.as_str()).map(|v| v.to_str()) {
                None => {
                    report
                        .differences
                        .push(Difference::new(&at, format!("{want:?}…"), "nothing"))
                }
                Some(Ok(_)) if want == ANY => {}
                Some(Ok(got)) if got.starts_with(&want) => {}
                Some(got) => report.differences.push(Difference::new(
                    &at,
                    format!("{want:?}…"),
                    format!("{:?}", got.unwrap_or("(not text)")),
                )),
            }
        }
        match (&step.expect.body, &reply.body) {
            (None, _) | (Some(Value::Null), None) => {}
            (Some(Value::Null), Some(got)) => {
                report
                    .differences
                    .push(Difference::new("body", "no body", got.to_string()));
            }
            (Some(want), got) => match substitute(want, vars) {
                Err(n) => report.differences.push(unknown(n)),
                Ok(want) => match got {
                    Some(got) => compare(&want, got, "body", &mut report.differences),
                    None => report.differences.push(Difference::new(
                        "body",
                        want.to_string(),
                        "no body",
                    )),
                },
            },
        }
        report
    }

    fn send(&self, step: &Step, path: &str, vars: &Vars) -> Result<Reply, Difference> {
        let r = &step.request;
        let method = reqwest::Method::from_bytes(r.method.as_bytes())
            .map_err(|_| Difference::new("request.method", "an HTTP method", &r.method))?;
        let sep = if path.starts_with('/') { "" } else { "/" };
        let mut req = self
            .http
            .request(method, format!("{}{sep}{path}", self.base))
            .bearer_auth(&self.token);
        let mut has_content_type = false;
        for (name, value) in &r.headers {
            // The runner's own token is the only credential ever sent.
            if name.eq_ignore_ascii_case(AUTHORIZATION.as_str()) {
                continue;
            }
            has_content_type |= name.eq_ignore_ascii_case(CONTENT_TYPE.as_str());
            let value = substitute_str(value, vars).map_err(|n| {
                Difference::new(
                    "request",
                    format!("variable {n} captured earlier"),
                    "nothing",
                )
            })?;
            req = req.header(name.as_str(), value);
        }
        let body = match (&r.raw_body, &r.body) {
            (Some(raw), _) => Some(substitute_str(raw, vars)),
            (None, Some(body)) => Some(substitute(body, vars).map(|b| b.to_string())),
            (None, None) => None,
        };
        if let Some(body) = body {
            let body = body.map_err(|n| {
                Difference::new(
                    "request",
                    format!("variable {n} captured earlier"),
                    "nothing",
                )
            })?;
            if !has_content_type {
                req = req.header(CONTENT_TYPE, "application/scim+json");
            }
            req = req.body(body);
        }
        let resp = req
            .send()
            .map_err(|e| Difference::new("response", "a response", format!("{e}")))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp
            .text()
            .map_err(|e| Difference::new("body", "a readable body", format!("{e}")))?;
        let body = if text.is_empty() {
            None
        } else {
            Some(serde_json::from_str(&text).unwrap_or(Value::String(text)))
        };
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}
