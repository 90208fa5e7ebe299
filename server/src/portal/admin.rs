//! The administrators' page: a platform's administrators (`server.admins`,
//! each of its own platform) turn 2FA on or off for it, look an account
//! up, suspend it for some hours, unlock, reset or remove its 2FA.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mail2fa::engine::{AccountId, Enrollment};
use serde::Deserialize;

use super::{Nav, Visitor, message, page, unavailable, when};
use crate::app::App;

pub(crate) struct StatusView {
    state: &'static str,
    enrolled: bool,
    suspended_until: Option<String>,
    locked_until: Option<String>,
    failures: u32,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    nav: Nav,
    platform: String,
    platform_on: bool,
    account: String,
    status: Option<StatusView>,
}

#[derive(Deserialize)]
pub(crate) struct Lookup {
    #[serde(default)]
    account: String,
    #[serde(default)]
    done: String,
}

/// Refuses anyone but an administrator.
fn only_admins(visitor: &Visitor) -> Result<(), Response> {
    if visitor.admin {
        Ok(())
    } else {
        Err(message(
            StatusCode::FORBIDDEN,
            visitor.nav(""),
            "Administrators only",
            "This page is for your domain's administrators.",
        ))
    }
}

/// Refuses a change that lowers protection (2FA off for the platform; a
/// mailbox suspended, unlocked, reset or removed) unless the administrator
/// signed in with a second factor: an administrator's password alone never
/// turns 2FA off for others. Raising it (2FA on for the platform or a
/// mailbox) needs no more than the password — that is how a platform's
/// first administrator starts.
fn only_proven(visitor: &Visitor) -> Result<(), Response> {
    if visitor.session.proven_at.is_some() {
        return Ok(());
    }
    Err(message(
        StatusCode::FORBIDDEN,
        visitor.nav("admin"),
        "Sign in with a code",
        "This change needs two-factor authentication on your own mailbox, and a sign-in with \
         its code. Turn it on under Overview, then sign in again.",
    ))
}

/// An account of the administrator's own platform (a mailbox of its
/// domain).
fn account_of(visitor: &Visitor, name: &str) -> Option<AccountId> {
    let name = name.trim();
    let platform = visitor.id().platform();
    let of_platform = name
        .rsplit_once('@')
        .is_some_and(|(_, domain)| domain == platform);
    of_platform
        .then(|| AccountId::new(platform, name).ok())
        .flatten()
}

async fn admin_page(app: &App, visitor: &Visitor, nav: Nav, account: &str) -> Response {
    let platform = visitor.id().platform().to_owned();
    let looked_up = account_of(visitor, account);
    let asked_platform = platform.clone();
    let found = app
        .call(move |engine, now| {
            let on = engine.platform_enabled(&asked_platform)?;
            let status = match looked_up {
                Some(id) => match engine.account_status(&id, now) {
                    Ok(status) => Some(Some(status)),
                    Err(mail2fa::Error::NotEnabled) => Some(None),
                    Err(other) => return Err(other),
                },
                None => None,
            };
            Ok((on, status))
        })
        .await;
    let Ok((platform_on, status)) = found else {
        return unavailable(visitor.nav("admin"));
    };
    let status = status.map(|status| match status {
        None => StatusView {
            state: "off",
            enrolled: false,
            suspended_until: None,
            locked_until: None,
            failures: 0,
        },
        Some(s) => StatusView {
            state: match s.enrollment {
                Enrollment::Pending { .. } => "being set up",
                _ => "on",
            },
            enrolled: true,
            suspended_until: s.suspended_until.map(when),
            locked_until: s.locked_until.map(when),
            failures: s.failures,
        },
    });
    page(
        StatusCode::OK,
        &AdminPage {
            nav,
            platform,
            platform_on,
            account: account.trim().to_owned(),
            status,
        },
    )
}

pub(crate) async fn page_get(app: &App, headers: &HeaderMap, lookup: &Lookup) -> Response {
    let visitor = match super::signed_in(app, headers, "/portal/admin").await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    if let Err(response) = only_admins(&visitor) {
        return response;
    }
    let mut nav = visitor.nav("admin");
    if lookup.done == "admin" {
        nav.notice = Some("Done.".to_owned());
    }
    if !lookup.account.is_empty() && account_of(&visitor, &lookup.account).is_none() {
        nav.problem = Some(format!(
            "Only mailboxes of {} (lower case).",
            visitor.id().platform()
        ));
    }
    admin_page(app, &visitor, nav, &lookup.account).await
}

pub(crate) async fn show(
    State(app): State<App>,
    headers: HeaderMap,
    Query(lookup): Query<Lookup>,
) -> Response {
    page_get(&app, &headers, &lookup).await
}

#[derive(Deserialize)]
pub(crate) struct PlatformForm {
    csrf: String,
    enabled: bool,
}

pub(crate) async fn platform(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<PlatformForm>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/admin");
    if let Err(response) = only_admins(&visitor) {
        return response;
    }
    checked!(visitor, &form.csrf);
    if !form.enabled {
        if let Err(response) = only_proven(&visitor) {
            return response;
        }
    }
    let platform = visitor.id().platform().to_owned();
    match app
        .call(move |engine, _| engine.enable_platform(&platform, form.enabled))
        .await
    {
        Ok(()) => Redirect::to("/portal/admin?done=admin").into_response(),
        Err(_) => unavailable(visitor.nav("admin")),
    }
}

#[derive(Deserialize)]
pub(crate) struct AccountForm {
    csrf: String,
    account: String,
    /// For `suspend`: how long (0 ends a suspension).
    #[serde(default)]
    hours: Option<u64>,
}

/// suspend, unlock, reset or remove an account of the platform.
pub(crate) async fn account_action(
    State(app): State<App>,
    headers: HeaderMap,
    Path(action): Path<String>,
    Form(form): Form<AccountForm>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/admin");
    if let Err(response) = only_admins(&visitor) {
        return response;
    }
    checked!(visitor, &form.csrf);
    let Some(id) = account_of(&visitor, &form.account) else {
        return super::not_found();
    };
    if !matches!(
        action.as_str(),
        "enable" | "suspend" | "unlock" | "reset" | "remove"
    ) {
        return super::not_found();
    }
    if action != "enable" {
        if let Err(response) = only_proven(&visitor) {
            return response;
        }
    }
    let hours = match (action.as_str(), form.hours) {
        ("suspend", None) => return super::not_found(),
        (_, hours) => hours.unwrap_or(0),
    };
    let target = id.clone();
    let done = app
        .call(move |engine, now| match action.as_str() {
            // Pending: the key is made again, and shown, when its owner
            // sets up the app in the portal (the administrator never
            // sees it).
            "enable" => engine.enable_account(&target, now).map(|_| ()),
            "suspend" => engine
                .suspend(&target, hours.saturating_mul(3600), now)
                .map(|_| ()),
            "unlock" => engine.unlock(&target),
            // The user scans the new key in the portal after signing in
            // (a reset account is pending: its password alone lets it in).
            "reset" => engine.reset(&target, now).map(|_| ()),
            _ => engine.remove(&target),
        })
        .await;
    match done {
        Ok(()) => Redirect::to(&format!(
            "/portal/admin?done=admin&account={}",
            super::percent(id.account())
        ))
        .into_response(),
        Err(error)
            if matches!(
                error.code,
                "invalid_value" | "not_enrolled" | "already_enrolled" | "platform_disabled"
            ) =>
        {
            let mut nav = visitor.nav("admin");
            nav.problem = Some(
                match error.code {
                    "not_enrolled" => "That mailbox has no two-factor authentication.",
                    "already_enrolled" => "That mailbox has two-factor authentication already.",
                    "platform_disabled" => "Turn it on for the domain first.",
                    _ => "At most 720 hours (30 days).",
                }
                .to_owned(),
            );
            admin_page(&app, &visitor, nav, id.account()).await
        }
        Err(_) => unavailable(visitor.nav("admin")),
    }
}
