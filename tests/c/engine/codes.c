/*
 * engine_test: S3, S6 (verification modes, codes delivered by e-mail
 * and SMS) and recovery codes.
 */

#include "fixture.h"

#include "tests.h"

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

void test_delivered_codes(void)
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

void test_recovery_codes(void)
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
