/*
 * The mail2fa engine from C: what a mail server's auth code does once the
 * password is checked. 2FA is turned on for a platform and an account, the
 * user scans the provisioning URI, logs in with a code, a replay of that
 * code is refused, and wrong codes lock the account.
 *
 *   bash scripts/build-capi.sh
 *   export PKG_CONFIG_PATH=$PWD/target/capi/lib/pkgconfig
 *   cc -std=c11 -Wall examples/c/engine_login.c $(pkg-config --cflags --libs mail2fa) \
 *      -Wl,-rpath,$PWD/target/capi/lib -o engine_login && ./engine_login
 *
 * One line per step: what the client is told (the outcome) and, in
 * parentheses, the real reason, which is for the logs only.
 */
#include <mail2fa.h>

#include <stdio.h>
#include <stdlib.h>

static const char *outcome_word(uint32_t outcome) {
    switch (outcome) {
    case M2FA_OUTCOME_ALLOWED: return "allowed";
    case M2FA_OUTCOME_ENROLLMENT_REQUIRED: return "enrollment required";
    case M2FA_OUTCOME_SECOND_FACTOR_REQUIRED: return "code required";
    case M2FA_OUTCOME_REFUSED: return "refused";
    default: return "?";
    }
}

static const char *reason_word(uint32_t reason) {
    switch (reason) {
    case M2FA_REASON_NONE: return "none";
    case M2FA_REASON_NO_SECOND_FACTOR: return "no second factor";
    case M2FA_REASON_CODE_ACCEPTED: return "code accepted";
    case M2FA_REASON_ENROLLED: return "enrolled";
    case M2FA_REASON_WRONG_CODE: return "wrong code";
    case M2FA_REASON_CLOCK_SKEW: return "clock skew";
    case M2FA_REASON_REPLAYED: return "replayed";
    case M2FA_REASON_LOCKED: return "locked";
    default: return "other";
    }
}

/* Prints "<step>: <outcome> (<reason>)", then frees the decision. */
static void report(const char *step, m2fa_decision **decision) {
    uint32_t outcome = 0, reason = 0;
    m2fa_decision_outcome(*decision, &outcome);
    m2fa_decision_reason(*decision, &reason);
    printf("%s: %s (%s)\n", step, outcome_word(outcome), reason_word(reason));
    m2fa_decision_free(*decision); /* wipes the URI it may carry */
    *decision = NULL;
}

/* Prints the message of a failed call and returns 1. */
static int fail(const char *what, m2fa_status status) {
    char message[128];
    size_t needed = 0;
    m2fa_status_message(status, message, sizeof message, &needed);
    fprintf(stderr, "%s: %s (status %u)\n", what, message, (unsigned)status);
    return 1;
}

int main(void) {
    const char *platform = "example.com", *account = "alice@example.com";
    uint64_t now = 1800000000; /* a server passes time(NULL) */
    m2fa_engine *engine = NULL;
    m2fa_decision *decision = NULL;
    m2fa_key_uri *scanned = NULL;
    m2fa_secret *secret = NULL;
    m2fa_otp_config *config = NULL;
    m2fa_totp *phone = NULL;
    char *uri = NULL, code[16], wrong[16];
    size_t needed = 0;
    m2fa_status status;
    int rc = 1;

    /* One engine per process, shared by every auth thread (NULL: defaults,
     * e.g. 5 wrong codes lock for 60 s). */
    if ((status = m2fa_engine_new(NULL, &engine)) != M2FA_OK) return fail("engine", status);

    /* S1: 2FA on for the platform, then for the account. */
    if ((status = m2fa_engine_enable_platform(engine, platform, 1)) != M2FA_OK) {
        rc = fail("platform", status);
        goto out;
    }
    printf("platform: 2FA on for %s\n", platform);
    status = m2fa_engine_enable_account(engine, platform, account, now, &decision);
    if (status != M2FA_OK) { rc = fail("enable", status); goto out; }

    /* S2: show the provisioning URI (as a QR code: m2fa_qr_svg). Ask for
     * its size first. It holds the secret: wipe and free it once shown. */
    m2fa_decision_uri(decision, NULL, 0, &needed);
    if ((uri = malloc(needed)) == NULL) goto out;
    if ((status = m2fa_decision_uri(decision, uri, needed, &needed)) != M2FA_OK) {
        rc = fail("uri", status);
        goto out;
    }
    report("enable account", &decision);
    printf("scan this: %s\n", uri);

    /* (Here the user's phone scans it; we play the phone.) */
    if ((status = m2fa_key_uri_parse(uri, &scanned)) != M2FA_OK ||
        (status = m2fa_key_uri_secret(scanned, &secret)) != M2FA_OK ||
        (status = m2fa_key_uri_config(scanned, &config)) != M2FA_OK ||
        (status = m2fa_totp_new(secret, config, &phone)) != M2FA_OK ||
        (status = m2fa_totp_generate(phone, now, code, sizeof code, &needed)) != M2FA_OK) {
        rc = fail("phone", status);
        goto out;
    }

    /* Logins. The first valid code confirms the enrollment and is used up. */
    status = m2fa_engine_login(engine, platform, account, code, now, &decision);
    if (status != M2FA_OK) { rc = fail("login", status); goto out; }
    report("login with the phone's code", &decision);

    /* The same code again, e.g. from a second IMAP connection: refused. */
    status = m2fa_engine_login(engine, platform, account, code, now + 5, &decision);
    if (status != M2FA_OK) { rc = fail("replay", status); goto out; }
    report("replay", &decision);

    /* S7: wrong codes. The fifth locks; then even the right code is refused,
     * with the same answer to the client. */
    now += 30;
    snprintf(wrong, sizeof wrong, "%06d", (atoi(code) + 500000) % 1000000);
    for (int i = 1; i <= 5; i++) {
        status = m2fa_engine_login(engine, platform, account, wrong, now, &decision);
        if (status != M2FA_OK) { rc = fail("wrong code", status); goto out; }
        char step[32];
        snprintf(step, sizeof step, "wrong code %d", i);
        report(step, &decision);
    }
    m2fa_totp_generate(phone, now, code, sizeof code, &needed);
    status = m2fa_engine_login(engine, platform, account, code, now, &decision);
    if (status != M2FA_OK) { rc = fail("locked", status); goto out; }
    uint64_t until = 0;
    m2fa_decision_until(decision, &until);
    report("right code while locked", &decision);
    printf("locked for: %u s\n", (unsigned)(until - now));
    rc = 0;

out:
    m2fa_decision_free(decision);
    if (uri != NULL) {
        for (volatile char *p = uri; *p != '\0'; p++) *p = 0; /* it carried the secret */
        free(uri);
    }
    m2fa_totp_free(phone);
    m2fa_otp_config_free(config);
    m2fa_secret_free(secret);
    m2fa_key_uri_free(scanned);
    m2fa_engine_free(engine);
    return rc;
}
