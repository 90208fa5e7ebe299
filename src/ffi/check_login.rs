//! The one-call login of an `m2fa_engine`: `m2fa_engine_check_login` takes
//! what the client typed and the host's password check (a callback), and
//! gives the decision. Its two-step form, for hosts whose password check
//! cannot be a callback (a PAM stack, where the host's password module is a
//! line of its own): `m2fa_engine_begin_login` reads and splits, the host
//! checks the password part, `m2fa_pending_login_finish` decides.

use core::ffi::{c_char, c_int, c_void};
use std::sync::Arc;

use zeroize::Zeroizing;

use super::boundary::{
    ffi_boundary, free_handle, handle, out_ptr, str_arg, write_handle, write_text,
};
use super::decision::{m2fa_decision, write_login_decision};
use super::engine::{HostEngine, engine_and_account, m2fa_engine};
use super::login::{ClientFields, m2fa_login};
use super::status::m2fa_status;
use crate::engine::{AccountId, LoginAttempt, PasswordVerdict, PreparedLogin, Protocol};
use crate::enum_table::c_enum_table;

/// The host's answer about the account password, passed as `uint32_t` to
/// `m2fa_pending_login_finish`. The same numbers as the answers of an
/// `m2fa_password_check` callback.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum m2fa_password_verdict {
    /// Not the account password (the input may still be an application
    /// password).
    M2FA_PASSWORD_WRONG = 0,
    /// The account password is right.
    M2FA_PASSWORD_CORRECT = 1,
    /// The host could not check it (its directory does not answer): the
    /// login is refused with `M2FA_PASSWORD_CHECK_FAILED`, nothing recorded.
    M2FA_PASSWORD_UNAVAILABLE = 2,
}

c_enum_table! {
    impl m2fa_password_verdict {
        /// The engine's verdict.
        fn verdict(self) -> PasswordVerdict;
        M2FA_PASSWORD_WRONG => PasswordVerdict::Wrong,
        M2FA_PASSWORD_CORRECT => PasswordVerdict::Correct,
        M2FA_PASSWORD_UNAVAILABLE => PasswordVerdict::Unavailable,
    }
}

/// The host's password check, for `m2fa_engine_check_login`: is
/// `(password, password_len)` the account's password? `password` is the
/// password part of the input only (never the code), NUL-terminated, a copy
/// that mail2fa wipes when the callback returns: do not keep the pointer.
/// `user_data` is what the host passed to `m2fa_engine_check_login`,
/// borrowed for the call. Return 1 if the password is right, 0 if it is
/// not, anything else if it could not be checked (the login is then
/// refused with `M2FA_PASSWORD_CHECK_FAILED`). It runs on the thread that
/// called `m2fa_engine_check_login`, before that returns, and must return
/// (no `longjmp` out of it). It may free the engine handle (the engine
/// lives until `m2fa_engine_check_login` returns), never the `m2fa_login`
/// or the input.
pub type m2fa_password_check = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        password: *const c_char,
        password_len: usize,
    ) -> c_int,
>;

/// The decision for one login, in one call: `input` is the
/// password field exactly as the client sent it (a password, a
/// password+code string or an application password, NUL-terminated
/// UTF-8), `login` gives the protocol and what the host knows about the
/// client (its credential setters are ignored here), `check_password` is
/// the host's own check of the account password, called with `user_data`.
/// `*out` receives the decision.
///
/// Inside: input no client honestly sends is refused first; the account's
/// and its platform's records are read once, with or without 2FA; a
/// password+code string is split where the account and the protocol take a
/// code; `check_password` is called **at most once, with the password part
/// only** — never for refused input nor after a storage error; then the
/// decision of `m2fa_engine_authenticate`: a wrong password may still be an
/// application password, a right one goes on to the code, device tokens
/// or binding as the protocol's policy says. A valid code has been consumed
/// when this returns. Each record is read at most once (again only after
/// losing a race to another login on the same account).
///
/// Thread-safe, like every engine call: many threads may check logins on
/// one engine at once; each callback runs on its caller's thread.
///
/// ```c
/// static int check(void *users, const char *password, size_t len) {
///     return my_directory_verify(users, password, len); /* 1, 0 or -1 */
/// }
/// m2fa_login *login = NULL;
/// m2fa_login_new(M2FA_PROTOCOL_IMAP, NULL, &login);
/// m2fa_login_set_client(login, NULL, NULL, NULL, "203.0.113.7");
/// m2fa_decision *decision = NULL;
/// uint32_t outcome = M2FA_OUTCOME_REFUSED;
/// if (m2fa_engine_check_login(engine, "example.com", "alice@example.com", login,
///                             typed, check, users, time(NULL), &decision) == M2FA_OK)
///     m2fa_decision_outcome(decision, &outcome);
/// /* outcome == M2FA_OUTCOME_ALLOWED: let the client in; anything else: refuse */
/// ```
///
/// Errors (refuse the login on every one): `M2FA_NULL_ARGUMENT` (a NULL
/// callback too), `M2FA_INVALID_UTF8`, `M2FA_INVALID_NAME`,
/// `M2FA_INVALID_INPUT` (input over 4096 bytes, a client
/// field a client cannot send; the callback was not called),
/// `M2FA_PASSWORD_CHECK_FAILED` (the callback answered neither 1 nor 0;
/// nothing recorded), `M2FA_CORRUPT_RECORD`, storage errors.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_check_login(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    login: *const m2fa_login,
    input: *const c_char,
    check_password: m2fa_password_check,
    user_data: *mut c_void,
    now: u64,
    out: *mut *mut m2fa_decision,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        let check_password = check_password.ok_or(m2fa_status::M2FA_NULL_ARGUMENT)?;
        // SAFETY: forwarded pointer contracts; login is NULL or live; input
        // is NULL or NUL-terminated.
        let (_, id) = unsafe { engine_and_account(engine, platform, account) }?;
        // Held for the call: the engine outlives its handle should the
        // callback free it (a Lua script closing its engine in its check).
        // SAFETY: engine is live (engine_and_account checked it).
        let e = Arc::clone(&unsafe { handle(engine) }?.engine);
        // SAFETY: as above.
        let (login, input) = unsafe { (handle(login)?, str_arg(input)?) };
        let attempt =
            LoginAttempt::new(login.protocol.clone(), input).with_client(login.client.info());
        let decision = e.check_login(&id, &attempt, now, |password| {
            let mut copy = Zeroizing::new(Vec::with_capacity(password.len() + 1));
            copy.extend_from_slice(password.as_bytes());
            copy.push(0);
            // SAFETY: the host's callback, with its user_data and a
            // NUL-terminated copy that lives (and is wiped) after the call.
            let answer = unsafe { check_password(user_data, copy.as_ptr().cast(), password.len()) };
            match answer {
                1 => PasswordVerdict::Correct,
                0 => PasswordVerdict::Wrong,
                _ => PasswordVerdict::Unavailable,
            }
        })?;
        // SAFETY: out checked non-NULL.
        unsafe { write_login_decision(out, decision, &id, &login.protocol, now) };
        Ok(())
    })
}

/// A login begun by `m2fa_engine_begin_login` (opaque, immutable): the
/// records read, where the code starts in the input, a copy of the input
/// (wiped on free). Thread-safe; it keeps its engine's store open, so it
/// may outlive the `m2fa_engine` handle. Free it with
/// `m2fa_pending_login_free`.
pub struct m2fa_pending_login {
    engine: Arc<HostEngine>,
    id: AccountId,
    protocol: Protocol,
    client: ClientFields,
    input: Zeroizing<String>,
    prepared: PreparedLogin,
}

impl m2fa_pending_login {
    fn attempt(&self) -> LoginAttempt<'_> {
        LoginAttempt::new(self.protocol.clone(), &self.input).with_client(self.client.info())
    }
}

/// The first half of `m2fa_engine_check_login`, for hosts whose password
/// check cannot be a callback — a PAM stack, where the host's password
/// module is a line of its own: refuses input no client honestly sends,
/// reads the account's, its platform's and its clients records (one store
/// call), splits a password+code string, and keeps all that in `*out`. Nothing is written. Then the
/// host checks the password part (`m2fa_pending_login_password`) and calls
/// `m2fa_pending_login_finish` with its verdict. Where the password check
/// can be a callback, use `m2fa_engine_check_login`.
///
/// Errors: as `m2fa_engine_check_login` (no `M2FA_PASSWORD_CHECK_FAILED`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_begin_login(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    login: *const m2fa_login,
    input: *const c_char,
    now: u64,
    out: *mut *mut m2fa_pending_login,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: forwarded pointer contracts, as in m2fa_engine_check_login.
        let (e, id) = unsafe { engine_and_account(engine, platform, account) }?;
        // SAFETY: as above.
        let (login, input) = unsafe { (handle(login)?, str_arg(input)?) };
        let attempt =
            LoginAttempt::new(login.protocol.clone(), input).with_client(login.client.info());
        let prepared = e.prepare_login(&id, &attempt, now)?;
        // SAFETY: engine is live (engine_and_account checked it).
        let shared = Arc::clone(&unsafe { handle(engine) }?.engine);
        let pending = m2fa_pending_login {
            engine: shared,
            id,
            protocol: login.protocol.clone(),
            client: login.client.clone(),
            input: Zeroizing::new(input.to_owned()),
            prepared,
        };
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, pending) };
        Ok(())
    })
}

/// The part of the input the host checks as the account password: the
/// whole input, or the part before the code. Copied with a NUL into
/// `(buf, len)` (wipe it after use); `*needed` receives its size, NUL
/// included (one more than the input's length: no code was split off).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_pending_login_password(
    pending: *const m2fa_pending_login,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: pending is NULL or live.
        let pending = unsafe { handle(pending) }?;
        let password = pending.prepared.password(&pending.input);
        // SAFETY: buf is NULL or writable for len bytes; needed NULL or writable.
        unsafe { write_text(password, buf, len, needed) }
    })
}

/// The decision, once the host has checked the password part: `verdict`
/// is an `m2fa_password_verdict`. `*out` receives the decision, as from
/// `m2fa_engine_check_login`: a valid code has been consumed when this
/// returns. The pending login stays as it was and may be finished again:
/// a PAM stack asks first with `M2FA_PASSWORD_WRONG` whether the input is
/// an application password (its first line), and last with
/// `M2FA_PASSWORD_CORRECT` once the host's module accepted the password.
/// Every call decides on the records `m2fa_engine_begin_login` read; one
/// that writes (a code consumed, a failure counted) does so by
/// compare-and-swap, reading the record again only if it changed since —
/// so the same code is never accepted twice. Thread-safe.
///
/// A decision is as of that read: a pending login finished with a `now`
/// more than 60 seconds after `m2fa_engine_begin_login`'s is refused with
/// `M2FA_INVALID_INPUT` (begin again), so that no late finish decides on
/// state an administrator has changed since.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_UNKNOWN_ENUM_VALUE`,
/// `M2FA_INVALID_INPUT` (begun more than 60 s before `now`),
/// `M2FA_PASSWORD_CHECK_FAILED` (verdict `M2FA_PASSWORD_UNAVAILABLE`;
/// nothing recorded), `M2FA_CORRUPT_RECORD`, storage errors — refuse the
/// login on any of them.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_pending_login_finish(
    pending: *const m2fa_pending_login,
    verdict: u32,
    now: u64,
    out: *mut *mut m2fa_decision,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: pending is NULL or live.
        let pending = unsafe { handle(pending) }?;
        let verdict = m2fa_password_verdict::from_u32(verdict)
            .ok_or(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE)?
            .verdict();
        let decision = pending.engine.finish_login(
            &pending.id,
            &pending.attempt(),
            pending.prepared.clone(),
            verdict,
            now,
        )?;
        // SAFETY: out checked non-NULL.
        unsafe { write_login_decision(out, decision, &pending.id, &pending.protocol, now) };
        Ok(())
    })
}

/// Frees a pending login (its copy of the input is wiped). NULL is a
/// no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_pending_login_free(pending: *mut m2fa_pending_login) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(pending) };
        Ok(())
    });
}
