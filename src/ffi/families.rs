//! The layout of this module, checked: every `m2fa_*` export sits in the
//! file named for its C object family, so that a C developer looking for
//! `m2fa_device_list_get` opens `device.rs`. A new export in the wrong file
//! (or one whose family has no file yet) fails here.

use std::collections::BTreeSet;
use std::path::Path;

/// Export name prefix → the file that holds that family. The longest
/// matching prefix decides.
const FAMILIES: &[(&str, &str)] = &[
    ("m2fa_version", "version.rs"),
    ("m2fa_status_", "status_message.rs"),
    ("m2fa_account_name_", "names.rs"),
    ("m2fa_secret_", "secret.rs"),
    ("m2fa_otp_config_", "otp.rs"),
    ("m2fa_totp_", "totp.rs"),
    ("m2fa_hotp_", "hotp.rs"),
    ("m2fa_key_uri_", "uri.rs"),
    ("m2fa_qr_", "qr.rs"),
    // The engine's settings, its handles and openers, a host's own store.
    ("m2fa_engine_config_", "config.rs"),
    ("m2fa_engine_new", "engine.rs"),
    ("m2fa_engine_open", "engine.rs"),
    ("m2fa_engine_free", "engine.rs"),
    ("m2fa_engine_with_store", "store.rs"),
    ("m2fa_engine_maintain", "store.rs"),
    // Platform and account administration.
    ("m2fa_engine_enable_", "account.rs"),
    ("m2fa_engine_remove", "account.rs"),
    ("m2fa_engine_unlock", "account.rs"),
    ("m2fa_engine_suspend", "account.rs"),
    ("m2fa_engine_set_contact", "account.rs"),
    ("m2fa_engine_set_mode", "account.rs"),
    ("m2fa_engine_reset", "account.rs"),
    ("m2fa_engine_self_service", "account.rs"),
    // Logins and their answers.
    ("m2fa_login_", "login.rs"),
    ("m2fa_engine_authenticate", "login.rs"),
    ("m2fa_engine_login", "login.rs"),
    ("m2fa_engine_split_login", "login.rs"),
    ("m2fa_engine_check_login", "check_login.rs"),
    ("m2fa_engine_begin_login", "check_login.rs"),
    ("m2fa_pending_login_", "check_login.rs"),
    ("m2fa_decision_", "decision.rs"),
    ("m2fa_outcome_", "decision.rs"),
    ("m2fa_reason_", "decision.rs"),
    // Codes handed to the host.
    ("m2fa_engine_issue_code", "codes.rs"),
    ("m2fa_issued_code_", "codes.rs"),
    ("m2fa_engine_generate_recovery_codes", "codes.rs"),
    ("m2fa_recovery_codes_", "codes.rs"),
    // Mail clients: devices, notifications, application passwords, policy.
    ("m2fa_engine_device", "device.rs"),
    ("m2fa_device_", "device.rs"),
    ("m2fa_engine_notification_", "notification.rs"),
    ("m2fa_notification_", "notification.rs"),
    ("m2fa_engine_app_password", "app_password.rs"),
    ("m2fa_app_password_", "app_password.rs"),
    ("m2fa_engine_set_platform_policy", "policy.rs"),
    ("m2fa_engine_set_account_policy", "policy.rs"),
    ("m2fa_engine_protocol_policy", "policy.rs"),
];

/// The file an export belongs in, by its longest matching prefix.
fn family_file(export: &str) -> Option<&'static str> {
    FAMILIES
        .iter()
        .filter(|(prefix, _)| export.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|&(_, file)| file)
}

/// The `m2fa_*` functions a source text exports.
fn exports(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| {
            let rest = line
                .strip_prefix("pub unsafe extern \"C\" fn ")
                .or_else(|| line.strip_prefix("pub extern \"C\" fn "))?;
            let name = rest.split(['(', '<']).next()?;
            name.starts_with("m2fa_").then(|| name.to_owned())
        })
        .collect()
}

#[test]
fn every_export_sits_in_the_file_of_its_family() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi");
    let mut misplaced = Vec::new();
    let mut used = BTreeSet::new();
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let file = path.file_name().unwrap().to_str().unwrap().to_owned();
        let source = std::fs::read_to_string(&path).unwrap();
        for export in exports(&source) {
            count += 1;
            match family_file(&export) {
                Some(expected) if expected == file => {
                    used.insert(expected);
                }
                Some(expected) => misplaced.push(format!("{export} is in {file}, not {expected}")),
                None => misplaced.push(format!("{export} (in {file}) has no family in FAMILIES")),
            }
        }
    }
    assert!(misplaced.is_empty(), "{misplaced:#?}");
    assert!(
        count > 100,
        "only {count} exports found: is the parser still right?"
    );
    // Every family file named here exists and holds an export.
    for &(_, file) in FAMILIES {
        assert!(used.contains(file), "{file} holds no export");
    }
}

#[test]
fn the_longest_prefix_decides() {
    assert_eq!(family_file("m2fa_engine_config_free"), Some("config.rs"));
    assert_eq!(family_file("m2fa_engine_free"), Some("engine.rs"));
    assert_eq!(family_file("m2fa_engine_open_postgres"), Some("engine.rs"));
    assert_eq!(family_file("m2fa_engine_devices"), Some("device.rs"));
    assert_eq!(family_file("m2fa_engine_split_login_for"), Some("login.rs"));
    assert_eq!(family_file("m2fa_somewhere_new"), None);
    assert_eq!(
        exports("pub unsafe extern \"C\" fn m2fa_x(a: u32) -> m2fa_status {"),
        ["m2fa_x"]
    );
}
