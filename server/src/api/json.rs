//! Requests in, answers out: the JSON body extractor with the API's
//! errors, the path's account, a call on the engine.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use mail2fa::engine::{AccountId, Engine, Mode, Protocol, ProtocolPolicy};
use mail2fa::store::Store;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::app::App;

/// A JSON request body; a body that is not JSON, or not the call's
/// fields, is `invalid_json` (400) with serde's sentence; over
/// [`MAX_BODY`](super::MAX_BODY) bytes, `payload_too_large` (413).
pub(crate) struct Body<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejected(&rejection)),
        }
    }
}

fn rejected(rejection: &JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than {} bytes", super::MAX_BODY),
        );
    }
    let message = match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "the body must be JSON, sent with Content-Type: application/json".to_owned()
        }
        other => other.body_text(),
    };
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", message)
}

/// The account a path names.
pub(crate) fn account(platform: &str, account: &str) -> Result<AccountId, ApiError> {
    AccountId::new(platform, account).map_err(ApiError::from)
}

/// A protocol a path or body names.
pub(crate) fn protocol(name: &str) -> Result<Protocol, ApiError> {
    Protocol::from_name(name).map_err(ApiError::from)
}

/// A policy by its name (`code-in-login`, `device-authorization`,
/// `app-password-only`, `refused`).
pub(crate) fn policy(name: &str) -> Result<ProtocolPolicy, ApiError> {
    ProtocolPolicy::from_name(name).ok_or_else(|| {
        ApiError::invalid(
            "a policy is code-in-login, device-authorization, app-password-only or refused",
        )
    })
}

/// A verification mode by its name (`totp`, `email`, `sms`).
pub(crate) fn mode(name: &str) -> Result<Mode, ApiError> {
    Mode::from_name(name).ok_or_else(|| ApiError::invalid("a mode is totp, email or sms"))
}

/// The engine of the service.
pub(crate) type ServiceEngine = Engine<Box<dyn Store>>;

impl App {
    /// Runs `call` on the engine (off the runtime's threads) at the
    /// service's "now".
    pub(crate) async fn call<T, F>(&self, call: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&ServiceEngine, u64) -> mail2fa::Result<T> + Send + 'static,
    {
        let now = self.clock.now();
        self.engine
            .run(move |engine| call(engine, now))
            .await
            .map_err(ApiError::from)
    }
}
