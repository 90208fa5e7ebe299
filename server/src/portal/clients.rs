//! Devices and application passwords: a blocked device authorized with
//! one click (the notification's link opens its card), or deleted as
//! "not me"; application passwords created after a code (shown once),
//! listed, revoked.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mail2fa::Error;
use mail2fa::engine::{DeviceId, DeviceState, Enrollment, Protocol};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::account::{Done, prove};
use super::{Nav, Visitor, message, page, unavailable, when};
use crate::app::App;

pub(crate) struct DeviceView {
    id: String,
    name: String,
    state: &'static str,
    state_text: &'static str,
    protocol: String,
    user_agent: Option<String>,
    address: Option<String>,
    first_seen: String,
    last_seen: String,
    highlight: bool,
}

#[derive(Template)]
#[template(path = "devices.html")]
struct DevicesPage {
    nav: Nav,
    devices: Vec<DeviceView>,
}

async fn devices_page(app: &App, visitor: &Visitor, nav: Nav, highlight: Option<&str>) -> Response {
    let id = visitor.id().clone();
    let listed = match app.call(move |engine, now| engine.devices(&id, now)).await {
        Ok(devices) => devices,
        Err(error) if error.code == "not_enrolled" => Vec::new(),
        Err(_) => return unavailable(visitor.nav("devices")),
    };
    let devices = listed
        .iter()
        .map(|d| {
            let id = d.id.to_string();
            DeviceView {
                highlight: highlight == Some(id.as_str()),
                name: d
                    .device_type
                    .clone()
                    .or_else(|| d.device_id.clone())
                    .unwrap_or_else(|| "Unnamed device".to_owned()),
                state: d.state.name(),
                state_text: match d.state {
                    DeviceState::Inactive => "blocked",
                    DeviceState::Active => "authorized",
                },
                protocol: d.protocol.name().to_owned(),
                user_agent: d.user_agent.clone(),
                address: d.remote_addr.clone(),
                first_seen: when(d.first_seen),
                last_seen: when(d.last_seen),
                id,
            }
        })
        .collect();
    page(StatusCode::OK, &DevicesPage { nav, devices })
}

pub(crate) async fn devices(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<Done>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/devices");
    let mut nav = visitor.nav("devices");
    nav.notice = super::account::notice_for(&q);
    devices_page(&app, &visitor, nav, None).await
}

/// The notification's link: the devices page with this device first in
/// view (after signing in, if need be).
pub(crate) async fn device_link(
    State(app): State<App>,
    headers: HeaderMap,
    Path(device): Path<String>,
) -> Response {
    let Ok(device) = DeviceId::parse(&device) else {
        return super::not_found();
    };
    let visitor = visitor!(app, headers, &format!("/portal/devices/{device}"));
    let nav = visitor.nav("devices");
    devices_page(&app, &visitor, nav, Some(&device.to_string())).await
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    csrf: String,
}

/// Authorize, block or delete one device.
pub(crate) async fn device_action(
    State(app): State<App>,
    headers: HeaderMap,
    Path((device, action)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/devices");
    checked!(visitor, &form.csrf);
    let Ok(device) = DeviceId::parse(&device) else {
        return super::not_found();
    };
    if action == "activate" {
        // Authorizing gives a device the mailbox: only in a session that
        // proved the second factor.
        if let Err(response) =
            super::account::require_proven(&visitor, &format!("/portal/devices/{device}"))
        {
            return response;
        }
    }
    let done = match action.as_str() {
        "activate" => "authorized",
        "deactivate" => "blocked",
        "delete" => "deleted",
        _ => return super::not_found(),
    };
    let id = visitor.id().clone();
    let changed = app
        .call(move |engine, now| match done {
            "authorized" => engine.activate_device(&id, &device, now),
            "blocked" => engine.deactivate_device(&id, &device, now),
            _ => engine.delete_device(&id, &device, now),
        })
        .await;
    match changed {
        Ok(()) => Redirect::to(&format!("/portal/devices?done={done}")).into_response(),
        Err(error) if error.code == "not_found" => message(
            StatusCode::NOT_FOUND,
            visitor.nav("devices"),
            "No such device",
            "That device is gone (deleted, or it expired).",
        ),
        Err(_) => unavailable(visitor.nav("devices")),
    }
}

pub(crate) struct AppPasswordView {
    id: u32,
    name: String,
    scope: String,
    created: String,
    last_used: String,
}

pub(crate) struct Created {
    name: String,
    password: Zeroizing<String>,
}

#[derive(Template)]
#[template(path = "app_passwords.html")]
struct AppPasswordsPage {
    nav: Nav,
    enrolled: bool,
    passwords: Vec<AppPasswordView>,
    protocols: Vec<&'static str>,
    created: Option<Created>,
}

/// The protocols a user may scope an application password to.
const SCOPES: [&str; 6] = [
    "imap",
    "pop3",
    "smtp",
    "activesync",
    "outlook",
    "rpc-over-http",
];

async fn app_passwords_page(
    app: &App,
    visitor: &Visitor,
    status: StatusCode,
    nav: Nav,
    created: Option<Created>,
) -> Response {
    let id = visitor.id().clone();
    let listed = app
        .call(move |engine, now| {
            let enrolled = match engine.account_status(&id, now) {
                Ok(status) => !matches!(status.enrollment, Enrollment::Pending { .. }),
                Err(Error::NotEnabled) => false,
                Err(other) => return Err(other),
            };
            let passwords = if enrolled {
                engine.app_passwords(&id)?
            } else {
                Vec::new()
            };
            Ok((enrolled, passwords))
        })
        .await;
    let Ok((enrolled, passwords)) = listed else {
        return unavailable(visitor.nav("app-passwords"));
    };
    let passwords = passwords
        .iter()
        .map(|p| AppPasswordView {
            id: p.id,
            name: p.name.clone(),
            scope: if p.scope.is_empty() {
                "any protocol".to_owned()
            } else {
                p.scope
                    .iter()
                    .map(Protocol::name)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            created: when(p.created),
            last_used: p.last_used.map_or_else(|| "never".to_owned(), when),
        })
        .collect();
    page(
        status,
        &AppPasswordsPage {
            nav,
            enrolled,
            passwords,
            protocols: SCOPES.to_vec(),
            created,
        },
    )
}

pub(crate) async fn app_passwords(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<Done>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/app-passwords");
    let mut nav = visitor.nav("app-passwords");
    nav.notice = super::account::notice_for(&q);
    app_passwords_page(&app, &visitor, StatusCode::OK, nav, None).await
}

/// Creates one after a code: `name`, `protocol` (repeated), `code`.
pub(crate) async fn create_app_password(
    State(app): State<App>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/app-passwords");
    // Repeated `protocol` fields: parsed by hand (serde's form maps keep one).
    let mut csrf = String::new();
    let mut name = String::new();
    let mut code = Zeroizing::new(String::new());
    let mut scope = Vec::new();
    for (key, value) in form_urlencoded::parse(&body) {
        let value = value.into_owned();
        match &*key {
            "csrf" => csrf = value,
            "name" => name = value,
            "code" => code = Zeroizing::new(value),
            "protocol" => scope.push(value),
            _ => {}
        }
    }
    checked!(visitor, &csrf);
    let problem = |text: &str| {
        let mut nav = visitor.nav("app-passwords");
        nav.problem = Some(text.to_owned());
        nav
    };
    let Ok(scope) = scope
        .iter()
        .map(|p| match SCOPES.contains(&p.as_str()) {
            true => Protocol::from_name(p),
            false => Err(Error::InvalidConfig("protocol")),
        })
        .collect::<Result<Vec<_>, _>>()
    else {
        let nav = problem("Choose protocols from the list.");
        return app_passwords_page(&app, &visitor, StatusCode::BAD_REQUEST, nav, None).await;
    };
    let name = name.trim().to_owned();
    if name.is_empty() || name.len() > 64 {
        let nav = problem("Give it a name of at most 64 characters.");
        return app_passwords_page(&app, &visitor, StatusCode::BAD_REQUEST, nav, None).await;
    }
    match prove(&app, &visitor, &code).await {
        Ok(()) => {}
        Err(Ok(refused)) => {
            let nav = problem(&refused);
            return app_passwords_page(&app, &visitor, StatusCode::UNPROCESSABLE_ENTITY, nav, None)
                .await;
        }
        Err(Err(())) => return unavailable(visitor.nav("app-passwords")),
    }
    let id = visitor.id().clone();
    let label = name.clone();
    let created = app
        .call(move |engine, now| engine.create_app_password(&id, &label, &scope, now))
        .await;
    match created {
        Ok((_, password)) => {
            let nav = visitor.nav("app-passwords");
            let created = Created { name, password };
            app_passwords_page(&app, &visitor, StatusCode::CREATED, nav, Some(created)).await
        }
        Err(error) if matches!(error.code, "limit_reached" | "invalid_value") => {
            let nav = problem(
                "No more app passwords can be made: revoke one first, or choose another name.",
            );
            app_passwords_page(&app, &visitor, StatusCode::CONFLICT, nav, None).await
        }
        Err(_) => unavailable(visitor.nav("app-passwords")),
    }
}

pub(crate) async fn revoke_app_password(
    State(app): State<App>,
    headers: HeaderMap,
    Path(number): Path<u32>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/app-passwords");
    checked!(visitor, &form.csrf);
    let id = visitor.id().clone();
    match app
        .call(move |engine, _| engine.revoke_app_password(&id, number))
        .await
    {
        Ok(()) => Redirect::to("/portal/app-passwords?done=revoked").into_response(),
        Err(error) if error.code == "not_found" => {
            Redirect::to("/portal/app-passwords").into_response()
        }
        Err(_) => unavailable(visitor.nav("app-passwords")),
    }
}
