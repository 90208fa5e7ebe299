//! Who an account is ([`AccountId`]: a platform and a name there) and the
//! store keys of its records and of its platform's.

use super::account_name;
use crate::error::Result;

/// An account: its platform (service or domain) and its name there.
///
/// Made from the names the host logs the user in with, checked once
/// ([`AccountId::new`] gives the rules); a name outside them is
/// [`Error::InvalidName`], and the login is refused.
///
/// ```
/// use mail2fa::engine::AccountId;
/// use mail2fa::Error;
///
/// let alice = AccountId::new("example.com", "alice@example.com")?;
/// assert_eq!(alice.platform(), "example.com");
/// assert_eq!(alice.account(), "alice@example.com");
///
/// // One spelling per account: no upper case, no white space.
/// let upper = AccountId::new("example.com", "Alice@example.com");
/// assert!(matches!(upper, Err(Error::InvalidName { what: "account name", .. })));
/// let spaced = AccountId::new("example.com ", "alice@example.com");
/// assert!(matches!(spaced, Err(Error::InvalidName { what: "platform name", .. })));
/// # Ok::<(), mail2fa::Error>(())
/// ```
///
/// [`Error::InvalidName`]: crate::Error::InvalidName
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountId {
    pub(super) platform: String,
    pub(super) account: String,
}

impl AccountId {
    /// Checks both names against mail2fa's alphabet, so that every account
    /// has exactly one spelling (a name the directory behind the password
    /// check would match loosely must not find "no 2FA" here):
    ///
    /// - `platform`: a lower-case DNS name — labels of `a`–`z`, `0`–`9` and
    ///   `-`, 1 to 63 bytes each, beginning and ending with a letter or
    ///   digit, joined by single dots (no leading, trailing or double dot);
    ///   at most 253 bytes (`example.com`, `mail`).
    /// - `account`: `local` or `local@domain`; the local part 1 to 64 bytes
    ///   of `a`–`z`, `0`–`9`, `.`, `-`, `_`, `+`, beginning and ending with
    ///   a letter or digit, no two dots in a row; the domain as a platform
    ///   name; at most 254 bytes (`alice`, `alice+tag@example.com`,
    ///   `a.b-c_d@sub.example.co.uk`).
    ///
    /// Nothing is normalised: `Alice@example.com`, full-width or other
    /// non-ASCII letters (`ａlice`, the Kelvin sign), a trailing dot,
    /// `example\alice`, white space are refused. Internationalized names:
    /// the host maps them to one ASCII spelling before calling (domains as
    /// Punycode A-labels, `xn--…`) and enrolls accounts under it.
    ///
    /// # Errors
    /// [`Error::InvalidName`] saying which name, what is wrong and at which
    /// byte.
    ///
    /// [`Error::InvalidName`]: crate::Error::InvalidName
    pub fn new(platform: &str, account: &str) -> Result<Self> {
        account_name::check_platform_name(platform)?;
        account_name::check_account_name(account)?;
        Ok(Self {
            platform: platform.to_owned(),
            account: account.to_owned(),
        })
    }

    /// The platform.
    pub fn platform(&self) -> &str {
        &self.platform
    }

    /// The account name.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The key under which the account's record lives in the [`Store`].
    ///
    /// Not public API (hidden from the documentation): the key layout may
    /// change in any release. It is public for the tests that read and
    /// forge stored records behind the engine's back.
    ///
    /// [`Store`]: crate::store::Store
    #[doc(hidden)]
    pub fn store_key(&self) -> Vec<u8> {
        self.key_with(b"acct")
    }

    /// The key of the account's device tokens and application passwords.
    pub(crate) fn clients_key(&self) -> Vec<u8> {
        self.key_with(b"clnt")
    }

    fn key_with(&self, prefix: &[u8; 4]) -> Vec<u8> {
        let mut key = Vec::with_capacity(6 + self.platform.len() + self.account.len());
        self.write_key(prefix, &mut key);
        key
    }

    fn write_key(&self, prefix: &[u8; 4], out: &mut Vec<u8>) {
        out.extend_from_slice(prefix);
        out.extend_from_slice(&(self.platform.len() as u16).to_be_bytes());
        out.extend_from_slice(self.platform.as_bytes());
        out.extend_from_slice(self.account.as_bytes());
    }
}

/// The key under which a platform's record lives in the store.
pub(super) fn platform_key(platform: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(4 + platform.len());
    write_platform_key(platform, &mut key);
    key
}

fn write_platform_key(platform: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"plat");
    out.extend_from_slice(platform.as_bytes());
}

/// The keys of the three records a login reads — the account's, its
/// platform's, its clients record — built in one buffer (one allocation
/// per login, not one per key).
#[derive(Debug, Clone)]
pub(crate) struct LoginKeys {
    buf: Vec<u8>,
    /// Where the account's and the platform's keys end in `buf`.
    ends: [usize; 2],
}

impl LoginKeys {
    pub(crate) fn new(id: &AccountId) -> Self {
        let (platform, account) = (id.platform.len(), id.account.len());
        let mut buf = Vec::with_capacity(2 * (6 + platform + account) + 4 + platform);
        id.write_key(b"acct", &mut buf);
        let account_end = buf.len();
        write_platform_key(&id.platform, &mut buf);
        let platform_end = buf.len();
        id.write_key(b"clnt", &mut buf);
        Self {
            buf,
            ends: [account_end, platform_end],
        }
    }

    /// The account's, the platform's and the clients record's keys.
    pub(crate) fn all(&self) -> [&[u8]; 3] {
        let [account, platform] = self.ends;
        [
            &self.buf[..account],
            &self.buf[account..platform],
            &self.buf[platform..],
        ]
    }

    /// The clients record's key.
    pub(crate) fn clients(&self) -> &[u8] {
        &self.buf[self.ends[1]..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One buffer, the same keys as built one by one.
    #[test]
    fn login_keys_are_the_keys_built_one_by_one() {
        for (platform, account) in [
            ("example.com", "alice@example.com"),
            ("a.example", "b"),
            ("example.org", "a-much-longer.name+tag@example.org"),
        ] {
            let id = AccountId::new(platform, account).unwrap();
            let keys = LoginKeys::new(&id);
            let expected = [id.store_key(), platform_key(platform), id.clients_key()];
            assert_eq!(keys.all(), expected.each_ref().map(Vec::as_slice));
            assert_eq!(keys.clients(), id.clients_key().as_slice());
        }
    }
}
