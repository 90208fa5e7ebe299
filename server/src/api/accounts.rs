//! Accounts: enrollment (the provisioning URI and its QR code, confirmed
//! by a first code), status, suspension, reset, removal, unlock, mode,
//! contacts, recovery codes, the account's own protocol policies.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mail2fa::engine::{AccountId, AccountStatus, Decision, Enrollment};
use serde::Deserialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::error::ApiError;
use super::json::{Body, ServiceEngine, account, mode, policy, protocol};
use super::platforms::{SetPolicy, policies_json};
use crate::app::App;

super::routes! {
    GET "/api/v1/platforms/{platform}/accounts/{account}" => show;
    DELETE "/api/v1/platforms/{platform}/accounts/{account}" => remove;
    POST "/api/v1/platforms/{platform}/accounts/{account}/enrollment" => enable;
    POST "/api/v1/platforms/{platform}/accounts/{account}/enrollment/confirm" => confirm;
    POST "/api/v1/platforms/{platform}/accounts/{account}/reset" => reset;
    POST "/api/v1/platforms/{platform}/accounts/{account}/suspend" => suspend;
    POST "/api/v1/platforms/{platform}/accounts/{account}/unlock" => unlock;
    PUT "/api/v1/platforms/{platform}/accounts/{account}/mode" => set_mode;
    PUT "/api/v1/platforms/{platform}/accounts/{account}/contacts" => set_contacts;
    POST "/api/v1/platforms/{platform}/accounts/{account}/recovery-codes" => recovery_codes;
    PUT "/api/v1/platforms/{platform}/accounts/{account}/policies/{protocol}" => set_policy;
    DELETE "/api/v1/platforms/{platform}/accounts/{account}/policies/{protocol}" => remove_policy;
}

/// The path's platform and account.
type AccountPath = Path<(String, String)>;

fn id_of(Path((platform, name)): AccountPath) -> Result<AccountId, ApiError> {
    account(&platform, &name)
}

/// `{"platform": ..., "account": ..., fields...}`.
fn about(id: &AccountId, fields: Value) -> Json<Value> {
    let mut out = json!({ "platform": id.platform(), "account": id.account() });
    if let (Some(out), Value::Object(fields)) = (out.as_object_mut(), fields) {
        out.extend(fields);
    }
    Json(out)
}

fn status_json(
    status: &AccountStatus,
    platform_on: bool,
    platform_policies: &[(mail2fa::engine::Protocol, mail2fa::engine::ProtocolPolicy)],
) -> Value {
    let (enrollment, expires) = match status.enrollment {
        Enrollment::Pending { expires_at } => ("pending", Some(expires_at)),
        _ => ("confirmed", None),
    };
    let policies = policies_json(&status.policies, |protocol| {
        platform_policies
            .iter()
            .find(|(p, _)| p == protocol)
            .map_or((protocol.default_policy(), "default"), |(_, policy)| {
                (*policy, "platform")
            })
    });
    json!({
        "platform_enabled": platform_on,
        "mode": status.mode.name(),
        "enrollment": enrollment,
        "enrollment_expires_at": expires,
        "suspended_until": status.suspended_until,
        "locked_until": status.locked_until,
        "failures": status.failures,
        "last_used": status.last_used,
        "recovery_codes": status.recovery_codes,
        "email": status.email,
        "phone": status.phone,
        "code_expires_at": status.code_expires_at,
        "policies": policies,
    })
}

async fn show(State(app): State<App>, path: AccountPath) -> Result<Json<Value>, ApiError> {
    let id = id_of(path)?;
    let asked = id.clone();
    let (status, platform) = app
        .call(move |engine, now| {
            let status = engine.account_status(&asked, now)?;
            Ok((status, engine.platform_status(asked.platform())?))
        })
        .await?;
    Ok(about(
        &id,
        status_json(&status, platform.enabled, &platform.policies),
    ))
}

async fn remove(State(app): State<App>, path: AccountPath) -> Result<Json<Value>, ApiError> {
    let id = id_of(path)?;
    let asked = id.clone();
    app.call(move |engine, _| engine.remove(&asked)).await?;
    Ok(about(&id, json!({ "removed": true })))
}

/// Makes a new secret (enable, reset) and returns its URI.
type NewSecret = fn(&ServiceEngine, &AccountId, u64) -> mail2fa::Result<Zeroizing<String>>;

/// A new secret's answer: its URI, the URI as an SVG QR code, and until
/// when the enrollment waits for its first code.
async fn new_secret(app: &App, id: &AccountId, make: NewSecret) -> Result<Json<Value>, ApiError> {
    let asked = id.clone();
    let (uri, svg, until) = app
        .call(move |engine, now| {
            let uri = make(engine, &asked, now)?;
            let svg = mail2fa::qr::svg(&uri)?;
            let until = match engine.account_status(&asked, now)?.enrollment {
                Enrollment::Pending { expires_at } => Some(expires_at),
                _ => None,
            };
            Ok((uri, svg, until))
        })
        .await?;
    Ok(about(
        id,
        json!({ "uri": uri.as_str(), "svg": svg.as_str(), "pending_until": until }),
    ))
}

async fn enable(
    State(app): State<App>,
    path: AccountPath,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = id_of(path)?;
    let answer = new_secret(&app, &id, |engine, id, now| engine.enable_account(id, now)).await?;
    Ok((StatusCode::CREATED, answer))
}

async fn reset(State(app): State<App>, path: AccountPath) -> Result<Json<Value>, ApiError> {
    let id = id_of(path)?;
    new_secret(&app, &id, |engine, id, now| engine.reset(id, now)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Code {
    code: String,
}

/// A decision on a code, as the API says it: allowed, or `code_refused`
/// with the engine's reason.
pub(crate) fn refused_unless_allowed(decision: &Decision) -> Result<(), ApiError> {
    if decision.is_allowed() {
        return Ok(());
    }
    let reason = decision.reason_code().name();
    Err(ApiError::code_refused(
        reason,
        format!("the code was not accepted ({reason})"),
    ))
}

async fn confirm(
    State(app): State<App>,
    path: AccountPath,
    Body(body): Body<Code>,
) -> Result<Json<Value>, ApiError> {
    let id = id_of(path)?;
    let asked = id.clone();
    let code = Zeroizing::new(body.code);
    let decision = app
        .call(move |engine, now| engine.confirm_enrollment(&asked, &code, now))
        .await
        .map_err(|error| {
            if error.code == "already_enrolled" {
                ApiError::new(
                    StatusCode::CONFLICT,
                    "already_confirmed",
                    "the enrollment was confirmed already",
                )
            } else {
                error
            }
        })?;
    refused_unless_allowed(&decision)?;
    Ok(about(&id, json!({ "confirmed": true })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Suspend {
    hours: u64,
}

async fn suspend(
    State(app): State<App>,
    path: AccountPath,
    Body(body): Body<Suspend>,
) -> Result<Json<Value>, ApiError> {
    let id = id_of(path)?;
    let seconds = body
        .hours
        .checked_mul(3600)
        .ok_or_else(|| ApiError::invalid("hours is too large"))?;
    let asked = id.clone();
    let until = app
        .call(move |engine, now| engine.suspend(&asked, seconds, now))
        .await?;
    Ok(about(
        &id,
        json!({ "suspended_until": (seconds > 0).then_some(until) }),
    ))
}

async fn unlock(State(app): State<App>, path: AccountPath) -> Result<Json<Value>, ApiError> {
    let id = id_of(path)?;
    let asked = id.clone();
    app.call(move |engine, _| engine.unlock(&asked)).await?;
    Ok(about(&id, json!({ "locked_until": null })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetMode {
    mode: String,
}

async fn set_mode(
    State(app): State<App>,
    path: AccountPath,
    Body(body): Body<SetMode>,
) -> Result<Json<Value>, ApiError> {
    let id = id_of(path)?;
    let chosen = mode(&body.mode)?;
    let asked = id.clone();
    app.call(move |engine, _| engine.set_mode(&asked, chosen))
        .await?;
    Ok(about(&id, json!({ "mode": chosen.name() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Contacts {
    email: Option<String>,
    phone: Option<String>,
}

async fn set_contacts(
    State(app): State<App>,
    path: AccountPath,
    Body(body): Body<Contacts>,
) -> Result<Json<Value>, ApiError> {
    let id = id_of(path)?;
    let asked = id.clone();
    let (email, phone) = (body.email.clone(), body.phone.clone());
    app.call(move |engine, _| engine.set_contact(&asked, email.as_deref(), phone.as_deref()))
        .await?;
    Ok(about(
        &id,
        json!({ "email": body.email, "phone": body.phone }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecoveryCodes {
    count: usize,
}

async fn recovery_codes(
    State(app): State<App>,
    path: AccountPath,
    Body(body): Body<RecoveryCodes>,
) -> Result<Json<Value>, ApiError> {
    let id = id_of(path)?;
    let asked = id.clone();
    let codes = app
        .call(move |engine, _| engine.generate_recovery_codes(&asked, body.count))
        .await?;
    let shown: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
    Ok(about(&id, json!({ "codes": shown })))
}

async fn set_policy(
    State(app): State<App>,
    Path((platform, name, protocol_name)): Path<(String, String, String)>,
    Body(body): Body<SetPolicy>,
) -> Result<Json<Value>, ApiError> {
    let id = account(&platform, &name)?;
    let protocol = protocol(&protocol_name)?;
    let policy = policy(&body.policy)?;
    let (asked, chosen) = (id.clone(), protocol.clone());
    app.call(move |engine, _| engine.set_account_policy(&asked, &chosen, Some(policy)))
        .await?;
    Ok(about(
        &id,
        json!({ "protocol": protocol.name(), "policy": policy.name() }),
    ))
}

async fn remove_policy(
    State(app): State<App>,
    Path((platform, name, protocol_name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = account(&platform, &name)?;
    let protocol = protocol(&protocol_name)?;
    let (asked, chosen) = (id.clone(), protocol.clone());
    let policy = app
        .call(move |engine, _| {
            engine.set_account_policy(&asked, &chosen, None)?;
            engine.protocol_policy(&asked, &chosen)
        })
        .await?;
    Ok(about(
        &id,
        json!({ "protocol": protocol.name(), "policy": policy.name() }),
    ))
}
