/*
 * engine_test: every function called wrongly (NULL pointers, invalid
 * UTF-8, bad names, unknown enumeration values, getters that do not apply),
 * and every *_free(NULL) a no-op.
 */

#include "fixture.h"

#include "tests.h"

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

void test_misuse_account_functions(void)
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

void test_misuse_other_arguments(void)
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

void test_free_null(void)
{
    section = "free";
    /* No-ops: returning is the test (a crash or a sanitizer report fails). */
    m2fa_engine_config_free(NULL);
    m2fa_engine_free(NULL);
    m2fa_decision_free(NULL);
    m2fa_issued_code_free(NULL);
    m2fa_recovery_codes_free(NULL);
}
