/*
 * engine_test: account and platform names. Names a provisioning URI
 * cannot carry are refused up front; other spellings of an account with 2FA
 * are refused, never read as "no 2FA" (issue 14, point 4); the clients API
 * refuses bad names before anything else.
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * Names that a provisioning URI cannot carry are refused up front
 * ------------------------------------------------------------------------ */

void test_names_follow_label_rules(void)
{
    section = "names";
    m2fa_engine *engine = new_engine(NULL);
    if (engine == NULL) {
        return;
    }
    /* Platform and account names end up in otpauth labels (the platform as
     * the default issuer): a ':' or white space, outside the names'
     * alphabet, is refused with M2FA_INVALID_NAME before anything is
     * stored. */
    CHECK_STATUS(M2FA_OK, m2fa_engine_enable_platform(engine, PLATFORM, 1));
    CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_enable_platform(engine, "imap:example.com", 1));
    CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_enable_platform(engine, " example.com", 1));
    static const char *const accounts[] = {"alice:work", " alice", "alice ", ""};
    for (size_t i = 0; i < sizeof accounts / sizeof accounts[0]; i++) {
        m2fa_decision *d = SENTINEL_HANDLE;
        CHECK_STATUS(M2FA_INVALID_NAME,
                     m2fa_engine_enable_account(engine, PLATFORM, accounts[i], T0, &d));
        CHECK(d == SENTINEL_HANDLE);
        CHECK_STATUS(M2FA_INVALID_NAME,
                     m2fa_engine_login(engine, PLATFORM, accounts[i], NULL, T0, &d));
        CHECK(d == SENTINEL_HANDLE);
    }
    m2fa_engine_free(engine);

    /* An issuer with ':' could never be used: the engine refuses it. */
    m2fa_engine_config *config = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_new(&config));
    CHECK_STATUS(M2FA_OK, m2fa_engine_config_set_issuer(config, "Example:Mail"));
    engine = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_INVALID_CONFIG, m2fa_engine_new(config, &engine));
    CHECK(engine == SENTINEL_HANDLE);
    m2fa_engine_config_free(config);
}

/* ------------------------------------------------------------------------
 * One spelling per account (issue 14, point 4): other spellings of an
 * account with 2FA are refused with M2FA_INVALID_NAME on every path a mail
 * server takes, never answered "allowed, no second factor".
 * ------------------------------------------------------------------------ */

/* The platform the PAM and Lua integrations derive: the text after the
 * last '@'. */
static const char *platform_of(const char *user)
{
    const char *at = strrchr(user, '@');
    return at != NULL ? at + 1 : PLATFORM;
}

void test_other_spellings_refused(void)
{
    section = "one spelling per account";
    m2fa_engine *engine = new_engine(NULL);
    if (engine == NULL) {
        return;
    }
    struct user alice = {.engine = engine, .platform = PLATFORM, .name = "alice@example.com"};
    struct user kate = {.engine = engine, .platform = PLATFORM, .name = "kate@example.com"};
    m2fa_login *login = NULL;
    if (!enroll(&alice, T0) || !enroll(&kate, T0) ||
        !CHECK_STATUS(M2FA_OK, m2fa_login_new(M2FA_PROTOCOL_WEBMAIL, NULL, &login)) ||
        !CHECK_STATUS(M2FA_OK, m2fa_login_set_password(login, 1))) {
        goto out;
    }
    static const char *const spellings[] = {
        "\xef\xbd\x81lice@example.com", /* U+FF41 FULLWIDTH LATIN SMALL LETTER A */
        "\xe2\x84\xaa" "ate@example.com", /* U+212A KELVIN SIGN */
        "alice@example.com.",           /* a trailing dot (platform "example.com.") */
        "example\\alice@example.com",   /* a Windows domain login */
        "Alice@example.com",
        "alice@EXAMPLE.COM",
        "alice @example.com",
        "alice.@example.com",
    };
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        const char *name = spellings[i], *platform = platform_of(name);
        m2fa_decision *d = SENTINEL_HANDLE;
        size_t len = SENTINEL_SIZE;
        uint32_t has_code = SENTINEL_U32;
        helper_call = name;
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_account_name_check(platform, name));
        CHECK_STATUS(M2FA_INVALID_NAME,
                     m2fa_engine_authenticate(engine, platform, name, login, T0 + 60, &d));
        CHECK(d == SENTINEL_HANDLE);
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_login(engine, platform, name, NULL, T0 + 60, &d));
        CHECK(d == SENTINEL_HANDLE);
        CHECK_STATUS(M2FA_INVALID_NAME,
                     m2fa_engine_split_login_for(engine, platform, name, M2FA_PROTOCOL_WEBMAIL,
                                                 NULL, "secret123456", T0 + 60, &len, &has_code));
        CHECK(len == SENTINEL_SIZE && has_code == SENTINEL_U32);
        /* The same name with the platform fixed (PAM's platform=): refused too. */
        CHECK_STATUS(M2FA_INVALID_NAME,
                     m2fa_engine_authenticate(engine, PLATFORM, name, login, T0 + 60, &d));
        CHECK(d == SENTINEL_HANDLE);
    }
    helper_call = NULL;

    /* Names of real deployments pass the check. */
    static const char *const good[] = {"alice", "alice@example.com", "alice+tag@example.com",
                                       "a.b-c_d@sub.example.co.uk",
                                       "jurgen@xn--bcher-kva.example"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_STATUS(M2FA_OK, m2fa_account_name_check(platform_of(good[i]), good[i]));
    }
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_account_name_check(NULL, "alice"));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_account_name_check(PLATFORM, NULL));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_account_name_check(PLATFORM, not_utf8));
    char message[160];
    size_t needed = 0;
    CHECK_STATUS(M2FA_OK, m2fa_status_message(M2FA_INVALID_NAME, message, sizeof message, &needed));
    CHECK(strstr(message, "alphabet") != NULL);

    /* The enrolled spelling still needs its code. */
    EXPECT_LOGIN(&alice, NULL, T0 + 60, M2FA_OUTCOME_SECOND_FACTOR_REQUIRED, M2FA_REASON_NONE);
out:
    m2fa_login_free(login);
    user_free(&kate);
    user_free(&alice);
    m2fa_engine_free(engine);
}


/* The account functions of the clients API answer M2FA_INVALID_NAME (as
 * their header comments say) for a platform or account name outside the
 * alphabet, before anything else is looked at; nothing is written. */
void test_client_functions_refuse_bad_names(void)
{
    section = "clients API: bad names";
    m2fa_engine *engine = new_engine(NULL);
    if (engine == NULL) {
        return;
    }
    static const struct {
        const char *platform, *account;
    } bad[] = {
        {PLATFORM, "Alice@example.com"},
        {PLATFORM, "\xef\xbd\x81lice@example.com"},
        {"Example.com", "alice@example.com"},
        {"example.com.", "alice@example.com"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = bad[i].platform, *a = bad[i].account;
        helper_call = a;
        m2fa_notification *n = SENTINEL_HANDLE;
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_notification_fallback(engine, p, a, "x",
                                                                           T0, &n));
        CHECK(n == SENTINEL_HANDLE);
        m2fa_device_list *devices = SENTINEL_HANDLE;
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_devices(engine, p, a, T0, &devices));
        CHECK(devices == SENTINEL_HANDLE);
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_device_activate(engine, p, a, "x", T0));
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_device_deactivate(engine, p, a, "x", T0));
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_device_delete(engine, p, a, "x", T0));
        uint32_t id = SENTINEL_U32;
        char password[M2FA_APP_PASSWORD_SIZE];
        size_t needed = SENTINEL_SIZE;
        CHECK_STATUS(M2FA_INVALID_NAME,
                     m2fa_engine_app_password_create(engine, p, a, "phone", NULL, T0, &id,
                                                     password, sizeof password, &needed));
        CHECK(id == SENTINEL_U32);
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_app_password_revoke(engine, p, a, 1));
        m2fa_app_password_list *apps = SENTINEL_HANDLE;
        CHECK_STATUS(M2FA_INVALID_NAME, m2fa_engine_app_passwords(engine, p, a, &apps));
        CHECK(apps == SENTINEL_HANDLE);
        CHECK_STATUS(M2FA_INVALID_NAME,
                     m2fa_engine_set_account_policy(engine, p, a, M2FA_PROTOCOL_IMAP, NULL,
                                                    M2FA_POLICY_REFUSED));
        uint32_t policy = SENTINEL_U32;
        CHECK_STATUS(M2FA_INVALID_NAME,
                     m2fa_engine_protocol_policy(engine, p, a, M2FA_PROTOCOL_IMAP, NULL, &policy));
        CHECK(policy == SENTINEL_U32);
        if (strcmp(p, PLATFORM) != 0) {
            CHECK_STATUS(M2FA_INVALID_NAME,
                         m2fa_engine_set_platform_policy(engine, p, M2FA_PROTOCOL_IMAP, NULL,
                                                         M2FA_POLICY_REFUSED));
        }
    }
    helper_call = NULL;
    m2fa_engine_free(engine);
}
