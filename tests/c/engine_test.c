/*
 * C test suite for the engine part of the mail2fa C API (include/mail2fa.h):
 * m2fa_engine*, m2fa_decision*, m2fa_issued_code*, m2fa_recovery_codes*.
 *
 * It walks the product scenarios (../shared/docs/product.md, S1-S11 and
 * recovery codes) through the C ABI the way a mail server would: an engine,
 * a platform, accounts; a phone played by an m2fa_totp built from the
 * provisioning URI the engine hands out; explicit times (Unix seconds, from
 * T0 = 1800000000), never the clock. Then it calls every function wrongly
 * (NULL pointers, invalid UTF-8, bad names, unknown enum values, getters
 * that do not apply) and checks the conventions the header promises:
 *
 *   - a NULL pointer argument gives M2FA_NULL_ARGUMENT;
 *   - out-parameters are written only on M2FA_OK (so we preset them to a
 *     sentinel and check that errors leave it alone), except *needed on
 *     M2FA_BUFFER_TOO_SMALL and *retry_at on M2FA_RATE_LIMITED;
 *   - every *_free(NULL) is a no-op.
 *
 * Every decision the tests get goes through one checker (check_decision),
 * which also checks what any decision must satisfy: the reason fits the
 * outcome, exactly the getters that apply answer (the others give
 * M2FA_INVALID_ARGUMENT and write nothing), cacheable is 1 only without a
 * second factor, and the audit line names the account and never carries
 * the code, the URI or the secret.
 *
 * Finally 16 threads share one engine and race: the same code at the same
 * moment is accepted exactly once; wrong codes lock after exactly five.
 *
 * scripts/test-c.sh builds it like tests/c/ffi_test.c: -Wall -Wextra
 * -Wpedantic -Werror, under AddressSanitizer, LeakSanitizer and UBSan,
 * against libmail2fa.so and against libmail2fa.a. Exit status 0 means every
 * check passed; the last line of output counts the checks.
 */

#define _POSIX_C_SOURCE 200809L /* pthreads (and barriers) under -std=c11 */

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail2fa.h>

#include "check.h"

#ifdef M2FA_TEST_TABLE_STORE
/* Every scenario below on a host-provided store (see table_store.h). */
#include "table_store.h"
#define m2fa_engine_new table_engine_new
#define STORE_NAME "host table store"
#elif defined(M2FA_TEST_POSTGRES)
/* Every scenario below on PostgreSQL (see pg_store.h). */
#include "pg_store.h"
#define m2fa_engine_new pg_engine_new
#define STORE_NAME "PostgreSQL"
#else
#define STORE_NAME "in-memory store"
#endif

static void free_wiped(char *text)
{
    if (text != NULL) {
        wipe_memset(text, 0, strlen(text));
        free(text);
    }
}

/* ------------------------------------------------------------------------
 * Words for the engine's enumerations, for messages
 * ------------------------------------------------------------------------ */

static const char *outcome_word(uint32_t outcome)
{
    switch (outcome) {
    case M2FA_OUTCOME_ALLOWED: return "allowed";
    case M2FA_OUTCOME_ENROLLMENT_REQUIRED: return "enrollment-required";
    case M2FA_OUTCOME_SECOND_FACTOR_REQUIRED: return "second-factor-required";
    case M2FA_OUTCOME_REFUSED: return "refused";
    default: return "(not an outcome)";
    }
}

static const char *reason_word(uint32_t reason)
{
    switch (reason) {
    case M2FA_REASON_NONE: return "NONE";
    case M2FA_REASON_NO_SECOND_FACTOR: return "NO_SECOND_FACTOR";
    case M2FA_REASON_CODE_ACCEPTED: return "CODE_ACCEPTED";
    case M2FA_REASON_SUSPENDED: return "SUSPENDED";
    case M2FA_REASON_ENROLLED: return "ENROLLED";
    case M2FA_REASON_DELIVERED_CODE_ACCEPTED: return "DELIVERED_CODE_ACCEPTED";
    case M2FA_REASON_RECOVERY_CODE_USED: return "RECOVERY_CODE_USED";
    case M2FA_REASON_MALFORMED_CODE: return "MALFORMED_CODE";
    case M2FA_REASON_WRONG_CODE: return "WRONG_CODE";
    case M2FA_REASON_CLOCK_SKEW: return "CLOCK_SKEW";
    case M2FA_REASON_REPLAYED: return "REPLAYED";
    case M2FA_REASON_LOCKED: return "LOCKED";
    case M2FA_REASON_ENROLLMENT_EXPIRED: return "ENROLLMENT_EXPIRED";
    case M2FA_REASON_CODE_EXPIRED: return "CODE_EXPIRED";
    case M2FA_REASON_NO_CODE_ISSUED: return "NO_CODE_ISSUED";
    default: return "(not a reason)";
    }
}

/* ------------------------------------------------------------------------
 * Test data
 * ------------------------------------------------------------------------ */

#define PLATFORM "example.com"
#define T0 UINT64_C(1800000000) /* 2027-01-15, a multiple of 30 and 60 */
#define CODE_SIZE 11             /* any code: at most 10 digits and the NUL */
#define MAX_NAME M2FA_MAX_ACCOUNT_NAME_LEN /* longest account name, in bytes */

static const char not_utf8[] = "\xff\xfe";
static const char not_utf8_six[] = "12345\xff";

/* ------------------------------------------------------------------------
 * The text-output protocol, checked in full (as FETCH_TEXT in ffi_test.c)
 * for the engine's five text outputs. Returns the text, malloc'd.
 * ------------------------------------------------------------------------ */

typedef m2fa_status (*text_fn)(const void *object, size_t index, char *buf, size_t len,
                               size_t *needed);

static m2fa_status text_decision_uri(const void *object, size_t index, char *buf, size_t len,
                                     size_t *needed)
{
    (void)index;
    return m2fa_decision_uri(object, buf, len, needed);
}
static m2fa_status text_decision_audit(const void *object, size_t index, char *buf, size_t len,
                                       size_t *needed)
{
    (void)index;
    return m2fa_decision_audit(object, buf, len, needed);
}
static m2fa_status text_issued_code(const void *object, size_t index, char *buf, size_t len,
                                    size_t *needed)
{
    (void)index;
    return m2fa_issued_code_code(object, buf, len, needed);
}
/* The channel of the last successful m2fa_issued_code_destination call. */
static uint32_t destination_channel;
static m2fa_status text_issued_destination(const void *object, size_t index, char *buf,
                                           size_t len, size_t *needed)
{
    (void)index;
    uint32_t channel = SENTINEL_U32;
    m2fa_status status = m2fa_issued_code_destination(object, &channel, buf, len, needed);
    if (status == M2FA_OK) {
        destination_channel = channel;
    } else {
        CHECK(channel == SENTINEL_U32); /* written only on M2FA_OK */
    }
    return status;
}
static m2fa_status text_recovery_code(const void *object, size_t index, char *buf, size_t len,
                                      size_t *needed)
{
    return m2fa_recovery_codes_get(object, index, buf, len, needed);
}

#define GUARD_BYTES 16

static char *fetch_text_impl(text_fn fn, const void *object, size_t index, const char *call,
                             const char *file, int line)
{
#define CHECK_HERE(expr) check_impl((expr), #expr, file, line)
#define CHECK_STATUS_HERE(want_, call_) check_status_impl((call_), (want_), #call_, file, line)
    helper_call = call;
    char *result = NULL;

    size_t needed = SENTINEL_SIZE;
    CHECK_STATUS_HERE(M2FA_BUFFER_TOO_SMALL, fn(object, index, NULL, 0, &needed));
    if (!CHECK_HERE(needed != SENTINEL_SIZE && needed >= 1 && needed < 100000)) {
        goto out;
    }
    size_t size = needed;
    size_t capacity = size + GUARD_BYTES;
    char *buf = malloc(capacity);
    if (!CHECK_HERE(buf != NULL)) {
        goto out;
    }

    /* One byte short, and a real buffer of length 0: refused, *needed
     * repeated, not one byte written. */
    memset(buf, SENTINEL_BYTE, capacity);
    needed = SENTINEL_SIZE;
    CHECK_STATUS_HERE(M2FA_BUFFER_TOO_SMALL, fn(object, index, buf, size - 1, &needed));
    CHECK_HERE(needed == size);
    CHECK_HERE(all_bytes_are(buf, capacity, SENTINEL_BYTE));
    needed = SENTINEL_SIZE;
    CHECK_STATUS_HERE(M2FA_BUFFER_TOO_SMALL, fn(object, index, buf, 0, &needed));
    CHECK_HERE(needed == size);
    CHECK_HERE(all_bytes_are(buf, capacity, SENTINEL_BYTE));

    /* needed is required even when the buffer is large enough. */
    CHECK_STATUS_HERE(M2FA_NULL_ARGUMENT, fn(object, index, buf, capacity, NULL));
    CHECK_HERE(all_bytes_are(buf, capacity, SENTINEL_BYTE));

    /* Exactly the size asked for: the text, NUL-terminated, nothing after. */
    needed = SENTINEL_SIZE;
    CHECK_STATUS_HERE(M2FA_OK, fn(object, index, buf, size, &needed));
    CHECK_HERE(needed == size);
    CHECK_HERE(buf[size - 1] == '\0');
    CHECK_HERE(strlen(buf) == size - 1);
    CHECK_HERE(all_bytes_are(buf + size, GUARD_BYTES, SENTINEL_BYTE));
    result = buf;

out:
    helper_call = NULL;
    return result;
#undef CHECK_HERE
#undef CHECK_STATUS_HERE
}

#define FETCH_TEXT(fn, object, index) fetch_text_impl((fn), (object), (index), #fn, __FILE__, __LINE__)

/* The text without the protocol checks (for the many routine reads). */
static char *read_text(text_fn fn, const void *object, size_t index)
{
    size_t needed = 0;
    if (fn(object, index, NULL, 0, &needed) != M2FA_BUFFER_TOO_SMALL || needed == 0) {
        return NULL;
    }
    char *buf = malloc(needed);
    if (buf != NULL && fn(object, index, buf, needed, &needed) != M2FA_OK) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

/* ------------------------------------------------------------------------
 * Users: an account on an engine, and the phone that scanned its URI
 * ------------------------------------------------------------------------ */

struct user {
    const m2fa_engine *engine;
    const char *platform;
    const char *name;
    const char *issuer;  /* expected in the URI; NULL: the platform */
    m2fa_totp *phone;    /* the authenticator app, from the last URI shown */
    char *uri;           /* that URI (malloc'd, wiped when replaced) */
    char secret[256];    /* its secret in base32, which no audit line may show */
    uint32_t digits;     /* of the URI's codes */
    uint64_t period;
};

static void user_free(struct user *u)
{
    m2fa_totp_free(u->phone);
    u->phone = NULL;
    free_wiped(u->uri);
    u->uri = NULL;
    wipe_memset(u->secret, 0, sizeof u->secret);
}

/* Whether `secret` shows in `text`. A code of digits counts only as a whole
 * run of digits, so that "at=1800000030" does not "contain" code 000003. */
static bool shows(const char *text, const char *secret)
{
    if (text == NULL || secret == NULL || secret[0] == '\0') {
        return false;
    }
    size_t n = strlen(secret);
    if (strspn(secret, "0123456789") != n) {
        return strstr(text, secret) != NULL;
    }
    for (const char *p = text; *p != '\0';) {
        size_t run = strspn(p, "0123456789");
        if (run == n && memcmp(p, secret, n) == 0) {
            return true;
        }
        p += run > 0 ? run : 1;
    }
    return false;
}

/* A name the audit line shows as is (no quote or backslash to escape). */
static bool plain_name(const char *name)
{
    return strpbrk(name, "\"\\") == NULL;
}

/* The audit line of a decision: one line, naming the platform, the account,
 * the time and the answer; never the code given, the URI or the secret. */
static void check_audit(const m2fa_decision *decision, const struct user *u, const char *code,
                        uint64_t now, uint32_t outcome, const char *file, int line)
{
#define CHECK_HERE(expr) check_impl((expr), #expr, file, line)
    char *audit = read_text(text_decision_audit, decision, 0);
    if (!CHECK_HERE(audit != NULL)) {
        return;
    }
    char expect[2 * MAX_NAME + 64];
    unsigned long failed_before = checks_failed;
    CHECK_HERE(strncmp(audit, "mail2fa ", 8) == 0);
    CHECK_HERE(strpbrk(audit, "\r\n") == NULL);
    if (plain_name(u->platform)) {
        snprintf(expect, sizeof expect, " platform=\"%s\" ", u->platform);
        CHECK_HERE(strstr(audit, expect) != NULL);
    }
    if (plain_name(u->name)) {
        snprintf(expect, sizeof expect, " account=\"%s\" ", u->name);
        CHECK_HERE(strstr(audit, expect) != NULL);
    }
    snprintf(expect, sizeof expect, " at=%" PRIu64 " ", now);
    CHECK_HERE(strstr(audit, expect) != NULL);
    snprintf(expect, sizeof expect, " answer=%s", outcome_word(outcome));
    const char *answer = strstr(audit, expect);
    CHECK_HERE(answer != NULL && (answer[strlen(expect)] == ' ' || answer[strlen(expect)] == '\0'));
    if (outcome == M2FA_OUTCOME_ALLOWED || outcome == M2FA_OUTCOME_REFUSED) {
        CHECK_HERE(strstr(audit, " reason=") != NULL);
    }
    /* Nothing secret. */
    CHECK_HERE(!shows(audit, code));
    CHECK_HERE(strstr(audit, "otpauth") == NULL);
    CHECK_HERE(strstr(audit, "secret=") == NULL);
    CHECK_HERE(!shows(audit, u->secret));
    if (checks_failed != failed_before) {
        fprintf(stderr, "    audit line: %s\n", audit);
    }
    free(audit);
#undef CHECK_HERE
}

/* A reason that fits the outcome: allowed 1-99, refused 100-199, else 0. */
static bool reason_fits(uint32_t outcome, uint32_t reason)
{
    switch (outcome) {
    case M2FA_OUTCOME_ALLOWED: return reason >= 1 && reason <= 99;
    case M2FA_OUTCOME_REFUSED: return reason >= 100 && reason <= 199;
    case M2FA_OUTCOME_ENROLLMENT_REQUIRED:
    case M2FA_OUTCOME_SECOND_FACTOR_REQUIRED: return reason == M2FA_REASON_NONE;
    default: return false;
    }
}

#define ANY_REFUSAL UINT32_MAX /* want_reason: any reason of a refusal */

/*
 * The checks every decision gets: the call succeeded; the outcome and the
 * reason are the ones expected; the getters that apply to them answer and
 * the others give M2FA_INVALID_ARGUMENT, writing nothing; cacheable only
 * without a second factor; the URI exactly when `want_uri`; the audit line.
 */
static bool check_decision_impl(m2fa_status status, const m2fa_decision *decision,
                                const struct user *u, const char *code, uint64_t now,
                                uint32_t want_outcome, uint32_t want_reason, bool want_uri,
                                const char *call, const char *file, int line)
{
#define CHECK_HERE(expr) check_impl((expr), #expr, file, line)
#define CHECK_STATUS_HERE(want_, call_) check_status_impl((call_), (want_), #call_, file, line)
    helper_call = call;
    if (!CHECK_STATUS_HERE(M2FA_OK, status)) {
        fprintf(stderr, "    (%s, at %" PRIu64 ", code %s)\n", u->name, now, code ? code : "NULL");
        helper_call = NULL;
        return false;
    }
    uint32_t outcome = SENTINEL_U32, reason = SENTINEL_U32, cacheable = SENTINEL_U32;
    CHECK_STATUS_HERE(M2FA_OK, m2fa_decision_outcome(decision, &outcome));
    CHECK_STATUS_HERE(M2FA_OK, m2fa_decision_reason(decision, &reason));
    CHECK_STATUS_HERE(M2FA_OK, m2fa_decision_cacheable(decision, &cacheable));
    bool expected = outcome == want_outcome &&
                    (want_reason == ANY_REFUSAL ? outcome == M2FA_OUTCOME_REFUSED
                                                : reason == want_reason);
    if (!CHECK_HERE(expected)) {
        fprintf(stderr, "    got %s/%s, expected %s/%s (%s, at %" PRIu64 ", code %s)\n",
                outcome_word(outcome), reason_word(reason), outcome_word(want_outcome),
                want_reason == ANY_REFUSAL ? "(any)" : reason_word(want_reason), u->name, now,
                code ? code : "NULL");
    }
    CHECK_HERE(reason_fits(outcome, reason));
    /* Every outcome and reason the engine gives has its name. */
    CHECK_HERE(m2fa_outcome_name(outcome) != NULL);
    CHECK_HERE(m2fa_reason_name(reason) != NULL);
    /* Cacheable only when no second factor applies — and not even then for
     * an account whose platform has 2FA off (it may be turned on again). */
    CHECK_HERE(cacheable == 0 || cacheable == 1);
    CHECK_HERE(!cacheable ||
               (outcome == M2FA_OUTCOME_ALLOWED && reason == M2FA_REASON_NO_SECOND_FACTOR));

    /* Each getter answers exactly for the decisions it applies to. */
#define GETTER(fn, type, sentinel, applies)                                        \
    do {                                                                           \
        type value_ = (sentinel);                                                  \
        m2fa_status got_ = fn(decision, &value_);                                  \
        if (applies) {                                                             \
            check_status_impl(got_, M2FA_OK, #fn " (applies)", file, line);        \
            CHECK_HERE(value_ != (sentinel));                                      \
        } else {                                                                   \
            check_status_impl(got_, M2FA_INVALID_ARGUMENT, #fn " (does not apply)", \
                              file, line);                                         \
            CHECK_HERE(value_ == (sentinel));                                      \
        }                                                                          \
    } while (0)
    GETTER(m2fa_decision_step, uint64_t, SENTINEL_U64,
           reason == M2FA_REASON_CODE_ACCEPTED || reason == M2FA_REASON_ENROLLED);
    GETTER(m2fa_decision_until, uint64_t, SENTINEL_U64,
           reason == M2FA_REASON_LOCKED || reason == M2FA_REASON_SUSPENDED);
    GETTER(m2fa_decision_clock_skew, int64_t, SENTINEL_I64, reason == M2FA_REASON_CLOCK_SKEW);
    GETTER(m2fa_decision_remaining, uint32_t, SENTINEL_U32,
           reason == M2FA_REASON_RECOVERY_CODE_USED);
    GETTER(m2fa_decision_mode, uint32_t, SENTINEL_U32,
           outcome == M2FA_OUTCOME_SECOND_FACTOR_REQUIRED);
#undef GETTER

    size_t needed = SENTINEL_SIZE;
    if (want_uri) {
        CHECK_STATUS_HERE(M2FA_BUFFER_TOO_SMALL, m2fa_decision_uri(decision, NULL, 0, &needed));
        CHECK_HERE(needed > sizeof "otpauth://totp/" && needed != SENTINEL_SIZE);
    } else {
        char buf[8];
        memset(buf, SENTINEL_BYTE, sizeof buf);
        CHECK_STATUS_HERE(M2FA_INVALID_ARGUMENT,
                          m2fa_decision_uri(decision, buf, sizeof buf, &needed));
        CHECK_HERE(needed == SENTINEL_SIZE);
        CHECK_HERE(all_bytes_are(buf, sizeof buf, SENTINEL_BYTE));
    }
    check_audit(decision, u, code, now, outcome, file, line);
    helper_call = NULL;
    return expected;
#undef CHECK_HERE
#undef CHECK_STATUS_HERE
}

/* A login; returns the decision (the caller frees it) or NULL. */
static m2fa_decision *login_impl(const struct user *u, const char *code, uint64_t now,
                                 uint32_t outcome, uint32_t reason, const char *file, int line)
{
    m2fa_decision *decision = SENTINEL_HANDLE;
    m2fa_status status = m2fa_engine_login(u->engine, u->platform, u->name, code, now, &decision);
    if (status != M2FA_OK) {
        check_impl(decision == SENTINEL_HANDLE, "out untouched on error", file, line);
        decision = NULL;
    }
    check_decision_impl(status, decision, u, code, now, outcome, reason,
                        outcome == M2FA_OUTCOME_ENROLLMENT_REQUIRED, "m2fa_engine_login", file,
                        line);
    return decision;
}

#define LOGIN(u, code, now, outcome, reason) \
    login_impl((u), (code), (now), (outcome), (reason), __FILE__, __LINE__)
#define EXPECT_LOGIN(u, code, now, outcome, reason) \
    m2fa_decision_free(LOGIN((u), (code), (now), (outcome), (reason)))

/* S11: a self-service change; returns the decision (the caller frees it). */
static m2fa_decision *self_service_impl(const struct user *u, const char *code, uint32_t reset,
                                        uint64_t now, uint32_t outcome, uint32_t reason,
                                        const char *file, int line)
{
    m2fa_decision *decision = SENTINEL_HANDLE;
    m2fa_status status =
        m2fa_engine_self_service(u->engine, u->platform, u->name, code, reset, now, &decision);
    if (status != M2FA_OK) {
        check_impl(decision == SENTINEL_HANDLE, "out untouched on error", file, line);
        decision = NULL;
    }
    check_decision_impl(status, decision, u, code, now, outcome, reason,
                        reset != 0 && outcome == M2FA_OUTCOME_ALLOWED,
                        "m2fa_engine_self_service", file, line);
    return decision;
}

#define SELF_SERVICE(u, code, reset, now, outcome, reason) \
    self_service_impl((u), (code), (reset), (now), (outcome), (reason), __FILE__, __LINE__)

/* The getters, each expected to answer. */
static uint64_t decision_step(const m2fa_decision *d)
{
    uint64_t step = SENTINEL_U64;
    CHECK_STATUS(M2FA_OK, m2fa_decision_step(d, &step));
    return step;
}
static uint64_t decision_until(const m2fa_decision *d)
{
    uint64_t until = SENTINEL_U64;
    CHECK_STATUS(M2FA_OK, m2fa_decision_until(d, &until));
    return until;
}
static int64_t decision_clock_skew(const m2fa_decision *d)
{
    int64_t steps = SENTINEL_I64;
    CHECK_STATUS(M2FA_OK, m2fa_decision_clock_skew(d, &steps));
    return steps;
}
static uint32_t decision_remaining(const m2fa_decision *d)
{
    uint32_t remaining = SENTINEL_U32;
    CHECK_STATUS(M2FA_OK, m2fa_decision_remaining(d, &remaining));
    return remaining;
}
static uint32_t decision_mode(const m2fa_decision *d)
{
    uint32_t mode = SENTINEL_U32;
    CHECK_STATUS(M2FA_OK, m2fa_decision_mode(d, &mode));
    return mode;
}

/*
 * The phone scans the URI of a decision (enrollment required, or an allowed
 * self-service reset): the URI through the whole text protocol, parsed with
 * m2fa_key_uri_parse, checked, and turned into u->phone.
 */
static bool phone_scan(struct user *u, const m2fa_decision *decision)
{
    char *uri = FETCH_TEXT(text_decision_uri, decision, 0);
    if (!CHECK(uri != NULL)) {
        return false;
    }
    CHECK(strncmp(uri, "otpauth://totp/", strlen("otpauth://totp/")) == 0);
    m2fa_key_uri *parsed = NULL;
    m2fa_secret *secret = NULL;
    m2fa_otp_config *config = NULL;
    m2fa_totp *phone = NULL;
    bool ok = CHECK_STATUS(M2FA_OK, m2fa_key_uri_parse(uri, &parsed));
    if (ok) {
        uint32_t kind = SENTINEL_U32;
        char text[MAX_NAME * 2];
        size_t needed = 0;
        CHECK_STATUS(M2FA_OK, m2fa_key_uri_kind(parsed, &kind));
        CHECK(kind == M2FA_OTP_KIND_TOTP);
        CHECK_STATUS(M2FA_OK, m2fa_key_uri_issuer(parsed, text, sizeof text, &needed));
        CHECK_STR(text, u->issuer != NULL ? u->issuer : u->platform);
        CHECK_STATUS(M2FA_OK, m2fa_key_uri_account(parsed, text, sizeof text, &needed));
        CHECK_STR(text, u->name);
        ok = CHECK_STATUS(M2FA_OK, m2fa_key_uri_secret(parsed, &secret)) &&
             CHECK_STATUS(M2FA_OK, m2fa_key_uri_config(parsed, &config)) &&
             CHECK_STATUS(M2FA_OK, m2fa_totp_new(secret, config, &phone));
    }
    if (ok) {
        size_t needed = 0;
        CHECK_STATUS(M2FA_OK, m2fa_otp_config_digits(config, &u->digits));
        CHECK_STATUS(M2FA_OK, m2fa_otp_config_period(config, &u->period));
        CHECK_STATUS(M2FA_OK, m2fa_secret_to_base32(secret, u->secret, sizeof u->secret, &needed));
        m2fa_totp_free(u->phone);
        free_wiped(u->uri);
        u->phone = phone;
        u->uri = uri;
        uri = NULL;
    }
    m2fa_otp_config_free(config);
    m2fa_secret_free(secret);
    m2fa_key_uri_free(parsed);
    free_wiped(uri);
    return ok;
}

/* S1/S2: enables 2FA for the account at `now` and lets the phone scan the
 * URI of the ENROLLMENT_REQUIRED decision. */
static bool enable_account(struct user *u, uint64_t now)
{
    m2fa_decision *decision = SENTINEL_HANDLE;
    m2fa_status status =
        m2fa_engine_enable_account(u->engine, u->platform, u->name, now, &decision);
    if (status != M2FA_OK) {
        CHECK(decision == SENTINEL_HANDLE);
        decision = NULL;
    }
    bool ok = check_decision_impl(status, decision, u, NULL, now,
                                  M2FA_OUTCOME_ENROLLMENT_REQUIRED, M2FA_REASON_NONE, true,
                                  "m2fa_engine_enable_account", __FILE__, __LINE__) &&
              phone_scan(u, decision);
    m2fa_decision_free(decision);
    return ok;
}

/* The phone's code at `time` into code[CODE_SIZE] ("" on failure). */
static const char *code_at(const struct user *u, uint64_t time, char code[CODE_SIZE])
{
    size_t needed = 0;
    code[0] = '\0';
    CHECK_STATUS(M2FA_OK, m2fa_totp_generate(u->phone, time, code, CODE_SIZE, &needed));
    return code;
}

static uint64_t step_at(const struct user *u, uint64_t time)
{
    uint64_t step = SENTINEL_U64;
    CHECK_STATUS(M2FA_OK, m2fa_totp_step(u->phone, time, &step));
    return step;
}

/* Enables 2FA and confirms it with the code of `now`: enrolled. */
static bool enroll(struct user *u, uint64_t now)
{
    char code[CODE_SIZE];
    if (!enable_account(u, now)) {
        return false;
    }
    m2fa_decision *d = LOGIN(u, code_at(u, now, code), now, M2FA_OUTCOME_ALLOWED,
                             M2FA_REASON_ENROLLED);
    bool ok = d != NULL;
    if (ok) {
        CHECK_EQ(decision_step(d), step_at(u, now));
    }
    m2fa_decision_free(d);
    return ok;
}

/*
 * The first time from `from` on (in whole periods) around which the codes of
 * the steps within ±radius are all different, so that a code of one step
 * cannot be taken for another's: with random secrets two 6-digit codes of
 * nearby steps are equal once in a while, which would make some checks
 * (clock skew, replays) ambiguous.
 */
static uint64_t quiet_time(const struct user *u, uint64_t from, unsigned radius)
{
    enum { MAX_RADIUS = 20 };
    char codes[2 * MAX_RADIUS + 1][CODE_SIZE];
    if (radius > MAX_RADIUS) {
        radius = MAX_RADIUS;
    }
    if (!CHECK(u->phone != NULL && u->period > 0)) {
        return from;
    }
    for (uint64_t t = from;; t += u->period) {
        bool distinct = true;
        for (unsigned i = 0; i <= 2 * radius; i++) {
            code_at(u, t + (uint64_t)i * u->period - (uint64_t)radius * u->period, codes[i]);
            for (unsigned j = 0; j < i && distinct; j++) {
                distinct = strcmp(codes[i], codes[j]) != 0;
            }
        }
        if (distinct) {
            return t;
        }
    }
}

/*
 * A well-formed code that matches no step within ±12 of `now` (the engine
 * looks ±10 steps for clock skew): a plainly wrong code. Successive calls
 * with the same *counter give different codes.
 */
static const char *wrong_code(const struct user *u, uint64_t now, unsigned *counter,
                              char code[CODE_SIZE])
{
    uint32_t modulus = 1;
    for (uint32_t i = 0; i < u->digits; i++) {
        modulus *= 10;
    }
    for (;;) {
        uint32_t value = (uint32_t)(((uint64_t)(*counter)++ * 7919 + 424242) % modulus);
        snprintf(code, CODE_SIZE, "%0*" PRIu32, (int)u->digits, value);
        uint64_t matched = SENTINEL_U64;
        m2fa_status status = m2fa_totp_verify_window(u->phone, code, now, 12, NULL, &matched);
        if (status != M2FA_OK) { /* M2FA_OK: it is some nearby step's code */
            CHECK_STATUS(M2FA_CODE_MISMATCH, status);
            return code;
        }
    }
}

/* S5: the split of `input` for the account. */
static void check_split_impl(const struct user *u, const char *input, uint64_t now,
                             size_t want_len, uint32_t want_code, const char *file, int line)
{
    size_t password_len = SENTINEL_SIZE;
    uint32_t has_code = SENTINEL_U32;
    helper_call = "m2fa_engine_split_login";
    check_status_impl(m2fa_engine_split_login(u->engine, u->platform, u->name, input, now,
                                              &password_len, &has_code),
                      M2FA_OK, input, file, line);
    if (!check_impl(password_len == want_len && has_code == want_code,
                    "password_len == want_len && has_code == want_code", file, line)) {
        fprintf(stderr, "    \"%s\" for %s: got (%zu, %" PRIu32 "), expected (%zu, %" PRIu32 ")\n",
                input, u->name, password_len, has_code, want_len, want_code);
    }
    helper_call = NULL;
}

#define CHECK_SPLIT(u, input, now, len, has_code) \
    check_split_impl((u), (input), (now), (len), (has_code), __FILE__, __LINE__)

/* A new engine (NULL config: the defaults) with PLATFORM enabled. */
static m2fa_engine *new_engine(const m2fa_engine_config *config)
{
    m2fa_engine *engine = SENTINEL_HANDLE;
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_new(config, &engine))) {
        return NULL;
    }
    CHECK(engine != NULL && engine != SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1));
    return engine;
}

/* ------------------------------------------------------------------------
 * Enumerations: their numbers are ABI
 * ------------------------------------------------------------------------ */

static void test_enum_values(void)
{
    section = "enums";
    CHECK(M2FA_OUTCOME_ALLOWED == 1 && M2FA_OUTCOME_ENROLLMENT_REQUIRED == 2 &&
          M2FA_OUTCOME_SECOND_FACTOR_REQUIRED == 3 && M2FA_OUTCOME_REFUSED == 4);
    CHECK(M2FA_REASON_NONE == 0 && M2FA_REASON_NO_SECOND_FACTOR == 1 &&
          M2FA_REASON_CODE_ACCEPTED == 2 && M2FA_REASON_SUSPENDED == 3 &&
          M2FA_REASON_ENROLLED == 4 && M2FA_REASON_DELIVERED_CODE_ACCEPTED == 5 &&
          M2FA_REASON_RECOVERY_CODE_USED == 6);
    CHECK(M2FA_REASON_MALFORMED_CODE == 100 && M2FA_REASON_WRONG_CODE == 101 &&
          M2FA_REASON_CLOCK_SKEW == 102 && M2FA_REASON_REPLAYED == 103 &&
          M2FA_REASON_LOCKED == 104 && M2FA_REASON_ENROLLMENT_EXPIRED == 105 &&
          M2FA_REASON_CODE_EXPIRED == 106 && M2FA_REASON_NO_CODE_ISSUED == 107);
    CHECK(M2FA_MODE_TOTP == 1 && M2FA_MODE_EMAIL == 2 && M2FA_MODE_SMS == 3);
    CHECK(M2FA_STORAGE_FAILURE == 600 && M2FA_CORRUPT_RECORD == 601 &&
          M2FA_STORAGE_CONTENTION == 602);
    CHECK(M2FA_PLATFORM_DISABLED == 700 && M2FA_ALREADY_ENABLED == 701 &&
          M2FA_NOT_ENABLED == 702 && M2FA_INVALID_CONFIG == 703 && M2FA_INVALID_INPUT == 704 &&
          M2FA_NO_CONTACT == 705 && M2FA_RATE_LIMITED == 706);
    CHECK(M2FA_INVALID_NAME == 709);
}

/* ------------------------------------------------------------------------
 * m2fa_outcome_name, m2fa_reason_name: the constants' names, stable
 * ------------------------------------------------------------------------ */

struct enum_name {
    uint32_t value;
    const char *constant; /* the header's name, e.g. "M2FA_REASON_CODE_ACCEPTED" */
};

#define ENUM_NAME(constant) {constant, #constant}
static const struct enum_name every_outcome[] = {
    ENUM_NAME(M2FA_OUTCOME_ALLOWED),
    ENUM_NAME(M2FA_OUTCOME_ENROLLMENT_REQUIRED),
    ENUM_NAME(M2FA_OUTCOME_SECOND_FACTOR_REQUIRED),
    ENUM_NAME(M2FA_OUTCOME_REFUSED),
    ENUM_NAME(M2FA_OUTCOME_DEVICE_PENDING),
};
static const struct enum_name every_reason[] = {
    ENUM_NAME(M2FA_REASON_NONE),
    ENUM_NAME(M2FA_REASON_NO_SECOND_FACTOR),
    ENUM_NAME(M2FA_REASON_CODE_ACCEPTED),
    ENUM_NAME(M2FA_REASON_SUSPENDED),
    ENUM_NAME(M2FA_REASON_ENROLLED),
    ENUM_NAME(M2FA_REASON_DELIVERED_CODE_ACCEPTED),
    ENUM_NAME(M2FA_REASON_RECOVERY_CODE_USED),
    ENUM_NAME(M2FA_REASON_DEVICE_AUTHORIZED),
    ENUM_NAME(M2FA_REASON_DEVICE_TRUSTED),
    ENUM_NAME(M2FA_REASON_APP_PASSWORD),
    ENUM_NAME(M2FA_REASON_MALFORMED_CODE),
    ENUM_NAME(M2FA_REASON_WRONG_CODE),
    ENUM_NAME(M2FA_REASON_CLOCK_SKEW),
    ENUM_NAME(M2FA_REASON_REPLAYED),
    ENUM_NAME(M2FA_REASON_LOCKED),
    ENUM_NAME(M2FA_REASON_ENROLLMENT_EXPIRED),
    ENUM_NAME(M2FA_REASON_CODE_EXPIRED),
    ENUM_NAME(M2FA_REASON_NO_CODE_ISSUED),
    ENUM_NAME(M2FA_REASON_WRONG_PASSWORD),
    ENUM_NAME(M2FA_REASON_PROTOCOL_REFUSED),
    ENUM_NAME(M2FA_REASON_APP_PASSWORD_REQUIRED),
    ENUM_NAME(M2FA_REASON_APP_PASSWORD_NOT_ACCEPTED),
    ENUM_NAME(M2FA_REASON_APP_PASSWORD_OUT_OF_SCOPE),
    ENUM_NAME(M2FA_REASON_WRONG_APP_PASSWORD),
    ENUM_NAME(M2FA_REASON_DEVICE_UNIDENTIFIED),
    ENUM_NAME(M2FA_REASON_TOO_MANY_PENDING_DEVICES),
    ENUM_NAME(M2FA_REASON_NOT_ENROLLED),
};
#undef ENUM_NAME

/* Checks `name_of` against a table of the header's constants: each name is
 * the constant without `prefix`, in lower case, the same static string on
 * every call; every other number of 0..1999 (and UINT32_MAX) is NULL. */
static void check_enum_names(const char *(*name_of)(uint32_t), const char *prefix,
                             const struct enum_name *table, size_t count)
{
    size_t prefix_len = strlen(prefix);
    for (size_t i = 0; i < count; i++) {
        char expected[64] = "";
        const char *constant = table[i].constant;
        if (!CHECK(strncmp(constant, prefix, prefix_len) == 0 &&
                   strlen(constant) - prefix_len < sizeof expected)) {
            continue;
        }
        size_t j = 0;
        for (const char *c = constant + prefix_len; *c != '\0'; c++, j++) {
            expected[j] = (*c >= 'A' && *c <= 'Z') ? (char)(*c - 'A' + 'a') : *c;
        }
        expected[j] = '\0';
        const char *name = name_of(table[i].value);
        if (!CHECK_STR(name, expected)) {
            fprintf(stderr, "    for %s\n", constant);
        }
        CHECK(name_of(table[i].value) == name);
    }
    size_t named = 0;
    for (uint32_t value = 0; value < 2000; value++) {
        const char *name = name_of(value);
        bool in_table = false;
        for (size_t i = 0; i < count; i++) {
            in_table = in_table || table[i].value == value;
        }
        if (name != NULL) {
            named++;
        }
        if (!CHECK((name != NULL) == in_table)) {
            fprintf(stderr, "    %s%u: named \"%s\" by the library, %s the test's table\n", prefix,
                    (unsigned)value, name != NULL ? name : "(NULL)", in_table ? "in" : "not in");
        }
    }
    CHECK_EQ(named, count);
    CHECK(name_of(UINT32_MAX) == NULL);
}

static void test_outcome_and_reason_names(void)
{
    section = "outcome and reason names";
    check_enum_names(m2fa_outcome_name, "M2FA_OUTCOME_", every_outcome,
                     sizeof every_outcome / sizeof every_outcome[0]);
    check_enum_names(m2fa_reason_name, "M2FA_REASON_", every_reason,
                     sizeof every_reason / sizeof every_reason[0]);
    /* A few spelled out, as logs show them. */
    CHECK_STR(m2fa_outcome_name(M2FA_OUTCOME_ALLOWED), "allowed");
    CHECK_STR(m2fa_outcome_name(M2FA_OUTCOME_SECOND_FACTOR_REQUIRED), "second_factor_required");
    CHECK_STR(m2fa_outcome_name(M2FA_OUTCOME_DEVICE_PENDING), "device_pending");
    CHECK_STR(m2fa_reason_name(M2FA_REASON_NONE), "none");
    CHECK_STR(m2fa_reason_name(M2FA_REASON_CODE_ACCEPTED), "code_accepted");
    CHECK_STR(m2fa_reason_name(M2FA_REASON_TOO_MANY_PENDING_DEVICES), "too_many_pending_devices");
    /* Unknown values: NULL. */
    CHECK(m2fa_outcome_name(0) == NULL);
    CHECK(m2fa_outcome_name(6) == NULL);
    CHECK(m2fa_reason_name(10) == NULL);
    CHECK(m2fa_reason_name(99) == NULL);
    CHECK(m2fa_reason_name(117) == NULL);
    CHECK(m2fa_reason_name(UINT32_MAX) == NULL);
}

/* ------------------------------------------------------------------------
 * S1, S2: platform, account, enrollment
 * ------------------------------------------------------------------------ */

static void test_enablement_and_enrollment(void)
{
    section = "S1/S2 enablement and enrollment";
    m2fa_engine *engine = SENTINEL_HANDLE;
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_new(NULL, &engine))) {
        return;
    }
    struct user alice = {.engine = engine, .platform = PLATFORM, .name = "alice@example.com"};
    struct user nobody = {.engine = engine, .platform = PLATFORM, .name = "nobody@example.com"};
    m2fa_decision *d = SENTINEL_HANDLE;
    char code[CODE_SIZE], wrong[CODE_SIZE];
    unsigned counter = 0;

    /* S1: 2FA must be on for the platform first: never set, then off. */
    CHECK_STATUS(M2FA_PLATFORM_DISABLED,
                 m2fa_engine_enable_account(engine, PLATFORM, alice.name, T0, &d));
    CHECK(d == SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 0));
    CHECK_STATUS(M2FA_PLATFORM_DISABLED,
                 m2fa_engine_enable_account(engine, PLATFORM, alice.name, T0, &d));
    CHECK(d == SENTINEL_HANDLE);
    /* The refusal left nothing behind: no second factor. */
    EXPECT_LOGIN(&alice, NULL, T0, M2FA_OUTCOME_ALLOWED, M2FA_REASON_NO_SECOND_FACTOR);

    /* Any non-zero value turns it on. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 2));
    if (!enable_account(&alice, T0)) {
        m2fa_engine_free(engine);
        return;
    }
    CHECK(alice.digits == 6 && alice.period == 30);
    CHECK_STATUS(M2FA_ALREADY_ENABLED,
                 m2fa_engine_enable_account(engine, PLATFORM, alice.name, T0 + 1, &d));
    CHECK(d == SENTINEL_HANDLE);
    /* Platforms are independent. */
    CHECK_STATUS(M2FA_PLATFORM_DISABLED,
                 m2fa_engine_enable_account(engine, "other.example", alice.name, T0, &d));
    CHECK(d == SENTINEL_HANDLE);

    /* S2: pending enrollment. A login without a code is told to enroll,
     * with the same URI (the same secret) as before. */
    d = LOGIN(&alice, NULL, T0 + 10, M2FA_OUTCOME_ENROLLMENT_REQUIRED, M2FA_REASON_NONE);
    char *again = d != NULL ? read_text(text_decision_uri, d, 0) : NULL;
    CHECK_STR(again, alice.uri);
    free_wiped(again);
    m2fa_decision_free(d);
    /* Not enrolled: the password is never split. */
    CHECK_SPLIT(&alice, "pw123456", T0 + 10, 8, 0);
    /* A wrong code does not complete the enrollment. */
    EXPECT_LOGIN(&alice, wrong_code(&alice, T0 + 20, &counter, wrong), T0 + 20,
                 M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
    EXPECT_LOGIN(&alice, NULL, T0 + 20, M2FA_OUTCOME_ENROLLMENT_REQUIRED, M2FA_REASON_NONE);

    /* A valid code completes it; its step is consumed. */
    uint64_t now = T0 + 30;
    d = LOGIN(&alice, code_at(&alice, now, code), now, M2FA_OUTCOME_ALLOWED, M2FA_REASON_ENROLLED);
    if (d != NULL) {
        CHECK_EQ(decision_step(d), step_at(&alice, now));
        CHECK_EQ(decision_step(d), T0 / 30 + 1);
    }
    m2fa_decision_free(d);
    /* ... and cannot log in again (a replay is not counted as a failure). */
    EXPECT_LOGIN(&alice, code, now, M2FA_OUTCOME_REFUSED, M2FA_REASON_REPLAYED);
    EXPECT_LOGIN(&alice, code, now + 29, M2FA_OUTCOME_REFUSED, M2FA_REASON_REPLAYED);
    /* Enrolled: a code is required from now on. */
    d = LOGIN(&alice, NULL, now + 30, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    if (d != NULL) {
        CHECK_EQ(decision_mode(d), M2FA_MODE_TOTP);
    }
    m2fa_decision_free(d);

    /* No second factor: allowed, and cacheable (check_decision checks it). */
    EXPECT_LOGIN(&nobody, NULL, now, M2FA_OUTCOME_ALLOWED, M2FA_REASON_NO_SECOND_FACTOR);
    EXPECT_LOGIN(&nobody, "123456", now, M2FA_OUTCOME_ALLOWED, M2FA_REASON_NO_SECOND_FACTOR);

    /* S1: platform off: no second factor for anyone, enrollments kept. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 0));
    EXPECT_LOGIN(&alice, NULL, now + 60, M2FA_OUTCOME_ALLOWED, M2FA_REASON_NO_SECOND_FACTOR);
    CHECK_SPLIT(&alice, "pw123456", now + 60, 8, 0);
    CHECK_STATUS(M2FA_PLATFORM_DISABLED,
                 m2fa_engine_enable_account(engine, PLATFORM, nobody.name, now, &d));
    CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1));
    EXPECT_LOGIN(&alice, NULL, now + 60, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    EXPECT_LOGIN(&alice, code_at(&alice, now + 60, code), now + 60, M2FA_OUTCOME_ALLOWED,
                 M2FA_REASON_CODE_ACCEPTED);

    /* A name the URI must escape ('+') survives the round trip through the
     * phone. */
    struct user odd = {.engine = engine, .platform = PLATFORM,
                       .name = "a.b-c_d+tag@sub.example.co.uk"};
    if (enable_account(&odd, now)) {
        CHECK(strstr(odd.uri, "a.b-c_d%2Btag@sub.example.co.uk") != NULL);
        EXPECT_LOGIN(&odd, code_at(&odd, now, code), now, M2FA_OUTCOME_ALLOWED,
                     M2FA_REASON_ENROLLED);
    }
    /* The longest account name accepted: a 64-byte local part and a
     * domain of 63-byte labels, 254 bytes in all. */
    char long_name[MAX_NAME + 1];
    memset(long_name, 'n', MAX_NAME);
    long_name[64] = '@';
    long_name[64 + 64] = '.';
    long_name[64 + 64 + 64] = '.';
    long_name[MAX_NAME] = '\0';
    struct user longest = {.engine = engine, .platform = PLATFORM, .name = long_name};
    if (enable_account(&longest, now)) {
        EXPECT_LOGIN(&longest, code_at(&longest, now, code), now, M2FA_OUTCOME_ALLOWED,
                     M2FA_REASON_ENROLLED);
    }

    user_free(&longest);
    user_free(&odd);
    user_free(&alice);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * S4: logging in with TOTP codes
 * ------------------------------------------------------------------------ */

static void test_totp_logins(void)
{
    section = "S4 TOTP logins";
    m2fa_engine *engine = new_engine(NULL);
    struct user alice = {.engine = engine, .platform = PLATFORM, .name = "alice@example.com"};
    struct user bob = {.engine = engine, .platform = PLATFORM, .name = "bob@example.com"};
    if (!enroll(&alice, T0) || !enroll(&bob, T0)) {
        goto out;
    }
    char code[CODE_SIZE];
    m2fa_decision *d;

    /* From a time q (step Q) where the codes of steps Q-16..Q+16 differ. */
    uint64_t q = quiet_time(&alice, T0 + 3000, 16);
    uint64_t Q = step_at(&alice, q);

    /* The current step's code: accepted, its step consumed. */
    d = LOGIN(&alice, code_at(&alice, q, code), q, M2FA_OUTCOME_ALLOWED,
              M2FA_REASON_CODE_ACCEPTED);
    if (d != NULL) {
        CHECK_EQ(decision_step(d), Q);
    }
    m2fa_decision_free(d);
    /* The next step's code (the phone is a step ahead): accepted. */
    d = LOGIN(&alice, code_at(&alice, q + 30, code), q, M2FA_OUTCOME_ALLOWED,
              M2FA_REASON_CODE_ACCEPTED);
    if (d != NULL) {
        CHECK_EQ(decision_step(d), Q + 1);
    }
    m2fa_decision_free(d);
    /* At step Q+3, the code of Q+2 (a step behind): accepted. */
    uint64_t now = q + 90;
    d = LOGIN(&alice, code_at(&alice, q + 60, code), now, M2FA_OUTCOME_ALLOWED,
              M2FA_REASON_CODE_ACCEPTED);
    if (d != NULL) {
        CHECK_EQ(decision_step(d), Q + 2);
    }
    m2fa_decision_free(d);
    /* Accepted once: the same code again is a replay. */
    EXPECT_LOGIN(&alice, code, now, M2FA_OUTCOME_REFUSED, M2FA_REASON_REPLAYED);
    /* An older step than the last one used: refused. */
    EXPECT_LOGIN(&alice, code_at(&alice, q + 30, code), now, M2FA_OUTCOME_REFUSED,
                 M2FA_REASON_WRONG_CODE);
    /* ±2 steps is not accepted: the engine says the clock is off. */
    d = LOGIN(&alice, code_at(&alice, now + 60, code), now, M2FA_OUTCOME_REFUSED,
              M2FA_REASON_CLOCK_SKEW);
    if (d != NULL) {
        CHECK(decision_clock_skew(d) == 2);
    }
    m2fa_decision_free(d);
    /* Three steps ahead. */
    d = LOGIN(&alice, code_at(&alice, now + 90, code), now, M2FA_OUTCOME_REFUSED,
              M2FA_REASON_CLOCK_SKEW);
    if (d != NULL) {
        CHECK(decision_clock_skew(d) == 3);
    }
    m2fa_decision_free(d);
    /* The refused codes were not consumed: the current one still works,
     * and resets the failure count (3 so far). */
    EXPECT_LOGIN(&alice, code_at(&alice, now, code), now, M2FA_OUTCOME_ALLOWED,
                 M2FA_REASON_CODE_ACCEPTED);

    /* Malformed: not exactly six ASCII digits. */
    static const char *const malformed[] = {
        "12345", "1234567", "12a456", "", " 123456",
        "\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93\xef\xbc\x94\xef\xbc\x95\xef\xbc\x96",
    };
    for (size_t i = 0; i < 4; i++) {
        EXPECT_LOGIN(&alice, malformed[i], now, M2FA_OUTCOME_REFUSED,
                     M2FA_REASON_MALFORMED_CODE);
    }
    now += 30;
    EXPECT_LOGIN(&alice, code_at(&alice, now, code), now, M2FA_OUTCOME_ALLOWED,
                 M2FA_REASON_CODE_ACCEPTED);
    for (size_t i = 4; i < sizeof malformed / sizeof malformed[0]; i++) {
        EXPECT_LOGIN(&alice, malformed[i], now, M2FA_OUTCOME_REFUSED,
                     M2FA_REASON_MALFORMED_CODE);
    }
    /* A newer step was accepted, so the previous one is a replay now. */
    EXPECT_LOGIN(&alice, code_at(&alice, now - 30, code), now, M2FA_OUTCOME_REFUSED,
                 M2FA_REASON_REPLAYED);

    /* No code: ask for one, of the TOTP kind. */
    d = LOGIN(&alice, NULL, now, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    if (d != NULL) {
        CHECK_EQ(decision_mode(d), M2FA_MODE_TOTP);
    }
    m2fa_decision_free(d);

    /* A phone behind: negative skew. Bob's last step is his enrollment's. */
    uint64_t qb = quiet_time(&bob, T0 + 3000, 16);
    d = LOGIN(&bob, code_at(&bob, qb - 90, code), qb, M2FA_OUTCOME_REFUSED,
              M2FA_REASON_CLOCK_SKEW);
    if (d != NULL) {
        CHECK(decision_clock_skew(d) == -3);
    }
    m2fa_decision_free(d);
    d = LOGIN(&bob, code_at(&bob, qb - 60, code), qb, M2FA_OUTCOME_REFUSED,
              M2FA_REASON_CLOCK_SKEW);
    if (d != NULL) {
        CHECK(decision_clock_skew(d) == -2);
    }
    m2fa_decision_free(d);
    d = LOGIN(&bob, code_at(&bob, qb - 30, code), qb, M2FA_OUTCOME_ALLOWED,
              M2FA_REASON_CODE_ACCEPTED);
    if (d != NULL) {
        CHECK_EQ(decision_step(d), step_at(&bob, qb) - 1);
    }
    m2fa_decision_free(d);
    /* Alice's codes are not Bob's. */
    EXPECT_LOGIN(&bob, code_at(&alice, qb, code), qb, M2FA_OUTCOME_REFUSED, ANY_REFUSAL);

out:
    user_free(&alice);
    user_free(&bob);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * S5: password and code typed as one string
 * ------------------------------------------------------------------------ */

static void test_split_login(void)
{
    section = "S5 password+code";
    m2fa_engine *engine = new_engine(NULL);
    struct user dave = {.engine = engine, .platform = PLATFORM, .name = "dave@example.com"};
    struct user erin = {.engine = engine, .platform = PLATFORM, .name = "erin@example.com"};
    struct user pat = {.engine = engine, .platform = PLATFORM, .name = "pat@example.com"};
    if (!enroll(&dave, T0) || !enable_account(&pat, T0)) {
        goto out;
    }
    uint64_t now = T0 + 600;

    /* The enrolled account: the last six ASCII digits are the code. */
    CHECK_SPLIT(&dave, "pw123456", now, 2, 1);
    CHECK_SPLIT(&dave, "T9D3K!px189145", now, 8, 1);
    CHECK_SPLIT(&dave, "hunter2189145", now, 7, 1);
    CHECK_SPLIT(&dave, "pass\xc3\xa9" "123456", now, 6, 1); /* "passé": 6 bytes */
    /* Too short to carry a password and a code, or no six digits at the end. */
    CHECK_SPLIT(&dave, "123456", now, 6, 0);
    CHECK_SPLIT(&dave, "pw12345", now, 7, 0);
    CHECK_SPLIT(&dave, "", now, 0, 0);
    CHECK_SPLIT(&dave, "pw12345 ", now, 8, 0);
    CHECK_SPLIT(&dave, "pw\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93\xef\xbc\x94\xef\xbc\x95\xef\xbc\x96",
                now, 20, 0); /* full-width digits are not ASCII digits */
    /* An account without 2FA, and one not yet enrolled: never split, so a
     * password that ends in digits keeps working. */
    CHECK_SPLIT(&erin, "pw123456", now, 8, 0);
    CHECK_SPLIT(&pat, "pw123456", now, 8, 0);

    /* The host's whole path: split, then the code to the engine. */
    char code[CODE_SIZE], input[64];
    snprintf(input, sizeof input, "T9D3K!px%s", code_at(&dave, now, code));
    size_t password_len = SENTINEL_SIZE;
    uint32_t has_code = SENTINEL_U32;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_split_login(engine, PLATFORM, dave.name, input, now,
                                                      &password_len, &has_code)) &&
        CHECK(password_len == 8 && has_code == 1)) {
        CHECK(strncmp(input, "T9D3K!px", password_len) == 0);
        EXPECT_LOGIN(&dave, input + password_len, now, M2FA_OUTCOME_ALLOWED,
                     M2FA_REASON_CODE_ACCEPTED);
    }
    wipe_memset(input, 0, sizeof input);

    /* At most 4096 bytes, for every account. */
    char *big = malloc(4098);
    if (CHECK(big != NULL)) {
        memset(big, 'a', 4090);
        memcpy(big + 4090, "123456", 7); /* 4096 bytes and the NUL */
        CHECK_SPLIT(&dave, big, now, 4090, 1);
        CHECK_SPLIT(&erin, big, now, 4096, 0);
        memcpy(big + 4090, "1234567", 8); /* 4097 bytes */
        const char *const names[] = {dave.name, erin.name, pat.name};
        for (size_t i = 0; i < 3; i++) {
            password_len = SENTINEL_SIZE;
            has_code = SENTINEL_U32;
            CHECK_STATUS(M2FA_INVALID_INPUT, m2fa_engine_split_login(engine, PLATFORM, names[i],
                                                                     big, now, &password_len,
                                                                     &has_code));
            CHECK(password_len == SENTINEL_SIZE && has_code == SENTINEL_U32);
        }
        free(big);
    }

out:
    user_free(&dave);
    user_free(&pat);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * S7: lockout
 * ------------------------------------------------------------------------ */

static void test_lockout(void)
{
    section = "S7 lockout";
    m2fa_engine *engine = new_engine(NULL);
    struct user carol = {.engine = engine, .platform = PLATFORM, .name = "carol@example.com"};
    if (!enroll(&carol, T0)) {
        goto out;
    }
    char code[CODE_SIZE], wrong[CODE_SIZE];
    unsigned counter = 0;
    uint64_t now = T0 + 600;
    m2fa_decision *d;

    /* Five wrong codes: refused, and the fifth locks for 60 s. */
    for (int i = 0; i < 5; i++) {
        EXPECT_LOGIN(&carol, wrong_code(&carol, now, &counter, wrong), now,
                     M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
    }
    /* Now even the right code is refused (the same answer to the client). */
    d = LOGIN(&carol, code_at(&carol, now, code), now, M2FA_OUTCOME_REFUSED, M2FA_REASON_LOCKED);
    if (d != NULL) {
        CHECK_EQ(decision_until(d), now + 60);
    }
    m2fa_decision_free(d);
    /* Asking for a code does not reveal the lock. */
    EXPECT_LOGIN(&carol, NULL, now + 1, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    d = LOGIN(&carol, code, now + 59, M2FA_OUTCOME_REFUSED, M2FA_REASON_LOCKED);
    if (d != NULL) {
        CHECK_EQ(decision_until(d), now + 60);
    }
    m2fa_decision_free(d);

    /* The operator lifts it: the code refused while locked was not used up. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_unlock(engine, PLATFORM, carol.name));
    EXPECT_LOGIN(&carol, code, now + 59, M2FA_OUTCOME_ALLOWED, M2FA_REASON_CODE_ACCEPTED);

    /* A lock ends by itself, with no fresh quota: one more wrong code locks
     * again, for twice as long. */
    now = T0 + 1200;
    for (int i = 0; i < 5; i++) {
        EXPECT_LOGIN(&carol, wrong_code(&carol, now, &counter, wrong), now,
                     M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
    }
    now += 60;
    EXPECT_LOGIN(&carol, wrong_code(&carol, now, &counter, wrong), now, M2FA_OUTCOME_REFUSED,
                 M2FA_REASON_WRONG_CODE);
    d = LOGIN(&carol, code_at(&carol, now, code), now, M2FA_OUTCOME_REFUSED, M2FA_REASON_LOCKED);
    if (d != NULL) {
        CHECK_EQ(decision_until(d), now + 120);
    }
    m2fa_decision_free(d);
    now += 120;
    EXPECT_LOGIN(&carol, code_at(&carol, now, code), now, M2FA_OUTCOME_ALLOWED,
                 M2FA_REASON_CODE_ACCEPTED);

    /* Malformed codes count too. */
    now += 30;
    for (int i = 0; i < 5; i++) {
        EXPECT_LOGIN(&carol, "12345", now, M2FA_OUTCOME_REFUSED, M2FA_REASON_MALFORMED_CODE);
    }
    EXPECT_LOGIN(&carol, code_at(&carol, now, code), now, M2FA_OUTCOME_REFUSED,
                 M2FA_REASON_LOCKED);
    CHECK_STATUS(M2FA_OK, m2fa_engine_unlock(engine, PLATFORM, carol.name));
    EXPECT_LOGIN(&carol, code, now, M2FA_OUTCOME_ALLOWED, M2FA_REASON_CODE_ACCEPTED);

    CHECK_STATUS(M2FA_NOT_ENABLED, m2fa_engine_unlock(engine, PLATFORM, "nobody@example.com"));

out:
    user_free(&carol);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * S3, S6: verification modes, e-mail and SMS codes
 * ------------------------------------------------------------------------ */

/* Issues a code at `now`; returns its text (malloc'd) or NULL. */
static char *issue_code_impl(const struct user *u, uint64_t now, uint32_t want_channel,
                             const char *want_destination, uint64_t want_expiry, bool full,
                             const char *file, int line)
{
#define CHECK_HERE(expr) check_impl((expr), #expr, file, line)
    m2fa_issued_code *issued = SENTINEL_HANDLE;
    uint64_t retry_at = SENTINEL_U64;
    if (!check_status_impl(m2fa_engine_issue_code(u->engine, u->platform, u->name, now, &issued,
                                                  &retry_at),
                           M2FA_OK, "m2fa_engine_issue_code", file, line)) {
        CHECK_HERE(issued == SENTINEL_HANDLE);
        return NULL;
    }
    CHECK_HERE(retry_at == SENTINEL_U64); /* only written on M2FA_RATE_LIMITED */
    char *code = full ? FETCH_TEXT(text_issued_code, issued, 0)
                      : read_text(text_issued_code, issued, 0);
    CHECK_HERE(code != NULL && strlen(code) == 6 && strspn(code, "0123456789") == 6);
    destination_channel = SENTINEL_U32;
    char *destination = full ? FETCH_TEXT(text_issued_destination, issued, 0)
                             : read_text(text_issued_destination, issued, 0);
    check_str_impl(destination, want_destination, "destination", file, line);
    check_u64_impl(destination_channel, want_channel, "channel", file, line);
    uint64_t expires_at = SENTINEL_U64;
    check_status_impl(m2fa_issued_code_expires_at(issued, &expires_at), M2FA_OK,
                      "m2fa_issued_code_expires_at", file, line);
    check_u64_impl(expires_at, want_expiry, "expires_at", file, line);
    free(destination);
    m2fa_issued_code_free(issued);
    return code;
#undef CHECK_HERE
}

#define ISSUE_EMAIL(u, now) \
    issue_code_impl((u), (now), M2FA_MODE_EMAIL, EMAIL, (now) + 180, false, __FILE__, __LINE__)

#define EMAIL "frank@home.example"
#define PHONE "+33 6 12 34 56 78"

/* Another well-formed code: each digit one up. */
static void other_code(const char *code, char out[CODE_SIZE])
{
    size_t i = 0;
    for (; code[i] != '\0' && i < CODE_SIZE - 1; i++) {
        out[i] = (char)('0' + (code[i] - '0' + 1) % 10);
    }
    out[i] = '\0';
}

static void test_delivered_codes(void)
{
    section = "S3/S6 e-mail and SMS codes";
    m2fa_engine *engine = new_engine(NULL);
    struct user frank = {.engine = engine, .platform = PLATFORM, .name = "frank@example.com"};
    if (!enroll(&frank, T0)) {
        goto out;
    }
    const char *name = frank.name;
    uint64_t t = T0 + 600;
    m2fa_issued_code *issued = SENTINEL_HANDLE;
    uint64_t retry_at = SENTINEL_U64;
    char totp[CODE_SIZE], other[CODE_SIZE];
    char *code;
    m2fa_decision *d;

    /* S3: no destination yet: neither e-mail nor SMS, and a TOTP account
     * gets no code to deliver. */
    CHECK_STATUS(M2FA_NO_CONTACT, m2fa_engine_set_mode(engine, PLATFORM, name, M2FA_MODE_EMAIL));
    CHECK_STATUS(M2FA_NO_CONTACT, m2fa_engine_set_mode(engine, PLATFORM, name, M2FA_MODE_SMS));
    CHECK_STATUS(M2FA_NO_CONTACT,
                 m2fa_engine_issue_code(engine, PLATFORM, name, t, &issued, &retry_at));
    CHECK(issued == SENTINEL_HANDLE && retry_at == SENTINEL_U64);
    /* An address alone allows e-mail, not SMS. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_contact(engine, PLATFORM, name, EMAIL, NULL));
    CHECK_STATUS(M2FA_NO_CONTACT,
                 m2fa_engine_issue_code(engine, PLATFORM, name, t, &issued, &retry_at));
    CHECK_STATUS(M2FA_NO_CONTACT, m2fa_engine_set_mode(engine, PLATFORM, name, M2FA_MODE_SMS));
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_mode(engine, PLATFORM, name, M2FA_MODE_EMAIL));

    /* Login now asks for an e-mail code; none was issued yet. */
    d = LOGIN(&frank, NULL, t, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    if (d != NULL) {
        CHECK_EQ(decision_mode(d), M2FA_MODE_EMAIL);
    }
    m2fa_decision_free(d);
    EXPECT_LOGIN(&frank, "123456", t, M2FA_OUTCOME_REFUSED, M2FA_REASON_NO_CODE_ISSUED);
    /* The authenticator app's codes are not what is asked for now. */
    EXPECT_LOGIN(&frank, code_at(&frank, t, totp), t, M2FA_OUTCOME_REFUSED, ANY_REFUSAL);
    /* Split by the e-mail code's digits. */
    CHECK_SPLIT(&frank, "pw123456", t, 2, 1);

    /* S6: a code: six digits, to the address, valid 180 s (every text
     * output through the whole protocol). */
    code = issue_code_impl(&frank, t, M2FA_MODE_EMAIL, EMAIL, t + 180, true, __FILE__, __LINE__);
    /* Within 30 s no new code: *retry_at says when, *out is not written. */
    issued = SENTINEL_HANDLE;
    retry_at = SENTINEL_U64;
    CHECK_STATUS(M2FA_RATE_LIMITED,
                 m2fa_engine_issue_code(engine, PLATFORM, name, t + 29, &issued, &retry_at));
    CHECK_EQ(retry_at, t + 30);
    CHECK(issued == SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_RATE_LIMITED,
                 m2fa_engine_issue_code(engine, PLATFORM, name, t + 1, &issued, NULL));
    CHECK(issued == SENTINEL_HANDLE);
    /* It logs in once. */
    if (code != NULL) {
        EXPECT_LOGIN(&frank, code, t + 5, M2FA_OUTCOME_ALLOWED,
                     M2FA_REASON_DELIVERED_CODE_ACCEPTED);
        /* Again (another connection of the same client): a replay, not
         * counted as a failure. */
        EXPECT_LOGIN(&frank, code, t + 6, M2FA_OUTCOME_REFUSED, M2FA_REASON_REPLAYED);
    }
    free_wiped(code);

    /* A new code kills the previous one. */
    t += 30;
    char *first = ISSUE_EMAIL(&frank, t);
    t += 30;
    code = ISSUE_EMAIL(&frank, t);
    /* (Two random codes are equal once in a million: then skip that check.) */
    if (first != NULL && code != NULL) {
        if (strcmp(first, code) != 0) {
            EXPECT_LOGIN(&frank, first, t, M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
        }
        EXPECT_LOGIN(&frank, code, t, M2FA_OUTCOME_ALLOWED, M2FA_REASON_DELIVERED_CODE_ACCEPTED);
    }
    free_wiped(first);
    free_wiped(code);

    /* Three wrong entries kill it (the right one then finds no live code). */
    t += 30;
    code = ISSUE_EMAIL(&frank, t);
    if (code != NULL) {
        other_code(code, other);
        for (int i = 0; i < 3; i++) {
            EXPECT_LOGIN(&frank, other, t + 1, M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
        }
        EXPECT_LOGIN(&frank, code, t + 2, M2FA_OUTCOME_REFUSED, M2FA_REASON_NO_CODE_ISSUED);
    }
    free_wiped(code);
    /* (4 failures since the last success: lift them before the next ones.) */
    CHECK_STATUS(M2FA_OK, m2fa_engine_unlock(engine, PLATFORM, name));

    /* Valid until expires_at, not at expires_at. */
    t += 30;
    code = ISSUE_EMAIL(&frank, t);
    if (code != NULL) {
        EXPECT_LOGIN(&frank, code, t + 180, M2FA_OUTCOME_REFUSED, M2FA_REASON_CODE_EXPIRED);
        EXPECT_LOGIN(&frank, code, t + 181, M2FA_OUTCOME_REFUSED, M2FA_REASON_NO_CODE_ISSUED);
    }
    free_wiped(code);
    t += 200;
    code = ISSUE_EMAIL(&frank, t);
    if (code != NULL) {
        EXPECT_LOGIN(&frank, code, t + 179, M2FA_OUTCOME_ALLOWED,
                     M2FA_REASON_DELIVERED_CODE_ACCEPTED);
    }
    free_wiped(code);

    /* SMS. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_contact(engine, PLATFORM, name, EMAIL, PHONE));
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_mode(engine, PLATFORM, name, M2FA_MODE_SMS));
    t += 200;
    d = LOGIN(&frank, NULL, t, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    if (d != NULL) {
        CHECK_EQ(decision_mode(d), M2FA_MODE_SMS);
    }
    m2fa_decision_free(d);
    code = issue_code_impl(&frank, t, M2FA_MODE_SMS, PHONE, t + 180, false, __FILE__, __LINE__);
    if (code != NULL) {
        EXPECT_LOGIN(&frank, code, t + 10, M2FA_OUTCOME_ALLOWED,
                     M2FA_REASON_DELIVERED_CODE_ACCEPTED);
    }
    free_wiped(code);
    /* Switching the mode kills a live code. */
    t += 30;
    code = issue_code_impl(&frank, t, M2FA_MODE_SMS, PHONE, t + 180, false, __FILE__, __LINE__);
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_mode(engine, PLATFORM, name, M2FA_MODE_EMAIL));
    if (code != NULL) {
        EXPECT_LOGIN(&frank, code, t + 1, M2FA_OUTCOME_REFUSED, M2FA_REASON_NO_CODE_ISSUED);
    }
    free_wiped(code);

    /* Back to the app (recommended): its codes work again, no code is issued. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_mode(engine, PLATFORM, name, M2FA_MODE_TOTP));
    t += 30;
    issued = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NO_CONTACT,
                 m2fa_engine_issue_code(engine, PLATFORM, name, t, &issued, &retry_at));
    CHECK(issued == SENTINEL_HANDLE);
    EXPECT_LOGIN(&frank, code_at(&frank, t, totp), t, M2FA_OUTCOME_ALLOWED,
                 M2FA_REASON_CODE_ACCEPTED);
    /* Without a contact, e-mail cannot be chosen again; bad contacts are refused. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_contact(engine, PLATFORM, name, NULL, NULL));
    CHECK_STATUS(M2FA_NO_CONTACT, m2fa_engine_set_mode(engine, PLATFORM, name, M2FA_MODE_EMAIL));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_set_contact(engine, PLATFORM, name, "", NULL));
    CHECK_STATUS(M2FA_INVALID_CONFIG,
                 m2fa_engine_set_contact(engine, PLATFORM, name, NULL, "+33\n6"));

    /* An account in e-mail mode needs no authenticator enrollment. */
    struct user gail = {.engine = engine, .platform = PLATFORM, .name = "gail@example.com"};
    if (enable_account(&gail, t)) {
        CHECK_STATUS(M2FA_OK, m2fa_engine_set_contact(engine, PLATFORM, gail.name, EMAIL, NULL));
        CHECK_STATUS(M2FA_OK,
                     m2fa_engine_set_mode(engine, PLATFORM, gail.name, M2FA_MODE_EMAIL));
        EXPECT_LOGIN(&gail, NULL, t, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
        code = ISSUE_EMAIL(&gail, t);
        if (code != NULL) {
            EXPECT_LOGIN(&gail, code, t, M2FA_OUTCOME_ALLOWED,
                         M2FA_REASON_DELIVERED_CODE_ACCEPTED);
        }
        free_wiped(code);
    }
    user_free(&gail);

out:
    user_free(&frank);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * Recovery codes
 * ------------------------------------------------------------------------ */

#define RECOVERY_ALPHABET "0123456789abcdefghjkmnpqrstvwxyz"

static bool recovery_code_shape(const char *code)
{
    if (strlen(code) != 11 || code[5] != '-') {
        return false;
    }
    return strspn(code, RECOVERY_ALPHABET) == 5 && strspn(code + 6, RECOVERY_ALPHABET) == 5;
}

/* Generates `count` codes for u into list[count][12]; returns how many. */
static size_t generate_recovery_codes(const struct user *u, uint32_t count, char list[][12],
                                      bool full)
{
    m2fa_recovery_codes *codes = SENTINEL_HANDLE;
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_generate_recovery_codes(u->engine, u->platform,
                                                                   u->name, count, &codes))) {
        return 0;
    }
    size_t n = SENTINEL_SIZE;
    CHECK_STATUS(M2FA_OK, m2fa_recovery_codes_count(codes, &n));
    CHECK_EQ(n, count);
    size_t got = 0;
    for (size_t i = 0; i < n && i < count; i++) {
        char *code = full ? FETCH_TEXT(text_recovery_code, codes, i)
                          : read_text(text_recovery_code, codes, i);
        if (!CHECK(code != NULL)) {
            continue;
        }
        CHECK(recovery_code_shape(code));
        CHECK(strlen(code) + 1 <= 12); /* "12 bytes suffice" */
        snprintf(list[got], 12, "%s", code);
        for (size_t j = 0; j < got; j++) {
            CHECK(strcmp(list[j], list[got]) != 0);
        }
        got++;
        free_wiped(code);
    }
    /* Index out of range: refused, nothing written. */
    char buf[16];
    size_t needed = SENTINEL_SIZE;
    memset(buf, SENTINEL_BYTE, sizeof buf);
    CHECK_STATUS(M2FA_INVALID_ARGUMENT, m2fa_recovery_codes_get(codes, n, buf, sizeof buf, &needed));
    CHECK_STATUS(M2FA_INVALID_ARGUMENT,
                 m2fa_recovery_codes_get(codes, SIZE_MAX, buf, sizeof buf, &needed));
    CHECK_STATUS(M2FA_INVALID_ARGUMENT, m2fa_recovery_codes_get(codes, n, NULL, 0, &needed));
    CHECK(needed == SENTINEL_SIZE && all_bytes_are(buf, sizeof buf, SENTINEL_BYTE));
    m2fa_recovery_codes_free(codes);
    return got;
}

static void test_recovery_codes(void)
{
    section = "recovery codes";
    m2fa_engine *engine = new_engine(NULL);
    struct user grace = {.engine = engine, .platform = PLATFORM, .name = "grace@example.com"};
    char list[32][12], fresh[32][12], wrong[CODE_SIZE];
    unsigned counter = 0;
    m2fa_recovery_codes *codes = SENTINEL_HANDLE;
    m2fa_decision *d;
    if (!enroll(&grace, T0)) {
        goto out;
    }
    uint64_t now = T0 + 600;

    /* 1..32 codes. */
    CHECK_STATUS(M2FA_INVALID_CONFIG,
                 m2fa_engine_generate_recovery_codes(engine, PLATFORM, grace.name, 0, &codes));
    CHECK_STATUS(M2FA_INVALID_CONFIG,
                 m2fa_engine_generate_recovery_codes(engine, PLATFORM, grace.name, 33, &codes));
    CHECK(codes == SENTINEL_HANDLE);
    if (generate_recovery_codes(&grace, 10, list, true) != 10) {
        goto out;
    }

    /* One logs in, once; the others are left. */
    d = LOGIN(&grace, list[3], now, M2FA_OUTCOME_ALLOWED, M2FA_REASON_RECOVERY_CODE_USED);
    if (d != NULL) {
        CHECK_EQ(decision_remaining(d), 9);
    }
    m2fa_decision_free(d);
    EXPECT_LOGIN(&grace, list[3], now + 1, M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
    d = LOGIN(&grace, list[0], now + 2, M2FA_OUTCOME_ALLOWED, M2FA_REASON_RECOVERY_CODE_USED);
    if (d != NULL) {
        CHECK_EQ(decision_remaining(d), 8);
    }
    m2fa_decision_free(d);
    /* A code of the right shape that is not one of them. */
    char forged[12];
    snprintf(forged, sizeof forged, "%s", list[1]);
    forged[0] = forged[0] == 'a' ? 'b' : 'a';
    EXPECT_LOGIN(&grace, forged, now + 3, M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);

    /* A recovery code does not get past a lock (counted from zero). */
    now += 60;
    CHECK_STATUS(M2FA_OK, m2fa_engine_unlock(engine, PLATFORM, grace.name));
    for (int i = 0; i < 5; i++) {
        EXPECT_LOGIN(&grace, wrong_code(&grace, now, &counter, wrong), now,
                     M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
    }
    EXPECT_LOGIN(&grace, list[1], now, M2FA_OUTCOME_REFUSED, M2FA_REASON_LOCKED);
    CHECK_STATUS(M2FA_OK, m2fa_engine_unlock(engine, PLATFORM, grace.name));
    d = LOGIN(&grace, list[1], now, M2FA_OUTCOME_ALLOWED, M2FA_REASON_RECOVERY_CODE_USED);
    if (d != NULL) {
        CHECK_EQ(decision_remaining(d), 7);
    }
    m2fa_decision_free(d);

    /* New codes replace the old ones, which die. */
    if (generate_recovery_codes(&grace, 32, fresh, false) == 32) {
        EXPECT_LOGIN(&grace, list[2], now + 1, M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
        d = LOGIN(&grace, fresh[31], now + 2, M2FA_OUTCOME_ALLOWED,
                  M2FA_REASON_RECOVERY_CODE_USED);
        if (d != NULL) {
            CHECK_EQ(decision_remaining(d), 31);
        }
        m2fa_decision_free(d);
    }
    wipe_memset(fresh, 0, sizeof fresh);

    /* Only for accounts with 2FA. */
    CHECK_STATUS(M2FA_NOT_ENABLED, m2fa_engine_generate_recovery_codes(
                                       engine, PLATFORM, "nobody@example.com", 10, &codes));
    CHECK(codes == SENTINEL_HANDLE);

out:
    wipe_memset(list, 0, sizeof list);
    user_free(&grace);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * S8: suspension
 * ------------------------------------------------------------------------ */

static void test_suspend(void)
{
    section = "S8 suspend";
    m2fa_engine *engine = new_engine(NULL);
    struct user heidi = {.engine = engine, .platform = PLATFORM, .name = "heidi@example.com"};
    char code[CODE_SIZE], wrong[CODE_SIZE];
    unsigned counter = 0;
    m2fa_decision *d;
    if (!enroll(&heidi, T0)) {
        goto out;
    }
    uint64_t now = T0 + 600, until = SENTINEL_U64, end = now + 4 * 3600;

    /* Lost phone: 4 hours without a code. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_suspend(engine, PLATFORM, heidi.name, 4 * 3600, now, &until));
    CHECK_EQ(until, end);
    CHECK_STATUS(M2FA_OK, m2fa_engine_suspend(engine, PLATFORM, heidi.name, 4 * 3600, now, NULL));
    d = LOGIN(&heidi, NULL, now + 1, M2FA_OUTCOME_ALLOWED, M2FA_REASON_SUSPENDED);
    if (d != NULL) {
        CHECK_EQ(decision_until(d), end);
    }
    m2fa_decision_free(d);
    /* Whatever code comes with the password is not looked at. */
    EXPECT_LOGIN(&heidi, wrong_code(&heidi, now, &counter, wrong), now + 2, M2FA_OUTCOME_ALLOWED,
                 M2FA_REASON_SUSPENDED);
    /* Nor split off: the whole input is the password. */
    CHECK_SPLIT(&heidi, "pw123456", now + 3, 8, 0);
    d = LOGIN(&heidi, NULL, end - 1, M2FA_OUTCOME_ALLOWED, M2FA_REASON_SUSPENDED);
    if (d != NULL) {
        CHECK_EQ(decision_until(d), end);
    }
    m2fa_decision_free(d);

    /* At the end it re-arms by itself. */
    EXPECT_LOGIN(&heidi, NULL, end, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    CHECK_SPLIT(&heidi, "pw123456", end, 2, 1);
    EXPECT_LOGIN(&heidi, code_at(&heidi, end, code), end, M2FA_OUTCOME_ALLOWED,
                 M2FA_REASON_CODE_ACCEPTED);

    until = SENTINEL_U64;
    CHECK_STATUS(M2FA_NOT_ENABLED,
                 m2fa_engine_suspend(engine, PLATFORM, "nobody@example.com", 60, now, &until));
    CHECK(until == SENTINEL_U64);

out:
    user_free(&heidi);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * Issue 14, point 6: durations without end and contacts that are not
 * addresses are refused (never clamped)
 * ------------------------------------------------------------------------ */

/* m2fa_engine_new's answer for a configuration changed by `set`. */
static m2fa_status engine_new_status(void (*set)(m2fa_engine_config *))
{
    m2fa_engine_config *config = NULL;
    m2fa_engine *engine = NULL;
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config))) {
        return M2FA_OK;
    }
    set(config);
    m2fa_status status = m2fa_engine_new(config, &engine);
    m2fa_engine_free(engine);
    m2fa_engine_config_free(config);
    return status;
}

static void endless_lock(m2fa_engine_config *c)
{
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_lockout(c, 5, 60, UINT64_MAX));
}

static void longest_lock(m2fa_engine_config *c)
{
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_lockout(c, 5, 60, M2FA_MAX_LOCK));
}

static void endless_code(m2fa_engine_config *c)
{
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_delivered_codes(c, 6, UINT64_MAX, 3, 30));
}

static void endless_resend_interval(m2fa_engine_config *c)
{
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_delivered_codes(c, 6, 180, 3, UINT64_MAX));
}

static void endless_enrollment(m2fa_engine_config *c)
{
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_enrollment_ttl(c, UINT64_MAX));
}

static void test_bounds(void)
{
    section = "bounds";
    CHECK_STATUS(M2FA_INVALID_CONFIG, engine_new_status(endless_lock));
    CHECK_STATUS(M2FA_OK, engine_new_status(longest_lock));
    CHECK_STATUS(M2FA_INVALID_CONFIG, engine_new_status(endless_code));
    CHECK_STATUS(M2FA_INVALID_CONFIG, engine_new_status(endless_resend_interval));
    CHECK_STATUS(M2FA_INVALID_CONFIG, engine_new_status(endless_enrollment));

    m2fa_engine_config *config = NULL;
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config))) {
        return;
    }
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_set_max_suspension(config, 0));
    CHECK_STATUS(M2FA_INVALID_CONFIG,
                 m2fa_engine_config_set_max_suspension(config, M2FA_MAX_SUSPENSION + 1));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_set_max_suspension(config, UINT64_MAX));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_max_suspension(config, 3600));
    m2fa_engine *engine = new_engine(config);
    m2fa_engine_config_free(config);
    struct user ivy = {.engine = engine, .platform = PLATFORM, .name = "ivy@example.com"};
    if (engine == NULL || !enroll(&ivy, T0)) {
        goto out;
    }
    uint64_t now = T0 + 60, until = SENTINEL_U64;
    /* 2FA off for good: refused, and nothing is suspended. */
    CHECK_STATUS(M2FA_INVALID_INPUT,
                 m2fa_engine_suspend(engine, PLATFORM, ivy.name, UINT64_MAX, now, &until));
    CHECK_STATUS(M2FA_INVALID_INPUT,
                 m2fa_engine_suspend(engine, PLATFORM, ivy.name, 3601, now, &until));
    CHECK_STATUS(M2FA_INVALID_INPUT,
                 m2fa_engine_suspend(engine, PLATFORM, ivy.name, 60, UINT64_MAX - 1, &until));
    CHECK(until == SENTINEL_U64);
    EXPECT_LOGIN(&ivy, NULL, now + 1, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    CHECK_STATUS(M2FA_OK, m2fa_engine_suspend(engine, PLATFORM, ivy.name, 3600, now, &until));
    CHECK_EQ(until, now + 3600);

    /* Contacts: a plain address and an E.164 number, nothing else. */
    static const char *const bad_emails[] = {
        "alice", "alice@localhost", "a@b@example.com", "alice@example.com\r\nBcc: x@example.net",
        "\xef\xbd\x81lice@example.com", "\"a\"@example.com", "alice@[192.0.2.1]",
    };
    for (size_t i = 0; i < sizeof bad_emails / sizeof bad_emails[0]; i++) {
        CHECK_STATUS(M2FA_INVALID_CONFIG,
                     m2fa_engine_set_contact(engine, PLATFORM, ivy.name, bad_emails[i], NULL));
    }
    static const char *const bad_phones[] = {
        "0612345678", "+33-6-12-34-56-78", "+1234567", "+1234567890123456", "call me",
    };
    for (size_t i = 0; i < sizeof bad_phones / sizeof bad_phones[0]; i++) {
        CHECK_STATUS(M2FA_INVALID_CONFIG,
                     m2fa_engine_set_contact(engine, PLATFORM, ivy.name, NULL, bad_phones[i]));
    }
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_contact(engine, PLATFORM, ivy.name, "ivy@home.example",
                                                  "+33612345678"));

out:
    user_free(&ivy);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * S9, S10: reset and remove
 * ------------------------------------------------------------------------ */

static void test_reset_and_remove(void)
{
    section = "S9/S10 reset and remove";
    m2fa_engine *engine = new_engine(NULL);
    struct user ivan = {.engine = engine, .platform = PLATFORM, .name = "ivan@example.com"};
    struct user old = {0};
    char code[CODE_SIZE];
    m2fa_decision *d = SENTINEL_HANDLE;
    if (!enroll(&ivan, T0)) {
        goto out;
    }
    uint64_t now = T0 + 600;

    /* The old phone keeps its secret; the account gets a new one. */
    old = ivan;
    ivan.phone = NULL;
    ivan.uri = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_engine_reset(engine, PLATFORM, ivan.name, now, &d));
    if (check_decision_impl(M2FA_OK, d, &ivan, NULL, now, M2FA_OUTCOME_ENROLLMENT_REQUIRED,
                            M2FA_REASON_NONE, true, "m2fa_engine_reset", __FILE__, __LINE__)) {
        phone_scan(&ivan, d);
    }
    m2fa_decision_free(d);
    if (!CHECK(ivan.phone != NULL)) {
        goto out;
    }
    CHECK(strcmp(ivan.uri, old.uri) != 0);
    CHECK(strcmp(ivan.secret, old.secret) != 0);

    /* Every code of the old secret fails at once. */
    EXPECT_LOGIN(&ivan, code_at(&old, now, code), now, M2FA_OUTCOME_REFUSED, ANY_REFUSAL);
    /* Pending again, with the new URI. */
    d = LOGIN(&ivan, NULL, now, M2FA_OUTCOME_ENROLLMENT_REQUIRED, M2FA_REASON_NONE);
    char *uri = d != NULL ? read_text(text_decision_uri, d, 0) : NULL;
    CHECK_STR(uri, ivan.uri);
    free_wiped(uri);
    m2fa_decision_free(d);
    EXPECT_LOGIN(&ivan, code_at(&ivan, now + 30, code), now + 30, M2FA_OUTCOME_ALLOWED,
                 M2FA_REASON_ENROLLED);
    EXPECT_LOGIN(&ivan, code_at(&old, now + 60, code), now + 60, M2FA_OUTCOME_REFUSED,
                 ANY_REFUSAL);

    /* S10: removed: no second factor, the secret gone. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_remove(engine, PLATFORM, ivan.name));
    EXPECT_LOGIN(&ivan, NULL, now + 60, M2FA_OUTCOME_ALLOWED, M2FA_REASON_NO_SECOND_FACTOR);
    CHECK_SPLIT(&ivan, "pw123456", now + 60, 8, 0);
    CHECK_STATUS(M2FA_NOT_ENABLED, m2fa_engine_remove(engine, PLATFORM, ivan.name));
    /* Nothing else applies to it any more. */
    d = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NOT_ENABLED, m2fa_engine_reset(engine, PLATFORM, ivan.name, now, &d));
    CHECK_STATUS(M2FA_NOT_ENABLED,
                 m2fa_engine_self_service(engine, PLATFORM, ivan.name, "123456", 0, now, &d));
    CHECK(d == SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_NOT_ENABLED, m2fa_engine_unlock(engine, PLATFORM, ivan.name));
    CHECK_STATUS(M2FA_NOT_ENABLED,
                 m2fa_engine_set_contact(engine, PLATFORM, ivan.name, EMAIL, NULL));
    CHECK_STATUS(M2FA_NOT_ENABLED,
                 m2fa_engine_set_mode(engine, PLATFORM, ivan.name, M2FA_MODE_TOTP));

    /* Enabled again: yet another secret. */
    char *second = ivan.uri;
    ivan.uri = NULL;
    if (enable_account(&ivan, now + 90)) {
        CHECK(strcmp(ivan.uri, second) != 0 && strcmp(ivan.uri, old.uri) != 0);
    }
    free_wiped(second);

out:
    user_free(&old);
    user_free(&ivan);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * S11: self-service, proven by a code
 * ------------------------------------------------------------------------ */

static void test_self_service(void)
{
    section = "S11 self-service";
    m2fa_engine *engine = new_engine(NULL);
    struct user judy = {.engine = engine, .platform = PLATFORM, .name = "judy@example.com"};
    struct user old = {0};
    char code[CODE_SIZE], wrong[CODE_SIZE];
    unsigned counter = 0;
    m2fa_decision *d = SENTINEL_HANDLE;
    if (!enroll(&judy, T0)) {
        goto out;
    }
    uint64_t now = T0 + 600;

    /* A wrong code changes nothing, either way. */
    for (uint32_t reset = 0; reset <= 1; reset++) {
        d = SELF_SERVICE(&judy, wrong_code(&judy, now, &counter, wrong), reset, now,
                         M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
        m2fa_decision_free(d);
        EXPECT_LOGIN(&judy, NULL, now, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    }

    /* A valid code and reset = 1: allowed, the code consumed, a new URI. */
    now += 30;
    old = judy;
    judy.phone = NULL;
    judy.uri = NULL;
    d = SELF_SERVICE(&judy, code_at(&old, now, code), 7, now, M2FA_OUTCOME_ALLOWED,
                     M2FA_REASON_CODE_ACCEPTED);
    if (d == NULL || !phone_scan(&judy, d)) {
        m2fa_decision_free(d);
        goto out;
    }
    m2fa_decision_free(d);
    CHECK(strcmp(judy.uri, old.uri) != 0);
    /* Pending with the new secret; the old phone's codes fail. */
    EXPECT_LOGIN(&judy, NULL, now + 30, M2FA_OUTCOME_ENROLLMENT_REQUIRED, M2FA_REASON_NONE);
    EXPECT_LOGIN(&judy, code_at(&old, now + 30, code), now + 30, M2FA_OUTCOME_REFUSED,
                 ANY_REFUSAL);
    /* Self-service needs a confirmed enrollment. */
    d = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NOT_ENABLED, m2fa_engine_self_service(engine, PLATFORM, judy.name,
                                                            code_at(&judy, now + 30, code), 0,
                                                            now + 30, &d));
    CHECK(d == SENTINEL_HANDLE);
    EXPECT_LOGIN(&judy, code_at(&judy, now + 30, code), now + 30, M2FA_OUTCOME_ALLOWED,
                 M2FA_REASON_ENROLLED);

    /* A suspension does not stand in for the proof. */
    now += 90;
    CHECK_STATUS(M2FA_OK, m2fa_engine_suspend(engine, PLATFORM, judy.name, 3600, now, NULL));
    d = SELF_SERVICE(&judy, wrong_code(&judy, now, &counter, wrong), 0, now, M2FA_OUTCOME_REFUSED,
                     M2FA_REASON_WRONG_CODE);
    m2fa_decision_free(d);
    d = SELF_SERVICE(&judy, "", 0, now, M2FA_OUTCOME_REFUSED, M2FA_REASON_MALFORMED_CODE);
    m2fa_decision_free(d);

    /* A valid code and reset = 0: 2FA removed. */
    d = SELF_SERVICE(&judy, code_at(&judy, now, code), 0, now, M2FA_OUTCOME_ALLOWED,
                     M2FA_REASON_CODE_ACCEPTED);
    m2fa_decision_free(d);
    EXPECT_LOGIN(&judy, NULL, now + 1, M2FA_OUTCOME_ALLOWED, M2FA_REASON_NO_SECOND_FACTOR);
    d = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NOT_ENABLED, m2fa_engine_self_service(engine, PLATFORM, judy.name,
                                                            code_at(&judy, now + 30, code), 0,
                                                            now + 30, &d));
    CHECK(d == SENTINEL_HANDLE);

out:
    user_free(&old);
    user_free(&judy);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * Audit lines (check_decision looks at every one; here the details)
 * ------------------------------------------------------------------------ */

static void test_audit(void)
{
    section = "audit";
    m2fa_engine *engine = new_engine(NULL);
    struct user kate = {.engine = engine, .platform = PLATFORM, .name = "kate@example.com"};
    char code[CODE_SIZE], list[1][12];
    m2fa_decision *d = SENTINEL_HANDLE;
    if (!enable_account(&kate, T0)) {
        goto out;
    }

    /* The enrollment decision carries the URI; its audit line does not.
     * (The audit output through the whole text protocol.) */
    d = LOGIN(&kate, NULL, T0, M2FA_OUTCOME_ENROLLMENT_REQUIRED, M2FA_REASON_NONE);
    char *audit = d != NULL ? FETCH_TEXT(text_decision_audit, d, 0) : NULL;
    if (CHECK(audit != NULL)) {
        CHECK_STR(audit, "mail2fa platform=\"example.com\" account=\"kate@example.com\" "
                         "at=1800000000 answer=enrollment-required");
        CHECK(strstr(audit, kate.secret) == NULL && strstr(audit, kate.uri) == NULL);
    }
    free(audit);
    m2fa_decision_free(d);

    /* An accepted code: named by its step, never shown. */
    d = LOGIN(&kate, code_at(&kate, T0, code), T0, M2FA_OUTCOME_ALLOWED, M2FA_REASON_ENROLLED);
    audit = d != NULL ? read_text(text_decision_audit, d, 0) : NULL;
    if (CHECK(audit != NULL)) {
        CHECK(strstr(audit, "answer=allowed reason=") != NULL);
        CHECK(!shows(audit, code));
        CHECK(strstr(audit, "60000000") != NULL); /* the step, T0 / 30 */
    }
    free(audit);
    m2fa_decision_free(d);

    /* A refusal names its reason; a recovery code is not shown either. */
    if (generate_recovery_codes(&kate, 1, list, false) == 1) {
        d = LOGIN(&kate, list[0], T0 + 1, M2FA_OUTCOME_ALLOWED, M2FA_REASON_RECOVERY_CODE_USED);
        audit = d != NULL ? read_text(text_decision_audit, d, 0) : NULL;
        CHECK(audit != NULL && strstr(audit, list[0]) == NULL);
        free(audit);
        m2fa_decision_free(d);
        /* (With no recovery code left, the engine reads it as a malformed
         * TOTP code; while some are left, as a wrong recovery code.) */
        d = LOGIN(&kate, list[0], T0 + 2, M2FA_OUTCOME_REFUSED, M2FA_REASON_MALFORMED_CODE);
        audit = d != NULL ? read_text(text_decision_audit, d, 0) : NULL;
        CHECK(audit != NULL && strstr(audit, "answer=refused reason=") != NULL &&
              strstr(audit, list[0]) == NULL);
        free(audit);
        m2fa_decision_free(d);
    }
    wipe_memset(list, 0, sizeof list);

    /* A name cannot forge fields: quotes, white space and a backslash are outside
     * the names' alphabet, refused before any decision (and the audit line
     * quotes and escapes names anyway). */
    d = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_login(engine, PLATFORM,
                                                      "bob\" answer=allowed \\ x", NULL, T0, &d));
    CHECK(d == SENTINEL_HANDLE);

out:
    user_free(&kate);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * Engine configuration: every setter, and the values refused
 * ------------------------------------------------------------------------ */

static void test_engine_config(void)
{
    section = "engine config";
    m2fa_engine_config *config = SENTINEL_HANDLE;
    m2fa_otp_config *otp = NULL;
    m2fa_engine *engine = NULL;
    struct user kim = {.platform = PLATFORM, .name = "kim@example.com", .issuer = "Example Mail"};
    char code[CODE_SIZE], wrong[CODE_SIZE], *issued = NULL;
    unsigned counter = 0;
    m2fa_decision *d;
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config))) {
        return;
    }
    CHECK(config != NULL && config != SENTINEL_HANDLE);

    /* Every setter. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_issuer(config, "Example Mail"));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_new(&otp));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_algorithm(otp, M2FA_ALGORITHM_SHA256));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_digits(otp, 8));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_period(otp, 60));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_window(otp, 0));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_totp(config, otp));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_digits(otp, 6)); /* copied: changes nothing */
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_enrollment_ttl(config, 600));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_lockout(config, 3, 10, 40));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_delivered_codes(config, 8, 60, 2, 10));
    /* Refused setters change nothing. */
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_set_delivered_codes(config, 300, 1, 1, 1));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_set_delivered_codes(config, 256, 1, 1, 1));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_config_set_issuer(config, not_utf8));
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_new(config, &engine))) {
        goto out;
    }
    /* The engine keeps its own copy. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_issuer(config, NULL));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_lockout(config, 100, 1, 1));
    CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1));
    kim.engine = engine;

    /* Issuer and TOTP parameters reach the URI (phone_scan checks the
     * issuer): SHA-256, 8 digits, 60 s. */
    uint64_t now = T0;
    if (!enable_account(&kim, now)) {
        goto out;
    }
    CHECK(kim.digits == 8 && kim.period == 60);
    CHECK(strstr(kim.uri, "algorithm=SHA256") != NULL);
    CHECK(strlen(code_at(&kim, now, code)) == 8);

    /* Enrollment valid 600 s. */
    EXPECT_LOGIN(&kim, NULL, now + 599, M2FA_OUTCOME_ENROLLMENT_REQUIRED, M2FA_REASON_NONE);
    EXPECT_LOGIN(&kim, NULL, now + 600, M2FA_OUTCOME_REFUSED, M2FA_REASON_ENROLLMENT_EXPIRED);
    EXPECT_LOGIN(&kim, code_at(&kim, now + 600, code), now + 600, M2FA_OUTCOME_REFUSED,
                 M2FA_REASON_ENROLLMENT_EXPIRED);
    /* An expired enrollment may start over, with a new secret. */
    now += 600;
    if (!enable_account(&kim, now)) {
        goto out;
    }
    /* Window 0: the next step's code is a clock skew of 1 now. */
    d = LOGIN(&kim, code_at(&kim, now + 60, code), now, M2FA_OUTCOME_REFUSED,
              M2FA_REASON_CLOCK_SKEW);
    if (d != NULL) {
        CHECK(decision_clock_skew(d) == 1);
    }
    m2fa_decision_free(d);
    EXPECT_LOGIN(&kim, code_at(&kim, now, code), now, M2FA_OUTCOME_ALLOWED, M2FA_REASON_ENROLLED);

    /* Lockout after 3, for 10 s, doubling up to 40 s. */
    now += 600;
    for (int i = 0; i < 3; i++) {
        EXPECT_LOGIN(&kim, wrong_code(&kim, now, &counter, wrong), now, M2FA_OUTCOME_REFUSED,
                     M2FA_REASON_WRONG_CODE);
    }
    static const uint64_t locks[] = {10, 20, 40, 40};
    for (size_t i = 0; i < sizeof locks / sizeof locks[0]; i++) {
        if (i > 0) { /* the last lock has ended: one wrong code locks again */
            EXPECT_LOGIN(&kim, wrong_code(&kim, now, &counter, wrong), now,
                         M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
        }
        d = LOGIN(&kim, code_at(&kim, now, code), now, M2FA_OUTCOME_REFUSED, M2FA_REASON_LOCKED);
        if (d != NULL) {
            CHECK_EQ(decision_until(d), now + locks[i]);
        }
        m2fa_decision_free(d);
        now += locks[i];
    }
    EXPECT_LOGIN(&kim, code_at(&kim, now, code), now, M2FA_OUTCOME_ALLOWED,
                 M2FA_REASON_CODE_ACCEPTED);

    /* E-mail codes: 8 digits, 60 s, dead after 2 wrong entries, one per 10 s. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_contact(engine, PLATFORM, kim.name, EMAIL, NULL));
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_mode(engine, PLATFORM, kim.name, M2FA_MODE_EMAIL));
    CHECK_SPLIT(&kim, "pw12345678", now, 2, 1);
    m2fa_issued_code *handle = SENTINEL_HANDLE;
    uint64_t retry_at = SENTINEL_U64, expires_at = SENTINEL_U64;
    if (CHECK_STATUS(M2FA_OK,
                     m2fa_engine_issue_code(engine, PLATFORM, kim.name, now, &handle, &retry_at))) {
        issued = read_text(text_issued_code, handle, 0);
        CHECK(issued != NULL && strlen(issued) == 8 && strspn(issued, "0123456789") == 8);
        CHECK_STATUS(M2FA_OK, m2fa_issued_code_expires_at(handle, &expires_at));
        CHECK_EQ(expires_at, now + 60);
        m2fa_issued_code_free(handle);
    }
    handle = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_RATE_LIMITED,
                 m2fa_engine_issue_code(engine, PLATFORM, kim.name, now + 9, &handle, &retry_at));
    CHECK_EQ(retry_at, now + 10);
    CHECK(handle == SENTINEL_HANDLE);
    if (issued != NULL) {
        char other[CODE_SIZE];
        other_code(issued, other);
        EXPECT_LOGIN(&kim, other, now + 1, M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
        EXPECT_LOGIN(&kim, other, now + 2, M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
        /* Dead after two; the third failure in a row also locks (3, above). */
        EXPECT_LOGIN(&kim, issued, now + 3, M2FA_OUTCOME_REFUSED, M2FA_REASON_NO_CODE_ISSUED);
        EXPECT_LOGIN(&kim, issued, now + 4, M2FA_OUTCOME_REFUSED, M2FA_REASON_LOCKED);
        CHECK_STATUS(M2FA_OK, m2fa_engine_unlock(engine, PLATFORM, kim.name));
    }
    free_wiped(issued);
    issued = NULL;
    now += 10;
    handle = NULL;
    if (CHECK_STATUS(M2FA_OK,
                     m2fa_engine_issue_code(engine, PLATFORM, kim.name, now, &handle, NULL))) {
        issued = read_text(text_issued_code, handle, 0);
        m2fa_issued_code_free(handle);
        if (CHECK(issued != NULL)) {
            EXPECT_LOGIN(&kim, issued, now + 60, M2FA_OUTCOME_REFUSED, M2FA_REASON_CODE_EXPIRED);
        }
    }
    free_wiped(issued);
    issued = NULL;
    user_free(&kim);
    m2fa_engine_free(engine);
    engine = NULL;

    /* Values m2fa_engine_new refuses, *out untouched. */
    static const struct {
        uint32_t max_failures;
        uint64_t first_lock, max_lock;
        m2fa_status want;
    } lockouts[] = {
        {0, 60, 3600, M2FA_INVALID_CONFIG},   {101, 60, 3600, M2FA_INVALID_CONFIG},
        {1, 60, 3600, M2FA_OK},               {100, 60, 3600, M2FA_OK},
        {5, 0, 3600, M2FA_INVALID_CONFIG},    {5, 60, 59, M2FA_INVALID_CONFIG},
        {5, 60, 60, M2FA_OK},                 {UINT32_MAX, 60, 3600, M2FA_INVALID_CONFIG},
        {5, 60, M2FA_MAX_LOCK, M2FA_OK},      {5, 60, M2FA_MAX_LOCK + 1, M2FA_INVALID_CONFIG},
        {5, 60, UINT64_MAX, M2FA_INVALID_CONFIG},
    };
    static const struct {
        uint32_t digits;
        uint64_t lifetime;
        uint32_t max_wrong;
        uint64_t resend;
        m2fa_status want;
    } delivered[] = {
        {5, 180, 3, 30, M2FA_INVALID_CONFIG},  {11, 180, 3, 30, M2FA_INVALID_CONFIG},
        {255, 180, 3, 30, M2FA_INVALID_CONFIG}, {6, 0, 3, 30, M2FA_INVALID_CONFIG},
        {6, 180, 0, 30, M2FA_INVALID_CONFIG},  {10, 180, 3, 0, M2FA_OK},
        {6, 180, 3, 30, M2FA_OK},              {6, 86400, 3, 86400, M2FA_OK},
        {6, 86401, 3, 30, M2FA_INVALID_CONFIG}, {6, 180, 3, 86401, M2FA_INVALID_CONFIG},
        {6, UINT64_MAX, 3, 30, M2FA_INVALID_CONFIG},
    };
    static const char *const issuers[] = {"", "Example\nMail", "\x7f"};
    m2fa_engine_config *bad = NULL;
    for (size_t i = 0; i < sizeof lockouts / sizeof lockouts[0]; i++) {
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&bad));
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_lockout(bad, lockouts[i].max_failures,
                                                             lockouts[i].first_lock,
                                                             lockouts[i].max_lock));
        engine = SENTINEL_HANDLE;
        if (CHECK_STATUS(lockouts[i].want, m2fa_engine_new(bad, &engine)) &&
            lockouts[i].want != M2FA_OK) {
            CHECK(engine == SENTINEL_HANDLE);
        }
        if (engine != SENTINEL_HANDLE) {
            m2fa_engine_free(engine);
        }
        m2fa_engine_config_free(bad);
    }
    for (size_t i = 0; i < sizeof delivered / sizeof delivered[0]; i++) {
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&bad));
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_delivered_codes(
                                  bad, delivered[i].digits, delivered[i].lifetime,
                                  delivered[i].max_wrong, delivered[i].resend));
        engine = SENTINEL_HANDLE;
        if (CHECK_STATUS(delivered[i].want, m2fa_engine_new(bad, &engine)) &&
            delivered[i].want != M2FA_OK) {
            CHECK(engine == SENTINEL_HANDLE);
        }
        if (engine != SENTINEL_HANDLE) {
            m2fa_engine_free(engine);
        }
        m2fa_engine_config_free(bad);
    }
    static const struct {
        uint64_t seconds;
        m2fa_status want;
    } ttls[] = {{0, M2FA_INVALID_CONFIG},
                {1, M2FA_OK},
                {30 * 86400, M2FA_OK},
                {30 * 86400 + 1, M2FA_INVALID_CONFIG},
                {UINT64_MAX, M2FA_INVALID_CONFIG}};
    for (size_t i = 0; i < sizeof ttls / sizeof ttls[0]; i++) {
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&bad));
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_enrollment_ttl(bad, ttls[i].seconds));
        engine = SENTINEL_HANDLE;
        if (CHECK_STATUS(ttls[i].want, m2fa_engine_new(bad, &engine)) &&
            ttls[i].want != M2FA_OK) {
            CHECK(engine == SENTINEL_HANDLE);
        }
        if (engine != SENTINEL_HANDLE) {
            m2fa_engine_free(engine);
        }
        m2fa_engine_config_free(bad);
    }
    for (size_t i = 0; i < sizeof issuers / sizeof issuers[0]; i++) {
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&bad));
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_issuer(bad, issuers[i]));
        engine = SENTINEL_HANDLE;
        CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_new(bad, &engine));
        CHECK(engine == SENTINEL_HANDLE);
        m2fa_engine_config_free(bad);
    }
    engine = NULL;

out:
    free_wiped(issued);
    user_free(&kim);
    m2fa_engine_free(engine);
    m2fa_otp_config_free(otp);
    m2fa_engine_config_free(config);
}

/* ------------------------------------------------------------------------
 * Misuse: every function called wrongly
 * ------------------------------------------------------------------------ */

/* The account functions, with their other arguments bound. Each presets its
 * out-parameters and checks that a failed call leaves them alone. */
typedef m2fa_status (*account_op)(const m2fa_engine *engine, const char *platform,
                                  const char *account);

#define UNTOUCHED(expr) \
    do {                \
        if (status != M2FA_OK) CHECK(expr); \
    } while (0)

static m2fa_status op_enable_account(const m2fa_engine *e, const char *p, const char *a)
{
    m2fa_decision *out = SENTINEL_HANDLE;
    m2fa_status status = m2fa_engine_enable_account(e, p, a, T0, &out);
    UNTOUCHED(out == SENTINEL_HANDLE);
    if (status == M2FA_OK) m2fa_decision_free(out);
    return status;
}
static m2fa_status op_login(const m2fa_engine *e, const char *p, const char *a)
{
    m2fa_decision *out = SENTINEL_HANDLE;
    m2fa_status status = m2fa_engine_login(e, p, a, "123456", T0, &out);
    UNTOUCHED(out == SENTINEL_HANDLE);
    if (status == M2FA_OK) m2fa_decision_free(out);
    return status;
}
static m2fa_status op_split_login(const m2fa_engine *e, const char *p, const char *a)
{
    size_t len = SENTINEL_SIZE;
    uint32_t has_code = SENTINEL_U32;
    m2fa_status status = m2fa_engine_split_login(e, p, a, "pw123456", T0, &len, &has_code);
    UNTOUCHED(len == SENTINEL_SIZE && has_code == SENTINEL_U32);
    return status;
}
static m2fa_status op_remove(const m2fa_engine *e, const char *p, const char *a)
{
    return m2fa_engine_remove(e, p, a);
}
static m2fa_status op_unlock(const m2fa_engine *e, const char *p, const char *a)
{
    return m2fa_engine_unlock(e, p, a);
}
static m2fa_status op_suspend(const m2fa_engine *e, const char *p, const char *a)
{
    uint64_t until = SENTINEL_U64;
    m2fa_status status = m2fa_engine_suspend(e, p, a, 3600, T0, &until);
    UNTOUCHED(until == SENTINEL_U64);
    return status;
}
static m2fa_status op_set_contact(const m2fa_engine *e, const char *p, const char *a)
{
    return m2fa_engine_set_contact(e, p, a, EMAIL, PHONE);
}
static m2fa_status op_set_mode(const m2fa_engine *e, const char *p, const char *a)
{
    return m2fa_engine_set_mode(e, p, a, M2FA_MODE_TOTP);
}
static m2fa_status op_reset(const m2fa_engine *e, const char *p, const char *a)
{
    m2fa_decision *out = SENTINEL_HANDLE;
    m2fa_status status = m2fa_engine_reset(e, p, a, T0, &out);
    UNTOUCHED(out == SENTINEL_HANDLE);
    if (status == M2FA_OK) m2fa_decision_free(out);
    return status;
}
static m2fa_status op_self_service(const m2fa_engine *e, const char *p, const char *a)
{
    m2fa_decision *out = SENTINEL_HANDLE;
    m2fa_status status = m2fa_engine_self_service(e, p, a, "123456", 1, T0, &out);
    UNTOUCHED(out == SENTINEL_HANDLE);
    if (status == M2FA_OK) m2fa_decision_free(out);
    return status;
}
static m2fa_status op_issue_code(const m2fa_engine *e, const char *p, const char *a)
{
    m2fa_issued_code *out = SENTINEL_HANDLE;
    uint64_t retry_at = SENTINEL_U64;
    m2fa_status status = m2fa_engine_issue_code(e, p, a, T0, &out, &retry_at);
    UNTOUCHED(out == SENTINEL_HANDLE && retry_at == SENTINEL_U64);
    if (status == M2FA_OK) m2fa_issued_code_free(out);
    return status;
}
static m2fa_status op_generate_recovery_codes(const m2fa_engine *e, const char *p, const char *a)
{
    m2fa_recovery_codes *out = SENTINEL_HANDLE;
    m2fa_status status = m2fa_engine_generate_recovery_codes(e, p, a, 10, &out);
    UNTOUCHED(out == SENTINEL_HANDLE);
    if (status == M2FA_OK) m2fa_recovery_codes_free(out);
    return status;
}
/* enable_platform has no account: the account argument stands in for the
 * platform name, so that the same table checks it. */
static m2fa_status op_enable_platform(const m2fa_engine *e, const char *p, const char *a)
{
    (void)p;
    return m2fa_engine_enable_platform(e, a, 1);
}

static void test_misuse_account_functions(void)
{
    section = "misuse: account functions";
    m2fa_engine *engine = new_engine(NULL);
    if (engine == NULL) {
        return;
    }
    static const struct {
        const char *name;
        account_op op;
    } ops[] = {
#define OP(fn) {"m2fa_engine_" #fn, op_##fn}
        OP(enable_account), OP(login),        OP(split_login), OP(remove),
        OP(unlock),         OP(suspend),      OP(set_contact), OP(set_mode),
        OP(reset),          OP(self_service), OP(issue_code),  OP(generate_recovery_codes),
        OP(enable_platform),
#undef OP
    };
    char too_long[MAX_NAME + 2];
    memset(too_long, 'x', MAX_NAME + 1);
    too_long[MAX_NAME + 1] = '\0';
    /* Names that are not names: empty, control characters, too long
     * (M2FA_INVALID_NAME: outside the alphabet of m2fa_account_name_check). */
    static const char *const bad_names[] = {"", "tab\there", "line\nbreak", "nul\x01", "\x7f"};

    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        helper_call = ops[i].name;
        account_op op = ops[i].op;
        bool platform_only = op == op_enable_platform;
        CHECK_STATUS(M2FA_NULL_ARGUMENT, op(NULL, PLATFORM, "alice@example.com"));
        if (!platform_only) {
            CHECK_STATUS(M2FA_NULL_ARGUMENT, op(engine, NULL, "alice@example.com"));
            CHECK_STATUS(M2FA_INVALID_UTF8, op(engine, not_utf8, "alice@example.com"));
            CHECK_STATUS(M2FA_INVALID_NAME, op(engine, too_long, "alice@example.com"));
        }
        CHECK_STATUS(M2FA_NULL_ARGUMENT, op(engine, PLATFORM, NULL));
        CHECK_STATUS(M2FA_INVALID_UTF8, op(engine, PLATFORM, not_utf8));
        CHECK_STATUS(M2FA_INVALID_NAME, op(engine, PLATFORM, too_long));
        for (size_t j = 0; j < sizeof bad_names / sizeof bad_names[0]; j++) {
            if (!platform_only) {
                CHECK_STATUS(M2FA_INVALID_NAME, op(engine, bad_names[j], "alice@example.com"));
            }
            CHECK_STATUS(M2FA_INVALID_NAME, op(engine, PLATFORM, bad_names[j]));
        }
    }
    helper_call = NULL;
    /* None of these calls created anything. */
    struct user alice = {.engine = engine, .platform = PLATFORM, .name = "alice@example.com"};
    EXPECT_LOGIN(&alice, NULL, T0, M2FA_OUTCOME_ALLOWED, M2FA_REASON_NO_SECOND_FACTOR);
    m2fa_engine_free(engine);
}

static void test_misuse_other_arguments(void)
{
    section = "misuse: other arguments";
    m2fa_engine *engine = new_engine(NULL);
    struct user lee = {.engine = engine, .platform = PLATFORM, .name = "lee@example.com"};
    const char *name = lee.name;
    char code[CODE_SIZE], wrong[CODE_SIZE];
    unsigned counter = 0;
    m2fa_decision *d = SENTINEL_HANDLE;
    size_t len = SENTINEL_SIZE;
    uint32_t has_code = SENTINEL_U32;

    /* NULL out-parameters: refused before anything happens. */
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_enable_account(engine, PLATFORM, name, T0, NULL));
    EXPECT_LOGIN(&lee, NULL, T0, M2FA_OUTCOME_ALLOWED, M2FA_REASON_NO_SECOND_FACTOR);
    if (!enroll(&lee, T0)) {
        goto out;
    }
    uint64_t now = T0 + 600;
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_login(engine, PLATFORM, name, code_at(&lee, now, code), now, NULL));
    /* ... so that code was not used up. */
    EXPECT_LOGIN(&lee, code, now, M2FA_OUTCOME_ALLOWED, M2FA_REASON_CODE_ACCEPTED);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_reset(engine, PLATFORM, name, now, NULL));
    EXPECT_LOGIN(&lee, NULL, now, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_self_service(engine, PLATFORM, name,
                                                              code_at(&lee, now + 30, code), 0,
                                                              now + 30, NULL));
    EXPECT_LOGIN(&lee, NULL, now + 30, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_generate_recovery_codes(engine, PLATFORM, name, 10, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_split_login(engine, PLATFORM, name, "pw123456", now, NULL, &has_code));
    CHECK(has_code == SENTINEL_U32);
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_split_login(engine, PLATFORM, name, "pw123456", now, &len, NULL));
    CHECK(len == SENTINEL_SIZE);
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_split_login(engine, PLATFORM, name, NULL, now, &len, &has_code));
    CHECK(len == SENTINEL_SIZE && has_code == SENTINEL_U32);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_self_service(engine, PLATFORM, name, NULL, 0,
                                                              now, &d));
    CHECK(d == SENTINEL_HANDLE);
    /* The one out-parameter written on an error is *retry_at, and only on
     * M2FA_RATE_LIMITED: a NULL *out comes first. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_contact(engine, PLATFORM, name, EMAIL, NULL));
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_mode(engine, PLATFORM, name, M2FA_MODE_EMAIL));
    m2fa_issued_code *issued = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_engine_issue_code(engine, PLATFORM, name, now, &issued, NULL));
    uint64_t retry_at = SENTINEL_U64;
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_issue_code(engine, PLATFORM, name, now + 1, NULL, &retry_at));
    CHECK(retry_at == SENTINEL_U64);

    /* Invalid UTF-8 in the other string arguments. */
    d = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_login(engine, PLATFORM, name, not_utf8_six, now, &d));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_login(engine, PLATFORM, name, not_utf8, now, &d));
    CHECK_STATUS(M2FA_INVALID_UTF8,
                 m2fa_engine_self_service(engine, PLATFORM, name, not_utf8_six, 0, now, &d));
    CHECK(d == SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_split_login(engine, PLATFORM, name, "pw\xff" "123456",
                                                            now, &len, &has_code));
    CHECK(len == SENTINEL_SIZE && has_code == SENTINEL_U32);
    CHECK_STATUS(M2FA_INVALID_UTF8,
                 m2fa_engine_set_contact(engine, PLATFORM, name, not_utf8, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8,
                 m2fa_engine_set_contact(engine, PLATFORM, name, NULL, not_utf8));
    /* ... and none of them changed the contact. */
    if (issued != NULL) {
        char *destination = read_text(text_issued_destination, issued, 0);
        CHECK_STR(destination, EMAIL);
        free(destination);
    }

    /* Unknown modes. */
    static const uint32_t modes[] = {0, 4, 255, UINT32_MAX};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE, m2fa_engine_set_mode(engine, PLATFORM, name, modes[i]));
    }
    /* The mode is still e-mail. */
    d = LOGIN(&lee, NULL, now, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    if (d != NULL) {
        CHECK_EQ(decision_mode(d), M2FA_MODE_EMAIL);
    }

    /* Getters: NULL decision, NULL out. */
    uint32_t u32 = SENTINEL_U32;
    uint64_t u64 = SENTINEL_U64;
    int64_t i64 = SENTINEL_I64;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_outcome(NULL, &u32));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_reason(NULL, &u32));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_cacheable(NULL, &u32));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_remaining(NULL, &u32));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_mode(NULL, &u32));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_step(NULL, &u64));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_until(NULL, &u64));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_clock_skew(NULL, &i64));
    CHECK(u32 == SENTINEL_U32 && u64 == SENTINEL_U64 && i64 == SENTINEL_I64);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_outcome(d, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_reason(d, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_cacheable(d, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_remaining(d, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_mode(d, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_step(d, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_until(d, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_clock_skew(d, NULL));
    char buf[64];
    memset(buf, SENTINEL_BYTE, sizeof buf);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_uri(NULL, buf, sizeof buf, &len));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_audit(NULL, buf, sizeof buf, &len));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_decision_audit(d, buf, sizeof buf, NULL));
    CHECK(len == SENTINEL_SIZE && all_bytes_are(buf, sizeof buf, SENTINEL_BYTE));
    m2fa_decision_free(d);

    /* Getters that do not apply (check_decision checks them on every
     * decision; these are the plainest cases): a step on a refusal, a URI
     * on an allowed login. */
    d = LOGIN(&lee, wrong_code(&lee, now, &counter, wrong), now, M2FA_OUTCOME_REFUSED,
              M2FA_REASON_WRONG_CODE);
    u64 = SENTINEL_U64;
    CHECK_STATUS(M2FA_INVALID_ARGUMENT, m2fa_decision_step(d, &u64));
    CHECK(u64 == SENTINEL_U64);
    m2fa_decision_free(d);
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_mode(engine, PLATFORM, name, M2FA_MODE_TOTP));
    d = LOGIN(&lee, code_at(&lee, now + 60, code), now + 60, M2FA_OUTCOME_ALLOWED,
              M2FA_REASON_CODE_ACCEPTED);
    CHECK_STATUS(M2FA_INVALID_ARGUMENT, m2fa_decision_uri(d, buf, sizeof buf, &len));
    CHECK_STATUS(M2FA_INVALID_ARGUMENT, m2fa_decision_uri(d, NULL, 0, &len));
    CHECK(len == SENTINEL_SIZE && all_bytes_are(buf, sizeof buf, SENTINEL_BYTE));
    u64 = SENTINEL_U64;
    CHECK_STATUS(M2FA_INVALID_ARGUMENT, m2fa_decision_until(d, &u64));
    CHECK(u64 == SENTINEL_U64);
    m2fa_decision_free(d);

    /* Issued codes. */
    uint32_t channel = SENTINEL_U32;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_issued_code_code(NULL, buf, sizeof buf, &len));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_issued_code_code(issued, buf, sizeof buf, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_issued_code_destination(NULL, &channel, buf, sizeof buf, &len));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_issued_code_destination(issued, NULL, buf, sizeof buf, &len));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_issued_code_destination(issued, &channel, buf, sizeof buf, NULL));
    CHECK(len == SENTINEL_SIZE && channel == SENTINEL_U32 &&
          all_bytes_are(buf, sizeof buf, SENTINEL_BYTE));
    /* A size query writes *needed, not *channel. */
    CHECK_STATUS(M2FA_BUFFER_TOO_SMALL,
                 m2fa_issued_code_destination(issued, &channel, NULL, 0, &len));
    CHECK(len == sizeof EMAIL && channel == SENTINEL_U32);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_issued_code_expires_at(NULL, &u64));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_issued_code_expires_at(issued, NULL));
    CHECK(u64 == SENTINEL_U64);
    m2fa_issued_code_free(issued);

    /* Recovery codes. */
    m2fa_recovery_codes *codes = NULL;
    size_t count = SENTINEL_SIZE;
    len = SENTINEL_SIZE;
    CHECK_STATUS(M2FA_OK, m2fa_engine_generate_recovery_codes(engine, PLATFORM, name, 2, &codes));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_recovery_codes_count(NULL, &count));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_recovery_codes_count(codes, NULL));
    CHECK(count == SENTINEL_SIZE);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_recovery_codes_get(NULL, 0, buf, sizeof buf, &len));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_recovery_codes_get(codes, 0, buf, sizeof buf, NULL));
    CHECK(len == SENTINEL_SIZE && all_bytes_are(buf, sizeof buf, SENTINEL_BYTE));
    m2fa_recovery_codes_free(codes);

    /* Engine configuration and creation. */
    m2fa_engine_config *config = NULL;
    m2fa_otp_config *otp = NULL;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_new(NULL));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_new(&otp));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_set_issuer(NULL, "Example Mail"));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_set_totp(NULL, otp));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_set_totp(config, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_set_enrollment_ttl(NULL, 60));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_set_lockout(NULL, 5, 60, 3600));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_set_delivered_codes(NULL, 6, 180, 3, 30));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_new(config, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_new(NULL, NULL));
    m2fa_otp_config_free(otp);
    m2fa_engine_config_free(config);

out:
    user_free(&lee);
    m2fa_engine_free(engine);
}

static void test_free_null(void)
{
    section = "free";
    /* No-ops: returning is the test (a crash or a sanitizer report fails). */
    m2fa_engine_config_free(NULL);
    m2fa_engine_free(NULL);
    m2fa_decision_free(NULL);
    m2fa_issued_code_free(NULL);
    m2fa_recovery_codes_free(NULL);
}

/* ------------------------------------------------------------------------
 * Names that a provisioning URI cannot carry are refused up front
 * ------------------------------------------------------------------------ */

static void test_names_follow_label_rules(void)
{
    section = "names";
    m2fa_engine *engine = new_engine(NULL);
    if (engine == NULL) {
        return;
    }
    /* Platform and account names end up in otpauth labels (the platform as
     * the default issuer): a ':' or white space, outside the names'
     * alphabet, is refused with M2FA_INVALID_NAME before anything is
     * stored. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1));
    CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_enable_platform(engine, "imap:example.com", 1));
    CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_enable_platform(engine, " example.com", 1));
    static const char *const accounts[] = {"alice:work", " alice", "alice ", ""};
    for (size_t i = 0; i < sizeof accounts / sizeof accounts[0]; i++) {
        m2fa_decision *d = SENTINEL_HANDLE;
        CHECK_STATUS(M2FA_INVALID_NAME,
                     m2fa_engine_enable_account(engine, PLATFORM, accounts[i], T0, &d));
        CHECK(d == SENTINEL_HANDLE);
        CHECK_STATUS(M2FA_INVALID_NAME,
                     m2fa_engine_login(engine, PLATFORM, accounts[i], NULL, T0, &d));
        CHECK(d == SENTINEL_HANDLE);
    }
    m2fa_engine_free(engine);

    /* An issuer with ':' could never be used: the engine refuses it. */
    m2fa_engine_config *config = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_issuer(config, "Example:Mail"));
    engine = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_new(config, &engine));
    CHECK(engine == SENTINEL_HANDLE);
    m2fa_engine_config_free(config);
}

/* ------------------------------------------------------------------------
 * Threads: one engine, 16 threads, logins at the same moment
 * ------------------------------------------------------------------------ */

#define RACERS 16
#define REPLAY_ROUNDS 50
#define LOCK_ROUNDS 10

/* What main sets up before each round and reads after it; the barriers
 * order these accesses between the threads. */
static struct {
    const m2fa_engine *engine;
    const char *account;
    uint64_t now;
    char codes[RACERS][CODE_SIZE];
    struct {
        m2fa_status status;
        uint32_t outcome, reason;
        uint64_t step, until;
    } results[RACERS];
    pthread_barrier_t start, done;
    unsigned rounds;
} race;

static void *racer_main(void *arg)
{
    const unsigned id = *(const unsigned *)arg;
    for (unsigned round = 0; round < race.rounds; round++) {
        pthread_barrier_wait(&race.start);
        m2fa_decision *d = NULL;
        race.results[id].status =
            m2fa_engine_login(race.engine, PLATFORM, race.account, race.codes[id], race.now, &d);
        race.results[id].outcome = race.results[id].reason = SENTINEL_U32;
        race.results[id].step = race.results[id].until = SENTINEL_U64;
        if (race.results[id].status == M2FA_OK) {
            m2fa_decision_outcome(d, &race.results[id].outcome);
            m2fa_decision_reason(d, &race.results[id].reason);
            m2fa_decision_step(d, &race.results[id].step);
            m2fa_decision_until(d, &race.results[id].until);
        }
        m2fa_decision_free(d);
        pthread_barrier_wait(&race.done);
    }
    return NULL;
}

/* Runs `rounds` rounds of RACERS threads: prepare(round) sets race.now and
 * race.codes, the threads log in at once, tally(round) checks the results. */
static void run_race(unsigned rounds, void (*prepare)(unsigned), void (*tally)(unsigned))
{
    pthread_t threads[RACERS];
    unsigned ids[RACERS];
    race.rounds = rounds;
    if (!CHECK(pthread_barrier_init(&race.start, NULL, RACERS + 1) == 0 &&
               pthread_barrier_init(&race.done, NULL, RACERS + 1) == 0)) {
        return;
    }
    for (unsigned t = 0; t < RACERS; t++) {
        ids[t] = t;
        if (!CHECK(pthread_create(&threads[t], NULL, racer_main, &ids[t]) == 0)) {
            /* The barriers would never open: give up on the whole run. */
            fprintf(stderr, "engine_test: cannot start threads\n");
            exit(EXIT_FAILURE);
        }
    }
    for (unsigned round = 0; round < rounds; round++) {
        prepare(round);
        pthread_barrier_wait(&race.start);
        pthread_barrier_wait(&race.done);
        tally(round);
    }
    for (unsigned t = 0; t < RACERS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0);
    }
    pthread_barrier_destroy(&race.start);
    pthread_barrier_destroy(&race.done);
}

static struct user racer_user;
static uint64_t race_base;
static uint64_t race_step;
static unsigned wrong_counter;

/* Replays: every thread presents the same valid code. Rounds are 3 steps
 * apart, so that each round's ±1 window is past the last step used. */
static void prepare_replay(unsigned round)
{
    race.now = race_base + 90 * (uint64_t)(round + 1);
    code_at(&racer_user, race.now, race.codes[0]);
    for (unsigned t = 1; t < RACERS; t++) {
        memcpy(race.codes[t], race.codes[0], CODE_SIZE);
    }
    /* The step matched: the highest in the window with this code. */
    char next[CODE_SIZE];
    race_step = step_at(&racer_user, race.now);
    if (strcmp(code_at(&racer_user, race.now + 30, next), race.codes[0]) == 0) {
        race_step++;
    }
}

static void tally_replay(unsigned round)
{
    unsigned ok = 0, allowed = 0, replayed = 0;
    for (unsigned t = 0; t < RACERS; t++) {
        ok += race.results[t].status == M2FA_OK;
        if (race.results[t].outcome == M2FA_OUTCOME_ALLOWED &&
            race.results[t].reason == M2FA_REASON_CODE_ACCEPTED) {
            allowed++;
            CHECK_EQ(race.results[t].step, race_step);
        }
        replayed += race.results[t].outcome == M2FA_OUTCOME_REFUSED &&
                    race.results[t].reason == M2FA_REASON_REPLAYED;
    }
    if (!CHECK(ok == RACERS && allowed == 1 && replayed == RACERS - 1)) {
        fprintf(stderr, "    round %u: %u OK, %u allowed, %u replayed\n", round, ok, allowed,
                replayed);
    }
}

/* Wrong codes: each thread its own. Exactly five are counted (and the
 * fifth locks); the other eleven find the account locked. */
static void prepare_lock(unsigned round)
{
    CHECK_STATUS(M2FA_OK, m2fa_engine_unlock(race.engine, PLATFORM, race.account));
    race.now = race_base + 600 * (uint64_t)(round + 1);
    for (unsigned t = 0; t < RACERS; t++) {
        wrong_code(&racer_user, race.now, &wrong_counter, race.codes[t]);
    }
}

static void tally_lock(unsigned round)
{
    unsigned ok = 0, wrong = 0, locked = 0;
    for (unsigned t = 0; t < RACERS; t++) {
        ok += race.results[t].status == M2FA_OK;
        wrong += race.results[t].outcome == M2FA_OUTCOME_REFUSED &&
                 race.results[t].reason == M2FA_REASON_WRONG_CODE;
        if (race.results[t].outcome == M2FA_OUTCOME_REFUSED &&
            race.results[t].reason == M2FA_REASON_LOCKED) {
            locked++;
            CHECK_EQ(race.results[t].until, race.now + 60);
        }
    }
    if (!CHECK(ok == RACERS && wrong == 5 && locked == RACERS - 5)) {
        fprintf(stderr, "    round %u: %u OK, %u wrong, %u locked\n", round, ok, wrong, locked);
    }
}

static void test_threads(void)
{
    section = "threads";
    m2fa_engine *engine = new_engine(NULL);
    racer_user = (struct user){.engine = engine, .platform = PLATFORM, .name = "race@example.com"};
    if (!enroll(&racer_user, T0)) {
        user_free(&racer_user);
        m2fa_engine_free(engine);
        return;
    }
    race.engine = engine;
    race.account = racer_user.name;

    race_base = T0;
    run_race(REPLAY_ROUNDS, prepare_replay, tally_replay);

    race_base = T0 + 90 * (REPLAY_ROUNDS + 1);
    run_race(LOCK_ROUNDS, prepare_lock, tally_lock);
    CHECK_STATUS(M2FA_OK, m2fa_engine_unlock(engine, PLATFORM, race.account));

    wipe_memset(race.codes, 0, sizeof race.codes);
    user_free(&racer_user);
    m2fa_engine_free(engine);
}

#ifdef M2FA_TEST_TABLE_STORE
/* What only a host store can do wrong: missing callbacks, failing ones. */
static void test_host_store(void)
{
    section = "host store";
    struct table *t = table_new();
    m2fa_engine *engine = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_with_store(NULL, NULL, table_cas, table_free, t, &engine));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_with_store(NULL, table_load, NULL, table_free, t, &engine));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_with_store(NULL, table_load, table_cas, table_free, t, NULL));
    CHECK(engine == SENTINEL_HANDLE);
    /* The device key is read from the store when the engine is made: a
     * failing store refuses to make it, and the table stays ours. */
    t->fail_next = 1;
    CHECK_STATUS(M2FA_STORAGE_FAILURE,
                 m2fa_engine_with_store(NULL, table_load, table_cas, table_free, t, &engine));
    CHECK(engine == SENTINEL_HANDLE);
    engine = NULL;
    if (CHECK_STATUS(M2FA_OK,
                     m2fa_engine_with_store(NULL, table_load, table_cas, table_free, t, &engine))) {
        CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1));
        m2fa_decision *d = SENTINEL_HANDLE;
        CHECK_STATUS(M2FA_OK, m2fa_engine_enable_account(engine, PLATFORM, "ann@example.com",
                                                         UINT64_C(1800000000), &d));
        m2fa_decision_free(d);
        /* A host store cannot list its records: no maintenance. */
        uint64_t examined = SENTINEL_U64, changed = SENTINEL_U64;
        uint32_t finished = SENTINEL_U32;
        CHECK_STATUS(M2FA_UNSUPPORTED, m2fa_engine_maintain(engine, UINT64_C(1800000000), 10,
                                                            &examined, &changed, &finished));
        CHECK(examined == SENTINEL_U64 && changed == SENTINEL_U64 && finished == SENTINEL_U32);
        /* A backend failure refuses the login: never "no 2FA". */
        t->fail_next = 1;
        d = SENTINEL_HANDLE;
        CHECK_STATUS(M2FA_STORAGE_FAILURE,
                     m2fa_engine_login(engine, PLATFORM, "ann@example.com", "123456",
                                       UINT64_C(1800000000), &d));
        CHECK(d == SENTINEL_HANDLE);
        m2fa_engine_free(engine); /* frees the table */
    } else {
        table_free(t);
    }
}
#endif

/* m2fa_engine_open_postgres and its settings. Misuse is checked in every
 * build; with -DM2FA_TEST_POSTGRES also opening a real database. */
static void test_postgres_entry_points(void)
{
    section = "PostgreSQL entry points";
    m2fa_engine_config *config = NULL;
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config))) {
        return;
    }
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_set_postgres(NULL, 4, 5000, 1));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_set_postgres(config, 0, 5000, 1));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_set_postgres(config, 4, 0, 1));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_postgres(config, 2, 2000, 0));

    m2fa_engine *engine = SENTINEL_HANDLE;
    const char not_utf8[] = {'h', 'o', 's', 't', '=', (char)0xff, '\0'};
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_open_postgres(NULL, config, &engine));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_engine_open_postgres("host=127.0.0.1", config, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_open_postgres(not_utf8, config, &engine));
    /* Bad strings and unreachable servers: a storage failure, no handle. */
    CHECK_STATUS(M2FA_STORAGE_FAILURE,
                 m2fa_engine_open_postgres("host=127.0.0.1 sslmode=allow", config, &engine));
    CHECK_STATUS(M2FA_STORAGE_FAILURE,
                 m2fa_engine_open_postgres("postgres://u:p@127.0.0.1:1/db", config, &engine));
    CHECK(engine == SENTINEL_HANDLE);

#ifdef M2FA_TEST_POSTGRES
    char url[4096];
    pg_fresh_schema_url(url, sizeof url);
    /* create = 0: an empty database is refused, and stays empty. */
    CHECK_STATUS(M2FA_STORAGE_FAILURE, m2fa_engine_open_postgres(url, config, &engine));
    CHECK(engine == SENTINEL_HANDLE);
    /* Created by an engine that asks for it (create = 1), then shared: what
     * one engine consumes, the other refuses. */
    m2fa_engine_config *creator = NULL;
    m2fa_engine *first = NULL, *second = NULL;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&creator)) &&
        CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_postgres(creator, 2, 5000, 1)) &&
        CHECK_STATUS(M2FA_OK, m2fa_engine_open_postgres(url, creator, &first)) &&
        CHECK_STATUS(M2FA_OK, m2fa_engine_open_postgres(url, config, &second))) {
        CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(first, PLATFORM, 1));
        struct user on_first = {.engine = first, .platform = PLATFORM, .name = "pg@example.com"};
        if (enroll(&on_first, T0)) {
            struct user on_second = on_first;
            on_second.engine = second;
            char code[CODE_SIZE];
            uint64_t q = quiet_time(&on_first, T0 + 600, 12);
            /* Consumed through the second engine, replayed on the first. */
            EXPECT_LOGIN(&on_second, code_at(&on_first, q, code), q, M2FA_OUTCOME_ALLOWED,
                         M2FA_REASON_CODE_ACCEPTED);
            EXPECT_LOGIN(&on_first, code, q, M2FA_OUTCOME_REFUSED, M2FA_REASON_REPLAYED);
            EXPECT_LOGIN(&on_second, code, q, M2FA_OUTCOME_REFUSED, M2FA_REASON_REPLAYED);
        }
        user_free(&on_first);
    }
    m2fa_engine_free(second);
    m2fa_engine_free(first);
    m2fa_engine_config_free(creator);
#endif
    m2fa_engine_config_free(config);
}

/* ------------------------------------------------------------------------
 * State cannot turn 2FA off (issue 14): m2fa_engine_open creates nothing by
 * default, a truncated or deleted database refuses to open (never M2FA_OK
 * and then "no second factor"), and with encryption keys a record written
 * in clear is refused unless m2fa_engine_config_set_require_sealed(0).
 * ------------------------------------------------------------------------ */

#include <sys/stat.h> /* mkdir */
#include <unistd.h>   /* truncate, unlink, rmdir, access */

/* The status and decision of a code-less login of `name` on `engine`. */
static m2fa_status codeless_login(const m2fa_engine *engine, const char *name, uint64_t now,
                                  uint32_t *outcome)
{
    m2fa_decision *d = SENTINEL_HANDLE;
    m2fa_status status = m2fa_engine_login(engine, PLATFORM, name, NULL, now, &d);
    if (status == M2FA_OK) {
        CHECK_STATUS(M2FA_OK, m2fa_decision_outcome(d, outcome));
        m2fa_decision_free(d);
    } else {
        CHECK(d == SENTINEL_HANDLE);
    }
    return status;
}

static void test_state_fails_closed(void)
{
    section = "state fails closed";
    char dir[128], db[192], wal[200], shm[200];
    snprintf(dir, sizeof dir, "/tmp/m2fa-c-state-%ld", (long)getpid());
    if (!CHECK(mkdir(dir, 0700) == 0)) {
        return;
    }
    snprintf(db, sizeof db, "%s/mail2fa.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", db);
    snprintf(shm, sizeof shm, "%s-shm", db);

    m2fa_engine_config *config = NULL, *creating = NULL, *sealed = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&creating));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&sealed));
    CHECK_STATUS(M2FA_OK,
                 m2fa_engine_config_set_sqlite(creating, M2FA_SYNCHRONOUS_FULL, 5000, 1));
    m2fa_engine *engine = SENTINEL_HANDLE;
    uint32_t outcome = SENTINEL_U32;

    /* A missing file: the defaults (NULL config, a new config) create
     * nothing; only create = 1 does. */
    CHECK_STATUS(M2FA_STORAGE_FAILURE, m2fa_engine_open(db, NULL, &engine));
    CHECK_STATUS(M2FA_STORAGE_FAILURE, m2fa_engine_open(db, config, &engine));
    CHECK(engine == SENTINEL_HANDLE);
    CHECK(access(db, F_OK) != 0);
    struct user alice = {.platform = PLATFORM, .name = "alice@example.com"};
    engine = NULL;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_open(db, creating, &engine))) {
        alice.engine = engine;
        CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1));
        CHECK(enroll(&alice, T0));
        CHECK_STATUS(M2FA_OK, codeless_login(engine, alice.name, T0 + 60, &outcome));
        CHECK_EQ(outcome, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED);
    }
    m2fa_engine_free(engine);
    user_free(&alice);

    /* Reopened by default: the code is still asked for. */
    engine = NULL;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_open(db, NULL, &engine))) {
        CHECK_STATUS(M2FA_OK, codeless_login(engine, alice.name, T0 + 90, &outcome));
        CHECK_EQ(outcome, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED);
    }
    m2fa_engine_free(engine);

    /* With keys, the record written in clear is refused (copied over a
     * sealed one, it must not be used); require_sealed = 0 reads it. */
    static const uint8_t key[32] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_add_encryption_key(sealed, 1, key, 32, 1));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_set_require_sealed(NULL, 1));
    engine = NULL;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_open(db, sealed, &engine))) {
        CHECK_STATUS(M2FA_ENCRYPTION_FAILURE,
                     codeless_login(engine, alice.name, T0 + 90, &outcome));
    }
    m2fa_engine_free(engine);
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_require_sealed(sealed, 0));
    engine = NULL;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_open(db, sealed, &engine))) {
        CHECK_STATUS(M2FA_OK, codeless_login(engine, alice.name, T0 + 90, &outcome));
        CHECK_EQ(outcome, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED);
    }
    m2fa_engine_free(engine);

    /* `truncate -s 0`, then opened with create = 0 (what the PAM and Lua
     * modules do) and with the defaults: refused, the file left empty. */
    CHECK(truncate(db, 0) == 0);
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_sqlite(config, M2FA_SYNCHRONOUS_FULL, 5000, 0));
    engine = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_STORAGE_FAILURE, m2fa_engine_open(db, config, &engine));
    CHECK_STATUS(M2FA_STORAGE_FAILURE, m2fa_engine_open(db, NULL, &engine));
    CHECK(engine == SENTINEL_HANDLE);
    if (engine != SENTINEL_HANDLE && engine != NULL) {
        /* Had it opened: no login may pass without a code. */
        CHECK(codeless_login(engine, alice.name, T0 + 120, &outcome) != M2FA_OK ||
              outcome != M2FA_OUTCOME_ALLOWED);
        m2fa_engine_free(engine);
    }
    struct stat st;
    CHECK(stat(db, &st) == 0 && st.st_size == 0);

    /* Deleted: refused by the default opener, and not created. */
    CHECK(unlink(db) == 0);
    unlink(wal);
    unlink(shm);
    engine = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_STORAGE_FAILURE, m2fa_engine_open(db, NULL, &engine));
    CHECK(engine == SENTINEL_HANDLE);
    CHECK(access(db, F_OK) != 0);

    m2fa_engine_config_free(sealed);
    m2fa_engine_config_free(creating);
    m2fa_engine_config_free(config);
    unlink(db);
    unlink(wal);
    unlink(shm);
    CHECK(rmdir(dir) == 0);
}

/* ------------------------------------------------------------------------
 * One spelling per account (issue 14, point 4): other spellings of an
 * account with 2FA are refused with M2FA_INVALID_NAME on every path a mail
 * server takes, never answered "allowed, no second factor".
 * ------------------------------------------------------------------------ */

/* The platform the PAM and Lua integrations derive: the text after the
 * last '@'. */
static const char *platform_of(const char *user)
{
    const char *at = strrchr(user, '@');
    return at != NULL ? at + 1 : PLATFORM;
}

static void test_other_spellings_refused(void)
{
    section = "one spelling per account";
    m2fa_engine *engine = new_engine(NULL);
    if (engine == NULL) {
        return;
    }
    struct user alice = {.engine = engine, .platform = PLATFORM, .name = "alice@example.com"};
    struct user kate = {.engine = engine, .platform = PLATFORM, .name = "kate@example.com"};
    m2fa_login *login = NULL;
    if (!enroll(&alice, T0) || !enroll(&kate, T0) ||
        !CHECK_STATUS(M2FA_OK, m2fa_login_new(M2FA_PROTOCOL_WEBMAIL, NULL, &login)) ||
        !CHECK_STATUS(M2FA_OK, m2fa_login_set_password(login, 1))) {
        goto out;
    }
    static const char *const spellings[] = {
        "\xef\xbd\x81lice@example.com", /* U+FF41 FULLWIDTH LATIN SMALL LETTER A */
        "\xe2\x84\xaa" "ate@example.com", /* U+212A KELVIN SIGN */
        "alice@example.com.",           /* a trailing dot (platform "example.com.") */
        "example\\alice@example.com",   /* a Windows domain login */
        "Alice@example.com",
        "alice@EXAMPLE.COM",
        "alice @example.com",
        "alice.@example.com",
    };
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        const char *name = spellings[i], *platform = platform_of(name);
        m2fa_decision *d = SENTINEL_HANDLE;
        size_t len = SENTINEL_SIZE;
        uint32_t has_code = SENTINEL_U32;
        helper_call = name;
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_account_name_check(platform, name));
        CHECK_STATUS(M2FA_INVALID_NAME,
                     m2fa_engine_authenticate(engine, platform, name, login, T0 + 60, &d));
        CHECK(d == SENTINEL_HANDLE);
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_login(engine, platform, name, NULL, T0 + 60, &d));
        CHECK(d == SENTINEL_HANDLE);
        CHECK_STATUS(M2FA_INVALID_NAME,
                     m2fa_engine_split_login_for(engine, platform, name, M2FA_PROTOCOL_WEBMAIL,
                                                 NULL, "secret123456", T0 + 60, &len, &has_code));
        CHECK(len == SENTINEL_SIZE && has_code == SENTINEL_U32);
        /* The same name with the platform fixed (PAM's platform=): refused too. */
        CHECK_STATUS(M2FA_INVALID_NAME,
                     m2fa_engine_authenticate(engine, PLATFORM, name, login, T0 + 60, &d));
        CHECK(d == SENTINEL_HANDLE);
    }
    helper_call = NULL;

    /* Names of real deployments pass the check. */
    static const char *const good[] = {"alice", "alice@example.com", "alice+tag@example.com",
                                       "a.b-c_d@sub.example.co.uk",
                                       "jurgen@xn--bcher-kva.example"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_STATUS(M2FA_OK, m2fa_account_name_check(platform_of(good[i]), good[i]));
    }
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_account_name_check(NULL, "alice"));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_account_name_check(PLATFORM, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_account_name_check(PLATFORM, not_utf8));
    char message[160];
    size_t needed = 0;
    CHECK_STATUS(M2FA_OK, m2fa_status_message(M2FA_INVALID_NAME, message, sizeof message, &needed));
    CHECK(strstr(message, "alphabet") != NULL);

    /* The enrolled spelling still needs its code. */
    EXPECT_LOGIN(&alice, NULL, T0 + 60, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
out:
    m2fa_login_free(login);
    user_free(&kate);
    user_free(&alice);
    m2fa_engine_free(engine);
}

/* ------------------------------------------------------------------------
 * Issue 14: a platform where 2FA is mandatory
 * ------------------------------------------------------------------------ */

/* The outcome and reason of m2fa_engine_authenticate for a password login
 * (correct or not) over `protocol`. */
static void check_password_login(const m2fa_engine *engine, const char *account,
                                 uint32_t protocol, uint32_t correct, uint64_t now,
                                 uint32_t outcome, uint32_t reason)
{
    m2fa_login *login = NULL;
    m2fa_decision *d = NULL;
    uint32_t got_outcome = 0, got_reason = 0;
    if (!CHECK_STATUS(M2FA_OK, m2fa_login_new(protocol, NULL, &login))) {
        return;
    }
    CHECK_STATUS(M2FA_OK, m2fa_login_set_password(login, correct));
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_authenticate(engine, PLATFORM, account, login, now, &d))) {
        CHECK_STATUS(M2FA_OK, m2fa_decision_outcome(d, &got_outcome));
        CHECK_STATUS(M2FA_OK, m2fa_decision_reason(d, &got_reason));
        CHECK_EQ(got_outcome, outcome);
        CHECK_EQ(got_reason, reason);
        m2fa_decision_free(d);
    }
    m2fa_login_free(login);
}

static void test_mandatory_platform(void)
{
    section = "mandatory 2FA";
    m2fa_engine_config *config = NULL;
    m2fa_engine *engine = NULL;
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config))) {
        return;
    }
    /* Bad arguments change nothing. */
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_add_mandatory_platform(NULL, PLATFORM));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_engine_config_add_mandatory_platform(config, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_config_add_mandatory_platform(config, not_utf8));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_add_mandatory_platform(config, ""));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_add_mandatory_platform(config, "a:b"));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_add_mandatory_platform(config, PLATFORM));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_add_mandatory_platform(config, PLATFORM));
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_new(config, &engine))) {
        m2fa_engine_config_free(config);
        return;
    }
    m2fa_engine_config_free(config);
    struct user nina = {.engine = engine, .platform = PLATFORM, .name = "nina@example.com"};
    struct user omar = {.engine = engine, .platform = "other.example", .name = "omar@other.example"};
    uint64_t now = T0 + 600;

    /* No platform record, no account record: refused, never allowed. */
    EXPECT_LOGIN(&nina, NULL, now, M2FA_OUTCOME_REFUSED, M2FA_REASON_NOT_ENROLLED);
    EXPECT_LOGIN(&nina, "123456", now, M2FA_OUTCOME_REFUSED, M2FA_REASON_NOT_ENROLLED);
    const uint32_t protocols[] = {M2FA_PROTOCOL_WEBMAIL, M2FA_PROTOCOL_PORTAL,
                                  M2FA_PROTOCOL_ACTIVESYNC, M2FA_PROTOCOL_OUTLOOK,
                                  M2FA_PROTOCOL_IMAP};
    for (size_t i = 0; i < sizeof protocols / sizeof protocols[0]; i++) {
        check_password_login(engine, nina.name, protocols[i], 1, now, M2FA_OUTCOME_REFUSED,
                             M2FA_REASON_NOT_ENROLLED);
        check_password_login(engine, nina.name, protocols[i], 0, now, M2FA_OUTCOME_REFUSED,
                             M2FA_REASON_WRONG_PASSWORD);
    }
    /* A password+code string is split, not taken as a password. */
    CHECK_SPLIT(&nina, "hunter2189145", now, 7, 1);
    /* The platform cannot be switched off. */
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_enable_platform(engine, PLATFORM, 0));
    CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1));
    EXPECT_LOGIN(&nina, NULL, now, M2FA_OUTCOME_REFUSED, M2FA_REASON_NOT_ENROLLED);
    /* Enrolled, the account logs in with codes as anywhere else. */
    if (enroll(&nina, now)) {
        EXPECT_LOGIN(&nina, NULL, now + 60, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED,
                     M2FA_REASON_NONE);
    }
    /* Another platform is not mandatory. */
    EXPECT_LOGIN(&omar, NULL, now, M2FA_OUTCOME_ALLOWED, M2FA_REASON_NO_SECOND_FACTOR);
    user_free(&nina);
    m2fa_engine_free(engine);
}

/* The account functions of the clients API answer M2FA_INVALID_NAME (as
 * their header comments say) for a platform or account name outside the
 * alphabet, before anything else is looked at; nothing is written. */
static void test_client_functions_refuse_bad_names(void)
{
    section = "clients API: bad names";
    m2fa_engine *engine = new_engine(NULL);
    if (engine == NULL) {
        return;
    }
    static const struct {
        const char *platform, *account;
    } bad[] = {
        {PLATFORM, "Alice@example.com"},
        {PLATFORM, "\xef\xbd\x81lice@example.com"},
        {"Example.com", "alice@example.com"},
        {"example.com.", "alice@example.com"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = bad[i].platform, *a = bad[i].account;
        helper_call = a;
        m2fa_notification *n = SENTINEL_HANDLE;
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_notification_fallback(engine, p, a, "x",
                                                                           T0, &n));
        CHECK(n == SENTINEL_HANDLE);
        m2fa_device_list *devices = SENTINEL_HANDLE;
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_devices(engine, p, a, T0, &devices));
        CHECK(devices == SENTINEL_HANDLE);
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_device_activate(engine, p, a, "x", T0));
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_device_deactivate(engine, p, a, "x", T0));
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_device_delete(engine, p, a, "x", T0));
        uint32_t id = SENTINEL_U32;
        char password[M2FA_APP_PASSWORD_SIZE];
        size_t needed = SENTINEL_SIZE;
        CHECK_STATUS(M2FA_INVALID_NAME,
                     m2fa_engine_app_password_create(engine, p, a, "phone", NULL, T0, &id,
                                                     password, sizeof password, &needed));
        CHECK(id == SENTINEL_U32);
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_app_password_revoke(engine, p, a, 1));
        m2fa_app_password_list *apps = SENTINEL_HANDLE;
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_app_passwords(engine, p, a, &apps));
        CHECK(apps == SENTINEL_HANDLE);
        CHECK_STATUS(M2FA_INVALID_NAME,
                     m2fa_engine_set_account_policy(engine, p, a, M2FA_PROTOCOL_IMAP, NULL,
                                                    M2FA_POLICY_REFUSED));
        uint32_t policy = SENTINEL_U32;
        CHECK_STATUS(M2FA_INVALID_NAME,
                     m2fa_engine_protocol_policy(engine, p, a, M2FA_PROTOCOL_IMAP, NULL, &policy));
        CHECK(policy == SENTINEL_U32);
        if (strcmp(p, PLATFORM) != 0) {
            CHECK_STATUS(M2FA_INVALID_NAME,
                         m2fa_engine_set_platform_policy(engine, p, M2FA_PROTOCOL_IMAP, NULL,
                                                         M2FA_POLICY_REFUSED));
        }
    }
    helper_call = NULL;
    m2fa_engine_free(engine);
}

#ifdef M2FA_TEST_POSTGRES
/* Opening url with config (NULL: defaults) is refused; had it opened, no
 * login of `name` may pass without a code. */
static void expect_postgres_refused(const char *url, const m2fa_engine_config *config,
                                    const char *name, uint64_t now)
{
    m2fa_engine *engine = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_STORAGE_FAILURE, m2fa_engine_open_postgres(url, config, &engine));
    if (!CHECK(engine == SENTINEL_HANDLE) && engine != NULL) {
        uint32_t outcome = SENTINEL_U32;
        CHECK(codeless_login(engine, name, now, &outcome) != M2FA_OK ||
              outcome != M2FA_OUTCOME_ALLOWED);
        m2fa_engine_free(engine);
    }
}

/* The same on PostgreSQL (issue 14): m2fa_engine_open_postgres creates no
 * schema by default, so a fresh schema or dropped mail2fa tables refuse to
 * open (never M2FA_OK and then "no second factor"); only create = 1 builds
 * the schema. */
static void test_postgres_state_fails_closed(void)
{
    section = "PostgreSQL state fails closed";
    char url[4096];
    pg_fresh_schema_url(url, sizeof url);
    m2fa_engine_config *config = NULL, *creating = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&creating));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_postgres(creating, 1, 5000, 1));
    m2fa_engine *engine = NULL;
    uint32_t outcome = SENTINEL_U32;
    struct user alice = {.platform = PLATFORM, .name = "alice@example.com"};

    /* A schema without the mail2fa tables: the defaults (NULL config, a
     * new config) create nothing; only create = 1 does. */
    expect_postgres_refused(url, NULL, alice.name, T0);
    expect_postgres_refused(url, config, alice.name, T0);
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_open_postgres(url, creating, &engine))) {
        alice.engine = engine;
        CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1));
        CHECK(enroll(&alice, T0));
        CHECK_STATUS(M2FA_OK, codeless_login(engine, alice.name, T0 + 60, &outcome));
        CHECK_EQ(outcome, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED);
    }
    m2fa_engine_free(engine);
    user_free(&alice);

    /* Reopened by default: the code is still asked for. */
    engine = NULL;
    if (CHECK_STATUS(M2FA_OK, m2fa_engine_open_postgres(url, NULL, &engine))) {
        CHECK_STATUS(M2FA_OK, codeless_login(engine, alice.name, T0 + 90, &outcome));
        CHECK_EQ(outcome, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED);
    }
    m2fa_engine_free(engine);

    /* The mail2fa tables dropped: refused by the defaults, not rebuilt. */
    pg_sql(url, "DROP TABLE m2fa_records, m2fa_meta; DROP SEQUENCE m2fa_versions");
    expect_postgres_refused(url, NULL, alice.name, T0 + 120);
    expect_postgres_refused(url, config, alice.name, T0 + 120);
    m2fa_engine_config_free(creating);
    m2fa_engine_config_free(config);
}
#endif

int main(void)
{
    test_enum_values();
    test_outcome_and_reason_names();
    test_enablement_and_enrollment();
    test_totp_logins();
    test_split_login();
    test_lockout();
    test_delivered_codes();
    test_recovery_codes();
    test_suspend();
    test_bounds();
    test_reset_and_remove();
    test_self_service();
    test_audit();
    test_engine_config();
    test_misuse_account_functions();
    test_misuse_other_arguments();
    test_free_null();
    test_names_follow_label_rules();
    test_other_spellings_refused();
    test_threads();
    test_mandatory_platform();
#ifdef M2FA_TEST_TABLE_STORE
    test_host_store();
#endif
    test_postgres_entry_points();
    test_state_fails_closed();
    test_client_functions_refuse_bad_names();
#ifdef M2FA_TEST_POSTGRES
    test_postgres_state_fails_closed();
#endif

    printf("engine_test (%s): %lu checks, %lu failed (mail2fa %s)\n", STORE_NAME, checks_run,
           checks_failed, m2fa_version());
    return checks_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
