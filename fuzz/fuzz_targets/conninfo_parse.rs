//! PostgreSQL connection strings (`PostgresStore::plan`, the parser every
//! open goes through), as arbitrary text and as strings built around a
//! known password: never a panic; an error never repeats the password; a
//! plan without TLS only where the string says `disable` or names a Unix
//! socket.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail2fa::store::PostgresStore;

/// Fields separated by 0xFF: form, user, password, host, extra settings.
struct Fields {
    form: u8,
    user: String,
    password: String,
    host: String,
    extra: String,
}

fn fields(data: &[u8]) -> Option<Fields> {
    let mut fields = data.split(|b| *b == 0xff);
    let form = fields.next()?.first().copied().unwrap_or(0) % 3;
    let mut next = || String::from_utf8(fields.next().unwrap_or_default().to_vec()).ok();
    let (user, password, host, extra) = (next()?, next()?, next()?, next()?);
    Some(Fields {
        form,
        user,
        password,
        host,
        extra,
    })
}

/// The fields as a string in one of libpq's forms, with `password`.
fn build(f: &Fields, password: &str) -> String {
    let Fields {
        user, host, extra, ..
    } = f;
    match f.form {
        0 => format!("postgres://{user}:{password}@{host}/db?{extra}"),
        1 => {
            let encoded: String = password.bytes().map(|b| format!("%{b:02X}")).collect();
            format!("postgresql://{user}:{encoded}@{host}/db?{extra}")
        }
        _ => format!(
            "host={host} user={user} password='{}' {extra}",
            password.replace('\\', "\\\\").replace('\'', "\\'")
        ),
    }
}

/// What a string gives: the plan's target, or the error message.
fn outcome(text: &str) -> String {
    match PostgresStore::plan(text) {
        Ok(plan) => plan.target,
        Err(e) => e.to_string(),
    }
}

fn check(text: &str) {
    match PostgresStore::plan(text) {
        Ok(plan) => {
            // A socket is a host starting with `/`: in a URL only as
            // `%2F…` or a `host=/…` setting.
            let socket_possible =
                if text.starts_with("postgres://") || text.starts_with("postgresql://") {
                    text.contains('%') || text.contains("host=/")
                } else {
                    text.contains('/')
                };
            assert!(
                plan.tls || text.contains("disable") || socket_possible,
                "plain without sslmode=disable or a socket: {text:?}"
            );
            assert!(!plan.target.is_empty());
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check(text);
    }
    let Some(f) = fields(data) else {
        return;
    };
    let text = build(&f, &f.password);
    check(&text);
    // Where the password cannot change how the string parses (encoded in a
    // URL, quoted in a list), the message or target for it must not hold
    // the password unless the one for an empty password holds it too (the
    // same bytes may be in a host or user name, or in the message's words).
    if f.form != 0 && f.password.len() >= 4 {
        let with = outcome(&text);
        let without = outcome(&build(&f, ""));
        assert!(
            !with.contains(&f.password) || without.contains(&f.password),
            "{text:?} -> {with}"
        );
    }
});
