//! The OpenAPI document of the panel API (`server/openapi.json`), served
//! without a token: it holds no secret, and a panel's developer reads it
//! first. A test holds it to [`route_list`](super::route_list).

use axum::http::header;
use axum::response::IntoResponse;

super::routes! {
    GET "/api/v1/openapi.json" => document;
}

/// The document, as served.
pub const DOCUMENT: &str = include_str!("../../openapi.json");

async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
