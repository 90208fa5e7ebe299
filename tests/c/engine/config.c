/*
 * engine_test: the engine's configuration. Every setter and the values
 * refused; durations without end refused, never clamped (issue 14, point 6);
 * platforms where 2FA is mandatory (issue 14).
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * Engine configuration: every setter, and the values refused
 * ------------------------------------------------------------------------ */

/* Step of test_engine_config: every setter, with the values kim's engine
 * is made from (the steps below check them); refused setters change
 * nothing. */
static void set_every_setter(m2fa_engine_config *config, m2fa_otp_config **otp)
{
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_issuer(config, "Example Mail"));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_new(otp));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_algorithm(*otp, M2FA_ALGORITHM_SHA256));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_digits(*otp, 8));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_period(*otp, 60));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_window(*otp, 0));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_totp(config, *otp));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_digits(*otp, 6)); /* copied: changes nothing */
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_enrollment_ttl(config, 600));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_lockout(config, 3, 10, 40));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_delivered_codes(config, 8, 60, 2, 10));
    /* Refused setters change nothing. */
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_set_delivered_codes(config, 300, 1, 1, 1));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_config_set_delivered_codes(config, 256, 1, 1, 1));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_engine_config_set_issuer(config, not_utf8));
}

/* Step of test_engine_config: the issuer and the TOTP parameters reach
 * the URI, the enrollment lasts 600 s, window 0. Moves *now on; false if
 * kim could not be enabled. */
static bool check_uri_and_enrollment_settings(struct user *kim, uint64_t *now)
{
    char code[CODE_SIZE];
    m2fa_decision *d;

    /* Issuer and TOTP parameters reach the URI (phone_scan checks the
     * issuer): SHA-256, 8 digits, 60 s. */
    if (!enable_account(kim, *now)) {
        return false;
    }
    CHECK(kim->digits == 8 && kim->period == 60);
    CHECK(strstr(kim->uri, "algorithm=SHA256") != NULL);
    CHECK(strlen(code_at(kim, *now, code)) == 8);

    /* Enrollment valid 600 s. */
    EXPECT_LOGIN(kim, NULL, *now + 599, M2FA_OUTCOME_ENROLLMENT_REQUIRED, M2FA_REASON_NONE);
    EXPECT_LOGIN(kim, NULL, *now + 600, M2FA_OUTCOME_REFUSED, M2FA_REASON_ENROLLMENT_EXPIRED);
    EXPECT_LOGIN(kim, code_at(kim, *now + 600, code), *now + 600, M2FA_OUTCOME_REFUSED,
                 M2FA_REASON_ENROLLMENT_EXPIRED);
    /* An expired enrollment may start over, with a new secret. */
    *now += 600;
    if (!enable_account(kim, *now)) {
        return false;
    }
    /* Window 0: the next step's code is a clock skew of 1 now. */
    d = LOGIN(kim, code_at(kim, *now + 60, code), *now, M2FA_OUTCOME_REFUSED,
              M2FA_REASON_CLOCK_SKEW);
    if (d != NULL) {
        CHECK(decision_clock_skew(d) == 1);
    }
    m2fa_decision_free(d);
    EXPECT_LOGIN(kim, code_at(kim, *now, code), *now, M2FA_OUTCOME_ALLOWED, M2FA_REASON_ENROLLED);
    return true;
}

/* Step of test_engine_config: the lockout settings. Moves *now on. */
static void check_lockout_settings(struct user *kim, uint64_t *now)
{
    char code[CODE_SIZE], wrong[CODE_SIZE];
    unsigned counter = 0;
    m2fa_decision *d;

    /* Lockout after 3, for 10 s, doubling up to 40 s. */
    *now += 600;
    for (int i = 0; i < 3; i++) {
        EXPECT_LOGIN(kim, wrong_code(kim, *now, &counter, wrong), *now, M2FA_OUTCOME_REFUSED,
                     M2FA_REASON_WRONG_CODE);
    }
    static const uint64_t locks[] = {10, 20, 40, 40};
    for (size_t i = 0; i < sizeof locks / sizeof locks[0]; i++) {
        if (i > 0) { /* the last lock has ended: one wrong code locks again */
            EXPECT_LOGIN(kim, wrong_code(kim, *now, &counter, wrong), *now,
                         M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
        }
        d = LOGIN(kim, code_at(kim, *now, code), *now, M2FA_OUTCOME_REFUSED, M2FA_REASON_LOCKED);
        if (d != NULL) {
            CHECK_EQ(decision_until(d), *now + locks[i]);
        }
        m2fa_decision_free(d);
        *now += locks[i];
    }
    EXPECT_LOGIN(kim, code_at(kim, *now, code), *now, M2FA_OUTCOME_ALLOWED,
                 M2FA_REASON_CODE_ACCEPTED);
}

/* Step of test_engine_config: the settings of delivered codes. */
static void check_delivered_code_settings(const m2fa_engine *engine, struct user *kim,
                                          uint64_t now)
{
    char *issued = NULL;

    /* E-mail codes: 8 digits, 60 s, dead after 2 wrong entries, one per 10 s. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_contact(engine, PLATFORM, kim->name, EMAIL, NULL));
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_mode(engine, PLATFORM, kim->name, M2FA_MODE_EMAIL));
    CHECK_SPLIT(kim, "pw12345678", now, 2, 1);
    m2fa_issued_code *handle = SENTINEL_HANDLE;
    uint64_t retry_at = SENTINEL_U64, expires_at = SENTINEL_U64;
    if (CHECK_STATUS(M2FA_OK,
                     m2fa_engine_issue_code(engine, PLATFORM, kim->name, now, &handle, &retry_at))) {
        issued = read_text(text_issued_code, handle, 0);
        CHECK(issued != NULL && strlen(issued) == 8 && strspn(issued, "0123456789") == 8);
        CHECK_STATUS(M2FA_OK, m2fa_issued_code_expires_at(handle, &expires_at));
        CHECK_EQ(expires_at, now + 60);
        m2fa_issued_code_free(handle);
    }
    handle = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_RATE_LIMITED,
                 m2fa_engine_issue_code(engine, PLATFORM, kim->name, now + 9, &handle, &retry_at));
    CHECK_EQ(retry_at, now + 10);
    CHECK(handle == SENTINEL_HANDLE);
    if (issued != NULL) {
        char other[CODE_SIZE];
        other_code(issued, other);
        EXPECT_LOGIN(kim, other, now + 1, M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
        EXPECT_LOGIN(kim, other, now + 2, M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
        /* Dead after two; the third failure in a row also locks (3, above). */
        EXPECT_LOGIN(kim, issued, now + 3, M2FA_OUTCOME_REFUSED, M2FA_REASON_NO_CODE_ISSUED);
        EXPECT_LOGIN(kim, issued, now + 4, M2FA_OUTCOME_REFUSED, M2FA_REASON_LOCKED);
        CHECK_STATUS(M2FA_OK, m2fa_engine_unlock(engine, PLATFORM, kim->name));
    }
    free_wiped(issued);
    issued = NULL;
    now += 10;
    handle = NULL;
    if (CHECK_STATUS(M2FA_OK,
                     m2fa_engine_issue_code(engine, PLATFORM, kim->name, now, &handle, NULL))) {
        issued = read_text(text_issued_code, handle, 0);
        m2fa_issued_code_free(handle);
        if (CHECK(issued != NULL)) {
            EXPECT_LOGIN(kim, issued, now + 60, M2FA_OUTCOME_REFUSED, M2FA_REASON_CODE_EXPIRED);
        }
    }
    free_wiped(issued);
}

/* Step of test_engine_config: values m2fa_engine_new refuses. */
static void check_refused_values(void)
{
    m2fa_engine *engine = NULL;

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
}

void test_engine_config(void)
{
    section = "engine config";
    m2fa_engine_config *config = SENTINEL_HANDLE;
    m2fa_otp_config *otp = NULL;
    m2fa_engine *engine = NULL;
    struct user kim = {.platform = PLATFORM, .name = "kim@example.com", .issuer = "Example Mail"};
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config))) {
        return;
    }
    CHECK(config != NULL && config != SENTINEL_HANDLE);

    set_every_setter(config, &otp);
    if (!CHECK_STATUS(M2FA_OK, m2fa_engine_new(config, &engine))) {
        goto out;
    }
    /* The engine keeps its own copy. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_issuer(config, NULL));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_lockout(config, 100, 1, 1));
    CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1));
    kim.engine = engine;

    uint64_t now = T0;
    if (!check_uri_and_enrollment_settings(&kim, &now)) {
        goto out;
    }
    check_lockout_settings(&kim, &now);
    check_delivered_code_settings(engine, &kim, now);
    user_free(&kim);
    m2fa_engine_free(engine);
    engine = NULL;

    check_refused_values();

out:
    user_free(&kim);
    m2fa_engine_free(engine);
    m2fa_otp_config_free(otp);
    m2fa_engine_config_free(config);
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

void test_bounds(void)
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

void test_mandatory_platform(void)
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
