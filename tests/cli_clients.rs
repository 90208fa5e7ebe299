//! The `mail2fa` operator tool, run as a program: what mail clients log in
//! with — device tokens listed, activated, deactivated and deleted, and
//! application passwords created, used and revoked (set-up in
//! `tests/support/cli.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::engine::{AccountId, AllowReason, Decision};
use serde_json::Value;
use support::cli::*;

#[test]
fn a_device_is_listed_activated_deactivated_and_deleted() {
    let sandbox = Sandbox::with_platform("devices");
    sandbox.enroll(ALICE);
    let empty = sandbox
        .run(&["device", "list", PLATFORM, ALICE])
        .expect(OK)
        .stdout;
    assert_eq!(
        empty,
        "alice@example.com on example.com has no device tokens.\n"
    );

    // The phone logs in with the right password: blocked, a token made.
    let Decision::DevicePending { device, .. } = sandbox.login(ALICE, &iphone("iPhone")) else {
        panic!("a new device must wait for authorization");
    };
    let device = device.to_string();
    assert_eq!(device.len(), 32);

    let table = sandbox
        .run(&["device", "list", PLATFORM, ALICE])
        .expect(OK)
        .stdout;
    let header = table.lines().next().unwrap();
    for column in [
        "DEVICE",
        "STATE",
        "PROTOCOL",
        "TYPE",
        "USER AGENT",
        "ADDRESS",
        "FIRST SEEN",
        "LAST SEEN",
    ] {
        assert!(header.contains(column), "{table}");
    }
    let line = row(&table, &device[..12]);
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        &cells[..6],
        &[
            &device[..12],
            "INACTIVE",
            "activesync",
            "iPhone",
            "Apple-iPhone14C2/2101.103",
            "203.0.113.7"
        ],
        "{table}"
    );
    assert!(line.contains("2027-01-15 08:00"), "{table}");

    let listed = sandbox.json(&["device", "list", PLATFORM, ALICE]);
    assert_eq!(listed["account"], ALICE);
    let devices = listed["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1, "{listed}");
    let token = &devices[0];
    assert_eq!(token["id"], device.as_str());
    assert_eq!(token["state"], "inactive");
    assert_eq!(token["protocol"], "activesync");
    assert_eq!(token["device_id"], "ApplF17XK0LQHG7F");
    assert_eq!(token["device_type"], "iPhone");
    assert_eq!(token["remote_addr"], "203.0.113.7");
    assert_eq!(token["first_seen"], NOW);
    assert_eq!(token["last_seen"], NOW);

    // Devices are named by their id or an unambiguous prefix.
    let unknown = if device.starts_with("0000") {
        "ffff"
    } else {
        "0000"
    };
    let missing = sandbox
        .run(&["device", "activate", PLATFORM, ALICE, unknown])
        .expect(NOT_FOUND);
    assert!(
        missing
            .error_line()
            .contains(&format!("no device {unknown}")),
        "{}",
        missing.stderr
    );
    for bad in ["xyz", "abc", "zzzzzzzz"] {
        let run = sandbox
            .run(&["device", "activate", PLATFORM, ALICE, bad])
            .expect(USAGE);
        assert!(run.error_line().contains("32 hex digits"), "{}", run.stderr);
    }
    assert_eq!(
        sandbox.json(&["device", "list", PLATFORM, ALICE])["devices"][0]["state"],
        "inactive"
    );

    // Activated by a 6-digit prefix: the phone gets in with the password.
    let activated = sandbox
        .run(&["device", "activate", PLATFORM, ALICE, &device[..6]])
        .expect(OK);
    assert_eq!(
        activated.stdout,
        format!("Device {device} of alice@example.com on example.com activated.\n")
    );
    let table = sandbox
        .run(&["device", "list", PLATFORM, ALICE])
        .expect(OK)
        .stdout;
    assert!(row(&table, &device[..12]).contains(" ACTIVE "), "{table}");
    assert_eq!(
        sandbox.json(&["device", "list", PLATFORM, ALICE])["devices"][0]["state"],
        "active"
    );
    let decision = sandbox.login(ALICE, &iphone("iPhone"));
    assert!(
        matches!(
            decision,
            Decision::Allow {
                reason: AllowReason::DeviceAuthorized { .. },
                ..
            }
        ),
        "{decision:?}"
    );

    // Deactivated by its full id (in capitals): blocked again.
    let deactivated = sandbox.json(&[
        "device",
        "deactivate",
        PLATFORM,
        ALICE,
        &device.to_ascii_uppercase(),
    ]);
    assert_eq!(deactivated["device"], device.as_str());
    assert_eq!(deactivated["deactivated"], true);
    assert_eq!(
        sandbox.json(&["device", "list", PLATFORM, ALICE])["devices"][0]["state"],
        "inactive"
    );
    assert!(!sandbox.login(ALICE, &iphone("iPhone")).is_allowed());

    // Deleting asks first; without a terminal and without --yes, nothing
    // changes.
    let unconfirmed = sandbox
        .run(&["device", "delete", PLATFORM, ALICE, &device[..6]])
        .expect(REFUSED);
    let line = unconfirmed.error_line();
    assert!(
        line.contains(&format!("Delete device {device}")) && line.contains("add --yes"),
        "{line}"
    );
    assert_eq!(
        sandbox.json(&["device", "list", PLATFORM, ALICE])["devices"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let deleted = sandbox
        .run(&["device", "delete", PLATFORM, ALICE, &device[..6], "--yes"])
        .expect(OK);
    assert_eq!(
        deleted.stdout,
        format!("Device {device} of alice@example.com on example.com deleted.\n")
    );
    assert_eq!(
        sandbox.json(&["device", "list", PLATFORM, ALICE])["devices"],
        serde_json::json!([])
    );
    sandbox
        .run(&["device", "activate", PLATFORM, ALICE, &device[..6]])
        .expect(NOT_FOUND);
}

#[test]
fn device_commands_need_an_account_with_2fa() {
    let sandbox = Sandbox::with_platform("devices-no-account");
    let run = sandbox
        .run(&["device", "list", PLATFORM, "nobody"])
        .expect(NOT_FOUND);
    assert_eq!(
        run.error_line(),
        "mail2fa: nobody on example.com: two-factor authentication is not enabled for this account."
    );
    sandbox
        .run(&["device", "activate", PLATFORM, "nobody", "abcdef"])
        .expect(NOT_FOUND);
}

/// The library refuses control characters from clients; should one reach
/// the database all the same (another writer, an older version), the
/// table shows it escaped and the terminal receives no escape sequence.
#[test]
fn hostile_device_fields_are_escaped_in_tables() {
    const HOSTILE: &str = "\x1b[2Jevil";
    const STAND_IN: &str = "XXXXevil"; // as long as HOSTILE
    assert_eq!(HOSTILE.len(), STAND_IN.len());

    let sandbox = Sandbox::with_platform("hostile");
    sandbox.enroll(ALICE);
    let id = AccountId::new(PLATFORM, ALICE).unwrap();
    let error = sandbox
        .engine()
        .authenticate(&id, &iphone(HOSTILE), NOW)
        .unwrap_err();
    assert!(
        matches!(error, mail2fa::Error::InvalidInput(_)),
        "{error:?}"
    );

    // Log in with a stand-in, then rewrite the stored record so that the
    // device type carries the escape sequence (same length: the record's
    // length fields stay right; its check is recomputed).
    assert!(matches!(
        sandbox.login(ALICE, &iphone(STAND_IN)),
        Decision::DevicePending { .. }
    ));
    let db = rusqlite::Connection::open(sandbox.db()).unwrap();
    let (key, bytes): (Vec<u8>, Vec<u8>) = db
        .query_row(
            "SELECT key, bytes FROM m2fa_records WHERE instr(bytes, ?1) > 0",
            [STAND_IN.as_bytes()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let kind = bytes[5];
    let payload = mail2fa::record::decode(&bytes, kind).unwrap();
    let at = payload
        .windows(STAND_IN.len())
        .position(|w| w == STAND_IN.as_bytes())
        .unwrap();
    let mut patched = payload.to_vec();
    patched[at..at + HOSTILE.len()].copy_from_slice(HOSTILE.as_bytes());
    let rewritten = mail2fa::record::encode(kind, &patched);
    db.execute(
        "UPDATE m2fa_records SET bytes = ?1 WHERE key = ?2",
        (rewritten.as_slice(), key.as_slice()),
    )
    .unwrap();
    drop(db);

    // JSON carries the exact text, escaped the JSON way.
    let listed = sandbox.run(&["device", "list", PLATFORM, ALICE, "--json"]);
    let listed = listed.expect(OK);
    assert!(!listed.stdout.contains('\x1b'), "{:?}", listed.stdout);
    assert_eq!(listed.json()["devices"][0]["device_type"], HOSTILE);

    // The table shows it escaped, even with colours on.
    for color in ["never", "always"] {
        let table = sandbox
            .run(&["device", "list", PLATFORM, ALICE, "--color", color])
            .expect(OK)
            .stdout;
        assert!(table.contains(r"\u{1b}[2Jevil"), "{table:?}");
        assert!(!table.contains("\x1b[2J"), "{table:?}");
    }
}

#[test]
fn an_application_password_works_until_revoked() {
    let sandbox = Sandbox::with_platform("app-passwords");
    sandbox.enroll(ALICE);
    let none = sandbox
        .run(&["app-password", "list", PLATFORM, ALICE])
        .expect(OK);
    assert_eq!(
        none.stdout,
        "alice@example.com on example.com has no application passwords.\n"
    );

    let created = sandbox.json(&[
        "app-password",
        "create",
        PLATFORM,
        ALICE,
        "--name",
        "iPhone mail",
        "--protocol",
        "imap",
    ]);
    assert_eq!(created["id"], 1);
    assert_eq!(created["name"], "iPhone mail");
    assert_eq!(created["scope"], serde_json::json!(["imap"]));
    assert_eq!(created["created"], NOW);
    let password = created["password"].as_str().unwrap().to_owned();
    let groups: Vec<&str> = password.split('-').collect();
    assert_eq!(groups.len(), 4, "{password}");
    assert!(
        groups
            .iter()
            .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_alphanumeric())),
        "{password}"
    );

    // Human creation shows the password once, with where it works.
    let second = sandbox
        .run(&[
            "app-password",
            "create",
            PLATFORM,
            ALICE,
            "--name",
            "laptop",
        ])
        .expect(OK)
        .stdout;
    assert!(
        second.starts_with(
            "Application password laptop (id 2) for alice@example.com on example.com, shown once:"
        ),
        "{second}"
    );
    assert!(second.contains("on any."), "{second}");
    let duplicate = sandbox
        .run(&[
            "app-password",
            "create",
            PLATFORM,
            ALICE,
            "--name",
            "laptop",
        ])
        .expect(REFUSED);
    assert!(
        duplicate
            .error_line()
            .contains("an application password named \"laptop\" exists"),
        "{}",
        duplicate.stderr
    );

    let table = sandbox
        .run(&["app-password", "list", PLATFORM, ALICE])
        .expect(OK)
        .stdout;
    assert!(table.starts_with("ID  NAME"), "{table}");
    let line = row(&table, "1");
    assert!(
        line.contains("iPhone mail") && line.contains(" imap ") && line.ends_with('-'),
        "{table}"
    );
    assert!(!table.contains(&password), "{table}");
    let listed = sandbox.json(&["app-password", "list", PLATFORM, ALICE]);
    let apps = &listed["app_passwords"];
    assert_eq!(apps.as_array().unwrap().len(), 2, "{listed}");
    let phone = find(apps, "name", "iPhone mail");
    assert_eq!(phone["id"], 1);
    assert_eq!(phone["scope"], serde_json::json!(["imap"]));
    assert_eq!(phone["last_used"], Value::Null);
    assert!(!listed.to_string().contains(&password));

    // The mail server takes it on IMAP, and notes its use.
    let decision = sandbox.login(ALICE, &imap_with(&password));
    assert!(
        matches!(
            decision,
            Decision::Allow {
                reason: AllowReason::AppPassword { id: 1 },
                ..
            }
        ),
        "{decision:?}"
    );
    let listed = sandbox.json(&["app-password", "list", PLATFORM, ALICE]);
    assert_eq!(find(&listed["app_passwords"], "id", 1)["last_used"], NOW);

    // Revocation asks first, refuses unknown ids, then takes effect at once.
    sandbox
        .run(&["app-password", "revoke", PLATFORM, ALICE, "1"])
        .expect(REFUSED);
    assert!(sandbox.login(ALICE, &imap_with(&password)).is_allowed());
    let unknown = sandbox
        .run(&["app-password", "revoke", PLATFORM, ALICE, "9", "--yes"])
        .expect(NOT_FOUND);
    assert_eq!(
        unknown.error_line(),
        "mail2fa: alice@example.com on example.com: no application password 9."
    );
    sandbox
        .run(&["app-password", "revoke", PLATFORM, ALICE, "one"])
        .expect(USAGE);
    let revoked = sandbox
        .run(&["app-password", "revoke", PLATFORM, ALICE, "1", "--yes"])
        .expect(OK);
    assert_eq!(
        revoked.stdout,
        "Application password 1 of alice@example.com on example.com revoked.\n"
    );
    assert!(!sandbox.login(ALICE, &imap_with(&password)).is_allowed());
    let listed = sandbox.json(&["app-password", "list", PLATFORM, ALICE]);
    let apps = listed["app_passwords"].as_array().unwrap();
    assert_eq!(apps.len(), 1, "{listed}");
    assert_eq!(apps[0]["name"], "laptop");
}
