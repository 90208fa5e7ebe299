//! Platforms: 2FA on or off, and the protocol policies of a whole
//! platform.

use axum::Json;
use axum::extract::{Path, State};
use mail2fa::engine::{Protocol, ProtocolPolicy};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::json::{Body, policy, protocol};
use crate::app::App;

super::routes! {
    GET "/api/v1/platforms/{platform}" => show;
    PUT "/api/v1/platforms/{platform}" => switch;
    PUT "/api/v1/platforms/{platform}/policies/{protocol}" => set_policy;
    DELETE "/api/v1/platforms/{platform}/policies/{protocol}" => remove_policy;
}

/// Every protocol's effective policy, and who set it.
pub(crate) fn policies_json(
    overrides: &[(Protocol, ProtocolPolicy)],
    inherited: impl Fn(&Protocol) -> (ProtocolPolicy, &'static str),
) -> Value {
    let mut protocols: Vec<Protocol> = Protocol::STANDARD.to_vec();
    for (protocol, _) in overrides {
        if !protocols.contains(protocol) {
            protocols.push(protocol.clone());
        }
    }
    Value::Array(
        protocols
            .iter()
            .map(|protocol| {
                let (policy, set_by) = overrides
                    .iter()
                    .find(|(p, _)| p == protocol)
                    .map_or_else(|| inherited(protocol), |(_, policy)| (*policy, "self"));
                json!({ "protocol": protocol.name(), "policy": policy.name(), "set_by": set_by })
            })
            .collect(),
    )
}

async fn show(
    State(app): State<App>,
    Path(platform): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let name = platform.clone();
    let status = app
        .call(move |engine, _| engine.platform_status(&name))
        .await?;
    let policies = policies_json(&status.policies, |p| (p.default_policy(), "default"));
    Ok(Json(json!({
        "platform": platform,
        "enabled": status.enabled,
        "configured": status.configured,
        "policies": policies,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Switch {
    enabled: bool,
}

async fn switch(
    State(app): State<App>,
    Path(platform): Path<String>,
    Body(body): Body<Switch>,
) -> Result<Json<Value>, ApiError> {
    let name = platform.clone();
    app.call(move |engine, _| engine.enable_platform(&name, body.enabled))
        .await?;
    Ok(Json(
        json!({ "platform": platform, "enabled": body.enabled }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetPolicy {
    pub(crate) policy: String,
}

async fn set_policy(
    State(app): State<App>,
    Path((platform, name)): Path<(String, String)>,
    Body(body): Body<SetPolicy>,
) -> Result<Json<Value>, ApiError> {
    let protocol = protocol(&name)?;
    let policy = policy(&body.policy)?;
    let on = platform.clone();
    let chosen = protocol.clone();
    app.call(move |engine, _| engine.set_platform_policy(&on, &chosen, Some(policy)))
        .await?;
    Ok(Json(
        json!({ "platform": platform, "protocol": protocol.name(), "policy": policy.name() }),
    ))
}

async fn remove_policy(
    State(app): State<App>,
    Path((platform, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let protocol = protocol(&name)?;
    let on = platform.clone();
    let chosen = protocol.clone();
    app.call(move |engine, _| engine.set_platform_policy(&on, &chosen, None))
        .await?;
    Ok(Json(json!({
        "platform": platform,
        "protocol": protocol.name(),
        "policy": protocol.default_policy().name(),
    })))
}
