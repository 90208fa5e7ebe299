//! The PostgreSQL store on a real server (`MAIL2FA_TEST_POSTGRES`, from
//! `scripts/pg-server.sh start`): compare-and-swap semantics, versions,
//! scans, the schema check, connection strings and errors. Without the
//! variable the tests say so and pass, unless `MAIL2FA_REQUIRE_POSTGRES=1`
//! (CI), where a missing server fails them.

#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use mail2fa::store::{
    CasOutcome, POSTGRES_SCHEMA_VERSION, PostgresOptions, PostgresStore, Store, StoreError,
};
use support::PostgresSchema;

fn stored(outcome: CasOutcome) -> u64 {
    match outcome {
        CasOutcome::Stored { version } => version,
        CasOutcome::Conflict => panic!("expected a stored write"),
    }
}

fn backend_message<T: core::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Backend(message)) => message,
        other => panic!("expected a backend error, got {other:?}"),
    }
}

#[test]
fn compare_and_swap_follows_versions_and_never_reuses_one() {
    let Some(schema) = PostgresSchema::or_skip() else {
        return;
    };
    let store = PostgresStore::create(&schema.url).unwrap();
    assert_eq!(store.load(b"k").unwrap(), None);

    let v1 = stored(store.compare_and_swap(b"k", None, Some(b"one")).unwrap());
    assert_eq!(
        store.compare_and_swap(b"k", None, Some(b"again")).unwrap(),
        CasOutcome::Conflict
    );
    let loaded = store.load(b"k").unwrap().unwrap();
    assert_eq!((loaded.version, loaded.bytes.as_slice()), (v1, &b"one"[..]));

    assert_eq!(
        store
            .compare_and_swap(b"k", Some(v1 + 1000), Some(b"x"))
            .unwrap(),
        CasOutcome::Conflict
    );
    assert_eq!(
        store
            .compare_and_swap(b"k", Some(u64::MAX), Some(b"x"))
            .unwrap(),
        CasOutcome::Conflict
    );
    let v2 = stored(
        store
            .compare_and_swap(b"k", Some(v1), Some(b"two"))
            .unwrap(),
    );
    assert!(v2 > v1);
    // The old version is dead: a stale writer cannot overwrite.
    assert_eq!(
        store
            .compare_and_swap(b"k", Some(v1), Some(b"stale"))
            .unwrap(),
        CasOutcome::Conflict
    );
    assert_eq!(store.load(b"k").unwrap().unwrap().bytes.as_slice(), b"two");

    // Delete, then create again: the new version is fresh (no ABA).
    assert_eq!(
        store.compare_and_swap(b"k", Some(v1), None).unwrap(),
        CasOutcome::Conflict
    );
    let v3 = stored(store.compare_and_swap(b"k", Some(v2), None).unwrap());
    assert!(v3 > v2);
    assert_eq!(store.load(b"k").unwrap(), None);
    let v4 = stored(store.compare_and_swap(b"k", None, Some(b"new")).unwrap());
    assert!(v4 > v3);
    assert_eq!(
        store
            .compare_and_swap(b"k", Some(v2), Some(b"aba"))
            .unwrap(),
        CasOutcome::Conflict
    );

    // Deleting what is absent succeeds only while it is absent.
    let v5 = stored(store.compare_and_swap(b"absent", None, None).unwrap());
    assert!(v5 > v4);
    assert_eq!(
        store.compare_and_swap(b"k", None, None).unwrap(),
        CasOutcome::Conflict
    );

    // Empty keys and records, binary bytes, the size limits.
    stored(store.compare_and_swap(b"", None, Some(b"")).unwrap());
    let binary: Vec<u8> = (0..=255).collect();
    stored(
        store
            .compare_and_swap(&binary, None, Some(&binary))
            .unwrap(),
    );
    assert_eq!(
        store.load(&binary).unwrap().unwrap().bytes.as_slice(),
        &binary[..]
    );
    let big = vec![7u8; mail2fa::store::MAX_RECORD_LEN];
    stored(store.compare_and_swap(b"big", None, Some(&big)).unwrap());
    assert_eq!(store.load(b"big").unwrap().unwrap().bytes.len(), big.len());
    assert_eq!(
        store.compare_and_swap(
            b"big2",
            None,
            Some(&vec![0u8; mail2fa::store::MAX_RECORD_LEN + 1])
        ),
        Err(StoreError::TooLarge)
    );
    assert_eq!(
        store.compare_and_swap(
            &vec![0u8; mail2fa::store::MAX_KEY_LEN + 1],
            None,
            Some(b"x")
        ),
        Err(StoreError::TooLarge)
    );
}

#[test]
fn scan_walks_in_byte_order_in_batches() {
    let Some(schema) = PostgresSchema::or_skip() else {
        return;
    };
    let store = PostgresStore::create(&schema.url).unwrap();
    // Byte order, not text order: 0xff sorts after 'z', 0x00 first.
    let mut keys: Vec<Vec<u8>> = vec![
        b"b".to_vec(),
        b"a".to_vec(),
        vec![0xff],
        vec![0x00],
        b"z".to_vec(),
        b"ab".to_vec(),
    ];
    for key in &keys {
        stored(store.compare_and_swap(key, None, Some(key)).unwrap());
    }
    keys.sort();
    let mut seen = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let batch = store.scan(after.as_deref(), 4).unwrap();
        assert!(batch.len() <= 4);
        if batch.is_empty() {
            break;
        }
        for (key, record) in &batch {
            assert_eq!(record.bytes.as_slice(), key.as_slice());
        }
        after = batch.last().map(|(key, _)| key.clone());
        seen.extend(batch.into_iter().map(|(key, _)| key));
    }
    assert_eq!(seen, keys);
}

#[test]
fn two_stores_see_each_others_writes_at_once() {
    let Some(schema) = PostgresSchema::or_skip() else {
        return;
    };
    let a = PostgresStore::create(&schema.url).unwrap();
    let b = PostgresStore::open(&schema.url).unwrap();
    let v = stored(a.compare_and_swap(b"k", None, Some(b"from a")).unwrap());
    assert_eq!(b.load(b"k").unwrap().unwrap().version, v);
    assert_eq!(
        b.compare_and_swap(b"k", None, Some(b"from b")).unwrap(),
        CasOutcome::Conflict
    );
    stored(b.compare_and_swap(b"k", Some(v), Some(b"from b")).unwrap());
    assert_eq!(
        a.compare_and_swap(b"k", Some(v), Some(b"stale a")).unwrap(),
        CasOutcome::Conflict
    );
    assert_eq!(a.load(b"k").unwrap().unwrap().bytes.as_slice(), b"from b");
}

#[test]
fn schema_is_created_once_checked_and_foreign_or_newer_ones_refused() {
    let Some(schema) = PostgresSchema::or_skip() else {
        return;
    };
    let no_create = PostgresOptions::default().with_create(false);
    let message = backend_message(PostgresStore::open_with(&schema.url, &no_create));
    assert!(message.contains("no mail2fa schema"), "{message}");
    assert_eq!(no_create, PostgresOptions::default());
    let message = backend_message(PostgresStore::open(&schema.url));
    assert!(message.contains("platform enable"), "{message}");
    // Nothing was created by the refused opens.
    assert_eq!(
        schema
            .sql("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")
            .trim(),
        "0"
    );

    // Hosts starting together: one builds the schema, all open it.
    let url = schema.url.clone();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PostgresStore::create(&url).map(|_| ()))
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    let store = PostgresStore::open_with(&schema.url, &no_create).unwrap();
    let check = store.check().unwrap();
    assert_eq!(check.schema_version, POSTGRES_SCHEMA_VERSION);
    assert_eq!(check.records, 0);
    assert!(
        check.server_version.starts_with(char::is_numeric),
        "{}",
        check.server_version
    );
    stored(store.compare_and_swap(b"k", None, Some(b"v")).unwrap());
    assert_eq!(store.check().unwrap().records, 1);
    drop(store);

    // A newer schema is refused, never read (nor touched by a creator).
    schema.sql("UPDATE m2fa_meta SET schema_version = 99");
    let message = backend_message(PostgresStore::open(&schema.url));
    assert!(message.contains("version 99"), "{message}");
    let message = backend_message(PostgresStore::create(&schema.url));
    assert!(message.contains("version 99"), "{message}");

    // Someone else's m2fa_records is refused, and not touched, by the
    // login path's opener and the creating one alike.
    let other = PostgresSchema::new();
    other.sql("CREATE TABLE m2fa_records (key bytea, note text)");
    let message = backend_message(PostgresStore::open(&other.url));
    assert!(message.contains("not mail2fa's"), "{message}");
    let message = backend_message(PostgresStore::create(&other.url));
    assert!(message.contains("not mail2fa's"), "{message}");
    assert_eq!(other.sql("SELECT count(*) FROM m2fa_records").trim(), "0");
}

#[test]
fn bad_connection_strings_and_credentials_are_clear_errors_without_the_password() {
    let Some(schema) = PostgresSchema::or_skip() else {
        return;
    };
    for bad in [
        "host=127.0.0.1 sslmode=allow password=hunter2secret",
        "postgres://u:hunter2secret@127.0.0.1/db?colour=blue",
        "password=hunter2secret dbname=x",
        "host=127.0.0.1 password='hunter2secret",
    ] {
        let message = backend_message(PostgresStore::open(bad));
        assert!(!message.contains("hunter2secret"), "{message}");
    }
    // A wrong password: authentication fails, the message says so.
    let wrong = schema.url.replacen("mail2fa_test:", "mail2fa_test:x", 1);
    assert_ne!(wrong, schema.url);
    let message = backend_message(PostgresStore::open(&wrong));
    assert!(
        message.contains("28P01") || message.contains("password"),
        "{message}"
    );
    assert!(!message.contains(wrong.split(':').nth(2).unwrap().split('@').next().unwrap()));
    // Options out of range.
    for options in [
        PostgresOptions::default().with_max_connections(0),
        PostgresOptions::default().with_timeout(Duration::ZERO),
    ] {
        backend_message(PostgresStore::open_with(&schema.url, &options));
    }
}

/// The test CA of `scripts/pg-server.sh` (whose server offers TLS), and an
/// unrelated CA; `None` (skipped) without them, unless required.
fn test_cas() -> Option<(String, String)> {
    match (
        std::env::var("MAIL2FA_TEST_PG_CA"),
        std::env::var("MAIL2FA_TEST_PG_OTHER_CA"),
    ) {
        (Ok(ca), Ok(other)) => Some((ca, other)),
        _ => {
            assert!(
                std::env::var("MAIL2FA_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "MAIL2FA_REQUIRE_POSTGRES=1 but MAIL2FA_TEST_PG_CA is not set"
            );
            eprintln!("SKIPPED: MAIL2FA_TEST_PG_CA is not set (scripts/pg-server.sh start)");
            None
        }
    }
}

/// How many of the server's sessions named `application` use TLS, and how
/// many do not.
fn sessions_by_tls(schema: &PostgresSchema, application: &str) -> (u32, u32) {
    let counts = schema.sql(&format!(
        "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) \
         FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.application_name = '{application}'"
    ));
    let (tls, plain) = counts.trim().split_once('|').unwrap();
    (tls.parse().unwrap(), plain.parse().unwrap())
}

/// `url` without its `sslmode` and `sslrootcert` settings.
fn without_tls_settings(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let kept: Vec<&str> = query
        .split('&')
        .filter(|s| !s.starts_with("sslmode=") && !s.starts_with("sslrootcert="))
        .collect();
    format!("{base}?{}", kept.join("&"))
}

#[test]
fn tls_is_used_and_verified_against_the_given_roots() {
    let Some(schema) = PostgresSchema::or_skip() else {
        return;
    };
    let Some((ca, other_ca)) = test_cas() else {
        return;
    };
    let base = without_tls_settings(&schema.url);
    assert!(!base.contains("ssl"), "{base}");
    let with = |settings: &str, application: &str| {
        format!("{base}&{settings}&application_name={application}")
    };
    drop(PostgresStore::create(&schema.url).unwrap());
    // The default (no sslmode), prefer, require and verify-full with the
    // test CA: the session is encrypted (and, with the password, uses
    // SCRAM channel binding, which the server offers over TLS).
    for (mode, application) in [
        ("", "m2fa_tls_default"),
        ("sslmode=verify-full&", "m2fa_tls_full"),
        ("sslmode=prefer&", "m2fa_tls_prefer"),
        ("sslmode=require&", "m2fa_tls_require"),
        ("channel_binding=require&", "m2fa_tls_binding"),
    ] {
        let url = with(&format!("{mode}sslrootcert={ca}"), application);
        let plan = PostgresStore::plan(&url).unwrap();
        assert!(plan.tls && plan.channel_binding_required, "{mode}");
        let store = PostgresStore::open(&url).unwrap();
        stored(
            store
                .compare_and_swap(application.as_bytes(), None, Some(b"v"))
                .unwrap(),
        );
        assert_eq!(sessions_by_tls(&schema, application), (1, 0), "{mode}");
        drop(store);
    }
    // sslmode=disable: plain, as asked.
    let url = with("sslmode=disable", "m2fa_plain");
    assert!(!PostgresStore::plan(&url).unwrap().tls);
    let store = PostgresStore::open(&url).unwrap();
    assert!(store.load(b"m2fa_tls_full").unwrap().is_some());
    assert_eq!(sessions_by_tls(&schema, "m2fa_plain"), (0, 1));
    drop(store);

    // Refused: the system's roots do not know the test CA (under every
    // mode: a TLS session is always verified), another CA, and a name the
    // certificate is not for (it names 127.0.0.1 only).
    let refused = [
        with("sslmode=require", "m2fa_tls_system"),
        with("sslmode=prefer", "m2fa_tls_prefer_system"),
        with("application_name=m2fa_tls_default_system", "x"),
        with(
            &format!("sslmode=verify-full&sslrootcert={other_ca}"),
            "m2fa_tls_other",
        ),
        with(&format!("sslrootcert={ca}"), "m2fa_tls_name").replace("@127.0.0.1:", "@localhost:"),
    ];
    for url in refused {
        let message = backend_message(PostgresStore::open(&url));
        assert!(
            message.contains("certificate") || message.contains("Certificate"),
            "{message}"
        );
        assert!(!message.contains(password_of(&url)), "{message}");
    }
    // A root file that does not exist, or holds no certificate: a clear
    // error before connecting.
    let url = with("sslrootcert=/nonexistent/ca.pem", "m2fa_tls_missing");
    assert!(backend_message(PostgresStore::open(&url)).contains("sslrootcert"));
    let url = with("sslrootcert=/dev/null", "m2fa_tls_empty");
    assert!(backend_message(PostgresStore::open(&url)).contains("no certificate"));
}

/// The password of `postgres://user:PASSWORD@…`.
fn password_of(url: &str) -> &str {
    let userinfo = url.split("://").nth(1).unwrap().split('@').next().unwrap();
    userinfo.split(':').nth(1).unwrap()
}

#[test]
fn an_unreachable_server_fails_within_the_timeout() {
    if PostgresSchema::or_skip().is_none() {
        return;
    }
    // A port nobody listens on: refused at once. A black-holed address
    // (TEST-NET-1) never answers: the timeout ends the wait.
    let options = PostgresOptions::default().with_timeout(Duration::from_millis(700));
    for url in [
        "postgres://mail2fa_test:x@127.0.0.1:1/mail2fa_test",
        "postgres://mail2fa_test:x@192.0.2.1:5432/mail2fa_test",
    ] {
        let started = Instant::now();
        let message = backend_message(PostgresStore::open_with(url, &options));
        if url.contains(":1/") {
            assert!(message.contains("Connection refused"), "{message}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{url}: {message}"
        );
    }
}

#[test]
fn a_store_works_on_an_async_runtime_thread_and_in_spawn_blocking() {
    let Some(schema) = PostgresSchema::or_skip() else {
        return;
    };
    let runtime = tokio_runtime();
    // Opened, written and read where an async host calls: on a
    // `spawn_blocking` thread (inside the runtime's context) ...
    let store = runtime
        .block_on(async {
            let url = schema.url.clone();
            tokio::task::spawn_blocking(move || {
                let store = PostgresStore::create(&url)?;
                store.compare_and_swap(b"k", None, Some(b"v"))?;
                Ok::<_, mail2fa::store::StoreError>(store)
            })
            .await
        })
        .unwrap()
        .unwrap();
    let store = std::sync::Arc::new(store);
    // ... and where it should not, on the runtime's own thread: it works
    // (and blocks that thread) as SQLite does, instead of failing.
    let inside = {
        let store = store.clone();
        runtime.block_on(async move { store.load(b"k") })
    };
    assert_eq!(inside.unwrap().unwrap().bytes.as_slice(), b"v");
    // The same store still works from an ordinary thread.
    assert_eq!(store.load(b"k").unwrap().unwrap().bytes.as_slice(), b"v");
}

/// A current-thread Tokio runtime, as an async host would have.
fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

#[test]
fn a_login_role_with_row_privileges_only_is_enough_once_the_schema_exists() {
    let Some(schema) = PostgresSchema::or_skip() else {
        return;
    };
    drop(PostgresStore::create(&schema.url).unwrap());
    let role = support::unique("m2fa_login");
    let password = support::unique("pw");
    let name = &schema.name;
    schema.sql(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD '{password}'; \
         GRANT USAGE ON SCHEMA {name} TO {role}; \
         GRANT SELECT ON {name}.m2fa_meta TO {role}; \
         GRANT SELECT, INSERT, UPDATE, DELETE ON {name}.m2fa_records TO {role}; \
         GRANT USAGE ON SEQUENCE {name}.m2fa_versions TO {role};"
    ));
    let (credentials, rest) = schema
        .url
        .split_once("://")
        .unwrap()
        .1
        .split_once('@')
        .unwrap();
    assert!(credentials.starts_with("mail2fa_test:"));
    let url = format!("postgres://{role}:{password}@{rest}");
    // Whatever `create` says: the schema is there, nothing needs DDL.
    for create in [false, true] {
        let options = PostgresOptions::default().with_create(create);
        let store = PostgresStore::open_with(&url, &options).unwrap();
        let key = format!("k{create}");
        let v = stored(
            store
                .compare_and_swap(key.as_bytes(), None, Some(b"1"))
                .unwrap(),
        );
        let v = stored(
            store
                .compare_and_swap(key.as_bytes(), Some(v), Some(b"2"))
                .unwrap(),
        );
        assert_eq!(store.load(key.as_bytes()).unwrap().unwrap().version, v);
        stored(
            store
                .compare_and_swap(key.as_bytes(), Some(v), None)
                .unwrap(),
        );
        assert_eq!(store.scan(None, 10).unwrap().len(), 0);
        assert_eq!(
            store.check().unwrap().schema_version,
            POSTGRES_SCHEMA_VERSION
        );
    }
    // In an empty schema: the login path's opener says there is no
    // schema; the creating one may not create it (no CREATE): clear errors.
    let empty = PostgresSchema::new();
    empty.sql(&format!("GRANT USAGE ON SCHEMA {} TO {role}", empty.name));
    let (_, empty_rest) = empty.url.split_once('@').unwrap();
    let empty_url = format!("postgres://{role}:{password}@{empty_rest}");
    let message = backend_message(PostgresStore::open(&empty_url));
    assert!(message.contains("no mail2fa schema"), "{message}");
    let message = backend_message(PostgresStore::create(&empty_url));
    assert!(message.contains("42501"), "{message}");
    drop(empty);
    schema.sql(&format!(
        "REVOKE ALL ON ALL TABLES IN SCHEMA {name} FROM {role}; \
         REVOKE ALL ON ALL SEQUENCES IN SCHEMA {name} FROM {role}; \
         REVOKE ALL ON SCHEMA {name} FROM {role}; DROP ROLE {role}"
    ));
}
