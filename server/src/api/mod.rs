//! The panel API: JSON over HTTP under `/api/v1/`, for a hoster's control
//! panel. Every call but the OpenAPI document needs
//! `Authorization: Bearer TOKEN` with a token of `server.api_token_file`;
//! every error is `{"error": {"code": "...", "message": "..."}}` with a
//! stable code (see [`error`]).
//!
//! Each file declares its routes with `routes!`, which makes both its
//! router and its list of `(METHOD, path)` pairs: [`route_list`] is what the
//! service answers, and a test holds the OpenAPI document to it.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::app::App;

pub mod error;
mod json;

mod accounts;
mod app_passwords;
mod codes;
mod devices;
pub mod openapi;
mod platforms;

pub use error::ApiError;

/// The largest request body taken, in bytes: every request of this API
/// is a few small fields.
pub const MAX_BODY: usize = 16 * 1024;

/// Declares a file's routes: `METHOD "path" => handler;` lines become
/// `fn routes() -> Router<App>` and `const LIST: &[(&str, &str)]`.
macro_rules! routes {
    ($($method:ident $path:literal => $handler:path;)+) => {
        /// This file's `(METHOD, path)` pairs.
        pub(crate) const LIST: &[(&str, &str)] = &[$((stringify!($method), $path)),+];

        /// This file's routes.
        pub(crate) fn routes() -> axum::Router<crate::app::App> {
            $crate::api::routes!(@lower axum::Router::new(), $($method $path => $handler;)+)
        }
    };
    (@lower $router:expr, $method:ident $path:literal => $handler:path; $($rest:tt)*) => {
        $crate::api::routes!(@lower $router.route($path, $crate::api::routes!(@method $method)($handler)), $($rest)*)
    };
    (@lower $router:expr,) => { $router };
    (@method GET) => { axum::routing::get };
    (@method POST) => { axum::routing::post };
    (@method PUT) => { axum::routing::put };
    (@method DELETE) => { axum::routing::delete };
}
pub(crate) use routes;

/// Every `(METHOD, path)` the API answers (paths in axum's and OpenAPI's
/// `{name}` form).
pub fn route_list() -> Vec<(&'static str, &'static str)> {
    [
        openapi::LIST,
        platforms::LIST,
        accounts::LIST,
        devices::LIST,
        app_passwords::LIST,
        codes::LIST,
    ]
    .concat()
}

/// The service's router: the API's routes behind the token check (the
/// OpenAPI document before it) and `others` (the portal's); JSON errors
/// for unknown paths and methods outside the portal (whose own pages say
/// them there); bodies bounded; no caching of answers.
pub(crate) fn router(app: App, others: Router<App>) -> Router {
    let protected = Router::new()
        .merge(platforms::routes())
        .merge(accounts::routes())
        .merge(devices::routes())
        .merge(app_passwords::routes())
        .merge(codes::routes())
        .route_layer(middleware::from_fn_with_state(app.clone(), require_token));
    Router::new()
        .merge(openapi::routes())
        .merge(protected)
        .merge(others)
        .fallback(no_route)
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(no_store))
        .with_state(app)
}

/// An unknown path: the portal's page under `/portal`, JSON elsewhere.
async fn no_route(uri: axum::http::Uri) -> Response {
    if uri.path() == "/portal" || uri.path().starts_with("/portal/") {
        crate::portal::not_found()
    } else {
        ApiError::no_route().into_response()
    }
}

/// Refuses a call without one of the configured tokens (401, with
/// `WWW-Authenticate: Bearer`).
async fn require_token(State(app): State<App>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(token) if !app.tokens.is_empty() && app.tokens.accepts(token) => {
            next.run(request).await
        }
        _ => ApiError::unauthorized(app.tokens.is_empty()).into_response(),
    }
}

/// Answers carry secrets (URIs, application passwords, recovery codes):
/// no cache keeps them.
async fn no_store(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}
