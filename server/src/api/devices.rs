//! Devices: the account's device tokens (mail clients seen with the right
//! password), listed, authorized, blocked again, forgotten.

use axum::Json;
use axum::extract::{Path, State};
use mail2fa::engine::{AccountId, DeviceId};
use serde_json::{Value, json};

use super::error::ApiError;
use super::json::account;
use crate::app::App;

super::routes! {
    GET "/api/v1/platforms/{platform}/accounts/{account}/devices" => list;
    POST "/api/v1/platforms/{platform}/accounts/{account}/devices/{device}/activate" => activate;
    POST "/api/v1/platforms/{platform}/accounts/{account}/devices/{device}/deactivate" => deactivate;
    DELETE "/api/v1/platforms/{platform}/accounts/{account}/devices/{device}" => delete;
}

async fn list(
    State(app): State<App>,
    Path((platform, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = account(&platform, &name)?;
    let asked = id.clone();
    let devices = app
        .call(move |engine, now| engine.devices(&asked, now))
        .await?;
    let listed: Vec<Value> = devices
        .iter()
        .map(|d| {
            json!({
                "id": d.id.to_string(),
                "state": d.state.name(),
                "protocol": d.protocol.name(),
                "device_id": d.device_id,
                "device_type": d.device_type,
                "user_agent": d.user_agent,
                "remote_addr": d.remote_addr,
                "first_seen": d.first_seen,
                "last_seen": d.last_seen,
                "notified_at": d.notified_at,
            })
        })
        .collect();
    Ok(Json(json!({
        "platform": id.platform(),
        "account": id.account(),
        "devices": listed,
    })))
}

/// The path's account and device.
fn device_of(platform: &str, name: &str, device: &str) -> Result<(AccountId, DeviceId), ApiError> {
    let id = account(platform, name)?;
    let device = DeviceId::parse(device)
        .map_err(|_| ApiError::invalid("a device is named by its id: 32 hex digits"))?;
    Ok((id, device))
}

/// What became of a device: `{"platform", "account", "device", "state"}`.
fn changed(id: &AccountId, device: &DeviceId, state: &str) -> Json<Value> {
    Json(json!({
        "platform": id.platform(),
        "account": id.account(),
        "device": device.to_string(),
        "state": state,
    }))
}

async fn activate(
    State(app): State<App>,
    Path((platform, name, device)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (id, device) = device_of(&platform, &name, &device)?;
    let asked = id.clone();
    app.call(move |engine, now| engine.activate_device(&asked, &device, now))
        .await?;
    Ok(changed(&id, &device, "active"))
}

async fn deactivate(
    State(app): State<App>,
    Path((platform, name, device)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (id, device) = device_of(&platform, &name, &device)?;
    let asked = id.clone();
    app.call(move |engine, now| engine.deactivate_device(&asked, &device, now))
        .await?;
    Ok(changed(&id, &device, "inactive"))
}

async fn delete(
    State(app): State<App>,
    Path((platform, name, device)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (id, device) = device_of(&platform, &name, &device)?;
    let asked = id.clone();
    app.call(move |engine, now| engine.delete_device(&asked, &device, now))
        .await?;
    Ok(changed(&id, &device, "deleted"))
}
