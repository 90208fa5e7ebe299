/*
 * A mail server's view of mail2fa's C API: enroll a user, then check the
 * code typed at login and make it one-time.
 *
 *   bash scripts/build-capi.sh
 *   export PKG_CONFIG_PATH=$PWD/target/capi/lib/pkgconfig
 *   cc -std=c11 -Wall examples/c/totp_login.c $(pkg-config --cflags --libs mail2fa) \
 *      -Wl,-rpath,$PWD/target/capi/lib -o totp_login && ./totp_login
 */
#include <mail2fa.h>

#include <stdio.h>
#include <time.h>

/* Wipes a buffer that held a secret; volatile so the compiler keeps it. */
static void wipe(volatile char *buf, size_t len) {
    while (len--) buf[len] = 0;
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
    m2fa_secret *secret = NULL;
    m2fa_totp *totp = NULL;
    char uri[512], code[16];
    size_t needed = 0;
    uint64_t now = (uint64_t)time(NULL);
    uint64_t step = 0, last_step = 0;
    int rc = 1;
    m2fa_status status;

    /* Enrollment: a fresh 160-bit secret (store it, encrypted, with the
     * account) and the URI the user's authenticator app scans. */
    if ((status = m2fa_secret_generate(0, &secret)) != M2FA_OK) return fail("generate", status);
    status = m2fa_key_uri_totp(secret, NULL, "Example Mail", "alice@example.com",
                               uri, sizeof uri, &needed);
    if (status != M2FA_OK) { rc = fail("uri", status); goto out; }
    printf("scan this: %s\n", uri);

    /* Login: one keyed TOTP object per secret; it is immutable, so every
     * auth thread may use it at once. */
    if ((status = m2fa_totp_new(secret, NULL, &totp)) != M2FA_OK) { rc = fail("totp", status); goto out; }
    /* (Here the code would come from the client; we compute the phone's.) */
    if ((status = m2fa_totp_generate(totp, now, code, sizeof code, &needed)) != M2FA_OK) {
        rc = fail("code", status);
        goto out;
    }

    /* Accept only steps after the last one used, and store the matched step
     * atomically before saying yes: that is what makes the code one-time. */
    status = m2fa_totp_verify_after(totp, code, now, last_step, &step);
    printf("code %s: %s\n", code, status == M2FA_OK ? "accepted" : "refused");
    if (status != M2FA_OK) { rc = fail("verify", status); goto out; }
    last_step = step; /* persist with compare-and-swap in a real server */

    status = m2fa_totp_verify_after(totp, code, now, last_step, &step);
    printf("replay: %s\n", status == M2FA_CODE_MISMATCH ? "refused" : "ACCEPTED (bug)");
    rc = status == M2FA_CODE_MISMATCH ? 0 : 1;

out:
    wipe(uri, sizeof uri); /* it carried the secret */
    wipe(code, sizeof code);
    m2fa_totp_free(totp);
    m2fa_secret_free(secret);
    return rc;
}
