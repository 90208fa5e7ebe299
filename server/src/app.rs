//! The service's state: the engine on the configuration's store, the panel
//! API's tokens, the clock.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mail2fa::asynchronous::AsyncEngine;
use mail2fa::config::{Config, ConfigError};
use mail2fa::engine::{AccountId, Engine};
use mail2fa::store::Store;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::deliver::{Delivery, SetupError};

/// Where the service's "now" comes from: the system clock, or (for tests
/// and rehearsals) a time the caller sets.
#[derive(Debug, Clone)]
pub enum Clock {
    /// The system clock, in whole seconds.
    System,
    /// A time set by the caller, shared by every clone.
    Fixed(Arc<AtomicU64>),
}

impl Clock {
    /// A fixed clock at `now` (Unix seconds).
    pub fn fixed(now: u64) -> Self {
        Self::Fixed(Arc::new(AtomicU64::new(now)))
    }

    /// The current time, in Unix seconds (0 if the system clock is before
    /// 1970, which refuses every time-bound action).
    pub fn now(&self) -> u64 {
        match self {
            Self::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            Self::Fixed(now) => now.load(Ordering::SeqCst),
        }
    }

    /// Moves a fixed clock to `now`; the system clock ignores it.
    pub fn set(&self, now: u64) {
        if let Self::Fixed(at) = self {
            at.store(now, Ordering::SeqCst);
        }
    }
}

/// The panel API's tokens, kept as SHA-256 digests and compared in
/// constant time.
#[derive(Clone, Default)]
pub(crate) struct Tokens {
    digests: Arc<Vec<[u8; 32]>>,
}

impl Tokens {
    pub(crate) fn new<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Self {
        let digests = tokens
            .into_iter()
            .map(|t| Sha256::digest(t.as_bytes()).into())
            .collect();
        Self {
            digests: Arc::new(digests),
        }
    }

    /// Whether `presented` is one of the tokens. Every token is compared,
    /// whatever matches, so the time does not tell which or how many.
    pub(crate) fn accepts(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = subtle::Choice::from(0);
        for known in self.digests.iter() {
            found |= known.ct_eq(&digest);
        }
        bool::from(found)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }
}

/// Why the service cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration (or a file it names) cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The configuration names no address to listen on.
    #[error("server.listen names no address to listen on (e.g. listen = [\"127.0.0.1:8080\"])")]
    NoListenAddress,
    /// The store refused a start-up change.
    #[error("the store: {0}")]
    Store(mail2fa::Error),
    /// The configuration's delivery settings (`[notifications]`) cannot
    /// be used.
    #[error(transparent)]
    Delivery(#[from] SetupError),
    /// An address cannot be listened on.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address, as configured.
        address: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A future the password check returns.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Result<bool, String>> + Send + 'a>>;

/// How the portal checks a mailbox password: the deployment's own
/// authentication (Dovecot's socket, PAM), or a table in tests.
pub trait PasswordVerifier: Send + Sync + 'static {
    /// `Ok(true)`: the password of `account` (the mailbox address) is
    /// right; `Ok(false)`: it is not, or there is no such mailbox;
    /// `Err(why)`: the check could not be made (the sign-in is refused).
    /// `why` never quotes the password.
    fn verify<'a>(
        &'a self,
        account: &'a str,
        password: &'a str,
        remote: Option<IpAddr>,
    ) -> CheckFuture<'a>;
}

/// The check of a service built without one: every sign-in refused with a
/// message saying so.
struct NoPasswordCheck;

impl PasswordVerifier for NoPasswordCheck {
    fn verify<'a>(&'a self, _: &'a str, _: &'a str, _: Option<IpAddr>) -> CheckFuture<'a> {
        Box::pin(async { Err("this service has no password check configured".to_owned()) })
    }
}

/// The service: the engine, the tokens, the clock, the portal's settings.
/// Cheap to clone (every request handler holds one).
#[derive(Clone)]
pub struct App {
    pub(crate) engine: AsyncEngine<Box<dyn Store>>,
    pub(crate) tokens: Tokens,
    pub(crate) clock: Clock,
    pub(crate) password: Arc<dyn PasswordVerifier>,
    /// How long a portal session lives unused, in seconds.
    pub(crate) session_idle: u64,
    /// The portal's administrators (each of its own platform).
    pub(crate) admins: Arc<Vec<AccountId>>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub(crate) trusted_proxies: Arc<Vec<(IpAddr, u8)>>,
    pub(crate) delivery: Arc<Delivery>,
    /// The endpoints for nginx.
    pub(crate) gate: crate::nginx::Gate,
}

impl App {
    /// The service as the configuration file describes it: its store
    /// opened (created only where `store.create` allows), its engine
    /// settings and keys, the panel API's tokens from
    /// `server.api_token_file` (none: the API refuses every call), the
    /// system clock, delivery by `[notifications]`, mailbox passwords
    /// checked as `[password_check]` says, the portal's settings of
    /// `[server]`.
    ///
    /// # Errors
    /// [`StartError::Config`]: the store cannot be opened, or a key or
    /// token file cannot be used (the message names the file and the fix);
    /// [`StartError::Delivery`]: `[notifications]` cannot be used.
    pub fn from_config(config: &Config) -> Result<Self, StartError> {
        let engine = config.open_engine()?;
        let tokens = config.api_tokens()?.unwrap_or_default();
        let server = config.server();
        let delivery = Delivery::from_config(config)?;
        let check = crate::password::PasswordCheck::from_config(config.password_check());
        let gate = crate::nginx::Gate::from_config(config)?;
        Ok(
            Self::new(engine, tokens.iter().map(|t| t.as_str()), Clock::System)
                .with_session_idle(server.session_seconds)
                .with_admins(server.admins.iter().map(String::as_str))
                .with_trusted_proxies(server.trusted_proxies.iter().map(String::as_str))
                .with_delivery(delivery)
                .with_password_verifier(check)
                .with_gate(gate),
        )
    }

    /// The service over `engine`, accepting `tokens` on the panel API,
    /// with `clock`, delivering nothing (see [`App::with_delivery`]).
    pub fn new<'a>(
        engine: Engine<Box<dyn Store>>,
        tokens: impl IntoIterator<Item = &'a str>,
        clock: Clock,
    ) -> Self {
        Self {
            engine: AsyncEngine::new(engine),
            tokens: Tokens::new(tokens),
            clock,
            password: Arc::new(NoPasswordCheck),
            session_idle: 1800,
            admins: Arc::new(Vec::new()),
            trusted_proxies: Arc::new(Vec::new()),
            delivery: Arc::new(Delivery::default()),
            gate: crate::nginx::Gate::default(),
        }
    }

    /// The same service, with these endpoints for nginx (the default
    /// has no secret: they refuse every request).
    #[must_use]
    pub fn with_gate(mut self, gate: crate::nginx::Gate) -> Self {
        self.gate = gate;
        self
    }

    /// The endpoints for nginx.
    pub fn gate(&self) -> &crate::nginx::Gate {
        &self.gate
    }

    /// Whether `ip` is one of the trusted proxies.
    pub(crate) fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies
            .iter()
            .any(|net| mail2fa::config::in_network(ip, *net))
    }

    /// The service delivering codes and notifications by `delivery`.
    #[must_use]
    pub fn with_delivery(self, delivery: Delivery) -> Self {
        Self {
            delivery: Arc::new(delivery),
            ..self
        }
    }

    /// The same service, checking mailbox passwords with `verifier`.
    #[must_use]
    pub fn with_password_verifier(mut self, verifier: impl PasswordVerifier) -> Self {
        self.password = Arc::new(verifier);
        self
    }

    /// The same service, with portal sessions ending after `seconds`
    /// unused (60 to 86400; out of range: the nearest bound).
    #[must_use]
    pub fn with_session_idle(mut self, seconds: u64) -> Self {
        self.session_idle = seconds.clamp(60, 86_400);
        self
    }

    /// The same service, believing `X-Forwarded-For` from these proxies
    /// (addresses or networks, as `[server] trusted_proxies`; others are
    /// left out).
    #[must_use]
    pub fn with_trusted_proxies<'a>(mut self, proxies: impl IntoIterator<Item = &'a str>) -> Self {
        let proxies = proxies
            .into_iter()
            .filter_map(mail2fa::config::parse_network)
            .collect();
        self.trusted_proxies = Arc::new(proxies);
        self
    }

    /// The client's address: the TCP peer, or — when the peer is a trusted
    /// proxy — the last address of `X-Forwarded-For` that is not a trusted
    /// proxy itself (a client's own header, which a proxy appends to, is
    /// never believed). `None` when the peer is unknown.
    pub fn client_address(
        &self,
        peer: Option<IpAddr>,
        headers: &axum::http::HeaderMap,
    ) -> Option<IpAddr> {
        let peer = peer?;
        let trusted = |ip: IpAddr| self.is_trusted_proxy(ip);
        if !trusted(peer) {
            return Some(peer);
        }
        let mut forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        forwarded.reverse();
        for hop in forwarded {
            match hop.parse::<IpAddr>() {
                Ok(ip) if trusted(ip) => continue,
                Ok(ip) => return Some(ip),
                // A hop that is not an address: stop believing the header.
                Err(_) => return Some(peer),
            }
        }
        Some(peer)
    }

    /// The same service, with these portal administrators (mailbox
    /// addresses, each an administrator of its own platform: the domain).
    /// Addresses that are not valid account names are left out.
    #[must_use]
    pub fn with_admins<'a>(mut self, admins: impl IntoIterator<Item = &'a str>) -> Self {
        let admins = admins
            .into_iter()
            .filter_map(|a| {
                let platform = a.rsplit_once('@').map(|(_, d)| d)?;
                AccountId::new(platform, a).ok()
            })
            .collect();
        self.admins = Arc::new(admins);
        self
    }

    /// Turns 2FA on for `platform` (the try-out's set-up).
    ///
    /// # Errors
    /// [`StartError::Store`] when the store refuses.
    pub async fn enable_platform_now(&self, platform: &str) -> Result<(), StartError> {
        let platform = platform.to_owned();
        self.engine
            .run(move |engine| engine.enable_platform(&platform, true))
            .await
            .map_err(StartError::Store)
    }

    /// Every route of the service — the panel API, the portal and the
    /// endpoints for nginx —, ready
    /// for `axum::serve` (with
    /// `into_make_service_with_connect_info::<std::net::SocketAddr>()`, so
    /// that the portal knows the client's address).
    pub fn router(&self) -> axum::Router {
        let others = crate::portal::routes(self.clone()).merge(crate::nginx::routes());
        crate::api::router(self.clone(), others)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail2fa::store::MemoryStore;

    fn app(proxies: &[&str]) -> App {
        let engine = Engine::new(
            Box::new(MemoryStore::new()) as Box<dyn Store>,
            mail2fa::engine::EngineConfig::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        App::new(engine, [], Clock::fixed(0)).with_trusted_proxies(proxies.iter().copied())
    }

    fn forwarded(value: &str) -> axum::http::HeaderMap {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            value.parse().unwrap_or_else(|e| panic!("{e}")),
        );
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_client_address_is_the_peer_unless_a_trusted_proxy_forwards() {
        let app = app(&["127.0.0.1", "10.0.0.0/8"]);
        let none = axum::http::HeaderMap::new();
        // An untrusted peer's header is ignored.
        let spoof = forwarded("203.0.113.66");
        assert_eq!(
            app.client_address(Some(ip("198.51.100.7")), &spoof),
            Some(ip("198.51.100.7"))
        );
        // A trusted proxy: the last hop that is not a proxy.
        assert_eq!(
            app.client_address(Some(ip("127.0.0.1")), &spoof),
            Some(ip("203.0.113.66"))
        );
        let chain = forwarded("203.0.113.66, 198.51.100.7, 10.1.1.1");
        assert_eq!(
            app.client_address(Some(ip("127.0.0.1")), &chain),
            Some(ip("198.51.100.7"))
        );
        // No header, or a hop that is not an address: the proxy itself.
        assert_eq!(
            app.client_address(Some(ip("127.0.0.1")), &none),
            Some(ip("127.0.0.1"))
        );
        let junk = forwarded("198.51.100.7, unknown");
        assert_eq!(
            app.client_address(Some(ip("127.0.0.1")), &junk),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(app.client_address(None, &spoof), None);
        // Without trusted proxies, the peer always.
        assert_eq!(
            self::app(&[]).client_address(Some(ip("127.0.0.1")), &spoof),
            Some(ip("127.0.0.1"))
        );
    }
}
