//! Portal sign-ins kept in the store: a session is found by a digest of its
//! token (the store never holds the token), sealed like account records
//! when keys are configured, expired by idleness, renewed on use, and
//! removed by maintenance once dead.
//!
//! A session begins when the mailbox password was right
//! ([`SessionStage::PasswordChecked`]: the second factor is still owed) or,
//! for an account without 2FA, signed in; [`Engine::promote_session`]
//! replaces it by a signed-in one under a new token after the second
//! factor, so a token seen before sign-in is worth nothing after.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::account_id::AccountId;
use super::codes;
use super::core::Engine;
use super::seal;
use crate::error::{Error, Result};
use crate::record::{self, Reader, RecordError, Writer};
use crate::store::{Change, Store, read_modify_write};

/// Record kind of a session.
pub(crate) const SESSION_KIND: u8 = 7;

/// Store key prefix of sessions.
pub(crate) const SESSION_PREFIX: &[u8; 4] = b"sess";

/// Longest idle time a session may be given, in seconds (one day).
pub const MAX_SESSION_IDLE: u64 = 86_400;

/// Longest life of a session however much it is used, in seconds (twelve
/// hours): then its user signs in again.
pub const MAX_SESSION_AGE: u64 = 43_200;

const MAX_ATTEMPTS: u32 = 8;

/// How far a session has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionStage {
    /// The mailbox password was right; the second factor is owed.
    PasswordChecked,
    /// Signed in.
    SignedIn,
}

impl SessionStage {
    fn code(self) -> u8 {
        match self {
            Self::PasswordChecked => 1,
            Self::SignedIn => 2,
        }
    }

    fn from_code(code: u8) -> core::result::Result<Self, RecordError> {
        match code {
            1 => Ok(Self::PasswordChecked),
            2 => Ok(Self::SignedIn),
            _ => Err(RecordError::Payload("unknown session stage")),
        }
    }
}

/// A session's token: what the browser holds (in a cookie). 43
/// characters, base64url without padding, from 32 random bytes; wiped when
/// dropped, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(Zeroizing<String>);

impl SessionToken {
    /// The token as text (for the cookie).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A token the browser sent back, if it has a token's form.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = text.len() == 43
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(Zeroizing::new(text.to_owned())))
    }

    fn generate() -> Result<Self> {
        let bytes = Zeroizing::new(codes::random_bytes::<32>()?);
        Ok(Self(Zeroizing::new(base64url(&*bytes))))
    }

    fn store_key(&self) -> Vec<u8> {
        let digest = Sha256::digest(self.0.as_bytes());
        [SESSION_PREFIX.as_slice(), digest.as_slice()].concat()
    }
}

impl core::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// A portal session as the store holds it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PortalSession {
    /// Whose session.
    pub account: AccountId,
    /// How far it has come.
    pub stage: SessionStage,
    /// When it began.
    pub created: u64,
    /// It ends then unless used before (each use moves it on).
    pub expires_at: u64,
    /// When the user last proved the second factor in it (the code of the
    /// sign-in, or one asked again before a change); `None` for a session
    /// that began with the password alone (an account without 2FA, or
    /// suspended, or pending) and never proved one since.
    pub proven_at: Option<u64>,
    csrf: Zeroizing<[u8; 32]>,
}

impl core::fmt::Debug for PortalSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PortalSession")
            .field("account", &self.account)
            .field("stage", &self.stage)
            .field("created", &self.created)
            .field("expires_at", &self.expires_at)
            .field("proven_at", &self.proven_at)
            .field("csrf", &"<redacted>")
            .finish()
    }
}

impl PortalSession {
    /// The session's anti-forgery token, for every form of the portal
    /// (base64url, 43 characters).
    pub fn csrf_token(&self) -> Zeroizing<String> {
        Zeroizing::new(base64url(&*self.csrf))
    }

    /// Whether `presented` is this session's anti-forgery token (compared
    /// in constant time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        let expected = self.csrf_token();
        expected.len() == presented.len()
            && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
    }

    fn encode(&self) -> Result<Zeroizing<Vec<u8>>> {
        let mut w = Writer::default();
        w.u8(self.stage.code())
            .u64(self.created)
            .u64(self.expires_at)
            .opt_u64(self.proven_at)
            .bytes(&*self.csrf)
            .bytes(self.account.platform().as_bytes())
            .bytes(self.account.account().as_bytes());
        Ok(record::encode(SESSION_KIND, &w.finish()?))
    }

    fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(record::decode(bytes, SESSION_KIND)?);
        let stage = SessionStage::from_code(r.u8()?)?;
        let created = r.u64()?;
        let expires_at = r.u64()?;
        let proven_at = r.opt_u64()?;
        let csrf: [u8; 32] = r
            .bytes()?
            .try_into()
            .map_err(|_| RecordError::Payload("session token of the wrong length"))?;
        let platform = core::str::from_utf8(r.bytes()?)
            .map_err(|_| RecordError::Payload("session platform not UTF-8"))?;
        let account = core::str::from_utf8(r.bytes()?)
            .map_err(|_| RecordError::Payload("session account not UTF-8"))?;
        let account = AccountId::new(platform, account)
            .map_err(|_| RecordError::Payload("session account not a valid name"))?;
        r.finish()?;
        Ok(Self {
            account,
            stage,
            created,
            expires_at,
            proven_at,
            csrf: Zeroizing::new(csrf),
        })
    }
}

impl<S: Store> Engine<S> {
    /// Begins a portal session for `account` at `stage`, idle for at most
    /// `idle` seconds (and never older than [`MAX_SESSION_AGE`]); returns
    /// its token (for the browser) and the session. It has proven nothing
    /// yet ([`PortalSession::proven_at`] is `None`).
    ///
    /// ```
    /// use mail2fa::engine::{AccountId, Engine, EngineConfig, SessionStage};
    /// use mail2fa::store::MemoryStore;
    ///
    /// let engine = Engine::new(MemoryStore::new(), EngineConfig::default())?;
    /// let alice = AccountId::new("example.com", "alice@example.com")?;
    /// let now = 1_800_000_000;
    /// let (token, _) = engine.start_session(&alice, SessionStage::PasswordChecked, 1800, now)?;
    /// // After the second factor: a new token, the old one gone.
    /// let (signed_in, session) = engine.promote_session(&token, 1800, now + 20)?;
    /// assert_eq!(session.stage, SessionStage::SignedIn);
    /// assert!(engine.session(&token, 1800, now + 21)?.is_none());
    /// assert!(engine.session(&signed_in, 1800, now + 21)?.is_some());
    /// // Idle for longer than 1800 s: gone.
    /// assert!(engine.session(&signed_in, 1800, now + 21 + 1801)?.is_none());
    /// # Ok::<(), mail2fa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an `idle` of 0 or above
    /// [`MAX_SESSION_IDLE`]; randomness, sealing and storage errors.
    pub fn start_session(
        &self,
        account: &AccountId,
        stage: SessionStage,
        idle: u64,
        now: u64,
    ) -> Result<(SessionToken, PortalSession)> {
        self.begin_session(account, stage, idle, now, None)
    }

    /// A new session under a new token, proven at `proven_at`.
    fn begin_session(
        &self,
        account: &AccountId,
        stage: SessionStage,
        idle: u64,
        now: u64,
        proven_at: Option<u64>,
    ) -> Result<(SessionToken, PortalSession)> {
        check_idle(idle)?;
        let session = PortalSession {
            account: account.clone(),
            stage,
            created: now,
            expires_at: now.saturating_add(idle),
            proven_at,
            csrf: Zeroizing::new(codes::random_bytes()?),
        };
        let token = SessionToken::generate()?;
        let key = token.store_key();
        let stored = self.seal_session(&key, &session)?;
        read_modify_write(&self.store, &key, MAX_ATTEMPTS, |existing| match existing {
            // 256 random bits: a collision is a broken random source.
            Some(_) => Err(Error::Random),
            None => Ok::<_, Error>(Change::Write(Some(stored.clone()), ())),
        })?;
        Ok((token, session))
    }

    /// The live session of `token` at `now`, its idle time renewed
    /// (written back only once a tenth of `idle` has passed since the last
    /// renewal, so most page views are reads); `None` when there is no such
    /// session, it has been idle too long or it is older than
    /// [`MAX_SESSION_AGE`] (then it is deleted).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad `idle`; an unreadable record or a
    /// plain one while sealed records are required; storage errors.
    pub fn session(
        &self,
        token: &SessionToken,
        idle: u64,
        now: u64,
    ) -> Result<Option<PortalSession>> {
        check_idle(idle)?;
        let key = token.store_key();
        let Some(record) = self.store.load(&key)? else {
            return Ok(None);
        };
        let session = self.open_session(&key, &record.bytes)?;
        if is_dead(&session, now) {
            self.end_session(token)?;
            return Ok(None);
        }
        let renewed = now.saturating_add(idle);
        if renewed.saturating_sub(session.expires_at) < idle / 10 {
            return Ok(Some(session));
        }
        self.change_session(token, now, |session| {
            session.expires_at = session.expires_at.max(renewed);
        })
    }

    /// After the second factor: ends the session of `token` and begins a
    /// signed-in one for the same account under a new token, proven at
    /// `now`. The old session is taken in one compare-and-swap: of two
    /// promotions of one session, one wins, the other finds it gone.
    ///
    /// # Errors
    /// [`Error::NotFound`] if the session is gone or expired; as
    /// [`Engine::start_session`].
    pub fn promote_session(
        &self,
        token: &SessionToken,
        idle: u64,
        now: u64,
    ) -> Result<(SessionToken, PortalSession)> {
        check_idle(idle)?;
        let key = token.store_key();
        let taken = read_modify_write(&self.store, &key, MAX_ATTEMPTS, |existing| {
            let Some(bytes) = existing else {
                return Ok(Change::Keep(None));
            };
            let session = self.open_session(&key, bytes)?;
            let live = !is_dead(&session, now);
            Ok::<_, Error>(Change::Write(None, live.then_some(session)))
        })?;
        let session = taken.ok_or(Error::NotFound("session"))?;
        let (token, mut promoted) =
            self.start_session(&session.account, SessionStage::SignedIn, idle, now)?;
        promoted = self.prove_session(&token, now).unwrap_or(promoted);
        Ok((token, promoted))
    }

    /// Records that the user proved the second factor again at `now` (a
    /// code asked before a sensitive change).
    ///
    /// # Errors
    /// [`Error::NotFound`] if the session is gone or expired; storage
    /// errors.
    pub fn prove_session(&self, token: &SessionToken, now: u64) -> Result<PortalSession> {
        self.change_session(token, now, |session| session.proven_at = Some(now))?
            .ok_or(Error::NotFound("session"))
    }

    /// Ends the session of `token` (sign-out). Ending one that is gone is
    /// not an error.
    ///
    /// # Errors
    /// Storage errors.
    pub fn end_session(&self, token: &SessionToken) -> Result<()> {
        read_modify_write(&self.store, &token.store_key(), MAX_ATTEMPTS, |existing| {
            Ok::<_, Error>(match existing {
                Some(_) => Change::Write(None, ()),
                None => Change::Keep(()),
            })
        })
    }

    /// Applies `change` to the live session of `token`; `None` if it is
    /// gone or expired.
    fn change_session(
        &self,
        token: &SessionToken,
        now: u64,
        change: impl Fn(&mut PortalSession),
    ) -> Result<Option<PortalSession>> {
        let key = token.store_key();
        read_modify_write(&self.store, &key, MAX_ATTEMPTS, |existing| {
            let Some(bytes) = existing else {
                return Ok(Change::Keep(None));
            };
            let mut session = self.open_session(&key, bytes)?;
            if is_dead(&session, now) {
                return Ok(Change::Write(None, None));
            }
            change(&mut session);
            let stored = self.seal_session(&key, &session)?;
            Ok::<_, Error>(Change::Write(Some(stored), Some(session)))
        })
    }

    fn seal_session(&self, key: &[u8], session: &PortalSession) -> Result<Zeroizing<Vec<u8>>> {
        let plain = session.encode()?;
        match &self.config.encryption {
            Some(keys) => seal::seal(keys, key, &plain),
            None => Ok(plain),
        }
    }

    /// A stored session, opened if sealed. A plain one while sealed
    /// records are required is refused: whoever can write the store but has
    /// no key must not be able to plant a sign-in.
    pub(crate) fn open_session(&self, key: &[u8], bytes: &[u8]) -> Result<PortalSession> {
        match seal::open(self.config.encryption.as_ref(), key, bytes)? {
            Some(plain) => PortalSession::decode(&plain),
            None if self.config.encryption.is_some() && self.config.require_sealed => {
                Err(Error::Encryption(
                    "the session record is not encrypted and encrypted records are required",
                ))
            }
            None => PortalSession::decode(bytes),
        }
    }

    /// Whether the stored session under `key` is dead at `now` (expired,
    /// or unreadable): maintenance deletes it.
    pub(crate) fn session_is_dead(&self, key: &[u8], bytes: &[u8], now: u64) -> bool {
        self.open_session(key, bytes)
            .map_or(true, |session| is_dead(&session, now))
    }
}

/// Idle too long, or too old.
fn is_dead(session: &PortalSession, now: u64) -> bool {
    now >= session.expires_at || now >= session.created.saturating_add(MAX_SESSION_AGE)
}

fn check_idle(idle: u64) -> Result<()> {
    if idle == 0 || idle > MAX_SESSION_IDLE {
        return Err(Error::InvalidInput(
            "a session's idle time is 1 second to one day",
        ));
    }
    Ok(())
}

/// Base64url without padding.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EncryptionKeys, EngineConfig};
    use crate::store::MemoryStore;

    const NOW: u64 = 1_800_000_000;

    fn alice() -> AccountId {
        AccountId::new("example.com", "alice@example.com").unwrap()
    }

    #[test]
    fn base64url_matches_the_rfc_4648_vectors() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url(&[0u8; 32]).len(), 43);
    }

    #[test]
    fn a_session_lives_while_used_and_ends() {
        let engine = Engine::new(MemoryStore::new(), EngineConfig::default()).unwrap();
        let (token, started) = engine
            .start_session(&alice(), SessionStage::SignedIn, 600, NOW)
            .unwrap();
        assert_eq!(started.proven_at, None, "the password alone proves nothing");
        assert_eq!(SessionToken::parse(token.as_str()), Some(token.clone()));
        assert!(!format!("{token:?}").contains(token.as_str()));
        assert!(!format!("{started:?}").contains(started.csrf_token().as_str()));
        // Used every 500 s, it lives on; left alone for 600 s, it ends.
        let mut at = NOW;
        for _ in 0..5 {
            at += 500;
            let live = engine.session(&token, 600, at).unwrap().unwrap();
            assert!(live.expires_at > at, "{live:?}");
        }
        assert!(engine.session(&token, 600, at + 600).unwrap().is_none());
        assert!(engine.store().load(&token.store_key()).unwrap().is_none());
        // The anti-forgery token.
        assert!(started.csrf_matches(&started.csrf_token()));
        assert!(!started.csrf_matches("x"));
        let (other, second) = engine
            .start_session(&alice(), SessionStage::PasswordChecked, 600, NOW)
            .unwrap();
        assert!(!second.csrf_matches(&started.csrf_token()));
        assert_eq!(second.proven_at, None);
        engine.end_session(&other).unwrap();
        engine.end_session(&other).unwrap();
        assert!(engine.session(&other, 600, NOW).unwrap().is_none());
        assert!(matches!(
            engine.start_session(&alice(), SessionStage::SignedIn, 0, NOW),
            Err(Error::InvalidInput(_))
        ));
    }

    #[test]
    fn a_session_ends_at_its_maximum_age_and_is_promoted_once() {
        let engine = Engine::new(MemoryStore::new(), EngineConfig::default()).unwrap();
        let (token, _) = engine
            .start_session(&alice(), SessionStage::SignedIn, 3600, NOW)
            .unwrap();
        // Used every 50 minutes, it still ends after twelve hours.
        let mut at = NOW;
        while at + 3000 < NOW + MAX_SESSION_AGE {
            at += 3000;
            assert!(engine.session(&token, 3600, at).unwrap().is_some(), "{at}");
        }
        assert!(
            engine
                .session(&token, 3600, NOW + MAX_SESSION_AGE)
                .unwrap()
                .is_none()
        );
        // Promoted: proven then; the old token taken once.
        let (half, _) = engine
            .start_session(&alice(), SessionStage::PasswordChecked, 600, NOW)
            .unwrap();
        let (_, promoted) = engine.promote_session(&half, 600, NOW + 5).unwrap();
        assert_eq!(promoted.proven_at, Some(NOW + 5));
        assert!(matches!(
            engine.promote_session(&half, 600, NOW + 6),
            Err(Error::NotFound(_))
        ));
    }

    #[test]
    fn maintenance_deletes_expired_sessions_and_the_check_counts_them() {
        let engine = Engine::new(MemoryStore::new(), EngineConfig::default()).unwrap();
        let (short, _) = engine
            .start_session(&alice(), SessionStage::SignedIn, 60, NOW)
            .unwrap();
        let (long, _) = engine
            .start_session(&alice(), SessionStage::SignedIn, 3600, NOW)
            .unwrap();
        assert_eq!(engine.check_records().unwrap().sessions, 2);
        let report = engine.maintain(NOW + 120, 100).unwrap();
        assert_eq!(report.changed, 1, "{report:?}");
        assert!(engine.store().load(&short.store_key()).unwrap().is_none());
        assert!(engine.session(&long, 3600, NOW + 120).unwrap().is_some());
        let check = engine.check_records().unwrap();
        assert_eq!((check.sessions, check.unreadable), (1, 0));
    }

    #[test]
    fn the_store_holds_a_digest_not_the_token_and_sealed_when_keyed() {
        let keys =
            EncryptionKeys::parse_key_file_text(format!("1:{}\n", "ab".repeat(32)).as_bytes())
                .unwrap();
        let keyed = EngineConfig::default().with_encryption(keys);
        let engine = Engine::new(MemoryStore::new(), keyed).unwrap();
        let (token, _) = engine
            .start_session(&alice(), SessionStage::SignedIn, 600, NOW)
            .unwrap();
        let stored = engine.store().load(&token.store_key()).unwrap().unwrap();
        assert!(seal::is_sealed(&stored.bytes));
        let text = String::from_utf8_lossy(&stored.bytes);
        assert!(!text.contains(token.as_str()) && !text.contains("alice"));
        // A plain session planted by someone without the key is refused.
        let plain = Engine::new(MemoryStore::new(), EngineConfig::default()).unwrap();
        let (planted, session) = plain
            .start_session(&alice(), SessionStage::SignedIn, 600, NOW)
            .unwrap();
        let bytes = session.encode().unwrap();
        let key = planted.store_key();
        engine
            .store()
            .compare_and_swap(&key, None, Some(&bytes))
            .unwrap();
        assert!(matches!(
            engine.session(&planted, 600, NOW),
            Err(Error::Encryption(_))
        ));
    }
}
