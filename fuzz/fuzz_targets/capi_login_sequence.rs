//! Sequences of C ABI calls as a mail server's auth process makes them —
//! `m2fa_engine_login`, `m2fa_engine_split_login(_for)`, `m2fa_login_*` +
//! `m2fa_engine_authenticate`, `m2fa_engine_suspend`, the decision getters
//! with small buffers — on one engine over the in-memory store, with hostile
//! strings (any bytes but NUL, bad UTF-8, long input, NULL pointers), odd
//! protocol numbers and odd times. After every call:
//!
//! 1. no crash, no panic across the boundary (`M2FA_INTERNAL_PANIC` is a
//!    bug), no leak (libFuzzer's leak checker; every handle is freed);
//! 2. the status is one the call documents; storage and record failures
//!    on the memory store are bugs;
//! 3. out-parameters are consistent (a split never reports a password
//!    longer than the input; a getter that answers BUFFER_TOO_SMALL reports
//!    a larger size);
//! 4. no login is allowed with a wrong password;
//! 5. for an account with 2FA (enrolled or pending), an allowed login
//!    carries a code valid at that time for that account and for a time
//!    step after the last one it accepted (code accepted, enrolled: never a
//!    replay), or the account is suspended, or — device binding — the code
//!    presented is one that the account had accepted before. The password
//!    alone never passes.
//!
//! `CAPI_LOGIN_SEQUENCE_NO_BINDING=1` turns device binding off (binding
//! period 0), to fuzz the rest without it. The seed `binding_password_alone`
//! reproduces issue 14, point 3 (binding let the password alone in), fixed
//! since.
//!
//! Input: a stream of operations, each a selector byte followed by its
//! arguments (see [`Reader`]); at most [`MAX_OPS`] operations.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{CString, c_char};
use std::ptr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mail2fa::ffi::*;
use mail2fa::{KeyUri, Totp};

const PLATFORM: &str = "example.com";
/// Enrolled during setup.
const ALICE: &str = "alice@example.com";
/// Pending enrollment from setup on.
const BOB: &str = "bob@example.com";
/// No 2FA.
const CAROL: &str = "carol@example.com";
const START: u64 = 1_800_000_000;
const MAX_OPS: usize = 48;

/// Whether device binding is off (`CAPI_LOGIN_SEQUENCE_NO_BINDING=1`).
fn no_binding() -> bool {
    static NO_BINDING: OnceLock<bool> = OnceLock::new();
    *NO_BINDING.get_or_init(|| {
        std::env::var_os("CAPI_LOGIN_SEQUENCE_NO_BINDING").is_some_and(|v| v != "0")
    })
}

/// Reads the fuzz input; every read succeeds (zeros past the end).
struct Reader<'a> {
    data: &'a [u8],
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn u64(&mut self) -> u64 {
        let mut v = 0u64;
        for _ in 0..8 {
            v = (v << 8) | u64::from(self.byte());
        }
        v
    }

    fn bytes(&mut self, len: usize) -> &[u8] {
        let (head, rest) = self.data.split_at(len.min(self.data.len()));
        self.data = rest;
        head
    }

    fn done(&self) -> bool {
        self.data.is_empty()
    }
}

/// A C string argument: NULL or NUL-terminated bytes.
struct Arg(Option<CString>);

impl Arg {
    fn text(text: &str) -> Self {
        Self::bytes(text.as_bytes())
    }

    fn bytes(bytes: &[u8]) -> Self {
        let clean: Vec<u8> = bytes.iter().copied().filter(|&b| b != 0).collect();
        Self(Some(CString::new(clean).unwrap_or_default()))
    }

    fn ptr(&self) -> *const c_char {
        self.0.as_ref().map_or(ptr::null(), |s| s.as_ptr())
    }

    /// The text, when it is UTF-8 (what the engine sees).
    fn as_str(&self) -> Option<&str> {
        self.0.as_ref().and_then(|s| s.to_str().ok())
    }
}

/// Hostile text: NULL, a known value, raw bytes (maybe bad UTF-8) or a
/// long run.
fn hostile(r: &mut Reader<'_>, known: &[&str]) -> Arg {
    match r.byte() % 8 {
        0 => Arg(None),
        1 => {
            let len = usize::from(r.byte() % 64);
            Arg::bytes(r.bytes(len))
        }
        2 => {
            let fill = r.byte();
            let len = usize::from(r.byte()) * 40;
            Arg::bytes(&vec![fill; len])
        }
        3 => Arg::bytes(&[0xC3, 0x28, b'a', 0xFF]),
        _ => Arg::text(known[usize::from(r.byte()) % known.len()]),
    }
}

/// Protocol numbers: the known ones and some that are not.
fn protocol(r: &mut Reader<'_>) -> u32 {
    const VALUES: [u32; 13] = [1, 2, 3, 4, 5, 6, 7, 8, 99, 0, 9, 100, u32::MAX];
    VALUES[usize::from(r.byte()) % VALUES.len()]
}

/// What the harness knows of an account with 2FA.
struct Known {
    totp: Totp,
    /// Codes the account accepted (binding may let them in again).
    accepted: BTreeSet<String>,
    /// The last time step accepted (`None`: none yet).
    last_step: Option<u64>,
    suspended_until: u64,
}

struct Harness {
    engine: *mut m2fa_engine,
    now: u64,
    accounts: BTreeMap<String, Known>,
}

/// Calls a decision getter that writes text: first with a fuzzed buffer
/// size, then, if too small, with the size asked for.
fn text_getter(
    decision: *const m2fa_decision,
    len: usize,
    getter: unsafe extern "C" fn(
        *const m2fa_decision,
        *mut c_char,
        usize,
        *mut usize,
    ) -> m2fa_status,
) {
    let mut buf = vec![0 as c_char; len];
    let mut needed = usize::MAX;
    // SAFETY: live decision, buffer of `len` bytes, valid out-pointer.
    let status = unsafe { getter(decision, buf.as_mut_ptr(), len, &mut needed) };
    match status {
        m2fa_status::M2FA_OK => assert!(needed <= len && needed >= 1),
        m2fa_status::M2FA_BUFFER_TOO_SMALL => {
            assert!(needed > len);
            let mut buf = vec![0 as c_char; needed];
            let mut again = 0usize;
            // SAFETY: as above, with the size asked for.
            let status = unsafe { getter(decision, buf.as_mut_ptr(), needed, &mut again) };
            assert_eq!(status, m2fa_status::M2FA_OK);
            assert_eq!(again, needed);
        }
        // No URI in this decision.
        m2fa_status::M2FA_INVALID_ARGUMENT => {}
        other => panic!("text getter: {other:?}"),
    }
}

/// Outcome and reason of a decision, its getters exercised; frees it.
fn read_decision(decision: *mut m2fa_decision, buf_len: usize) -> (u32, u32) {
    let (mut outcome, mut reason) = (u32::MAX, u32::MAX);
    // SAFETY: live decision and valid out-pointers.
    unsafe {
        assert_eq!(
            m2fa_decision_outcome(decision, &mut outcome),
            m2fa_status::M2FA_OK
        );
        assert_eq!(
            m2fa_decision_reason(decision, &mut reason),
            m2fa_status::M2FA_OK
        );
    }
    assert!(!m2fa_outcome_name(outcome).is_null(), "outcome {outcome}");
    assert!(!m2fa_reason_name(reason).is_null(), "reason {reason}");
    text_getter(decision, buf_len, m2fa_decision_uri);
    text_getter(decision, buf_len, m2fa_decision_audit);
    // SAFETY: freed once.
    unsafe { m2fa_decision_free(decision) };
    (outcome, reason)
}

/// The provisioning URI of a decision.
fn uri_of(decision: *const m2fa_decision) -> String {
    let mut needed = 0usize;
    // SAFETY: live decision; a NULL buffer asks for the size.
    let status = unsafe { m2fa_decision_uri(decision, ptr::null_mut(), 0, &mut needed) };
    assert_eq!(status, m2fa_status::M2FA_BUFFER_TOO_SMALL);
    let mut buf = vec![0u8; needed];
    // SAFETY: buffer of `needed` bytes.
    let status =
        unsafe { m2fa_decision_uri(decision, buf.as_mut_ptr().cast(), needed, &mut needed) };
    assert_eq!(status, m2fa_status::M2FA_OK);
    buf.truncate(needed - 1);
    String::from_utf8(buf).expect("URI is UTF-8")
}

/// Statuses any account call may answer on bad input.
fn input_error(status: m2fa_status) -> bool {
    matches!(
        status,
        m2fa_status::M2FA_NULL_ARGUMENT
            | m2fa_status::M2FA_INVALID_UTF8
            | m2fa_status::M2FA_INVALID_CONFIG
            | m2fa_status::M2FA_INVALID_INPUT
            | m2fa_status::M2FA_INVALID_NAME
    )
}

impl Harness {
    fn new() -> Self {
        let mut config = ptr::null_mut();
        let mut engine = ptr::null_mut();
        // SAFETY: valid out-pointers; the config is freed once, after use.
        unsafe {
            assert_eq!(m2fa_engine_config_new(&mut config), m2fa_status::M2FA_OK);
            if no_binding() {
                let status =
                    m2fa_engine_config_set_devices(config, 10, 30 * 86_400, 86_400, 300, 0, 0);
                assert_eq!(status, m2fa_status::M2FA_OK);
            }
            assert_eq!(m2fa_engine_new(config, &mut engine), m2fa_status::M2FA_OK);
            m2fa_engine_config_free(config);
        }
        let mut harness = Self {
            engine,
            now: START,
            accounts: BTreeMap::new(),
        };
        let platform = Arg::text(PLATFORM);
        // SAFETY: live engine, NUL-terminated platform.
        let status = unsafe { m2fa_engine_enable_platform(engine, platform.ptr(), 1) };
        assert_eq!(status, m2fa_status::M2FA_OK);
        for name in [ALICE, BOB] {
            let account = Arg::text(name);
            let mut decision = ptr::null_mut();
            // SAFETY: live engine, NUL-terminated strings, out-pointer.
            let status = unsafe {
                m2fa_engine_enable_account(
                    engine,
                    platform.ptr(),
                    account.ptr(),
                    START,
                    &mut decision,
                )
            };
            assert_eq!(status, m2fa_status::M2FA_OK);
            let uri = uri_of(decision);
            // SAFETY: freed once.
            unsafe { m2fa_decision_free(decision) };
            let key = KeyUri::parse(&uri).expect("the engine's URI parses");
            let totp = Totp::new(key.secret(), key.totp_config().expect("TOTP"));
            harness.accounts.insert(
                name.to_owned(),
                Known {
                    totp,
                    accepted: BTreeSet::new(),
                    last_step: None,
                    suspended_until: 0,
                },
            );
        }
        // Alice confirms her enrollment; Bob stays pending.
        let code = harness.code_of(ALICE, 0, START);
        let (platform, account, code_arg) =
            (Arg::text(PLATFORM), Arg::text(ALICE), Arg::text(&code));
        let mut decision = ptr::null_mut();
        // SAFETY: as above.
        let status = unsafe {
            m2fa_engine_login(
                engine,
                platform.ptr(),
                account.ptr(),
                code_arg.ptr(),
                START,
                &mut decision,
            )
        };
        assert_eq!(status, m2fa_status::M2FA_OK);
        let (outcome, reason) = read_decision(decision, 0);
        assert_eq!(outcome, m2fa_outcome::M2FA_OUTCOME_ALLOWED as u32);
        assert_eq!(reason, m2fa_reason::Enrolled as u32);
        let step = harness.accounts[ALICE].totp.step_at(START).ok();
        harness.note_accepted(ALICE, &code, step);
        harness.now = START + 90;
        harness
    }

    /// The code of `name`'s authenticator `offset` steps from `now`.
    fn code_of(&self, name: &str, offset: i64, now: u64) -> String {
        let totp = &self.accounts[name].totp;
        let step = totp.step_at(now).unwrap_or(0).saturating_add_signed(offset);
        totp.generate_at_step(step).as_str().to_owned()
    }

    fn note_accepted(&mut self, name: &str, code: &str, step: Option<u64>) {
        if let Some(known) = self.accounts.get_mut(name) {
            known.accepted.insert(code.to_owned());
            known.last_step = step.or(known.last_step);
        }
    }

    /// A code argument: NULL, Alice's or Bob's code near now, an old one,
    /// one accepted before, or hostile text.
    fn code_arg(&self, r: &mut Reader<'_>) -> Arg {
        match r.byte() % 8 {
            0 => Arg(None),
            1 => Arg::text(&self.code_of(ALICE, 0, self.now)),
            2 => Arg::text(&self.code_of(ALICE, -1, self.now)),
            3 => Arg::text(&self.code_of(ALICE, 7, self.now)),
            4 => Arg::text(&self.code_of(BOB, 0, self.now)),
            5 => {
                let accepted = &self.accounts[ALICE].accepted;
                let pick = usize::from(r.byte()) % accepted.len().max(1);
                accepted
                    .iter()
                    .nth(pick)
                    .map_or(Arg(None), |code| Arg::text(code))
            }
            _ => hostile(r, &["123456", "12345678", " 123456", "１２３４５６", ""]),
        }
    }

    /// Invariants 4 and 5 for an answer; notes accepted codes.
    fn check_decision(
        &mut self,
        account: &Arg,
        password_correct: bool,
        code: Option<&str>,
        now: u64,
        outcome: u32,
        reason: u32,
    ) {
        if outcome != m2fa_outcome::M2FA_OUTCOME_ALLOWED as u32 {
            return;
        }
        assert!(
            password_correct,
            "allowed with a wrong password (reason {reason})"
        );
        let Some(name) = account.as_str() else {
            panic!("allowed for an account name that is not UTF-8");
        };
        let Some(known) = self.accounts.get(name) else {
            return; // No 2FA: the password is enough.
        };
        // The step a fresh (not replayed) valid code matches.
        let fresh_step = code.and_then(|c| {
            match known.last_step {
                Some(last) => known.totp.verify_after(c, now, last),
                None => known.totp.verify(c, now),
            }
            .ok()
            .flatten()
        });
        let ok = match reason {
            r if r == m2fa_reason::CodeAccepted as u32 || r == m2fa_reason::Enrolled as u32 => {
                fresh_step.is_some()
            }
            r if r == m2fa_reason::Suspended as u32 => now < known.suspended_until,
            r if r == m2fa_reason::DeviceTrusted as u32 => {
                code.is_some_and(|c| known.accepted.contains(c))
            }
            _ => false,
        };
        assert!(
            ok,
            "{name}: allowed (reason {reason}) with code {code:?} at {now}, \
             suspended until {}",
            known.suspended_until
        );
        // Only an answer that consumed the code moves the last step: a
        // suspended account is let in before its code is looked at, and the
        // code stays unused (a later code login may still take it).
        let consumed =
            reason == m2fa_reason::CodeAccepted as u32 || reason == m2fa_reason::Enrolled as u32;
        if let (true, Some(c), Some(step)) = (consumed, code, fresh_step) {
            let name = name.to_owned();
            self.note_accepted(&name, c, Some(step));
        }
    }

    fn account(&self, r: &mut Reader<'_>) -> Arg {
        hostile(
            r,
            &[
                ALICE,
                ALICE,
                BOB,
                CAROL,
                "ALICE@example.com",
                "alice@example.com.",
            ],
        )
    }

    fn platform(r: &mut Reader<'_>) -> Arg {
        match r.byte() % 8 {
            0 => hostile(r, &[PLATFORM, "EXAMPLE.COM", "other.example"]),
            _ => Arg::text(PLATFORM),
        }
    }

    /// One operation's time: usually the clock, sometimes an odd value.
    fn time(&self, r: &mut Reader<'_>) -> u64 {
        match r.byte() % 16 {
            0 => 0,
            1 => u64::MAX,
            2 => r.u64(),
            _ => self.now,
        }
    }

    fn step(&mut self, r: &mut Reader<'_>) {
        match r.byte() % 6 {
            0 => self.login(r),
            1 => self.split(r),
            2 | 3 => self.authenticate(r),
            4 => self.now = self.now.saturating_add(u64::from(r.byte()) * 7),
            _ => self.suspend(r),
        }
    }

    fn login(&mut self, r: &mut Reader<'_>) {
        let (platform, account, code) = (Self::platform(r), self.account(r), self.code_arg(r));
        let now = self.time(r);
        let buf_len = usize::from(r.byte() % 80);
        let mut decision = ptr::null_mut();
        // SAFETY: live engine; NULL or NUL-terminated strings; out-pointer.
        let status = unsafe {
            m2fa_engine_login(
                self.engine,
                platform.ptr(),
                account.ptr(),
                code.ptr(),
                now,
                &mut decision,
            )
        };
        if status != m2fa_status::M2FA_OK {
            assert!(input_error(status), "login: {status:?}");
            assert!(decision.is_null(), "out-parameter written on {status:?}");
            return;
        }
        let (outcome, reason) = read_decision(decision, buf_len);
        if platform.as_str() == Some(PLATFORM) {
            self.check_decision(&account, true, code.as_str(), now, outcome, reason);
        }
    }

    fn split(&mut self, r: &mut Reader<'_>) {
        let (platform, account) = (Self::platform(r), self.account(r));
        let input = hostile(r, &["secret123456", "secret", "123456", "pw 123456", ""]);
        let now = self.time(r);
        let (mut password_len, mut has_code) = (usize::MAX, u32::MAX);
        let status = if r.byte() % 2 == 0 {
            // SAFETY: as in `login`.
            unsafe {
                m2fa_engine_split_login(
                    self.engine,
                    platform.ptr(),
                    account.ptr(),
                    input.ptr(),
                    now,
                    &mut password_len,
                    &mut has_code,
                )
            }
        } else {
            let (number, name) = (protocol(r), hostile(r, &["sieve", "", "x y"]));
            // SAFETY: as in `login`.
            unsafe {
                m2fa_engine_split_login_for(
                    self.engine,
                    platform.ptr(),
                    account.ptr(),
                    number,
                    name.ptr(),
                    input.ptr(),
                    now,
                    &mut password_len,
                    &mut has_code,
                )
            }
        };
        if status == m2fa_status::M2FA_OK {
            let len = input.0.as_ref().map_or(0, |s| s.as_bytes().len());
            assert!(password_len <= len && has_code <= 1);
            assert!(has_code == 0 || password_len < len);
        } else {
            assert!(
                input_error(status) || status == m2fa_status::M2FA_UNKNOWN_ENUM_VALUE,
                "split: {status:?}"
            );
            assert_eq!((password_len, has_code), (usize::MAX, u32::MAX));
        }
    }

    fn authenticate(&mut self, r: &mut Reader<'_>) {
        let (number, name) = (protocol(r), hostile(r, &["sieve", "", "x y"]));
        let mut login = ptr::null_mut();
        // SAFETY: NULL or NUL-terminated name; out-pointer.
        let status = unsafe { m2fa_login_new(number, name.ptr(), &mut login) };
        if status != m2fa_status::M2FA_OK {
            assert!(
                matches!(
                    status,
                    m2fa_status::M2FA_UNKNOWN_ENUM_VALUE
                        | m2fa_status::M2FA_INVALID_UTF8
                        | m2fa_status::M2FA_INVALID_CONFIG
                        | m2fa_status::M2FA_NULL_ARGUMENT
                ),
                "login_new: {status:?}"
            );
            assert!(login.is_null());
            return;
        }
        let choice = r.byte();
        let correct = choice & 0x10 != 0;
        let mut code = Arg(None);
        let status = match choice % 3 {
            // SAFETY: live login.
            0 => unsafe { m2fa_login_set_password(login, u32::from(correct)) },
            1 => {
                code = self.code_arg(r);
                // SAFETY: live login, NULL or NUL-terminated code.
                unsafe { m2fa_login_set_password_and_code(login, u32::from(correct), code.ptr()) }
            }
            _ => {
                let input = hostile(r, &["abcde-fghjk-mnpqr-stvwx", "secret", ""]);
                // SAFETY: live login, NULL or NUL-terminated input.
                unsafe { m2fa_login_set_app_password(login, input.ptr()) }
            }
        };
        assert!(
            status == m2fa_status::M2FA_OK || input_error(status),
            "set credential: {status:?}"
        );
        let password_correct = status == m2fa_status::M2FA_OK && choice % 3 != 2 && correct;
        let code_text = if status == m2fa_status::M2FA_OK {
            code.as_str()
        } else {
            None
        };
        if r.byte() % 2 == 0 {
            let id = hostile(r, &["ApplF17XK2QJHG7F", "androidc1234567", ""]);
            let kind = hostile(r, &["iPhone", "WindowsOutlook15"]);
            let agent = hostile(r, &["Apple-iPhone14C2/2104.100", "Mozilla/5.0"]);
            let addr = hostile(
                r,
                &["192.0.2.10", "192.0.2.11", "2001:db8::1", "not an address"],
            );
            // SAFETY: live login, NULL or NUL-terminated strings.
            let status = unsafe {
                m2fa_login_set_client(login, id.ptr(), kind.ptr(), agent.ptr(), addr.ptr())
            };
            assert!(
                status == m2fa_status::M2FA_OK || input_error(status),
                "set client: {status:?}"
            );
        }
        let (platform, account) = (Self::platform(r), self.account(r));
        let now = self.time(r);
        let buf_len = usize::from(r.byte() % 80);
        let mut decision = ptr::null_mut();
        // SAFETY: live engine and login; NULL or NUL-terminated strings.
        let status = unsafe {
            m2fa_engine_authenticate(
                self.engine,
                platform.ptr(),
                account.ptr(),
                login,
                now,
                &mut decision,
            )
        };
        // SAFETY: freed once.
        unsafe { m2fa_login_free(login) };
        if status != m2fa_status::M2FA_OK {
            assert!(input_error(status), "authenticate: {status:?}");
            assert!(decision.is_null());
            return;
        }
        let (outcome, reason) = read_decision(decision, buf_len);
        if platform.as_str() == Some(PLATFORM) {
            self.check_decision(&account, password_correct, code_text, now, outcome, reason);
        }
    }

    fn suspend(&mut self, r: &mut Reader<'_>) {
        let (platform, account) = (Self::platform(r), self.account(r));
        let seconds = match r.byte() % 4 {
            0 => u64::MAX,
            1 => r.u64(),
            _ => u64::from(r.byte()) * 60,
        };
        let now = self.time(r);
        let mut until = 7u64;
        // SAFETY: live engine; NULL or NUL-terminated strings; out-pointer.
        let status = unsafe {
            m2fa_engine_suspend(
                self.engine,
                platform.ptr(),
                account.ptr(),
                seconds,
                now,
                &mut until,
            )
        };
        if status == m2fa_status::M2FA_OK {
            assert_eq!(Some(until), now.checked_add(seconds));
            let name = account.as_str().unwrap_or_default();
            let known = self
                .accounts
                .get_mut(name)
                .expect("suspended an account with 2FA");
            known.suspended_until = until;
        } else {
            assert!(
                input_error(status) || status == m2fa_status::M2FA_NOT_ENABLED,
                "suspend: {status:?}"
            );
            assert_eq!(until, 7, "out-parameter written on {status:?}");
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // SAFETY: freed once.
        unsafe { m2fa_engine_free(self.engine) };
    }
}

fuzz_target!(|data: &[u8]| {
    let mut reader = Reader { data };
    let mut harness = Harness::new();
    for _ in 0..MAX_OPS {
        if reader.done() {
            break;
        }
        harness.step(&mut reader);
    }
});
