//! Application passwords: created (the password shown in this answer
//! only), listed (never the password), revoked.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mail2fa::engine::{AppPasswordInfo, Protocol};
use serde::Deserialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::error::ApiError;
use super::json::{Body, account, protocol};
use crate::app::App;

super::routes! {
    GET "/api/v1/platforms/{platform}/accounts/{account}/app-passwords" => list;
    POST "/api/v1/platforms/{platform}/accounts/{account}/app-passwords" => create;
    DELETE "/api/v1/platforms/{platform}/accounts/{account}/app-passwords/{id}" => revoke;
}

fn info_json(info: &AppPasswordInfo) -> Value {
    let scope: Vec<&str> = info.scope.iter().map(Protocol::name).collect();
    json!({
        "id": info.id,
        "name": info.name,
        "protocols": scope,
        "created": info.created,
        "last_used": info.last_used,
    })
}

async fn list(
    State(app): State<App>,
    Path((platform, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = account(&platform, &name)?;
    let asked = id.clone();
    let listed = app
        .call(move |engine, _| engine.app_passwords(&asked))
        .await?;
    let listed: Vec<Value> = listed.iter().map(info_json).collect();
    Ok(Json(json!({
        "platform": id.platform(),
        "account": id.account(),
        "app_passwords": listed,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    name: String,
    /// Empty or absent: any protocol that takes application passwords.
    #[serde(default)]
    protocols: Vec<String>,
}

async fn create(
    State(app): State<App>,
    Path((platform, name)): Path<(String, String)>,
    Body(body): Body<Create>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = account(&platform, &name)?;
    let scope = body
        .protocols
        .iter()
        .map(|p| protocol(p))
        .collect::<Result<Vec<_>, _>>()?;
    let asked = id.clone();
    let (info, password): (AppPasswordInfo, Zeroizing<String>) = app
        .call(move |engine, now| engine.create_app_password(&asked, &body.name, &scope, now))
        .await?;
    let mut answer = info_json(&info);
    if let Some(fields) = answer.as_object_mut() {
        fields.insert("platform".into(), id.platform().into());
        fields.insert("account".into(), id.account().into());
        fields.insert("password".into(), password.as_str().into());
    }
    Ok((StatusCode::CREATED, Json(answer)))
}

async fn revoke(
    State(app): State<App>,
    Path((platform, name, number)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = account(&platform, &name)?;
    let number: u32 = number
        .parse()
        .map_err(|_| ApiError::invalid("an application password is named by its id, a number"))?;
    let asked = id.clone();
    app.call(move |engine, _| engine.revoke_app_password(&asked, number))
        .await?;
    Ok(Json(json!({
        "platform": id.platform(),
        "account": id.account(),
        "id": number,
        "revoked": true,
    })))
}
