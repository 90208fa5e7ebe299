/*
 * engine_test: S7 (lockout after wrong codes) and S8 (suspension).
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * S7: lockout
 * ------------------------------------------------------------------------ */

void test_lockout(void)
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
 * S8: suspension
 * ------------------------------------------------------------------------ */

void test_suspend(void)
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
