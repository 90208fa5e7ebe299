/*
 * devices_test: code in login with device binding (the same string from
 * the same client and network; never the password alone; replays).
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * Code in login, and the device binding
 * ------------------------------------------------------------------------ */

void test_binding(void)
{
    section = "binding";
    m2fa_engine *engine = new_engine(10);
    struct user gina = {.engine = engine, .name = "gina@example.com"};
    if (engine == NULL || !enroll(&gina, T0)) {
        user_free(&gina);
        m2fa_engine_free(engine);
        return;
    }
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_platform_policy(engine, PLATFORM, M2FA_PROTOCOL_IMAP, NULL,
                                                          M2FA_POLICY_CODE_IN_LOGIN));
    CHECK_EQ(policy_of(&gina, M2FA_PROTOCOL_IMAP, NULL), M2FA_POLICY_CODE_IN_LOGIN);
    uint64_t now = T0 + 3000; /* a step of its own, long after enrollment's */
    char code[CODE_SIZE], input[64];
    code_at(&gina, now, code);
    snprintf(input, sizeof input, "hunter2%s", code);
    size_t password_len = SENTINEL_SIZE;
    uint32_t has_code = SENTINEL_U32;
    CHECK_STATUS(M2FA_OK, m2fa_engine_split_login_for(engine, PLATFORM, gina.name, M2FA_PROTOCOL_IMAP,
                                                      NULL, input, now, &password_len, &has_code));
    CHECK_EQ(password_len, 7);
    CHECK_EQ(has_code, 1);
    /* Where the policy takes no code, nothing is split off. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_split_login_for(engine, PLATFORM, gina.name, M2FA_PROTOCOL_POP3,
                                                      NULL, input, now, &password_len, &has_code));
    CHECK_EQ(password_len, strlen(input));
    CHECK_EQ(has_code, 0);

    static const struct client home = {NULL, NULL, "Thunderbird/115.0", "203.0.113.7"};
    static const struct client home_next = {NULL, NULL, "Thunderbird/115.0", "203.0.113.9"};
    static const struct client away = {NULL, NULL, "Thunderbird/115.0", "198.51.100.1"};
    /* No code: one is required. */
    EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD, NULL, &home, now,
                M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD_AND_CODE, code, &home, now,
                M2FA_OUTCOME_ALLOWED, M2FA_REASON_CODE_ACCEPTED);
    /* Same client, same /24: trusted for the binding period. */
    m2fa_decision *d = AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD_AND_CODE, code, &home_next,
                            now + 10, M2FA_OUTCOME_ALLOWED, M2FA_REASON_DEVICE_TRUSTED);
    if (d != NULL) {
        uint64_t until = SENTINEL_U64;
        CHECK_STATUS(M2FA_OK, m2fa_decision_until(d, &until));
        CHECK_EQ(until, now + BINDING_PERIOD);
    }
    m2fa_decision_free(d);
    /* The password alone never passes through a binding, even from the bound
     * client on its network: the client strings and the address are no
     * secret. */
    EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD, NULL, &home_next, now + 11,
                M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD, NULL, &home, now + 12,
                M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    /* Another, older code from the bound client: checked as a code, wrong. */
    char older[CODE_SIZE];
    code_at(&gina, now - 600, older);
    if (strcmp(older, code) != 0) {
        EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD_AND_CODE, older, &home, now + 13,
                    M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_CODE);
    }
    /* The bound string still works after that. */
    EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD_AND_CODE, code, &home, now + 14,
                M2FA_OUTCOME_ALLOWED, M2FA_REASON_DEVICE_TRUSTED);
    /* Another network: the code is checked, and it was used. */
    EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD_AND_CODE, code, &away, now + 15,
                M2FA_OUTCOME_REFUSED, M2FA_REASON_REPLAYED);
    /* The binding ends. */
    EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, PASSWORD, NULL, &home, now + BINDING_PERIOD,
                M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
    /* A wrong password is refused even from a trusted device. */
    EXPECT_AUTH(&gina, M2FA_PROTOCOL_IMAP, NULL, WRONG_PASSWORD, NULL, &home, now + 20,
                M2FA_OUTCOME_REFUSED, M2FA_REASON_WRONG_PASSWORD);
    user_free(&gina);
    m2fa_engine_free(engine);
}
