//! Issue 21: the async façade (feature `tokio`). Every engine call of
//! [`AsyncEngine`] runs on a blocking thread, never on the runtime's own;
//! the host's password check is awaited on the runtime; a blocking part
//! that panics is an error, not a panic in the host. Runs on the backend of
//! `MAIL2FA_TEST_STORE` (scripts/test-stores.sh).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use mail2fa::Error;
use mail2fa::asynchronous::{AsyncEngine, OwnedLoginAttempt, Password};
use mail2fa::engine::{
    AccountId, ClientInfo, Engine, EngineConfig, LoginAttempt, Protocol, ProtocolPolicy,
};
use mail2fa::store::{MemoryStore, Store};
use support::engine::{NOW, PLATFORM, account};
use support::logging::{Watch, Watched};
use support::{TestStore, code, fresh_store};

const PASSWORD: &str = "T9D3K!px";

/// Notes the thread of every store call.
type Threads = Watched<TestStore, Box<dyn Fn(&'static str, &[u8]) + Send + Sync>>;

/// Every store call panics once `armed` is set.
#[derive(Default)]
struct Armed(AtomicBool);

impl Watch for Armed {
    fn call(&self, _: &'static str, _: &[u8]) {
        assert!(!self.0.load(Ordering::SeqCst), "the store fails badly");
    }
}

/// One thread for everything, as a `current_thread` runtime has: a call
/// made on it would hold up every other task.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Platform on, IMAP taking password+code strings, `alice` enrolled through
/// the façade; returns her authenticator app.
async fn setup<S: Store + 'static>(engine: &AsyncEngine<S>, alice: &AccountId) -> mail2fa::Totp {
    let id = alice.clone();
    let uri = engine
        .run(move |engine| {
            engine.enable_platform(PLATFORM, true)?;
            engine.set_platform_policy(
                PLATFORM,
                &Protocol::Imap,
                Some(ProtocolPolicy::CodeInLogin),
            )?;
            engine.enable_account(&id, NOW - 600)
        })
        .await
        .unwrap();
    let phone = mail2fa::Totp::from_uri(&uri).unwrap();
    let first = code(&phone, phone.step_at(NOW - 600).unwrap());
    let id = alice.clone();
    let confirmed = engine
        .run(move |engine| engine.confirm_enrollment(&id, &first, NOW - 600))
        .await
        .unwrap();
    assert!(confirmed.is_allowed());
    phone
}

#[test]
fn the_store_is_never_called_on_the_runtime_thread_and_the_password_check_is() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let noted = Arc::clone(&seen);
    let store: Threads = Watched::new(
        fresh_store(),
        Box::new(move |_, _| noted.lock().unwrap().push(std::thread::current().id())),
    );
    let engine = AsyncEngine::new(Engine::new(store, EngineConfig::default()).unwrap());
    // What the engine's construction read, on this thread before the
    // runtime runs on it, does not count.
    seen.lock().unwrap().clear();
    let alice = account("alice@example.com");
    let runtime = runtime();
    let (runtime_thread, checked_on) = runtime.block_on(async {
        let phone = setup(&engine, &alice).await;
        let typed = format!("{PASSWORD}{}", code(&phone, phone.step_at(NOW).unwrap()));
        let checked_on = Arc::new(Mutex::new(None));
        let decision = engine
            .check_login(&alice, LoginAttempt::new(Protocol::Imap, &typed), NOW, {
                let checked_on = Arc::clone(&checked_on);
                move |password: Password| async move {
                    *checked_on.lock().unwrap() = Some(std::thread::current().id());
                    password.as_str() == PASSWORD
                }
            })
            .await
            .unwrap();
        assert!(decision.is_allowed(), "{decision:?}");
        let checked_on = checked_on.lock().unwrap().unwrap();
        (std::thread::current().id(), checked_on)
    });
    let seen = seen.lock().unwrap();
    // Enrollment, then the login's reads and its write.
    assert!(seen.len() >= 4, "{} store calls", seen.len());
    assert!(seen.iter().all(|thread| *thread != runtime_thread));
    assert_eq!(checked_on, runtime_thread);
}

#[test]
fn a_login_is_decided_as_the_blocking_call_decides_it() {
    let engine = AsyncEngine::new(Engine::new(fresh_store(), EngineConfig::default()).unwrap());
    let alice = account("alice@example.com");
    runtime().block_on(async {
        let phone = setup(&engine, &alice).await;
        let id = alice.clone();
        let (_, app_password) = engine
            .run(move |engine| engine.create_app_password(&id, "phone", &[], NOW - 500))
            .await
            .unwrap();
        let typed = format!("{PASSWORD}{}", code(&phone, phone.step_at(NOW).unwrap()));
        let checked = Arc::new(Mutex::new(Vec::new()));
        let directory = |password: Password| {
            let checked = Arc::clone(&checked);
            async move {
                let right = password.as_str() == PASSWORD;
                checked.lock().unwrap().push(password.as_str().to_owned());
                right
            }
        };
        let login = |input: &str, protocol: Protocol, now: u64| {
            let attempt = OwnedLoginAttempt::new(protocol, input)
                .with_client(ClientInfo::new().with_user_agent("Thunderbird/128.3.1"));
            engine.check_login(&alice, attempt, now, directory)
        };
        // Password and code: allowed; the check saw the password part only.
        assert!(
            login(&typed, Protocol::Imap, NOW)
                .await
                .unwrap()
                .is_allowed()
        );
        assert_eq!(*checked.lock().unwrap(), [PASSWORD]);
        // The same string from another client: the code is spent.
        let replay = engine
            .check_login(
                &alice,
                LoginAttempt::new(Protocol::Imap, &typed),
                NOW + 5,
                directory,
            )
            .await
            .unwrap();
        assert!(!replay.is_allowed());
        // A wrong password with the next code: refused.
        let wrong = format!("T9D3K!pz{}", code(&phone, phone.step_at(NOW).unwrap() + 1));
        assert!(
            !login(&wrong, Protocol::Imap, NOW + 30)
                .await
                .unwrap()
                .is_allowed()
        );
        // The application password, on a protocol it is valid for.
        assert!(
            login(app_password.as_str(), Protocol::Smtp, NOW + 40)
                .await
                .unwrap()
                .is_allowed()
        );
    });
}

#[test]
fn a_directory_that_cannot_answer_and_input_no_client_sends_refuse_the_login() {
    let engine = AsyncEngine::new(Engine::new(fresh_store(), EngineConfig::default()).unwrap());
    let alice = account("alice@example.com");
    runtime().block_on(async {
        let phone = setup(&engine, &alice).await;
        let typed = format!("{PASSWORD}{}", code(&phone, phone.step_at(NOW).unwrap()));
        let down = engine
            .check_login(
                &alice,
                LoginAttempt::new(Protocol::Imap, &typed),
                NOW,
                |_| async { Err::<bool, _>(std::io::Error::from(std::io::ErrorKind::TimedOut)) },
            )
            .await;
        assert_eq!(down, Err(Error::PasswordCheckFailed));
        // Nothing was recorded: the same code still logs in.
        let allowed = engine
            .check_login(
                &alice,
                LoginAttempt::new(Protocol::Imap, &typed),
                NOW,
                |p| async move { p.as_str() == PASSWORD },
            )
            .await
            .unwrap();
        assert!(allowed.is_allowed());
        // A NUL byte: refused before the password check is called.
        let called = Mutex::new(false);
        let refused = engine
            .check_login(
                &alice,
                LoginAttempt::new(Protocol::Imap, "T9D3K\0px"),
                NOW,
                |_| {
                    *called.lock().unwrap() = true;
                    async { true }
                },
            )
            .await;
        assert!(!*called.lock().unwrap());
        assert!(
            matches!(refused, Err(Error::InvalidInput(_))),
            "{refused:?}"
        );
    });
}

#[test]
fn a_panic_in_a_blocking_part_is_an_error_for_the_host() {
    let store = Arc::new(Watched::new(MemoryStore::new(), Armed::default()));
    let engine =
        AsyncEngine::new(Engine::new(Arc::clone(&store), EngineConfig::default()).unwrap());
    store.watcher().0.store(true, Ordering::SeqCst);
    let alice = account("alice@example.com");
    runtime().block_on(async {
        let login = engine
            .check_login(
                &alice,
                LoginAttempt::new(Protocol::Imap, PASSWORD),
                NOW,
                |_| async { true },
            )
            .await;
        assert_eq!(login, Err(Error::Interrupted));
        let call = engine
            .run(|engine| engine.enable_platform(PLATFORM, true))
            .await;
        assert_eq!(call, Err(Error::Interrupted));
    });
}
