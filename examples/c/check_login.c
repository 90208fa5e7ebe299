/*
 * A mail server's login with mail2fa, in one call: the password field as
 * the client typed it ("password" followed by the one-time code, or an
 * application password) and the server's own password check, as a
 * callback, go in; the decision comes out. mail2fa splits off the code,
 * calls the check with the password part only, and decides.
 *
 *   bash scripts/build-capi.sh
 *   export PKG_CONFIG_PATH=$PWD/target/capi/lib/pkgconfig
 *   cc -std=c11 -Wall examples/c/check_login.c $(pkg-config --cflags --libs mail2fa) \
 *      -Wl,-rpath,$PWD/target/capi/lib -o check_login && ./check_login
 *
 * One line per login: what the client is told and, in parentheses, the
 * reason for the logs.
 */
#include <mail2fa.h>

#include <stdio.h>
#include <string.h>

/* The server's user directory (here: one user, one password). */
struct directory {
    const char *password;
    int reachable;
};

/* The password check mail2fa calls: 1 right, 0 wrong, -1 cannot tell. It
 * gets the password part only, never the code. */
static int check_password(void *user_data, const char *password, size_t len)
{
    const struct directory *dir = user_data;
    if (!dir->reachable)
        return -1;
    return strlen(dir->password) == len && memcmp(dir->password, password, len) == 0;
}

static int fail(const char *what, m2fa_status status)
{
    char message[128];
    size_t needed = 0;
    m2fa_status_message(status, message, sizeof message, &needed);
    printf("%s: %s\n", what, message);
    return 1;
}

/* One login over `login`'s protocol; prints its outcome. */
static void log_in(const m2fa_engine *engine, const m2fa_login *login, const char *step,
                   const char *typed, struct directory *dir, uint64_t now)
{
    m2fa_decision *decision = NULL;
    m2fa_status status = m2fa_engine_check_login(engine, "example.com", "alice@example.com",
                                                 login, typed, check_password, dir, now,
                                                 &decision);
    if (status != M2FA_OK) {
        fail(step, status); /* refuse the login */
        return;
    }
    uint32_t outcome = 0, reason = 0;
    m2fa_decision_outcome(decision, &outcome);
    m2fa_decision_reason(decision, &reason);
    printf("%s: %s (%s)\n", step, m2fa_outcome_name(outcome), m2fa_reason_name(reason));
    m2fa_decision_free(decision);
}

int main(void)
{
    uint64_t now = 1800000000; /* a server passes time(NULL) */
    struct directory dir = {"T9D3K!px", 1};
    m2fa_engine *engine = NULL;
    m2fa_decision *decision = NULL;
    m2fa_key_uri *uri = NULL;
    m2fa_secret *secret = NULL;
    m2fa_otp_config *config = NULL;
    m2fa_totp *phone = NULL;
    m2fa_login *imap = NULL, *smtp = NULL;
    char text[512], code[16], typed[64], app[M2FA_APP_PASSWORD_SIZE];
    size_t needed = 0;
    uint32_t id = 0;
    m2fa_status status;
    int rc = 1;

    /* Setup, as the operator tool would do it: 2FA for the platform and
     * the account, IMAP takes the code in the password, the phone enrolled. */
    if ((status = m2fa_engine_new(NULL, &engine)) != M2FA_OK ||
        (status = m2fa_engine_enable_platform(engine, "example.com", 1)) != M2FA_OK ||
        (status = m2fa_engine_set_platform_policy(engine, "example.com", M2FA_PROTOCOL_IMAP,
                                                  NULL, M2FA_POLICY_CODE_IN_LOGIN)) != M2FA_OK ||
        (status = m2fa_engine_enable_account(engine, "example.com", "alice@example.com", now,
                                             &decision)) != M2FA_OK ||
        (status = m2fa_decision_uri(decision, text, sizeof text, &needed)) != M2FA_OK ||
        (status = m2fa_key_uri_parse(text, &uri)) != M2FA_OK ||
        (status = m2fa_key_uri_secret(uri, &secret)) != M2FA_OK ||
        (status = m2fa_key_uri_config(uri, &config)) != M2FA_OK ||
        (status = m2fa_totp_new(secret, config, &phone)) != M2FA_OK ||
        (status = m2fa_totp_generate(phone, now, code, sizeof code, &needed)) != M2FA_OK) {
        rc = fail("setup", status);
        goto out;
    }
    m2fa_decision_free(decision);
    decision = NULL;
    /* The phone's first code confirms the enrollment. */
    if ((status = m2fa_engine_login(engine, "example.com", "alice@example.com", code, now,
                                    &decision)) != M2FA_OK ||
        (status = m2fa_engine_app_password_create(engine, "example.com", "alice@example.com",
                                                  "phone", NULL, now, &id, app, sizeof app,
                                                  &needed)) != M2FA_OK) {
        rc = fail("enrollment", status);
        goto out;
    }

    /* The login's protocol and what the server knows of the client. */
    if ((status = m2fa_login_new(M2FA_PROTOCOL_IMAP, NULL, &imap)) != M2FA_OK ||
        (status = m2fa_login_set_client(imap, NULL, NULL, NULL, "203.0.113.7")) != M2FA_OK ||
        (status = m2fa_login_new(M2FA_PROTOCOL_SMTP, NULL, &smtp)) != M2FA_OK) {
        rc = fail("login", status);
        goto out;
    }

    now += 60;
    m2fa_totp_generate(phone, now, code, sizeof code, &needed);
    snprintf(typed, sizeof typed, "%s%s", dir.password, code);
    log_in(engine, imap, "imap, password+code", typed, &dir, now);
    log_in(engine, imap, "imap, the same again", typed, &dir, now + 5);
    log_in(engine, imap, "imap, password alone", dir.password, &dir, now);
    log_in(engine, smtp, "smtp, application password", app, &dir, now);
    now += 30;
    m2fa_totp_generate(phone, now, code, sizeof code, &needed);
    snprintf(typed, sizeof typed, "%s%s", dir.password, code);
    dir.reachable = 0;
    log_in(engine, imap, "imap, directory down", typed, &dir, now);
    dir.reachable = 1;
    log_in(engine, imap, "imap, directory back", typed, &dir, now);
    rc = 0;

out:
    memset(typed, 0, sizeof typed);
    memset(app, 0, sizeof app);
    memset(text, 0, sizeof text); /* it held the provisioning URI */
    m2fa_decision_free(decision);
    m2fa_login_free(imap);
    m2fa_login_free(smtp);
    m2fa_totp_free(phone);
    m2fa_otp_config_free(config);
    m2fa_secret_free(secret);
    m2fa_key_uri_free(uri);
    m2fa_engine_free(engine);
    return rc;
}
