/*
 * engine_test: what a decision says. The numbers of the engine's
 * enumerations (ABI), the names m2fa_outcome_name and m2fa_reason_name give
 * them, and the details of the audit line (check_decision in fixture.c
 * looks at every one).
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * Enumerations: their numbers are ABI
 * ------------------------------------------------------------------------ */

void test_enum_values(void)
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

void test_outcome_and_reason_names(void)
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
 * Audit lines (check_decision looks at every one; here the details)
 * ------------------------------------------------------------------------ */

void test_audit(void)
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
