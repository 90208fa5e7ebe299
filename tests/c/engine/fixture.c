/*
 * engine_test's shared fixture (declared in fixture.h): words for the
 * engine's enumerations, the text-output protocol, users and their phones,
 * the checks every decision gets, and the steps the scenarios are made of
 * (enable, enroll, log in, codes at a time).
 */

#include "fixture.h"

#include <stdlib.h>

/* ------------------------------------------------------------------------
 * Words for the engine's enumerations, for messages
 * ------------------------------------------------------------------------ */

const char *outcome_word(uint32_t outcome)
{
    switch (outcome) {
    case M2FA_OUTCOME_ALLOWED: return "allowed";
    case M2FA_OUTCOME_ENROLLMENT_REQUIRED: return "enrollment-required";
    case M2FA_OUTCOME_SECOND_FACTOR_REQUIRED: return "second-factor-required";
    case M2FA_OUTCOME_REFUSED: return "refused";
    default: return "(not an outcome)";
    }
}

const char *reason_word(uint32_t reason)
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
 * The text-output protocol, checked in full (as FETCH_TEXT in
 * ../ffi/fixture.c) for the engine's five text outputs. Returns the text,
 * malloc'd.
 * ------------------------------------------------------------------------ */

m2fa_status text_decision_uri(const void *object, size_t index, char *buf, size_t len,
                              size_t *needed)
{
    (void)index;
    return m2fa_decision_uri(object, buf, len, needed);
}
m2fa_status text_decision_audit(const void *object, size_t index, char *buf, size_t len,
                                size_t *needed)
{
    (void)index;
    return m2fa_decision_audit(object, buf, len, needed);
}
m2fa_status text_issued_code(const void *object, size_t index, char *buf, size_t len,
                             size_t *needed)
{
    (void)index;
    return m2fa_issued_code_code(object, buf, len, needed);
}
uint32_t destination_channel;
m2fa_status text_issued_destination(const void *object, size_t index, char *buf,
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
m2fa_status text_recovery_code(const void *object, size_t index, char *buf, size_t len,
                               size_t *needed)
{
    return m2fa_recovery_codes_get(object, index, buf, len, needed);
}

#define GUARD_BYTES 16

char *fetch_text_impl(text_fn fn, const void *object, size_t index, const char *call,
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

/* The text without the protocol checks (for the many routine reads). */
char *read_text(text_fn fn, const void *object, size_t index)
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

void user_free(struct user *u)
{
    m2fa_totp_free(u->phone);
    u->phone = NULL;
    free_wiped(u->uri);
    u->uri = NULL;
    wipe_memset(u->secret, 0, sizeof u->secret);
}

/* Whether `secret` shows in `text`. A code of digits counts only as a whole
 * run of digits, so that "at=1800000030" does not "contain" code 000003. */
bool shows(const char *text, const char *secret)
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
bool plain_name(const char *name)
{
    return strpbrk(name, "\"\\") == NULL;
}

/* The audit line of a decision: one line, naming the platform, the account,
 * the time and the answer; never the code given, the URI or the secret. */
void check_audit(const m2fa_decision *decision, const struct user *u, const char *code,
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
bool reason_fits(uint32_t outcome, uint32_t reason)
{
    switch (outcome) {
    case M2FA_OUTCOME_ALLOWED: return reason >= 1 && reason <= 99;
    case M2FA_OUTCOME_REFUSED: return reason >= 100 && reason <= 199;
    case M2FA_OUTCOME_ENROLLMENT_REQUIRED:
    case M2FA_OUTCOME_SECOND_FACTOR_REQUIRED: return reason == M2FA_REASON_NONE;
    default: return false;
    }
}

/*
 * The checks every decision gets: the call succeeded; the outcome and the
 * reason are the ones expected; the getters that apply to them answer and
 * the others give M2FA_INVALID_ARGUMENT, writing nothing; cacheable only
 * without a second factor; the URI exactly when `want_uri`; the audit line.
 */
bool check_decision_impl(m2fa_status status, const m2fa_decision *decision,
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
m2fa_decision *login_impl(const struct user *u, const char *code, uint64_t now,
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

/* S11: a self-service change; returns the decision (the caller frees it). */
m2fa_decision *self_service_impl(const struct user *u, const char *code, uint32_t reset,
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

/* The getters, each expected to answer. */
uint64_t decision_step(const m2fa_decision *d)
{
    uint64_t step = SENTINEL_U64;
    CHECK_STATUS(M2FA_OK, m2fa_decision_step(d, &step));
    return step;
}
uint64_t decision_until(const m2fa_decision *d)
{
    uint64_t until = SENTINEL_U64;
    CHECK_STATUS(M2FA_OK, m2fa_decision_until(d, &until));
    return until;
}
int64_t decision_clock_skew(const m2fa_decision *d)
{
    int64_t steps = SENTINEL_I64;
    CHECK_STATUS(M2FA_OK, m2fa_decision_clock_skew(d, &steps));
    return steps;
}
uint32_t decision_remaining(const m2fa_decision *d)
{
    uint32_t remaining = SENTINEL_U32;
    CHECK_STATUS(M2FA_OK, m2fa_decision_remaining(d, &remaining));
    return remaining;
}
uint32_t decision_mode(const m2fa_decision *d)
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
bool phone_scan(struct user *u, const m2fa_decision *decision)
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
bool enable_account(struct user *u, uint64_t now)
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
const char *code_at(const struct user *u, uint64_t time, char code[CODE_SIZE])
{
    size_t needed = 0;
    code[0] = '\0';
    CHECK_STATUS(M2FA_OK, m2fa_totp_generate(u->phone, time, code, CODE_SIZE, &needed));
    return code;
}

uint64_t step_at(const struct user *u, uint64_t time)
{
    uint64_t step = SENTINEL_U64;
    CHECK_STATUS(M2FA_OK, m2fa_totp_step(u->phone, time, &step));
    return step;
}

/* Enables 2FA and confirms it with the code of `now`: enrolled. */
bool enroll(struct user *u, uint64_t now)
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
uint64_t quiet_time(const struct user *u, uint64_t from, unsigned radius)
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
const char *wrong_code(const struct user *u, uint64_t now, unsigned *counter,
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
void check_split_impl(const struct user *u, const char *input, uint64_t now,
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

/* A new engine (NULL config: the defaults) with PLATFORM enabled. */
m2fa_engine *new_engine(const m2fa_engine_config *config)
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
 * Codes the tests make up, and recovery codes
 * ------------------------------------------------------------------------ */

/* Another well-formed code: each digit one up. */
void other_code(const char *code, char out[CODE_SIZE])
{
    size_t i = 0;
    for (; code[i] != '\0' && i < CODE_SIZE - 1; i++) {
        out[i] = (char)('0' + (code[i] - '0' + 1) % 10);
    }
    out[i] = '\0';
}

bool recovery_code_shape(const char *code)
{
    if (strlen(code) != 11 || code[5] != '-') {
        return false;
    }
    return strspn(code, RECOVERY_ALPHABET) == 5 && strspn(code + 6, RECOVERY_ALPHABET) == 5;
}

/* Generates `count` codes for u into list[count][12]; returns how many. */
size_t generate_recovery_codes(const struct user *u, uint32_t count, char list[][12],
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

/* The status and decision of a code-less login of `name` on `engine`. */
m2fa_status codeless_login(const m2fa_engine *engine, const char *name, uint64_t now,
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
