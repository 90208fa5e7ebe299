//! E-mail and SMS codes: a panel asks for one (the user is about to type
//! it); the service issues it and delivers it, answering where it went —
//! never the code.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::error::ApiError;
use super::json::account;
use crate::app::App;

super::routes! {
    POST "/api/v1/platforms/{platform}/accounts/{account}/codes" => issue;
}

/// Issues a code on the account's channel and delivers it:
/// `{"channel": "email"|"sms", "expires_at", "fallback"}`, `fallback`
/// when an SMS failed and the code went by e-mail.
async fn issue(
    State(app): State<App>,
    Path((platform, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = account(&platform, &name)?;
    let asked = id.clone();
    let (issued, email) = app
        .call(move |engine, now| {
            let issued = engine.issue_code(&asked, now)?;
            // The address an SMS code falls back to, as it is now.
            let email = engine.account_status(&asked, now)?.email;
            Ok((issued, email))
        })
        .await?;
    let delivered = app
        .delivery
        .code(&id, &issued, email.as_deref())
        .await
        .map_err(|e| ApiError::delivery_failed(&e))?;
    Ok(Json(json!({
        "channel": delivered.channel.name(),
        "expires_at": issued.expires_at,
        "fallback": delivered.fallback,
    })))
}
