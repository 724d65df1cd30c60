//! `POST /Bulk` (RFC 7644 §3.7): operations run one by one through the same code as the
//! per-resource routes. An operation that refers to another's `bulkId` waits until that one
//! has created its resource, whatever their order in the request.

use std::collections::{BTreeSet, HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Authed;
use super::body::ScimBody;
use super::error::ApiError;
use super::resources::blocking;
use super::response;
use crate::domain::clock;
use crate::domain::error::DomainError;
use crate::domain::tenancy::Scope;
use crate::idp::{self, Adapter};
use crate::scim::bulk::{self, BULK_RESPONSE_SCHEMA, BulkOperation, BulkRequest, Method};
use crate::scim::error::ScimError;
use crate::scim::meta::{etag, version_of_etag};
use crate::scim::operations::Resource;

pub async fn bulk(
    state: web::Data<AppState>,
    auth: Authed,
    body: ScimBody,
) -> Result<HttpResponse, ApiError> {
    let mut request = bulk::parse_request(&body.0).map_err(|e| match e {
        ScimError::TooMany(detail) => ApiError::TooManyOperations(detail),
        other => ApiError::Scim(other),
    })?;
    let adapter = idp::for_kind(auth.kind);
    for op in &mut request.operations {
        match op.method {
            Method::Post | Method::Put => {
                adapter.normalize_resource(&state.registry, op.kind, &mut op.data)
            }
            Method::Patch => adapter.normalize_patch(&state.registry, op.kind, &mut op.data),
            Method::Delete => {}
        }
    }
    let now = clock::now();
    let results = blocking(move || Ok(run(&state, &auth.scope, adapter, &request, now))).await?;
    Ok(response::scim(
        StatusCode::OK,
        &json!({"schemas": [BULK_RESPONSE_SCHEMA], "Operations": results}),
    ))
}

fn run(
    state: &AppState,
    scope: &Scope,
    adapter: &dyn Adapter,
    request: &BulkRequest,
    now: NaiveDateTime,
) -> Vec<Value> {
    let ops = &request.operations;
    let declared: HashSet<&str> = ops.iter().filter_map(|o| o.bulk_id.as_deref()).collect();
    let mut results: Vec<Option<Value>> = vec![None; ops.len()];
    let mut created: HashMap<String, String> = HashMap::new();
    let mut failed: HashSet<String> = HashSet::new();
    let mut errors = 0;
    let mut pending: Vec<usize> = (0..ops.len()).collect();
    let stop = |errors: usize| request.fail_on_errors.is_some_and(|limit| errors >= limit);
    while !pending.is_empty() && !stop(errors) {
        let mut waiting = Vec::new();
        let before = pending.len();
        for i in pending {
            if stop(errors) {
                break;
            }
            let op = &ops[i];
            let refs: BTreeSet<String> = op.references();
            let outcome = if let Some(r) = refs.iter().find(|r| !declared.contains(r.as_str())) {
                Err(ApiError::Scim(ScimError::InvalidValue(format!(
                    "bulkId '{r}' is not declared by any operation of this request"
                ))))
            } else if let Some(r) = refs.iter().find(|r| failed.contains(*r)) {
                Err(ApiError::Domain(DomainError::Invalid(format!(
                    "the operation with bulkId '{r}' failed, so this one cannot run"
                ))))
            } else if refs.iter().all(|r| created.contains_key(r)) {
                execute(state, scope, adapter, &op.resolved(&created), now)
            } else {
                waiting.push(i);
                continue;
            };
            results[i] = Some(result(
                state,
                op,
                outcome,
                &mut created,
                &mut failed,
                &mut errors,
            ));
        }
        if waiting.len() == before {
            // Nothing could run: the remaining operations wait on each other.
            for &i in &waiting {
                let cycle = Err(ApiError::Scim(ScimError::InvalidValue(
                    "circular bulkId references".into(),
                )));
                results[i] = Some(result(
                    state,
                    &ops[i],
                    cycle,
                    &mut created,
                    &mut failed,
                    &mut errors,
                ));
            }
            break;
        }
        pending = waiting;
    }
    results.into_iter().flatten().collect()
}

fn execute(
    state: &AppState,
    scope: &Scope,
    adapter: &dyn Adapter,
    op: &BulkOperation,
    now: NaiveDateTime,
) -> Result<Option<Resource>, ApiError> {
    let id = op.id.as_deref().unwrap_or_default();
    let version = op.version.as_deref().map(version_of_etag);
    Ok(match op.method {
        Method::Post => Some(state.resources().create(scope, op.kind, &op.data, now)?),
        Method::Put => Some(state.resources().replace(
            scope,
            op.kind,
            id,
            &op.data,
            adapter.kept_on_replace(op.kind),
            version,
            now,
        )?),
        Method::Patch => Some(
            state
                .resources()
                .modify(scope, op.kind, id, &op.data, version, now)?,
        ),
        Method::Delete => {
            state.resources().delete(scope, op.kind, id, version, now)?;
            None
        }
    })
}

fn result(
    state: &AppState,
    op: &BulkOperation,
    outcome: Result<Option<Resource>, ApiError>,
    created: &mut HashMap<String, String>,
    failed: &mut HashSet<String>,
    errors: &mut usize,
) -> Value {
    let mut out = json!({"method": op.method.as_str()});
    if let Some(b) = &op.bulk_id {
        out["bulkId"] = json!(b);
    }
    let location = |id: &str| format!("{}/{}/{id}", state.base_url, op.kind.endpoint());
    match outcome {
        Ok(Some(resource)) => {
            if let (Method::Post, Some(b)) = (op.method, &op.bulk_id) {
                created.insert(b.clone(), resource.id().to_string());
            }
            let status = if op.method == Method::Post {
                "201"
            } else {
                "200"
            };
            out["status"] = json!(status);
            out["location"] = json!(location(resource.id()));
            out["version"] = json!(etag(resource.version()));
        }
        Ok(None) => {
            out["status"] = json!("204");
            out["location"] = json!(location(op.id.as_deref().unwrap_or_default()));
        }
        Err(e) => {
            *errors += 1;
            if let Some(b) = &op.bulk_id {
                failed.insert(b.clone());
            }
            let (status, document) = e.document();
            out["status"] = json!(status.as_u16().to_string());
            out["response"] = document;
        }
    }
    out
}
