/*
 * ffi_test's shared fixture (declared in fixture.h): small constructors,
 * the text-output protocol checked in full, and readers of secrets and
 * configurations.
 */

#include "fixture.h"

#include <stdlib.h>

/* ------------------------------------------------------------------------
 * Small constructors. Each checks its status; on failure it returns NULL,
 * the later calls then fail with M2FA_NULL_ARGUMENT and the run goes on.
 * ------------------------------------------------------------------------ */

m2fa_secret *secret_from_text(const char *ascii)
{
    m2fa_secret *secret = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_secret_from_bytes((const uint8_t *)ascii, strlen(ascii), &secret));
    return secret;
}

m2fa_otp_config *new_config(uint32_t algorithm, uint32_t digits, uint64_t period,
                            uint64_t t0, uint32_t window)
{
    m2fa_otp_config *config = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_new(&config));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_algorithm(config, algorithm));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_digits(config, digits));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_period(config, period));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_t0(config, t0));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_window(config, window));
    return config;
}

/* A TOTP credential; the secret and config are copied, so we free them here. */
m2fa_totp *new_totp(const char *seed, uint32_t algorithm, uint32_t digits,
                    uint64_t period, uint64_t t0, uint32_t window)
{
    m2fa_secret *secret = secret_from_text(seed);
    m2fa_otp_config *config = new_config(algorithm, digits, period, t0, window);
    m2fa_totp *totp = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_totp_new(secret, config, &totp));
    m2fa_otp_config_free(config);
    m2fa_secret_free(secret);
    return totp;
}

m2fa_hotp *new_hotp(const char *seed, uint32_t algorithm, uint32_t digits)
{
    m2fa_secret *secret = secret_from_text(seed);
    m2fa_otp_config *config = new_config(algorithm, digits, 30, 0, 1);
    m2fa_hotp *hotp = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_hotp_new(secret, config, &hotp));
    m2fa_otp_config_free(config);
    m2fa_secret_free(secret);
    return hotp;
}

/* The TOTP code at `time` into code[CODE_SIZE]; "" if the call failed. */
m2fa_status totp_code(const m2fa_totp *totp, uint64_t time, char code[CODE_SIZE])
{
    size_t needed = 0;
    code[0] = '\0';
    return m2fa_totp_generate(totp, time, code, CODE_SIZE, &needed);
}

m2fa_status hotp_code(const m2fa_hotp *hotp, uint64_t counter, char code[CODE_SIZE])
{
    size_t needed = 0;
    code[0] = '\0';
    return m2fa_hotp_generate(hotp, counter, code, CODE_SIZE, &needed);
}

/* ------------------------------------------------------------------------
 * The text-output protocol. Ten functions write text into (buf, len) and
 * report *needed; FETCH_TEXT drives one of them through every case of the
 * protocol and returns the text (malloc'd, for the caller to free), so that
 * each function is checked the same way. The adapters below bind the other
 * arguments of each call. (m2fa_secret_bytes, which writes bytes rather than
 * text, is checked on its own in test_secrets.)
 * ------------------------------------------------------------------------ */

m2fa_status call_status_message(const struct text_args *a, char *buf, size_t len,
                                size_t *needed)
{
    return m2fa_status_message((uint32_t)a->number, buf, len, needed);
}
m2fa_status call_totp_generate(const struct text_args *a, char *buf, size_t len,
                               size_t *needed)
{
    return m2fa_totp_generate(a->totp, a->number, buf, len, needed);
}
m2fa_status call_hotp_generate(const struct text_args *a, char *buf, size_t len,
                               size_t *needed)
{
    return m2fa_hotp_generate(a->hotp, a->number, buf, len, needed);
}
m2fa_status call_secret_to_base32(const struct text_args *a, char *buf, size_t len,
                                  size_t *needed)
{
    return m2fa_secret_to_base32(a->secret, buf, len, needed);
}
m2fa_status call_key_uri_totp(const struct text_args *a, char *buf, size_t len,
                              size_t *needed)
{
    return m2fa_key_uri_totp(a->secret, a->config, a->issuer, a->account, buf, len, needed);
}
m2fa_status call_key_uri_hotp(const struct text_args *a, char *buf, size_t len,
                              size_t *needed)
{
    return m2fa_key_uri_hotp(a->secret, a->config, a->issuer, a->account, a->number, buf, len,
                             needed);
}
m2fa_status call_key_uri_issuer(const struct text_args *a, char *buf, size_t len,
                                size_t *needed)
{
    return m2fa_key_uri_issuer(a->uri, buf, len, needed);
}
m2fa_status call_key_uri_account(const struct text_args *a, char *buf, size_t len,
                                 size_t *needed)
{
    return m2fa_key_uri_account(a->uri, buf, len, needed);
}
m2fa_status call_qr_svg(const struct text_args *a, char *buf, size_t len, size_t *needed)
{
    return m2fa_qr_svg(a->text, buf, len, needed);
}
m2fa_status call_qr_terminal(const struct text_args *a, char *buf, size_t len,
                             size_t *needed)
{
    return m2fa_qr_terminal(a->text, buf, len, needed);
}

/* Room after the buffer we hand out, to catch writes past `len`. */
#define GUARD_BYTES 16

/*
 * Checks the whole (buf, len, needed) protocol of one call:
 *   size query: buf NULL, len 0         -> M2FA_BUFFER_TOO_SMALL, *needed = size
 *   len = size - 1, and len = 0         -> M2FA_BUFFER_TOO_SMALL, *needed = size,
 *                                          buffer untouched
 *   needed NULL                         -> M2FA_NULL_ARGUMENT, buffer untouched
 *   len = size, and a larger len        -> `want` (normally M2FA_OK), the text
 *                                          NUL-terminated, nothing written after it
 * `expected` may be NULL when the caller checks the text itself.
 */
char *fetch_text_impl(text_fn fn, const struct text_args *args, m2fa_status want,
                      const char *expected, const char *call, const char *file, int line)
{
#define CHECK_HERE(expr) check_impl((expr), #expr, file, line)
#define CHECK_STATUS_HERE(want_, call_) check_status_impl((call_), (want_), #call_, file, line)
    helper_call = call;
    char *result = NULL;

    size_t needed = SENTINEL_SIZE;
    CHECK_STATUS_HERE(M2FA_BUFFER_TOO_SMALL, fn(args, NULL, 0, &needed));
    if (!CHECK_HERE(needed != SENTINEL_SIZE && needed >= 1 && needed < 1000000)) {
        goto out;
    }
    if (expected != NULL) {
        CHECK_HERE(needed == strlen(expected) + 1);
    }

    size_t size = needed;
    size_t capacity = size + GUARD_BYTES;
    char *buf = malloc(capacity);
    if (!CHECK_HERE(buf != NULL)) {
        goto out;
    }

    /* One byte short: refused, *needed repeated, not one byte written. */
    memset(buf, SENTINEL_BYTE, capacity);
    needed = SENTINEL_SIZE;
    CHECK_STATUS_HERE(M2FA_BUFFER_TOO_SMALL, fn(args, buf, size - 1, &needed));
    CHECK_HERE(needed == size);
    CHECK_HERE(all_bytes_are(buf, capacity, SENTINEL_BYTE));

    /* A real buffer of length 0. */
    needed = SENTINEL_SIZE;
    CHECK_STATUS_HERE(M2FA_BUFFER_TOO_SMALL, fn(args, buf, 0, &needed));
    CHECK_HERE(needed == size);
    CHECK_HERE(all_bytes_are(buf, capacity, SENTINEL_BYTE));

    /* NULL buf with a non-zero len is not the size query the header
     * describes; whatever it answers, it must not be success. */
    needed = SENTINEL_SIZE;
    CHECK_HERE(fn(args, NULL, size, &needed) != M2FA_OK);

    /* needed is required even when the buffer is large enough. */
    CHECK_STATUS_HERE(M2FA_NULL_ARGUMENT, fn(args, buf, capacity, NULL));
    CHECK_HERE(all_bytes_are(buf, capacity, SENTINEL_BYTE));

    /* Exactly the size asked for. */
    needed = SENTINEL_SIZE;
    CHECK_STATUS_HERE(want, fn(args, buf, size, &needed));
    CHECK_HERE(needed == size);
    CHECK_HERE(buf[size - 1] == '\0');
    CHECK_HERE(strlen(buf) == size - 1);
    CHECK_HERE(all_bytes_are(buf + size, GUARD_BYTES, SENTINEL_BYTE));
    if (expected != NULL) {
        check_str_impl(buf, expected, "text written == expected", file, line);
    }

    /* A larger buffer: the same text, nothing written after the NUL. */
    char *again = malloc(capacity);
    if (CHECK_HERE(again != NULL)) {
        memset(again, SENTINEL_BYTE, capacity);
        needed = SENTINEL_SIZE;
        CHECK_STATUS_HERE(want, fn(args, again, capacity, &needed));
        CHECK_HERE(needed == size);
        CHECK_HERE(memcmp(again, buf, size) == 0);
        CHECK_HERE(all_bytes_are(again + size, GUARD_BYTES, SENTINEL_BYTE));
        free_wiped(again);
    }
    result = buf;

out:
    helper_call = NULL;
    return result;
#undef CHECK_HERE
#undef CHECK_STATUS_HERE
}

/* The raw bytes of a secret, through the (buf, len, needed) protocol of
 * m2fa_secret_bytes, which counts bytes (no NUL). Returns the length. */
size_t secret_bytes(const m2fa_secret *secret, uint8_t *out, size_t out_len)
{
    size_t needed = SENTINEL_SIZE;
    if (!CHECK_STATUS(M2FA_OK, m2fa_secret_bytes(secret, out, out_len, &needed))) {
        return 0;
    }
    return needed;
}


struct config_values read_config(const m2fa_otp_config *config)
{
    struct config_values v = {SENTINEL_U32, SENTINEL_U32, SENTINEL_U32, SENTINEL_U64,
                              SENTINEL_U64};
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_algorithm(config, &v.algorithm));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_digits(config, &v.digits));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_period(config, &v.period));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_t0(config, &v.t0));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_window(config, &v.window));
    return v;
}

bool same_values(struct config_values a, struct config_values b)
{
    return a.algorithm == b.algorithm && a.digits == b.digits && a.period == b.period &&
           a.t0 == b.t0 && a.window == b.window;
}

