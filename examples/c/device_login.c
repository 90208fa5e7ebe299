/*
 * Mail clients from C: what a mail server's auth code does for Outlook,
 * ActiveSync, IMAP, POP3 and SMTP once 2FA is on (S12-S16). Clients that
 * cannot ask for a code get in from a device the user has authorized, or
 * with an application password.
 *
 *   bash scripts/build-capi.sh
 *   export PKG_CONFIG_PATH=$PWD/target/capi/lib/pkgconfig
 *   cc -std=c11 -Wall examples/c/device_login.c $(pkg-config --cflags --libs mail2fa) \
 *      -Wl,-rpath,$PWD/target/capi/lib -o device_login && ./device_login
 *
 * One line per step: what the client is told and, in parentheses, the real
 * reason (for the logs only).
 */
#include <mail2fa.h>

#include <stdio.h>

static const char *outcome_word(uint32_t outcome) {
    switch (outcome) {
    case M2FA_OUTCOME_ALLOWED: return "allowed";
    case M2FA_OUTCOME_ENROLLMENT_REQUIRED: return "enrollment required";
    case M2FA_OUTCOME_SECOND_FACTOR_REQUIRED: return "code required";
    case M2FA_OUTCOME_REFUSED: return "refused";
    case M2FA_OUTCOME_DEVICE_PENDING: return "device pending";
    default: return "?";
    }
}

static const char *reason_word(uint32_t reason) {
    switch (reason) {
    case M2FA_REASON_NONE: return "none";
    case M2FA_REASON_ENROLLED: return "enrolled";
    case M2FA_REASON_DEVICE_AUTHORIZED: return "device authorized";
    case M2FA_REASON_APP_PASSWORD: return "app password";
    case M2FA_REASON_WRONG_PASSWORD: return "wrong password";
    case M2FA_REASON_APP_PASSWORD_REQUIRED: return "app password required";
    case M2FA_REASON_WRONG_APP_PASSWORD: return "wrong app password";
    default: return "other";
    }
}

/* One login: protocol, credential (app_password NULL: the account password,
 * checked by the host and found right), client. Prints "<step>: <outcome>
 * (<reason>)", or, for a pending device with a message to send, "(notify
 * by <channel> to <destination>)". Keeps the device token id in `device`. */
static int login(const m2fa_engine *engine, const char *account, uint32_t protocol,
                 const char *app_password, const char *user_agent, uint64_t now,
                 const char *step, char device[M2FA_DEVICE_ID_SIZE]) {
    m2fa_login *request = NULL;
    m2fa_decision *decision = NULL;
    m2fa_notification *notification = NULL;
    uint32_t outcome = 0, reason = 0, channel = 0;
    char to[128], why[160];
    size_t needed = 0;
    if (m2fa_login_new(protocol, NULL, &request) != M2FA_OK) return 1;
    if (app_password != NULL) {
        m2fa_login_set_app_password(request, app_password);
    } else {
        m2fa_login_set_password(request, 1);
    }
    m2fa_login_set_client(request, NULL, NULL, user_agent, "203.0.113.7");
    m2fa_status status = m2fa_engine_authenticate(engine, "example.com", account, request, now,
                                                  &decision);
    m2fa_login_free(request);
    if (status != M2FA_OK) return 1; /* refuse the login on any error */
    m2fa_decision_outcome(decision, &outcome);
    m2fa_decision_reason(decision, &reason);
    snprintf(why, sizeof why, "%s", reason_word(reason));
    if (device != NULL) m2fa_decision_device(decision, device, M2FA_DEVICE_ID_SIZE, &needed);
    /* A blocked device: the host sends the message (by SMS, or by e-mail). */
    if (m2fa_decision_notification(decision, &notification) == M2FA_OK &&
        m2fa_notification_destination(notification, &channel, to, sizeof to, &needed) == M2FA_OK) {
        snprintf(why, sizeof why, "notify by %s to %s",
                 channel == M2FA_MODE_SMS ? "sms" : "e-mail", to);
    }
    printf("%s: %s (%s)\n", step, outcome_word(outcome), why);
    m2fa_notification_free(notification);
    m2fa_decision_free(decision);
    return 0;
}

int main(void) {
    const char *platform = "example.com", *account = "alice@example.com";
    const char *outlook = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0)";
    uint64_t now = 1800000000; /* a server passes time(NULL) */
    m2fa_engine_config *config = NULL;
    m2fa_engine *engine = NULL;
    m2fa_decision *decision = NULL;
    char device[M2FA_DEVICE_ID_SIZE] = "", password[M2FA_APP_PASSWORD_SIZE];
    size_t needed = 0;
    uint32_t app = 0;
    int rc = 1;

    /* The link notifications carry, to the portal page that authorizes. */
    if (m2fa_engine_config_new(&config) != M2FA_OK) return 1;
    m2fa_engine_config_set_portal_link(config, "https://mail.example.com/devices/{device}");
    m2fa_status status = m2fa_engine_new(config, &engine);
    m2fa_engine_config_free(config);
    if (status != M2FA_OK) return 1;

    /* 2FA on for the platform and the account (see engine_login.c for the
     * enrollment with a code; here it is left pending). */
    m2fa_engine_enable_platform(engine, platform, 1);
    if (m2fa_engine_enable_account(engine, platform, account, now, &decision) != M2FA_OK) goto out;
    m2fa_decision_free(decision);
    m2fa_engine_set_contact(engine, platform, account, "alice@home.example", "+33 6 12 34 56 78");

    /* S12/S13: Outlook with the right password, from a device never seen. */
    if (login(engine, account, M2FA_PROTOCOL_OUTLOOK, NULL, outlook, now, "outlook, unknown device",
              device)) goto out;
    /* S14: the user authorizes it from the message's link. */
    if (m2fa_engine_device_activate(engine, platform, account, device, now + 60) != M2FA_OK) goto out;
    if (login(engine, account, M2FA_PROTOCOL_OUTLOOK, NULL, outlook, now + 120, "after activation",
              NULL)) goto out;

    /* S16: IMAP takes application passwords only. */
    if (login(engine, account, M2FA_PROTOCOL_IMAP, NULL, "Thunderbird/115.0", now + 180,
              "imap with the password", NULL)) goto out;
    if (m2fa_engine_app_password_create(engine, platform, account, "thunderbird", "imap,smtp",
                                        now + 200, &app, password, sizeof password,
                                        &needed) != M2FA_OK) goto out;
    printf("app password for thunderbird: %s\n", password); /* shown once */
    if (login(engine, account, M2FA_PROTOCOL_IMAP, password, "Thunderbird/115.0", now + 240,
              "imap with an app password", NULL)) goto out;
    if (m2fa_engine_app_password_revoke(engine, platform, account, app) != M2FA_OK) goto out;
    if (login(engine, account, M2FA_PROTOCOL_IMAP, password, "Thunderbird/115.0", now + 300,
              "after revoke", NULL)) goto out;
    rc = 0;

out:
    for (volatile char *p = password; p < password + sizeof password; p++) *p = 0;
    m2fa_engine_free(engine);
    return rc;
}
