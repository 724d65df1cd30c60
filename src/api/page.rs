//! The one shape of a list answer: `{"data": [...], "next_after": CURSOR}`, where
//! `next_after` is null on the last page (`docs/api.md`, "Lists").

use actix_web::HttpResponse;
use serde::Serialize;
use serde_json::json;

use crate::domain::read::RecordPage;

pub fn respond<T: Serialize>(data: &[T], next_after: Option<&str>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"data": data, "next_after": next_after}))
}

pub fn records(page: &RecordPage) -> HttpResponse {
    respond(&page.data, page.next_after.as_deref())
}
