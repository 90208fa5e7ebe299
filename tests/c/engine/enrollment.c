/*
 * engine_test: S1, S2 (platform, account, enrollment), S4 (logging in
 * with TOTP codes), S5 (password and code typed as one string).
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * S1, S2: platform, account, enrollment
 * ------------------------------------------------------------------------ */

void test_enablement_and_enrollment(void)
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

void test_totp_logins(void)
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

void test_split_login(void)
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
