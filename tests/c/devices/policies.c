/*
 * devices_test: S15, policies per protocol (platform and account
 * policies, host-named protocols).
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * S15: policies per protocol
 * ------------------------------------------------------------------------ */

void test_policies(void)
{
    section = "policies";
    m2fa_engine *engine = new_engine(10);
    struct user erin = {.engine = engine, .name = "erin@example.com"};
    if (engine == NULL || !enroll(&erin, T0)) {
        user_free(&erin);
        m2fa_engine_free(engine);
        return;
    }
    uint64_t now = T0 + 100;
    /* Defaults. */
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_WEBMAIL, NULL), M2FA_POLICY_CODE_IN_LOGIN);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_PORTAL, NULL), M2FA_POLICY_CODE_IN_LOGIN);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_ACTIVESYNC, NULL), M2FA_POLICY_DEVICE_AUTHORIZATION);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OUTLOOK, NULL), M2FA_POLICY_DEVICE_AUTHORIZATION);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_IMAP, "ignored"), M2FA_POLICY_APP_PASSWORD_ONLY);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_POP3, NULL), M2FA_POLICY_APP_PASSWORD_ONLY);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_SMTP, NULL), M2FA_POLICY_APP_PASSWORD_ONLY);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_RPC_OVER_HTTP, NULL), M2FA_POLICY_APP_PASSWORD_ONLY);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OTHER, "sieve"), M2FA_POLICY_APP_PASSWORD_ONLY);

    /* The platform refuses sieve; the account's own policy wins; DEFAULT clears. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_platform_policy(engine, PLATFORM, M2FA_PROTOCOL_OTHER,
                                                          "sieve", M2FA_POLICY_REFUSED));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OTHER, "sieve"), M2FA_POLICY_REFUSED);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OTHER, "managesieve"), M2FA_POLICY_APP_PASSWORD_ONLY);
    EXPECT_AUTH(&erin, M2FA_PROTOCOL_OTHER, "sieve", PASSWORD, NULL, NULL, now, M2FA_OUTCOME_REFUSED,
                M2FA_REASON_PROTOCOL_REFUSED);
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_account_policy(engine, PLATFORM, erin.name,
                                                         M2FA_PROTOCOL_OTHER, "sieve",
                                                         M2FA_POLICY_APP_PASSWORD_ONLY));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OTHER, "sieve"), M2FA_POLICY_APP_PASSWORD_ONLY);
    EXPECT_AUTH(&erin, M2FA_PROTOCOL_OTHER, "sieve", PASSWORD, NULL, NULL, now, M2FA_OUTCOME_REFUSED,
                M2FA_REASON_APP_PASSWORD_REQUIRED);
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_account_policy(engine, PLATFORM, erin.name,
                                                         M2FA_PROTOCOL_OTHER, "sieve", M2FA_POLICY_DEFAULT));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OTHER, "sieve"), M2FA_POLICY_REFUSED);
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_platform_policy(engine, PLATFORM, M2FA_PROTOCOL_OTHER,
                                                          "sieve", M2FA_POLICY_DEFAULT));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OTHER, "sieve"), M2FA_POLICY_APP_PASSWORD_ONLY);

    /* Outlook refused for the account: even its app password. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_account_policy(engine, PLATFORM, erin.name,
                                                         M2FA_PROTOCOL_OUTLOOK, NULL, M2FA_POLICY_REFUSED));
    EXPECT_AUTH(&erin, M2FA_PROTOCOL_OUTLOOK, NULL, PASSWORD, NULL, &outlook_pc, now,
                M2FA_OUTCOME_REFUSED, M2FA_REASON_PROTOCOL_REFUSED);
    CHECK_EQ(device_count(&erin, now), 0);
    /* Webmail set to devices for the whole platform. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_platform_policy(engine, PLATFORM, M2FA_PROTOCOL_WEBMAIL, NULL,
                                                          M2FA_POLICY_DEVICE_AUTHORIZATION));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_WEBMAIL, NULL), M2FA_POLICY_DEVICE_AUTHORIZATION);
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_platform_policy(engine, PLATFORM, M2FA_PROTOCOL_WEBMAIL, NULL,
                                                          M2FA_POLICY_DEFAULT));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_WEBMAIL, NULL), M2FA_POLICY_CODE_IN_LOGIN);

    /* By name: a standard name (any case) is the standard protocol, never a
     * host-named alias of it; other names are host-named, case ignored. */
    m2fa_login *login = SENTINEL_HANDLE;
    uint32_t policy = SENTINEL_U32;
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_account_policy(engine, PLATFORM, erin.name,
                                                         M2FA_PROTOCOL_OTHER, "IMAP",
                                                         M2FA_POLICY_REFUSED));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_IMAP, NULL), M2FA_POLICY_REFUSED);
    CHECK_STATUS(M2FA_OK, m2fa_engine_protocol_policy(engine, PLATFORM, erin.name,
                                                      M2FA_PROTOCOL_OTHER, "imap", &policy));
    CHECK_EQ(policy, M2FA_POLICY_REFUSED);
    EXPECT_AUTH(&erin, M2FA_PROTOCOL_OTHER, "Imap", PASSWORD, NULL, NULL, now, M2FA_OUTCOME_REFUSED,
                M2FA_REASON_PROTOCOL_REFUSED);
    CHECK_STATUS(M2FA_OK, m2fa_engine_set_account_policy(engine, PLATFORM, erin.name,
                                                         M2FA_PROTOCOL_IMAP, NULL,
                                                         M2FA_POLICY_DEFAULT));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OTHER, "imap"), policy_of(&erin, M2FA_PROTOCOL_IMAP, NULL));
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_OTHER, "ManageSieve"),
             policy_of(&erin, M2FA_PROTOCOL_OTHER, "managesieve"));
    CHECK_STATUS(M2FA_OK, m2fa_login_new(M2FA_PROTOCOL_OTHER, "rpc-over-http", &login));
    CHECK(login != SENTINEL_HANDLE && login != NULL);
    m2fa_login_free(login);
    login = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_login_new(M2FA_PROTOCOL_OTHER, "", &login));
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_login_new(M2FA_PROTOCOL_OTHER, "si eve", &login));
    CHECK(login == SENTINEL_HANDLE);
    CHECK_EQ(policy_of(&erin, M2FA_PROTOCOL_IMAP, NULL), M2FA_POLICY_APP_PASSWORD_ONLY);
    user_free(&erin);
    m2fa_engine_free(engine);
}
