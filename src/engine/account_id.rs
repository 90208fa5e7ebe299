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
        key.extend_from_slice(prefix);
        key.extend_from_slice(&(self.platform.len() as u16).to_be_bytes());
        key.extend_from_slice(self.platform.as_bytes());
        key.extend_from_slice(self.account.as_bytes());
        key
    }
}

/// The key under which a platform's record lives in the store.
pub(super) fn platform_key(platform: &str) -> Vec<u8> {
    [b"plat".as_slice(), platform.as_bytes()].concat()
}
