//! How the library's values are said: names and sentences for policies,
//! modes, device states, scopes and refusals, the policy table, and the
//! JSON document about one account.

use mail2fa::engine::{
    AccountId, AccountStatus, DenyReason, DeviceState, Mode, PlatformStatus, Protocol,
    ProtocolPolicy, format_utc,
};

use crate::output::{Json, Style, Table, clean};

pub(crate) fn name_of(id: &AccountId) -> String {
    format!(
        "{} on {}",
        clean(id.account(), 256),
        clean(id.platform(), 256)
    )
}

/// `1 record`, `2 records`.
pub(crate) fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

pub(crate) fn account_json(id: &AccountId, mut fields: Vec<(&'static str, Json)>) -> Json {
    let mut all = vec![
        ("platform", Json::text(id.platform())),
        ("account", Json::text(id.account())),
    ];
    all.append(&mut fields);
    Json::Object(all)
}

/// Every standard protocol and any other one with an override: its
/// policy, and where it comes from.
pub(crate) fn policy_rows(
    account: Option<&AccountStatus>,
    platform: &PlatformStatus,
) -> Vec<(Protocol, ProtocolPolicy, &'static str)> {
    let mut protocols: Vec<Protocol> = Protocol::STANDARD.to_vec();
    let overrides = account
        .map(|a| a.policies.as_slice())
        .unwrap_or_default()
        .iter()
        .chain(&platform.policies);
    for (protocol, _) in overrides {
        if !protocols.contains(protocol) {
            protocols.push(protocol.clone());
        }
    }
    protocols
        .into_iter()
        .map(|protocol| {
            let own = account.and_then(|a| a.policies.iter().find(|(p, _)| *p == protocol));
            let (policy, source) = match own {
                Some(&(_, policy)) => (policy, "account"),
                None if platform.policies.iter().any(|(p, _)| *p == protocol) => {
                    (platform.policy(&protocol), "platform")
                }
                None => (protocol.default_policy(), "default"),
            };
            (protocol, policy, source)
        })
        .collect()
}

pub(crate) fn policies_table(
    rows: &[(Protocol, ProtocolPolicy, &'static str)],
    style: Style,
) -> String {
    let mut table = Table::new(&["PROTOCOL", "POLICY", "SET BY"]);
    for (protocol, policy, source) in rows {
        table.row(vec![
            protocol.name().to_owned(),
            policy_name(*policy).to_owned(),
            (*source).to_owned(),
        ]);
    }
    table.render(style, |column, cell| match (column, cell.trim_end()) {
        (1, "refused") => style.bad(cell),
        _ => cell.to_owned(),
    })
}

pub(crate) fn policies_json(rows: &[(Protocol, ProtocolPolicy, &'static str)]) -> Json {
    Json::List(
        rows.iter()
            .map(|(protocol, policy, source)| {
                Json::Object(vec![
                    ("protocol", Json::text(protocol.name())),
                    ("policy", Json::text(policy_name(*policy))),
                    ("set_by", Json::text(source)),
                ])
            })
            .collect(),
    )
}

pub(crate) fn policy_name(policy: ProtocolPolicy) -> &'static str {
    policy.name()
}

pub(crate) fn mode_name(mode: Mode) -> &'static str {
    mode.name()
}

pub(crate) fn mode_text(mode: Mode) -> &'static str {
    match mode {
        Mode::Totp => "authenticator app (TOTP)",
        Mode::Email => "code by e-mail",
        Mode::Sms => "code by SMS",
        _ => "another second factor",
    }
}

pub(crate) fn state_name(state: DeviceState) -> &'static str {
    state.name()
}

pub(crate) fn scope_text(scope: &[Protocol]) -> String {
    if scope.is_empty() {
        "any".to_owned()
    } else {
        scope
            .iter()
            .map(Protocol::name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

pub(crate) fn scope_json(scope: &[Protocol]) -> Json {
    Json::List(scope.iter().map(|p| Json::text(p.name())).collect())
}

pub(crate) fn deny_text(reason: DenyReason) -> String {
    match reason {
        DenyReason::MalformedCode => "not a code of the right number of digits".to_owned(),
        DenyReason::WrongCode => "wrong code".to_owned(),
        DenyReason::ClockSkew { steps } => format!(
            "the app's clock is off by {} s; set the phone's time automatically",
            steps.saturating_mul(30)
        ),
        DenyReason::Replayed => "that code was already used; wait for the next one".to_owned(),
        DenyReason::Locked { until } => format!("locked until {}", format_utc(until)),
        DenyReason::EnrollmentExpired => "the enrollment expired".to_owned(),
        DenyReason::WrongPassword => "wrong password (nothing recorded)".to_owned(),
        DenyReason::WrongAppPassword => "not one of the account's application passwords".to_owned(),
        DenyReason::ProtocolRefused => "the protocol's policy refuses it".to_owned(),
        DenyReason::AppPasswordRequired => {
            "the protocol's policy asks for an application password".to_owned()
        }
        DenyReason::AppPasswordNotAccepted => {
            "the protocol's policy does not take application passwords".to_owned()
        }
        DenyReason::AppPasswordOutOfScope => {
            "that application password is not for this protocol".to_owned()
        }
        other => format!("{other:?}"),
    }
}

/// A name as it can be pasted into a shell.
pub(crate) fn shell_word(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@._-+=/:,".contains(&b))
    {
        text.to_owned()
    } else {
        format!("'{}'", clean(text, 256).replace('\'', r"'\''"))
    }
}
