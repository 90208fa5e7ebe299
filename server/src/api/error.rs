//! The API's errors: an HTTP status and a JSON document
//! `{"error": {"code": "...", "message": "..."}}` — the code stable for
//! programs (never changed, never reused), the message one English
//! sentence for people, never quoting a secret. A refused code also names
//! the engine's reason (`"reason": "wrong_code"`).
//!
//! | code | status | meaning |
//! |---|---|---|
//! | `unauthorized` | 401 | no token, or not one of `server.api_token_file` |
//! | `no_route` | 404 | no such path |
//! | `method_not_allowed` | 405 | the path does not take this method |
//! | `invalid_json` | 400 | the body is not the JSON the call takes |
//! | `invalid_value` | 400 | a name, code or value the engine refuses |
//! | `not_enrolled` | 404 | the account has no 2FA |
//! | `not_found` | 404 | no such device or application password |
//! | `already_enrolled` | 409 | the account already has 2FA |
//! | `already_confirmed` | 409 | the enrollment was confirmed already |
//! | `platform_disabled` | 409 | 2FA is off for the account's platform |
//! | `no_contact` | 409 | the mode needs an e-mail address or phone number first |
//! | `limit_reached` | 409 | a per-account limit (devices, application passwords) |
//! | `code_refused` | 422 | the code was not accepted (`reason` says why) |
//! | `payload_too_large` | 413 | a body over [`MAX_BODY`](super::MAX_BODY) bytes |
//! | `rate_limited` | 429 | a code was issued too recently; `message` says when to ask again |
//! | `store_unavailable` | 503 | the store cannot be reached or read: nothing changed |
//! | `delivery_failed` | 502 | the code was issued but the relay or SMS gateway did not take it (the message says which and why) |
//! | `internal` | 500 | anything else: nothing was changed |

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mail2fa::Error;
use serde_json::json;

/// An error answer: status, stable code, sentence, and for a refused code
/// the engine's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code.
    pub code: &'static str,
    /// One sentence.
    pub message: String,
    /// For `code_refused`: the engine's reason name (`wrong_code`,
    /// `replayed`, `locked`, ...).
    pub reason: Option<&'static str>,
}

impl ApiError {
    /// An error of `status` with `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            reason: None,
        }
    }

    pub(crate) fn unauthorized(no_tokens: bool) -> Self {
        let message = if no_tokens {
            "the panel API takes no token: set server.api_token_file in the configuration"
        } else {
            "a bearer token of server.api_token_file is needed (Authorization: Bearer TOKEN)"
        };
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub(crate) fn no_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "no_route",
            "no such path (see /api/v1/openapi.json)",
        )
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this path does not take this method (see /api/v1/openapi.json)",
        )
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_value", message)
    }

    pub(crate) fn delivery_failed(error: &crate::deliver::DeliveryError) -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "delivery_failed",
            format!("the code could not be delivered: {error}"),
        )
    }

    pub(crate) fn code_refused(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            reason: Some(reason),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "code_refused", message)
        }
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        use StatusCode as S;
        let (status, code) = match &error {
            Error::NotEnabled => (S::NOT_FOUND, "not_enrolled"),
            Error::NotFound(_) => (S::NOT_FOUND, "not_found"),
            Error::AlreadyEnabled => (S::CONFLICT, "already_enrolled"),
            Error::PlatformDisabled => (S::CONFLICT, "platform_disabled"),
            Error::NoContact => (S::CONFLICT, "no_contact"),
            Error::LimitReached(_) => (S::CONFLICT, "limit_reached"),
            Error::RateLimited { .. } => (S::TOO_MANY_REQUESTS, "rate_limited"),
            Error::InvalidConfig(_)
            | Error::InvalidName { .. }
            | Error::InvalidInput(_)
            | Error::MalformedCode { .. }
            | Error::InvalidDigits(_)
            | Error::QrTooLong => (S::BAD_REQUEST, "invalid_value"),
            Error::Store(_) | Error::Record(_) | Error::Interrupted => {
                (S::SERVICE_UNAVAILABLE, "store_unavailable")
            }
            _ => (S::INTERNAL_SERVER_ERROR, "internal"),
        };
        let message = match &error {
            // The library says "engine configuration" for what is the
            // caller's input here.
            Error::InvalidConfig(what) => format!("invalid {what}"),
            other => other.to_string(),
        };
        Self::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "code": self.code, "message": self.message });
        if let (Some(reason), Some(map)) = (self.reason, body.as_object_mut()) {
            map.insert("reason".into(), reason.into());
        }
        let mut response = (self.status, Json(json!({ "error": body }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"mail2fa\""),
            );
        }
        response
    }
}
