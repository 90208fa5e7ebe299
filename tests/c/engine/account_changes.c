/*
 * engine_test: S9, S10 (an administrator resets or removes an
 * account's 2FA) and S11 (self-service, proven by a code).
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * S9, S10: reset and remove
 * ------------------------------------------------------------------------ */

void test_reset_and_remove(void)
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

void test_self_service(void)
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
