/*
 * C test suite for the mail2fa C API (include/mail2fa.h).
 *
 * Every function of the header is called here twice over: the way a mail
 * server would call it (known answers from RFC 4226 and RFC 6238,
 * provisioning URIs, QR codes), and wrongly (NULL pointers, invalid UTF-8,
 * buffers too small, unknown enumeration values). The wrong calls check the
 * conventions the header promises for every function:
 *
 *   - a NULL pointer argument gives M2FA_NULL_ARGUMENT;
 *   - out-parameters are written only on M2FA_OK (so we preset them to a
 *     sentinel and check that errors leave it alone);
 *   - text goes to (buf, len) and *needed; a buffer that is too small is not
 *     touched, and *needed says how big it must be;
 *   - every *_free(NULL) is a no-op.
 *
 * scripts/test-c.sh builds it with -Wall -Wextra -Wpedantic -Werror and runs
 * it under AddressSanitizer, LeakSanitizer and UBSan, once against
 * libmail2fa.so and once against libmail2fa.a. Exit status 0 means every
 * check passed; the last line of output counts the checks and the failures.
 *
 * It doubles as an example of the API, so the calls are written the way
 * production code would write them, status checked every time.
 */

#define _POSIX_C_SOURCE 200809L /* pthreads under -std=c11 */

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail2fa.h>

#include "check.h"

/* ------------------------------------------------------------------------
 * Test data
 * ------------------------------------------------------------------------ */

/* The seeds of RFC 6238 Appendix B (and, for SHA-1, RFC 4226 Appendix D). */
#define SEED_SHA1 "12345678901234567890"
#define SEED_SHA256 "12345678901234567890123456789012"
#define SEED_SHA512 "1234567890123456789012345678901234567890123456789012345678901234"
#define SEED_SHA1_BASE32 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

/* A buffer that holds any code: at most 10 digits and the NUL. */
#define CODE_SIZE 11

/* RFC 6238 Appendix B: 8-digit TOTP codes, 30 s steps, T0 = 0. */
static const struct {
    uint64_t time;
    uint64_t step;
    const char *sha1, *sha256, *sha512;
} rfc6238[] = {
    {59, 1, "94287082", "46119246", "90693936"},
    {1111111109, 0x23523EC, "07081804", "68084774", "25091201"},
    {1111111111, 0x23523ED, "14050471", "67062674", "99943326"},
    {1234567890, 0x273EF07, "89005924", "91819424", "93441116"},
    {2000000000, 0x3F940AA, "69279037", "90698825", "38618901"},
    {UINT64_C(20000000000), 0x27BC86AA, "65353130", "77737706", "47863826"},
};

/* RFC 4226 Appendix D: HOTP codes for counters 0..9, and the full 31-bit
 * "truncated" values, which are the 10-digit codes (leading zeros kept). */
static const char *const rfc4226_six[10] = {
    "755224", "287082", "359152", "969429", "338314",
    "254676", "287922", "162583", "399871", "520489",
};
static const char *const rfc4226_ten[10] = {
    "1284755224", "1094287082", "0137359152", "1726969429", "1640338314",
    "0868254676", "1918287922", "0082162583", "0673399871", "0645520489",
};

/* Codes a 6-digit credential must refuse as malformed, not as a mismatch. */
static const char *const malformed_codes[] = {
    "12345",     /* too short */
    "1234567",   /* too long */
    "12a456",    /* a letter */
    " 123456",   /* leading space */
    "123456\n",  /* trailing newline */
    "123456 ",   /* trailing space */
    "+12345",    /* a sign, 6 bytes */
    "-12345",
    "",
    "12 456",
    /* "１２３４５６": full-width digits (U+FF11...), Unicode but not ASCII */
    "\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93\xef\xbc\x94\xef\xbc\x95\xef\xbc\x96",
    /* "١٢٣٤٥٦": Arabic-Indic digits */
    "\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6",
    /* "1234¹": six bytes, but the last two are one non-digit character */
    "1234\xc2\xb9",
};
#define MALFORMED_COUNT (sizeof malformed_codes / sizeof malformed_codes[0])

/* Not UTF-8: a string argument must be refused with M2FA_INVALID_UTF8. */
static const char not_utf8[] = "\xff\xfe";
/* Six bytes, so that only the encoding (not the length) is wrong. */
static const char not_utf8_six[] = "12345\xff";

/* ------------------------------------------------------------------------
 * Small constructors. Each checks its status; on failure it returns NULL,
 * the later calls then fail with M2FA_NULL_ARGUMENT and the run goes on.
 * ------------------------------------------------------------------------ */

static m2fa_secret *secret_from_text(const char *ascii)
{
    m2fa_secret *secret = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_secret_from_bytes((const uint8_t *)ascii, strlen(ascii), &secret));
    return secret;
}

static m2fa_otp_config *new_config(uint32_t algorithm, uint32_t digits, uint64_t period,
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
static m2fa_totp *new_totp(const char *seed, uint32_t algorithm, uint32_t digits,
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

static m2fa_hotp *new_hotp(const char *seed, uint32_t algorithm, uint32_t digits)
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
static m2fa_status totp_code(const m2fa_totp *totp, uint64_t time, char code[CODE_SIZE])
{
    size_t needed = 0;
    code[0] = '\0';
    return m2fa_totp_generate(totp, time, code, CODE_SIZE, &needed);
}

static m2fa_status hotp_code(const m2fa_hotp *hotp, uint64_t counter, char code[CODE_SIZE])
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

struct text_args {
    const m2fa_secret *secret;
    const m2fa_otp_config *config;
    const m2fa_totp *totp;
    const m2fa_hotp *hotp;
    const m2fa_key_uri *uri;
    const char *issuer;
    const char *account;
    const char *text;
    uint64_t number; /* a time, a counter or a status */
};

typedef m2fa_status (*text_fn)(const struct text_args *a, char *buf, size_t len, size_t *needed);

static m2fa_status call_status_message(const struct text_args *a, char *buf, size_t len,
                                       size_t *needed)
{
    return m2fa_status_message((uint32_t)a->number, buf, len, needed);
}
static m2fa_status call_totp_generate(const struct text_args *a, char *buf, size_t len,
                                      size_t *needed)
{
    return m2fa_totp_generate(a->totp, a->number, buf, len, needed);
}
static m2fa_status call_hotp_generate(const struct text_args *a, char *buf, size_t len,
                                      size_t *needed)
{
    return m2fa_hotp_generate(a->hotp, a->number, buf, len, needed);
}
static m2fa_status call_secret_to_base32(const struct text_args *a, char *buf, size_t len,
                                         size_t *needed)
{
    return m2fa_secret_to_base32(a->secret, buf, len, needed);
}
static m2fa_status call_key_uri_totp(const struct text_args *a, char *buf, size_t len,
                                     size_t *needed)
{
    return m2fa_key_uri_totp(a->secret, a->config, a->issuer, a->account, buf, len, needed);
}
static m2fa_status call_key_uri_hotp(const struct text_args *a, char *buf, size_t len,
                                     size_t *needed)
{
    return m2fa_key_uri_hotp(a->secret, a->config, a->issuer, a->account, a->number, buf, len,
                             needed);
}
static m2fa_status call_key_uri_issuer(const struct text_args *a, char *buf, size_t len,
                                       size_t *needed)
{
    return m2fa_key_uri_issuer(a->uri, buf, len, needed);
}
static m2fa_status call_key_uri_account(const struct text_args *a, char *buf, size_t len,
                                        size_t *needed)
{
    return m2fa_key_uri_account(a->uri, buf, len, needed);
}
static m2fa_status call_qr_svg(const struct text_args *a, char *buf, size_t len, size_t *needed)
{
    return m2fa_qr_svg(a->text, buf, len, needed);
}
static m2fa_status call_qr_terminal(const struct text_args *a, char *buf, size_t len,
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
static char *fetch_text_impl(text_fn fn, const struct text_args *args, m2fa_status want,
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

/* The arguments of one call, e.g. TEXT_ARGS(.totp = totp, .number = 59). (A
 * macro, so that the commas between designators survive being passed as one
 * argument of FETCH_TEXT and CHECK_TEXT_ERROR.) */
#define TEXT_ARGS(...) (&(struct text_args){__VA_ARGS__})

/* FETCH_TEXT(call_x, TEXT_ARGS(...), M2FA_OK, "expected" or NULL) -> malloc'd text or NULL. */
#define FETCH_TEXT(fn, args, want, expected) \
    fetch_text_impl((fn), (args), (want), (expected), #fn, __FILE__, __LINE__)

/* Checks that a text-output call failed with `want` before writing anything. */
#define CHECK_TEXT_ERROR(want, fn, args)                                               \
    do {                                                                               \
        char buf_[64];                                                                 \
        size_t needed_ = SENTINEL_SIZE;                                                \
        memset(buf_, SENTINEL_BYTE, sizeof buf_);                                      \
        CHECK_STATUS((want), (fn)((args), buf_, sizeof buf_, &needed_));               \
        CHECK(needed_ == SENTINEL_SIZE);                                               \
        CHECK(all_bytes_are(buf_, sizeof buf_, SENTINEL_BYTE));                        \
        /* The size query must fail the same way. */                                   \
        CHECK_STATUS((want), (fn)((args), NULL, 0, &needed_));                         \
        CHECK(needed_ == SENTINEL_SIZE);                                               \
    } while (0)

/* ------------------------------------------------------------------------
 * m2fa_version
 * ------------------------------------------------------------------------ */

static void test_version(void)
{
    section = "version";
    const char *version = m2fa_version();
    if (!CHECK(version != NULL)) {
        return;
    }
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", M2FA_VERSION_MAJOR, M2FA_VERSION_MINOR,
             M2FA_VERSION_PATCH);
    CHECK_STR(version, expected);
    /* A static string: the same pointer every time. */
    CHECK(m2fa_version() == version);
}

/* ------------------------------------------------------------------------
 * Statuses and m2fa_status_message
 * ------------------------------------------------------------------------ */

static void test_status_messages(void)
{
    section = "status";

    /* The numbers are ABI: they may never change. */
    for (size_t i = 0; i < STATUS_COUNT; i++) {
        CHECK(statuses[i].status == statuses[i].abi_number);
    }
    CHECK(M2FA_ALGORITHM_SHA1 == 1 && M2FA_ALGORITHM_SHA256 == 2 && M2FA_ALGORITHM_SHA512 == 3);
    CHECK(M2FA_OTP_KIND_TOTP == 1 && M2FA_OTP_KIND_HOTP == 2);
    CHECK(M2FA_MAX_WINDOW == 50);

    /* Every status has its own non-empty message; the first one gets the full
     * protocol check, the others a plain call. */
    char *first = FETCH_TEXT(call_status_message, TEXT_ARGS(.number = M2FA_OK), M2FA_OK,
                             "success");
    free(first);
    char messages[STATUS_COUNT][200];
    for (size_t i = 0; i < STATUS_COUNT; i++) {
        size_t needed = SENTINEL_SIZE;
        messages[i][0] = '\0';
        CHECK_STATUS(M2FA_OK, m2fa_status_message(statuses[i].status, messages[i],
                                                  sizeof messages[i], &needed));
        CHECK(needed == strlen(messages[i]) + 1);
        CHECK(strlen(messages[i]) > 0);
        CHECK(strcmp(messages[i], "unknown status") != 0);
        for (size_t j = 0; j < i; j++) {
            CHECK(strcmp(messages[i], messages[j]) != 0);
        }
    }

    /* Unknown numbers: the text "unknown status", and M2FA_UNKNOWN_ENUM_VALUE
     * where a known status gives M2FA_OK. */
    static const uint32_t unknown[] = {2, 99, 106, 199, 206, 304, 403, 501, 899, 901, UINT32_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        char buf[64];
        size_t needed = SENTINEL_SIZE;
        CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE,
                     m2fa_status_message(unknown[i], buf, sizeof buf, &needed));
        CHECK_STR(buf, "unknown status");
        CHECK(needed == sizeof "unknown status");
    }
    char *text = FETCH_TEXT(call_status_message, TEXT_ARGS(.number = 12345),
                            M2FA_UNKNOWN_ENUM_VALUE, "unknown status");
    free(text);

    /* The library knows exactly the statuses of our table (which names each
     * status of the header): every other number of the documented groups
     * (0-999) is unknown to it. A status added to the library makes this
     * fail until it is added to the table, and so to these tests. */
    unsigned long disagreements = 0;
    for (uint32_t number = 0; number < 1000; number++) {
        char buf[200];
        size_t needed = 0;
        bool in_table = strcmp(status_name(number), "not a status") != 0;
        m2fa_status status = m2fa_status_message(number, buf, sizeof buf, &needed);
        if ((status == M2FA_OK) != in_table) {
            disagreements++;
            fprintf(stderr, "    status %u: %s in the test's table, library says %s\n",
                    (unsigned)number, in_table ? "present" : "absent", status_name(status));
        }
    }
    CHECK(disagreements == 0);
}

/* ------------------------------------------------------------------------
 * Secrets
 * ------------------------------------------------------------------------ */

/* The raw bytes of a secret, through the (buf, len, needed) protocol of
 * m2fa_secret_bytes, which counts bytes (no NUL). Returns the length. */
static size_t secret_bytes(const m2fa_secret *secret, uint8_t *out, size_t out_len)
{
    size_t needed = SENTINEL_SIZE;
    if (!CHECK_STATUS(M2FA_OK, m2fa_secret_bytes(secret, out, out_len, &needed))) {
        return 0;
    }
    return needed;
}

static void test_secrets(void)
{
    section = "secrets";
    m2fa_secret *secret = SENTINEL_HANDLE;

    /* Generation: 0 means the default, 20 bytes; 16..128 accepted. */
    m2fa_secret *a = NULL, *b = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_secret_generate(0, &a));
    CHECK_STATUS(M2FA_OK, m2fa_secret_generate(0, &b));
    uint8_t bytes_a[128], bytes_b[128];
    CHECK(secret_bytes(a, bytes_a, sizeof bytes_a) == 20);
    CHECK(secret_bytes(b, bytes_b, sizeof bytes_b) == 20);
    CHECK(memcmp(bytes_a, bytes_b, 20) != 0); /* 160 random bits never collide */
    m2fa_secret_free(a);
    m2fa_secret_free(b);

    static const size_t good_lengths[] = {16, 17, 20, 32, 64, 127, 128};
    for (size_t i = 0; i < sizeof good_lengths / sizeof good_lengths[0]; i++) {
        m2fa_secret *generated = NULL;
        uint8_t raw[128];
        CHECK_STATUS(M2FA_OK, m2fa_secret_generate(good_lengths[i], &generated));
        CHECK(secret_bytes(generated, raw, sizeof raw) == good_lengths[i]);
        m2fa_secret_free(generated);
    }
    CHECK_STATUS(M2FA_SECRET_TOO_SHORT, m2fa_secret_generate(15, &secret));
    CHECK_STATUS(M2FA_SECRET_TOO_SHORT, m2fa_secret_generate(1, &secret));
    CHECK_STATUS(M2FA_SECRET_TOO_LONG, m2fa_secret_generate(129, &secret));
    CHECK_STATUS(M2FA_SECRET_TOO_LONG, m2fa_secret_generate(SIZE_MAX, &secret));
    CHECK(secret == SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_secret_generate(0, NULL));

    /* From raw bytes, and back: bytes and base32. */
    uint8_t raw[129];
    for (size_t i = 0; i < sizeof raw; i++) {
        raw[i] = (uint8_t)(i * 7 + 1);
    }
    CHECK_STATUS(M2FA_SECRET_TOO_SHORT, m2fa_secret_from_bytes(raw, 15, &secret));
    CHECK_STATUS(M2FA_SECRET_TOO_SHORT, m2fa_secret_from_bytes(raw, 0, &secret));
    CHECK_STATUS(M2FA_SECRET_TOO_LONG, m2fa_secret_from_bytes(raw, 129, &secret));
    /* An absurd length is refused before the bytes are touched. */
    CHECK_STATUS(M2FA_SECRET_TOO_LONG, m2fa_secret_from_bytes(raw, SIZE_MAX, &secret));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_secret_from_bytes(NULL, 20, &secret));
    CHECK(secret == SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_secret_from_bytes(raw, 20, NULL));
    for (size_t len = 16; len <= 128; len += 56) { /* 16, 72, 128 */
        m2fa_secret *copy = NULL;
        uint8_t back[128];
        CHECK_STATUS(M2FA_OK, m2fa_secret_from_bytes(raw, len, &copy));
        CHECK(secret_bytes(copy, back, sizeof back) == len);
        CHECK(memcmp(back, raw, len) == 0);
        m2fa_secret_free(copy);
    }

    /* The RFC seed: known base32, round trip through text and bytes. */
    m2fa_secret *seed = secret_from_text(SEED_SHA1);
    char *base32 = FETCH_TEXT(call_secret_to_base32, TEXT_ARGS(.secret = seed), M2FA_OK,
                              SEED_SHA1_BASE32);
    m2fa_secret *decoded = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_secret_from_base32(base32 ? base32 : "", &decoded));
    uint8_t back[128];
    CHECK(secret_bytes(decoded, back, sizeof back) == 20);
    CHECK(memcmp(back, SEED_SHA1, 20) == 0);
    m2fa_secret_free(decoded);
    free_wiped(base32);

    /* m2fa_secret_bytes: the protocol, counted in bytes rather than NUL-terminated text. */
    size_t needed = SENTINEL_SIZE;
    uint8_t buf[40];
    CHECK_STATUS(M2FA_BUFFER_TOO_SMALL, m2fa_secret_bytes(seed, NULL, 0, &needed));
    CHECK(needed == 20);
    memset(buf, SENTINEL_BYTE, sizeof buf);
    needed = SENTINEL_SIZE;
    CHECK_STATUS(M2FA_BUFFER_TOO_SMALL, m2fa_secret_bytes(seed, buf, 19, &needed));
    CHECK(needed == 20);
    CHECK(all_bytes_are(buf, sizeof buf, SENTINEL_BYTE));
    CHECK_STATUS(M2FA_BUFFER_TOO_SMALL, m2fa_secret_bytes(seed, buf, 0, &needed));
    CHECK(all_bytes_are(buf, sizeof buf, SENTINEL_BYTE));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_secret_bytes(seed, buf, sizeof buf, NULL));
    CHECK(all_bytes_are(buf, sizeof buf, SENTINEL_BYTE));
    needed = SENTINEL_SIZE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_secret_bytes(NULL, buf, sizeof buf, &needed));
    CHECK(needed == SENTINEL_SIZE);
    CHECK(all_bytes_are(buf, sizeof buf, SENTINEL_BYTE));
    CHECK_STATUS(M2FA_OK, m2fa_secret_bytes(seed, buf, 20, &needed));
    CHECK(needed == 20);
    CHECK(memcmp(buf, SEED_SHA1, 20) == 0);
    CHECK(all_bytes_are(buf + 20, sizeof buf - 20, SENTINEL_BYTE)); /* no NUL for bytes */

    CHECK_TEXT_ERROR(M2FA_NULL_ARGUMENT, call_secret_to_base32, TEXT_ARGS(.secret = NULL));
    m2fa_secret_free(seed);

    /* Base32 input as people type it: lower case, groups, padding. */
    static const char *const accepted[] = {
        SEED_SHA1_BASE32,
        "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
        "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
        "GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ",
        "GEZDGNBV GY3TQOJQ-gezdgnbv gy3tqojq",
    };
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        m2fa_secret *parsed = NULL;
        CHECK_STATUS(M2FA_OK, m2fa_secret_from_base32(accepted[i], &parsed));
        CHECK(secret_bytes(parsed, back, sizeof back) == 20);
        CHECK(memcmp(back, SEED_SHA1, 20) == 0);
        m2fa_secret_free(parsed);
    }
    /* 16 bytes are 26 symbols: padded to 32 with six '=', or unpadded. */
    m2fa_secret *sixteen = secret_from_text("0123456789abcdef");
    char *unpadded = FETCH_TEXT(call_secret_to_base32, TEXT_ARGS(.secret = sixteen),
                                M2FA_OK, NULL);
    if (CHECK(unpadded != NULL && strlen(unpadded) == 26)) {
        char padded[40];
        snprintf(padded, sizeof padded, "%s======", unpadded);
        m2fa_secret *parsed = NULL;
        CHECK_STATUS(M2FA_OK, m2fa_secret_from_base32(padded, &parsed));
        CHECK(secret_bytes(parsed, back, sizeof back) == 16);
        CHECK(memcmp(back, "0123456789abcdef", 16) == 0);
        m2fa_secret_free(parsed);
        snprintf(padded, sizeof padded, "%s=====", unpadded); /* one '=' short */
        CHECK_STATUS(M2FA_INVALID_BASE32, m2fa_secret_from_base32(padded, &secret));
    }
    free_wiped(unpadded);
    m2fa_secret_free(sixteen);

    static const char *const rejected[] = {
        "",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1",    /* '1' is not base32 */
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ0",    /* nor '0' */
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ!",
        "GEZD  GNBVGY3TQOJQGEZDGNBVGY3TQOJQ",  /* two separators */
        " GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",   /* leading separator */
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ ",   /* trailing separator */
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n",
        "GEZD_GNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ=",   /* padding after a full block */
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQA",   /* 33 symbols: not whole bytes */
        /* full-width 'Ａ' */
        "\xef\xbc\xa1" "EZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
    };
    for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++) {
        if (!CHECK_STATUS(M2FA_INVALID_BASE32, m2fa_secret_from_base32(rejected[i], &secret))) {
            fprintf(stderr, "    input: \"%s\"\n", rejected[i]);
        }
    }
    CHECK_STATUS(M2FA_SECRET_TOO_SHORT, m2fa_secret_from_base32("JBSWY3DPEHPK3PXP", &secret));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_secret_from_base32(not_utf8, &secret));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_secret_from_base32(NULL, &secret));
    CHECK(secret == SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_secret_from_base32(SEED_SHA1_BASE32, NULL));
    /* 129 bytes of base32 ("A" decodes to zero bits): too long. */
    char long_base32[240];
    memset(long_base32, 'A', 207); /* 207 symbols = 129 bytes and 3 bits */
    long_base32[207] = '\0';
    CHECK_STATUS(M2FA_SECRET_TOO_LONG, m2fa_secret_from_base32(long_base32, &secret));
    CHECK(secret == SENTINEL_HANDLE);
}

/* ------------------------------------------------------------------------
 * m2fa_otp_config
 * ------------------------------------------------------------------------ */

struct config_values {
    uint32_t algorithm, digits, window;
    uint64_t period, t0;
};

static struct config_values read_config(const m2fa_otp_config *config)
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

static bool same_values(struct config_values a, struct config_values b)
{
    return a.algorithm == b.algorithm && a.digits == b.digits && a.period == b.period &&
           a.t0 == b.t0 && a.window == b.window;
}

static void test_config(void)
{
    section = "config";
    m2fa_otp_config *config = NULL;
    if (!CHECK_STATUS(M2FA_OK, m2fa_otp_config_new(&config))) {
        return;
    }

    /* The defaults every authenticator app assumes. */
    struct config_values v = read_config(config);
    CHECK(v.algorithm == M2FA_ALGORITHM_SHA1);
    CHECK(v.digits == 6);
    CHECK(v.period == 30);
    CHECK(v.t0 == 0);
    CHECK(v.window == 1);

    /* Every valid value is stored and read back. */
    static const uint32_t algorithms[] = {M2FA_ALGORITHM_SHA256, M2FA_ALGORITHM_SHA512,
                                          M2FA_ALGORITHM_SHA1};
    for (size_t i = 0; i < 3; i++) {
        CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_algorithm(config, algorithms[i]));
        CHECK(read_config(config).algorithm == algorithms[i]);
    }
    for (uint32_t digits = 6; digits <= 10; digits++) {
        CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_digits(config, digits));
        CHECK(read_config(config).digits == digits);
    }
    static const uint64_t periods[] = {1, 60, M2FA_MAX_PERIOD, 30};
    for (size_t i = 0; i < 4; i++) {
        CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_period(config, periods[i]));
        CHECK(read_config(config).period == periods[i]);
    }
    static const uint64_t t0s[] = {1, 1700000000, UINT64_MAX, 0};
    for (size_t i = 0; i < 4; i++) {
        CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_t0(config, t0s[i]));
        CHECK(read_config(config).t0 == t0s[i]);
    }
    static const uint32_t windows[] = {0, 2, M2FA_MAX_WINDOW, 1};
    for (size_t i = 0; i < 4; i++) {
        CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_window(config, windows[i]));
        CHECK(read_config(config).window == windows[i]);
    }

    /* A distinctive valid state; every refused update must leave it as is. */
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_algorithm(config, M2FA_ALGORITHM_SHA512));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_digits(config, 8));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_period(config, 45));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_t0(config, 1000));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_window(config, 3));
    const struct config_values before = read_config(config);

    static const uint32_t bad_algorithms[] = {0, 4, 5, 0x100, UINT32_MAX};
    for (size_t i = 0; i < sizeof bad_algorithms / sizeof bad_algorithms[0]; i++) {
        CHECK_STATUS(M2FA_UNKNOWN_ENUM_VALUE,
                     m2fa_otp_config_set_algorithm(config, bad_algorithms[i]));
    }
    static const uint32_t bad_digits[] = {0, 5, 11, 256 + 6, UINT32_MAX};
    for (size_t i = 0; i < sizeof bad_digits / sizeof bad_digits[0]; i++) {
        CHECK_STATUS(M2FA_INVALID_DIGITS, m2fa_otp_config_set_digits(config, bad_digits[i]));
    }
    CHECK_STATUS(M2FA_INVALID_PERIOD, m2fa_otp_config_set_period(config, 0));
    CHECK_STATUS(M2FA_INVALID_PERIOD, m2fa_otp_config_set_period(config, M2FA_MAX_PERIOD + 1));
    CHECK_STATUS(M2FA_INVALID_PERIOD, m2fa_otp_config_set_period(config, UINT64_MAX));
    CHECK_STATUS(M2FA_INVALID_WINDOW, m2fa_otp_config_set_window(config, M2FA_MAX_WINDOW + 1));
    CHECK_STATUS(M2FA_INVALID_WINDOW, m2fa_otp_config_set_window(config, UINT32_MAX));
    CHECK(same_values(read_config(config), before));

    /* NULL config for every setter and getter; NULL out for every getter,
     * and a getter's out left alone when the config is NULL. */
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_otp_config_new(NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_otp_config_set_algorithm(NULL, M2FA_ALGORITHM_SHA1));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_otp_config_set_digits(NULL, 6));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_otp_config_set_period(NULL, 30));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_otp_config_set_t0(NULL, 0));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_otp_config_set_window(NULL, 1));
    uint32_t u32 = SENTINEL_U32;
    uint64_t u64 = SENTINEL_U64;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_otp_config_algorithm(NULL, &u32));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_otp_config_digits(NULL, &u32));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_otp_config_window(NULL, &u32));
    CHECK(u32 == SENTINEL_U32);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_otp_config_period(NULL, &u64));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_otp_config_t0(NULL, &u64));
    CHECK(u64 == SENTINEL_U64);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_otp_config_algorithm(config, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_otp_config_digits(config, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_otp_config_period(config, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_otp_config_t0(config, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_otp_config_window(config, NULL));
    CHECK(same_values(read_config(config), before));

    m2fa_otp_config_free(config);
}

/* ------------------------------------------------------------------------
 * TOTP: known answers, steps, T0
 * ------------------------------------------------------------------------ */

static void test_totp_known_answers(void)
{
    section = "totp known answers";
    m2fa_totp *sha1 = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 8, 30, 0, 1);
    m2fa_totp *sha256 = new_totp(SEED_SHA256, M2FA_ALGORITHM_SHA256, 8, 30, 0, 1);
    m2fa_totp *sha512 = new_totp(SEED_SHA512, M2FA_ALGORITHM_SHA512, 8, 30, 0, 1);

    for (size_t i = 0; i < sizeof rfc6238 / sizeof rfc6238[0]; i++) {
        char code[CODE_SIZE];
        CHECK_STATUS(M2FA_OK, totp_code(sha1, rfc6238[i].time, code));
        CHECK_STR(code, rfc6238[i].sha1);
        CHECK_STATUS(M2FA_OK, totp_code(sha256, rfc6238[i].time, code));
        CHECK_STR(code, rfc6238[i].sha256);
        CHECK_STATUS(M2FA_OK, totp_code(sha512, rfc6238[i].time, code));
        CHECK_STR(code, rfc6238[i].sha512);

        uint64_t step = SENTINEL_U64;
        CHECK_STATUS(M2FA_OK, m2fa_totp_step(sha1, rfc6238[i].time, &step));
        CHECK(step == rfc6238[i].step);
    }
    /* The full protocol once, with the header's "at most 11 bytes". */
    free(FETCH_TEXT(call_totp_generate, TEXT_ARGS(.totp = sha1, .number = 59), M2FA_OK,
                    "94287082"));

    /* Without a config: the defaults (SHA-1, 6 digits, 30 s). The secret is
     * copied, so it may be freed right away. */
    m2fa_secret *secret = secret_from_text(SEED_SHA1);
    m2fa_totp *defaults = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_totp_new(secret, NULL, &defaults));
    m2fa_secret_free(secret);
    char code[CODE_SIZE];
    CHECK_STATUS(M2FA_OK, totp_code(defaults, 59, code));
    CHECK_STR(code, "287082"); /* the last six digits of 94287082 */
    CHECK_STATUS(M2FA_OK, totp_code(defaults, 1111111109, code));
    CHECK_STR(code, "081804");

    /* A config changed after m2fa_totp_new does not affect the credential. */
    secret = secret_from_text(SEED_SHA1);
    m2fa_otp_config *config = new_config(M2FA_ALGORITHM_SHA1, 8, 30, 0, 1);
    m2fa_totp *copied = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_totp_new(secret, config, &copied));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_digits(config, 6));
    CHECK_STATUS(M2FA_OK, m2fa_otp_config_set_algorithm(config, M2FA_ALGORITHM_SHA256));
    m2fa_otp_config_free(config);
    m2fa_secret_free(secret);
    CHECK_STATUS(M2FA_OK, totp_code(copied, 59, code));
    CHECK_STR(code, "94287082");
    m2fa_totp_free(copied);

    /* 10 digits: leading zeros kept, 11 bytes with the NUL. */
    m2fa_totp *ten = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 10, 30, 0, 1);
    CHECK_STATUS(M2FA_OK, totp_code(ten, 59, code)); /* step 1 = HOTP counter 1 */
    CHECK_STR(code, rfc4226_ten[1]);
    CHECK_STATUS(M2FA_OK, totp_code(ten, 60, code)); /* step 2 */
    CHECK_STR(code, rfc4226_ten[2]);
    free(FETCH_TEXT(call_totp_generate, TEXT_ARGS(.totp = ten, .number = 60), M2FA_OK,
                    "0137359152"));
    m2fa_totp_free(ten);

    /* Period and T0 move the steps: T0 = 1000, period 60. */
    m2fa_totp *shifted = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 8, 60, 1000, 1);
    uint64_t step = SENTINEL_U64;
    CHECK_STATUS(M2FA_OK, m2fa_totp_step(shifted, 1000, &step));
    CHECK(step == 0);
    CHECK_STATUS(M2FA_OK, m2fa_totp_step(shifted, 1000 + 59, &step));
    CHECK(step == 0);
    CHECK_STATUS(M2FA_OK, m2fa_totp_step(shifted, 1000 + 60, &step));
    CHECK(step == 1);
    CHECK_STATUS(M2FA_OK, totp_code(shifted, 1000 + 60, code)); /* step 1, like t = 59 above */
    CHECK_STR(code, "94287082");

    /* Before T0: refused, out-parameters untouched. */
    step = SENTINEL_U64;
    CHECK_STATUS(M2FA_TIME_BEFORE_T0, m2fa_totp_step(shifted, 999, &step));
    CHECK_STATUS(M2FA_TIME_BEFORE_T0, m2fa_totp_step(shifted, 0, &step));
    CHECK(step == SENTINEL_U64);
    CHECK_TEXT_ERROR(M2FA_TIME_BEFORE_T0, call_totp_generate,
                     TEXT_ARGS(.totp = shifted, .number = 999));
    uint64_t matched = SENTINEL_U64;
    uint64_t after = 0;
    CHECK_STATUS(M2FA_TIME_BEFORE_T0, m2fa_totp_verify(shifted, "94287082", 999, &matched));
    CHECK_STATUS(M2FA_TIME_BEFORE_T0,
                 m2fa_totp_verify_after(shifted, "94287082", 999, 0, &matched));
    CHECK_STATUS(M2FA_TIME_BEFORE_T0,
                 m2fa_totp_verify_window(shifted, "94287082", 999, 5, &after, &matched));
    CHECK(matched == SENTINEL_U64);
    m2fa_totp_free(shifted);

    /* Step boundaries: step 0 starts at T0, step n at T0 + n * period; a
     * start beyond 64 bits is an error, nothing is written. */
    m2fa_totp *starts = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 6, 60, 1000, 1);
    uint64_t start = SENTINEL_U64;
    CHECK_STATUS(M2FA_OK, m2fa_totp_step_start(starts, 0, &start));
    CHECK(start == 1000);
    CHECK_STATUS(M2FA_OK, m2fa_totp_step_start(starts, 2, &start));
    CHECK(start == 1120);
    start = SENTINEL_U64;
    CHECK_STATUS(M2FA_COUNTER_OUT_OF_RANGE, m2fa_totp_step_start(starts, UINT64_MAX / 60, &start));
    CHECK(start == SENTINEL_U64);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_step_start(NULL, 0, &start));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_step_start(starts, 0, NULL));
    CHECK(start == SENTINEL_U64);
    m2fa_totp_free(starts);

    /* The far end of time: period 1, t = UINT64_MAX is step UINT64_MAX, and
     * a window of ±2 around it must stop there instead of wrapping to 0. */
    m2fa_totp *edge = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 6, 1, 0, 2);
    CHECK_STATUS(M2FA_OK, m2fa_totp_step(edge, UINT64_MAX, &step));
    CHECK(step == UINT64_MAX);
    CHECK_STATUS(M2FA_OK, totp_code(edge, UINT64_MAX, code));
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify(edge, code, UINT64_MAX, &matched));
    CHECK(matched == UINT64_MAX);
    CHECK_STATUS(M2FA_CODE_MISMATCH,
                 m2fa_totp_verify_after(edge, code, UINT64_MAX, UINT64_MAX, &matched));
    m2fa_totp_free(edge);

    m2fa_totp_free(defaults);
    m2fa_totp_free(sha512);
    m2fa_totp_free(sha256);
    m2fa_totp_free(sha1);
}

/* ------------------------------------------------------------------------
 * TOTP verification: windows, replays, malformed codes
 * ------------------------------------------------------------------------ */

static void test_totp_verify(void)
{
    section = "totp verify";
    const uint64_t now = 1111111109; /* step 37037036, code 081804 */
    const uint64_t step = 37037036;
    m2fa_totp *totp = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 6, 30, 0, 1);

    /* codes[k] is the code of step + k - 3, for k = 0..6 (steps -3..+3);
     * all seven differ, or the window checks below could pass by accident. */
    char codes[7][CODE_SIZE];
    for (int k = 0; k < 7; k++) {
        CHECK_STATUS(M2FA_OK, totp_code(totp, now + (uint64_t)k * 30 - 90, codes[k]));
        for (int j = 0; j < k; j++) {
            CHECK(strcmp(codes[j], codes[k]) != 0);
        }
    }
#define CODE_AT(offset) codes[(offset) + 3]
    CHECK_STR(CODE_AT(0), "081804");

    /* Within ±1 step: accepted, with the step that matched. */
    for (int offset = -1; offset <= 1; offset++) {
        uint64_t matched = SENTINEL_U64;
        CHECK_STATUS(M2FA_OK, m2fa_totp_verify(totp, CODE_AT(offset), now, &matched));
        CHECK(matched == step + (uint64_t)(int64_t)offset);
    }
    /* ±2 and ±3: refused as a plain mismatch, matched_step untouched. */
    static const int outside[] = {-3, -2, 2, 3};
    for (size_t i = 0; i < 4; i++) {
        uint64_t matched = SENTINEL_U64;
        CHECK_STATUS(M2FA_CODE_MISMATCH,
                     m2fa_totp_verify(totp, CODE_AT(outside[i]), now, &matched));
        CHECK(matched == SENTINEL_U64);
    }
    uint64_t matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_CODE_MISMATCH, m2fa_totp_verify(totp, "000000", now, &matched));
    CHECK(matched == SENTINEL_U64);

    /* Replay protection: store the matched step, then pass it back. */
    uint64_t last = SENTINEL_U64;
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify(totp, CODE_AT(0), now, &last));
    CHECK(last == step);
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_CODE_MISMATCH, m2fa_totp_verify_after(totp, CODE_AT(0), now, last, &matched));
    CHECK_STATUS(M2FA_CODE_MISMATCH,
                 m2fa_totp_verify_after(totp, CODE_AT(-1), now, last, &matched)); /* older */
    CHECK(matched == SENTINEL_U64);
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify_after(totp, CODE_AT(1), now, last, &matched));
    CHECK(matched == step + 1);
    /* Nothing is after the last possible step. */
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_CODE_MISMATCH,
                 m2fa_totp_verify_after(totp, CODE_AT(1), now, UINT64_MAX, &matched));
    CHECK(matched == SENTINEL_U64);
    /* A last step far in the past does not restrict anything. */
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify_after(totp, CODE_AT(-1), now, 0, &matched));
    CHECK(matched == step - 1);

    /* The general form: an explicit window, an optional lower bound. */
    char far[CODE_SIZE];
    CHECK_STATUS(M2FA_OK, totp_code(totp, now + 10 * 30, far)); /* 10 steps ahead */
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_CODE_MISMATCH, m2fa_totp_verify(totp, far, now, &matched));
    CHECK_STATUS(M2FA_CODE_MISMATCH, m2fa_totp_verify_window(totp, far, now, 9, NULL, &matched));
    CHECK(matched == SENTINEL_U64);
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify_window(totp, far, now, 10, NULL, &matched));
    CHECK(matched == step + 10);
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_OK,
                 m2fa_totp_verify_window(totp, far, now, M2FA_MAX_WINDOW, NULL, &matched));
    CHECK(matched == step + 10);
    uint64_t after = step + 9;
    CHECK_STATUS(M2FA_OK,
                 m2fa_totp_verify_window(totp, far, now, M2FA_MAX_WINDOW, &after, &matched));
    CHECK(matched == step + 10);
    after = step + 10; /* that step was used: refused */
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_CODE_MISMATCH,
                 m2fa_totp_verify_window(totp, far, now, M2FA_MAX_WINDOW, &after, &matched));
    CHECK(matched == SENTINEL_U64);
    CHECK(after == step + 10); /* read, never written */
    /* The edge of the largest window, 50 steps back. */
    char oldest[CODE_SIZE];
    CHECK_STATUS(M2FA_OK, totp_code(totp, now - 50 * 30, oldest));
    CHECK_STATUS(M2FA_OK,
                 m2fa_totp_verify_window(totp, oldest, now, M2FA_MAX_WINDOW, NULL, &matched));
    CHECK(matched == step - 50);
    /* Window 0: the current step only. */
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify_window(totp, CODE_AT(0), now, 0, NULL, &matched));
    CHECK(matched == step);
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_CODE_MISMATCH,
                 m2fa_totp_verify_window(totp, CODE_AT(1), now, 0, NULL, &matched));
    /* Windows above M2FA_MAX_WINDOW are refused. */
    CHECK_STATUS(M2FA_INVALID_WINDOW, m2fa_totp_verify_window(totp, CODE_AT(0), now,
                                                              M2FA_MAX_WINDOW + 1, NULL, &matched));
    CHECK_STATUS(M2FA_INVALID_WINDOW,
                 m2fa_totp_verify_window(totp, CODE_AT(0), now, UINT32_MAX, NULL, &matched));
    CHECK(matched == SENTINEL_U64);

    /* Near step 0 the window does not wrap around. */
    char first[CODE_SIZE];
    CHECK_STATUS(M2FA_OK, totp_code(totp, 0, first));
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify(totp, first, 29, &matched));
    CHECK(matched == 0);

    /* The configured window is the one m2fa_totp_verify uses. */
    m2fa_totp *wide = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 6, 30, 0, 3);
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify(wide, CODE_AT(-3), now, &matched));
    CHECK(matched == step - 3);
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify_after(wide, CODE_AT(3), now, step, &matched));
    CHECK(matched == step + 3);
    m2fa_totp_free(wide);
    m2fa_totp *narrow = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 6, 30, 0, 0);
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_CODE_MISMATCH, m2fa_totp_verify(narrow, CODE_AT(-1), now, &matched));
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify(narrow, CODE_AT(0), now, &matched));
    CHECK(matched == step);
    m2fa_totp_free(narrow);
#undef CODE_AT

    /* Malformed codes: refused as such (never a mismatch), by every verifier. */
    for (size_t i = 0; i < MALFORMED_COUNT; i++) {
        const char *code = malformed_codes[i];
        matched = SENTINEL_U64;
        after = 0;
        bool ok = CHECK_STATUS(M2FA_MALFORMED_CODE, m2fa_totp_verify(totp, code, now, &matched));
        ok &= CHECK_STATUS(M2FA_MALFORMED_CODE,
                           m2fa_totp_verify_after(totp, code, now, 0, &matched));
        ok &= CHECK_STATUS(M2FA_MALFORMED_CODE,
                           m2fa_totp_verify_window(totp, code, now, 1, &after, &matched));
        ok &= CHECK(matched == SENTINEL_U64);
        if (!ok) {
            fprintf(stderr, "    malformed code #%zu: \"%s\"\n", i, code);
        }
    }
    /* An 8-digit credential refuses 6 digits, and vice versa. */
    m2fa_totp *eight = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 8, 30, 0, 1);
    CHECK_STATUS(M2FA_MALFORMED_CODE, m2fa_totp_verify(eight, "287082", 59, &matched));
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify(eight, "94287082", 59, &matched));
    CHECK(matched == 1);
    CHECK_STATUS(M2FA_MALFORMED_CODE, m2fa_totp_verify(totp, "94287082", 59, &matched));
    m2fa_totp_free(eight);

    /* Not UTF-8: its own status, before the code is looked at. */
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_totp_verify(totp, not_utf8, now, &matched));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_totp_verify(totp, not_utf8_six, now, &matched));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_totp_verify_after(totp, not_utf8, now, 0, &matched));
    CHECK_STATUS(M2FA_INVALID_UTF8,
                 m2fa_totp_verify_window(totp, not_utf8, now, 1, NULL, &matched));
    CHECK(matched == SENTINEL_U64);

    m2fa_totp_free(totp);
}

/* NULL for every pointer argument of the TOTP functions. The other arguments
 * are valid (and the code right), so only the NULL can be the reason. */
static void test_totp_null_arguments(void)
{
    section = "totp misuse";
    m2fa_secret *secret = secret_from_text(SEED_SHA1);
    m2fa_totp *totp = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_totp_new(secret, NULL, &totp));

    m2fa_totp *out = SENTINEL_HANDLE;
    m2fa_otp_config *config = new_config(M2FA_ALGORITHM_SHA1, 6, 30, 0, 1);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_new(NULL, config, &out));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_new(NULL, NULL, &out));
    CHECK(out == SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_new(secret, config, NULL));
    m2fa_otp_config_free(config);

    const char *code = "081804";
    const uint64_t now = 1111111109;
    CHECK_TEXT_ERROR(M2FA_NULL_ARGUMENT, call_totp_generate,
                     TEXT_ARGS(.totp = NULL, .number = now));

    uint64_t step = SENTINEL_U64;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_step(NULL, now, &step));
    CHECK(step == SENTINEL_U64);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_step(totp, now, NULL));

    uint64_t matched = SENTINEL_U64;
    uint64_t after = 0;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_verify(NULL, code, now, &matched));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_verify(totp, NULL, now, &matched));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_verify(totp, code, now, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_verify_after(NULL, code, now, 0, &matched));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_verify_after(totp, NULL, now, 0, &matched));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_verify_after(totp, code, now, 0, NULL));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_totp_verify_window(NULL, code, now, 1, &after, &matched));
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_totp_verify_window(totp, NULL, now, 1, &after, &matched));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_totp_verify_window(totp, code, now, 1, &after, NULL));
    CHECK(matched == SENTINEL_U64);
    /* ...while the same calls with every pointer set succeed. */
    CHECK_STATUS(M2FA_OK, m2fa_totp_verify_window(totp, code, now, 1, &after, &matched));
    CHECK(matched == 37037036);

    m2fa_totp_free(totp);
    m2fa_secret_free(secret);
}

/* ------------------------------------------------------------------------
 * HOTP
 * ------------------------------------------------------------------------ */

static void test_hotp(void)
{
    section = "hotp";
    m2fa_hotp *hotp = new_hotp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 6);

    /* RFC 4226 Appendix D, and each code found again by m2fa_hotp_verify. */
    for (uint64_t counter = 0; counter < 10; counter++) {
        char code[CODE_SIZE];
        CHECK_STATUS(M2FA_OK, hotp_code(hotp, counter, code));
        CHECK_STR(code, rfc4226_six[counter]);
        uint64_t matched = SENTINEL_U64;
        CHECK_STATUS(M2FA_OK, m2fa_hotp_verify(hotp, rfc4226_six[counter], counter, 0, &matched));
        CHECK(matched == counter);
        /* Look-ahead from 0: the token was pressed `counter` times unseen. */
        matched = SENTINEL_U64;
        CHECK_STATUS(M2FA_OK, m2fa_hotp_verify(hotp, rfc4226_six[counter], 0, 9, &matched));
        CHECK(matched == counter);
    }
    free(FETCH_TEXT(call_hotp_generate, TEXT_ARGS(.hotp = hotp, .number = 0), M2FA_OK,
                    "755224"));

    /* Look-ahead bounds: counter..counter+look_ahead, never behind. */
    uint64_t matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_CODE_MISMATCH, m2fa_hotp_verify(hotp, rfc4226_six[5], 0, 4, &matched));
    CHECK_STATUS(M2FA_CODE_MISMATCH, m2fa_hotp_verify(hotp, rfc4226_six[5], 6, 3, &matched));
    CHECK_STATUS(M2FA_CODE_MISMATCH, m2fa_hotp_verify(hotp, "000000", 0, 9, &matched));
    CHECK(matched == SENTINEL_U64);
    CHECK_STATUS(M2FA_OK, m2fa_hotp_verify(hotp, rfc4226_six[5], 0, 5, &matched));
    CHECK(matched == 5);
    CHECK_STATUS(M2FA_OK, m2fa_hotp_verify(hotp, rfc4226_six[2], 2, M2FA_MAX_WINDOW, &matched));
    CHECK(matched == 2);
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_INVALID_WINDOW,
                 m2fa_hotp_verify(hotp, rfc4226_six[2], 0, M2FA_MAX_WINDOW + 1, &matched));
    CHECK_STATUS(M2FA_INVALID_WINDOW,
                 m2fa_hotp_verify(hotp, rfc4226_six[2], 0, UINT32_MAX, &matched));
    CHECK(matched == SENTINEL_U64);

    /* The top of the counter range: the look-ahead stops at UINT64_MAX. */
    char top[CODE_SIZE];
    CHECK_STATUS(M2FA_OK, hotp_code(hotp, UINT64_MAX, top));
    CHECK(strlen(top) == 6);
    CHECK_STATUS(M2FA_OK, m2fa_hotp_verify(hotp, top, UINT64_MAX - 2, 5, &matched));
    CHECK(matched == UINT64_MAX);
    CHECK_STATUS(M2FA_OK, m2fa_hotp_verify(hotp, top, UINT64_MAX, M2FA_MAX_WINDOW, &matched));
    CHECK(matched == UINT64_MAX);

    /* Malformed codes and bad UTF-8. */
    for (size_t i = 0; i < MALFORMED_COUNT; i++) {
        matched = SENTINEL_U64;
        if (!CHECK_STATUS(M2FA_MALFORMED_CODE,
                          m2fa_hotp_verify(hotp, malformed_codes[i], 0, 5, &matched)) ||
            !CHECK(matched == SENTINEL_U64)) {
            fprintf(stderr, "    malformed code #%zu: \"%s\"\n", i, malformed_codes[i]);
        }
    }
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_hotp_verify(hotp, not_utf8, 0, 5, &matched));
    CHECK_STATUS(M2FA_INVALID_UTF8, m2fa_hotp_verify(hotp, not_utf8_six, 0, 5, &matched));
    CHECK(matched == SENTINEL_U64);

    /* Of the config only algorithm and digits apply: period and T0 do not. */
    m2fa_secret *secret = secret_from_text(SEED_SHA1);
    m2fa_otp_config *config = new_config(M2FA_ALGORITHM_SHA1, 10, 7, 123456, 0);
    m2fa_hotp *ten = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_hotp_new(secret, config, &ten));
    m2fa_otp_config_free(config);
    for (uint64_t counter = 0; counter < 10; counter++) {
        char code[CODE_SIZE];
        CHECK_STATUS(M2FA_OK, hotp_code(ten, counter, code));
        CHECK_STR(code, rfc4226_ten[counter]);
    }
    free(FETCH_TEXT(call_hotp_generate, TEXT_ARGS(.hotp = ten, .number = 7), M2FA_OK,
                    "0082162583"));
    CHECK_STATUS(M2FA_OK, m2fa_hotp_verify(ten, "0082162583", 0, 10, &matched));
    CHECK(matched == 7);
    CHECK_STATUS(M2FA_MALFORMED_CODE, m2fa_hotp_verify(ten, "82162583", 0, 10, &matched));
    m2fa_hotp_free(ten);

    /* No config: the defaults (SHA-1, 6 digits). */
    m2fa_hotp *defaults = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_hotp_new(secret, NULL, &defaults));
    char code[CODE_SIZE];
    CHECK_STATUS(M2FA_OK, hotp_code(defaults, 1, code));
    CHECK_STR(code, "287082");
    m2fa_hotp_free(defaults);

    /* HOTP with SHA-256 is TOTP's inner function: counter = step. */
    m2fa_hotp *sha256 = new_hotp(SEED_SHA256, M2FA_ALGORITHM_SHA256, 8);
    CHECK_STATUS(M2FA_OK, hotp_code(sha256, 1, code));
    CHECK_STR(code, rfc6238[0].sha256);
    CHECK_STATUS(M2FA_OK, hotp_code(sha256, rfc6238[1].step, code));
    CHECK_STR(code, rfc6238[1].sha256);
    m2fa_hotp_free(sha256);
    m2fa_hotp *sha512 = new_hotp(SEED_SHA512, M2FA_ALGORITHM_SHA512, 8);
    CHECK_STATUS(M2FA_OK, hotp_code(sha512, rfc6238[5].step, code));
    CHECK_STR(code, rfc6238[5].sha512);
    m2fa_hotp_free(sha512);

    /* NULL for every pointer argument. */
    m2fa_hotp *out = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_hotp_new(NULL, NULL, &out));
    CHECK(out == SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_hotp_new(secret, NULL, NULL));
    CHECK_TEXT_ERROR(M2FA_NULL_ARGUMENT, call_hotp_generate,
                     TEXT_ARGS(.hotp = NULL, .number = 0));
    matched = SENTINEL_U64;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_hotp_verify(NULL, "755224", 0, 1, &matched));
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_hotp_verify(hotp, NULL, 0, 1, &matched));
    CHECK(matched == SENTINEL_U64);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_hotp_verify(hotp, "755224", 0, 1, NULL));

    m2fa_secret_free(secret);
    m2fa_hotp_free(hotp);
}

/* ------------------------------------------------------------------------
 * Key URIs
 * ------------------------------------------------------------------------ */

#define URI_QUERY_SEED "?secret=" SEED_SHA1_BASE32

/* What a parsed URI must read back as. */
struct expected_uri {
    uint32_t kind;
    const char *issuer; /* "" for none */
    const char *account;
    const char *seed;
    struct config_values config;
    uint64_t counter; /* HOTP only */
};

static void check_parsed_uri(const m2fa_key_uri *uri, const struct expected_uri *want)
{
    uint32_t kind = SENTINEL_U32;
    CHECK_STATUS(M2FA_OK, m2fa_key_uri_kind(uri, &kind));
    CHECK(kind == want->kind);
    free(FETCH_TEXT(call_key_uri_issuer, TEXT_ARGS(.uri = uri), M2FA_OK, want->issuer));
    free(FETCH_TEXT(call_key_uri_account, TEXT_ARGS(.uri = uri), M2FA_OK,
                    want->account));

    m2fa_secret *secret = SENTINEL_HANDLE;
    uint8_t bytes[128];
    if (CHECK_STATUS(M2FA_OK, m2fa_key_uri_secret(uri, &secret))) {
        CHECK(secret_bytes(secret, bytes, sizeof bytes) == strlen(want->seed));
        CHECK(memcmp(bytes, want->seed, strlen(want->seed)) == 0);
        m2fa_secret_free(secret);
    }

    m2fa_otp_config *config = SENTINEL_HANDLE;
    if (CHECK_STATUS(M2FA_OK, m2fa_key_uri_config(uri, &config))) {
        CHECK(same_values(read_config(config), want->config));
        m2fa_otp_config_free(config);
    }

    uint64_t counter = SENTINEL_U64;
    if (want->kind == M2FA_OTP_KIND_HOTP) {
        CHECK_STATUS(M2FA_OK, m2fa_key_uri_counter(uri, &counter));
        CHECK(counter == want->counter);
    } else {
        CHECK_STATUS(M2FA_INVALID_ARGUMENT, m2fa_key_uri_counter(uri, &counter));
        CHECK(counter == SENTINEL_U64);
    }
}

/* Parses `text` and checks what it reads back as. */
static void check_uri_text(const char *text, const struct expected_uri *want)
{
    m2fa_key_uri *uri = SENTINEL_HANDLE;
    if (text != NULL && CHECK_STATUS(M2FA_OK, m2fa_key_uri_parse(text, &uri))) {
        check_parsed_uri(uri, want);
        m2fa_key_uri_free(uri);
    } else if (text != NULL) {
        fprintf(stderr, "    URI: %s\n", text);
    }
}

static void test_key_uris(void)
{
    section = "key uri";
    m2fa_secret *secret = secret_from_text(SEED_SHA1);
    const struct config_values defaults = {M2FA_ALGORITHM_SHA1, 6, 1, 30, 0};

    /* TOTP, with an issuer, default config. */
    const char *totp_text = "otpauth://totp/Example%20Mail:alice@example.com" URI_QUERY_SEED
                            "&issuer=Example%20Mail&algorithm=SHA1&digits=6&period=30";
    char *built = FETCH_TEXT(call_key_uri_totp,
                             TEXT_ARGS(.secret = secret,
                                       .issuer = "Example Mail",
                                       .account = "alice@example.com"),
                             M2FA_OK, totp_text);
    struct expected_uri want = {M2FA_OTP_KIND_TOTP, "Example Mail", "alice@example.com",
                                SEED_SHA1, defaults, 0};
    check_uri_text(built, &want);
    free_wiped(built);

    /* TOTP without an issuer; a config with every URI parameter changed.
     * T0 and window are not part of the format: they read back as 0 and 1. */
    m2fa_otp_config *config = new_config(M2FA_ALGORITHM_SHA256, 8, 60, 1000, 5);
    built = FETCH_TEXT(call_key_uri_totp,
                       TEXT_ARGS(.secret = secret, .config = config, .account = "bob"),
                       M2FA_OK,
                       "otpauth://totp/bob" URI_QUERY_SEED "&algorithm=SHA256&digits=8&period=60");
    want = (struct expected_uri){M2FA_OTP_KIND_TOTP, "", "bob", SEED_SHA1,
                                 {M2FA_ALGORITHM_SHA256, 8, 1, 60, 0}, 0};
    check_uri_text(built, &want);
    free_wiped(built);

    /* HOTP with an issuer: the counter instead of a period. */
    built = FETCH_TEXT(call_key_uri_hotp,
                       TEXT_ARGS(.secret = secret,
                                 .issuer = "Example Mail",
                                 .account = "carol",
                                 .number = 42),
                       M2FA_OK,
                       "otpauth://hotp/Example%20Mail:carol" URI_QUERY_SEED
                       "&issuer=Example%20Mail&algorithm=SHA1&digits=6&counter=42");
    want = (struct expected_uri){M2FA_OTP_KIND_HOTP, "Example Mail", "carol", SEED_SHA1,
                                 defaults, 42};
    check_uri_text(built, &want);
    free_wiped(built);

    /* HOTP without an issuer, largest counter; the config's period is not
     * written (and reads back as the default 30). */
    built = FETCH_TEXT(call_key_uri_hotp,
                       TEXT_ARGS(.secret = secret,
                                 .config = config,
                                 .account = "dave",
                                 .number = UINT64_MAX),
                       M2FA_OK,
                       "otpauth://hotp/dave" URI_QUERY_SEED
                       "&algorithm=SHA256&digits=8&counter=18446744073709551615");
    want = (struct expected_uri){M2FA_OTP_KIND_HOTP, "", "dave", SEED_SHA1,
                                 {M2FA_ALGORITHM_SHA256, 8, 1, 30, 0}, UINT64_MAX};
    check_uri_text(built, &want);
    free_wiped(built);
    m2fa_otp_config_free(config);

    /* Reserved and non-ASCII characters are percent-encoded and come back. */
    built = FETCH_TEXT(call_key_uri_totp,
                       TEXT_ARGS(.secret = secret,
                                 .issuer = "Caf\xc3\xa9 & Co/100%",
                                 .account = "a+b?c=d#e@example.com"),
                       M2FA_OK,
                       "otpauth://totp/Caf%C3%A9%20%26%20Co%2F100%25:a%2Bb%3Fc%3Dd%23e@example.com"
                       URI_QUERY_SEED "&issuer=Caf%C3%A9%20%26%20Co%2F100%25"
                       "&algorithm=SHA1&digits=6&period=30");
    want = (struct expected_uri){M2FA_OTP_KIND_TOTP, "Caf\xc3\xa9 & Co/100%",
                                 "a+b?c=d#e@example.com", SEED_SHA1, defaults, 0};
    check_uri_text(built, &want);
    free_wiped(built);

    /* URIs as other software writes them: upper-case scheme, encoded colon,
     * a space after it, '+' for a space in the query, lower-case secret,
     * parameters in another order, an unknown parameter. */
    want = (struct expected_uri){M2FA_OTP_KIND_TOTP, "Big Corp", "alice", SEED_SHA1,
                                 {M2FA_ALGORITHM_SHA512, 6, 1, 30, 0}, 0};
    check_uri_text("OTPAUTH://TOTP/Big%20Corp%3A%20alice?algorithm=sha512"
                   "&secret=gezdgnbvgy3tqojqgezdgnbvgy3tqojq&issuer=Big+Corp"
                   "&image=https%3A%2F%2Fexample.com%2Flogo.png",
                   &want);
    /* The issuer only as a parameter. */
    want = (struct expected_uri){M2FA_OTP_KIND_TOTP, "Example", "alice", SEED_SHA1, defaults, 0};
    check_uri_text("otpauth://totp/alice" URI_QUERY_SEED "&issuer=Example", &want);

    /* A credential from a parsed URI makes the same codes as the original. */
    m2fa_key_uri *uri = NULL;
    CHECK_STATUS(M2FA_OK,
                 m2fa_key_uri_parse("otpauth://totp/x" URI_QUERY_SEED "&digits=8", &uri));
    m2fa_secret *parsed_secret = NULL;
    m2fa_otp_config *parsed_config = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_key_uri_secret(uri, &parsed_secret));
    CHECK_STATUS(M2FA_OK, m2fa_key_uri_config(uri, &parsed_config));
    m2fa_key_uri_free(uri);
    m2fa_totp *totp = NULL;
    CHECK_STATUS(M2FA_OK, m2fa_totp_new(parsed_secret, parsed_config, &totp));
    char code[CODE_SIZE];
    CHECK_STATUS(M2FA_OK, totp_code(totp, rfc6238[3].time, code));
    CHECK_STR(code, rfc6238[3].sha1);
    m2fa_totp_free(totp);
    m2fa_otp_config_free(parsed_config);
    m2fa_secret_free(parsed_secret);

    /* Spaces after the issuer's colon belong to the format, not the name. */
    want = (struct expected_uri){M2FA_OTP_KIND_TOTP, "x", "y", SEED_SHA1, defaults, 0};
    check_uri_text("otpauth://totp/x:%20%20y" URI_QUERY_SEED, &want);

    m2fa_secret_free(secret);
}

static void test_key_uri_errors(void)
{
    section = "key uri errors";
    m2fa_secret *secret = secret_from_text(SEED_SHA1);

    /* Labels that cannot be written: refused before anything is written. */
    static const struct {
        const char *issuer, *account;
    } bad_labels[] = {
        {"a:b", "alice"}, /* the issuer would split the label */
        {"Example", "a:b"},
        {"", "alice"}, /* a present issuer is never empty */
        {"Example", ""},
        {NULL, ""},
        {NULL, "a:b"},
        /* Surrounding white space could not survive a round trip (the format
         * drops spaces after the issuer's colon), so it is refused. */
        {"Ex", " bob"},
        {"Ex", "bob "},
        {" Ex", "bob"},
        {"Ex ", "bob"},
        {NULL, " bob"},
    };
    for (size_t i = 0; i < sizeof bad_labels / sizeof bad_labels[0]; i++) {
        struct text_args args = {.secret = secret,
                                 .issuer = bad_labels[i].issuer,
                                 .account = bad_labels[i].account};
        CHECK_TEXT_ERROR(M2FA_INVALID_LABEL, call_key_uri_totp, &args);
        CHECK_TEXT_ERROR(M2FA_INVALID_LABEL, call_key_uri_hotp, &args);
    }
    char long_account[300];
    memset(long_account, 'a', 257); /* the limit is 256 bytes */
    long_account[257] = '\0';
    CHECK_TEXT_ERROR(M2FA_INVALID_LABEL, call_key_uri_totp,
                     TEXT_ARGS(.secret = secret, .account = long_account));
    long_account[256] = '\0';
    char *built = FETCH_TEXT(call_key_uri_totp,
                             TEXT_ARGS(.secret = secret, .account = long_account),
                             M2FA_OK, NULL);
    free_wiped(built);

    /* Control characters anywhere in a name are a label error (in the
     * middle here: at either end they would be refused as surrounding white
     * space, which would hide a wrong status). */
    static const char *const control_names[] = {"b\nob", "b\x01ob", "b\x1b" "[31mob", "b\x7fob"};
    for (size_t i = 0; i < sizeof control_names / sizeof control_names[0]; i++) {
        char buf[256];
        size_t needed = SENTINEL_SIZE;
        CHECK_STATUS(M2FA_INVALID_LABEL, m2fa_key_uri_totp(secret, NULL, "Ex", control_names[i],
                                                           buf, sizeof buf, &needed));
        CHECK_STATUS(M2FA_INVALID_LABEL, m2fa_key_uri_hotp(secret, NULL, control_names[i], "bob",
                                                           0, buf, sizeof buf, &needed));
        /* Refused before anything is written. */
        CHECK(needed == SENTINEL_SIZE);
    }

    /* Not UTF-8, NULL. */
    CHECK_TEXT_ERROR(M2FA_INVALID_UTF8, call_key_uri_totp,
                     TEXT_ARGS(.secret = secret, .issuer = not_utf8, .account = "a"));
    CHECK_TEXT_ERROR(M2FA_INVALID_UTF8, call_key_uri_totp,
                     TEXT_ARGS(.secret = secret, .account = not_utf8));
    CHECK_TEXT_ERROR(M2FA_INVALID_UTF8, call_key_uri_hotp,
                     TEXT_ARGS(.secret = secret, .issuer = not_utf8, .account = "a"));
    CHECK_TEXT_ERROR(M2FA_INVALID_UTF8, call_key_uri_hotp,
                     TEXT_ARGS(.secret = secret, .account = not_utf8));
    CHECK_TEXT_ERROR(M2FA_NULL_ARGUMENT, call_key_uri_totp,
                     TEXT_ARGS(.secret = NULL, .account = "a"));
    CHECK_TEXT_ERROR(M2FA_NULL_ARGUMENT, call_key_uri_totp,
                     TEXT_ARGS(.secret = secret, .issuer = "Example", .account = NULL));
    CHECK_TEXT_ERROR(M2FA_NULL_ARGUMENT, call_key_uri_hotp,
                     TEXT_ARGS(.secret = NULL, .account = "a"));
    CHECK_TEXT_ERROR(M2FA_NULL_ARGUMENT, call_key_uri_hotp,
                     TEXT_ARGS(.secret = secret, .issuer = "Example", .account = NULL));

    /* Malformed URIs, each with the status that names what is wrong. */
    char too_long[4200];
    snprintf(too_long, sizeof too_long, "otpauth://totp/a" URI_QUERY_SEED "&x=");
    size_t used = strlen(too_long);
    memset(too_long + used, 'y', sizeof too_long - used - 1);
    too_long[sizeof too_long - 1] = '\0';

    /* Not static: it holds the address of too_long. */
    const struct {
        const char *text;
        m2fa_status status;
    } bad_uris[] = {
        {"http://totp/a" URI_QUERY_SEED, M2FA_INVALID_URI},
        {"otpauth:/totp/a" URI_QUERY_SEED, M2FA_INVALID_URI},
        {"otpauth://motp/a" URI_QUERY_SEED, M2FA_INVALID_URI},
        {"otpauth://totp", M2FA_INVALID_URI},
        {"", M2FA_INVALID_URI},
        {"otpauth://totp/a" URI_QUERY_SEED "#fragment", M2FA_INVALID_URI},
        {"otpauth://totp/a%00b" URI_QUERY_SEED, M2FA_INVALID_URI},
        {"otpauth://totp/a%zz" URI_QUERY_SEED, M2FA_INVALID_URI},
        {"otpauth://totp/a%2" URI_QUERY_SEED, M2FA_INVALID_URI},
        {"otpauth://totp/a%FF" URI_QUERY_SEED, M2FA_INVALID_URI}, /* decodes to bad UTF-8 */
        {"otpauth://totp/a" URI_QUERY_SEED "&issuer=%01", M2FA_INVALID_URI},
        {"otpauth://totp/a", M2FA_INVALID_URI},                   /* no secret */
        /* the secret twice */
        {"otpauth://totp/a" URI_QUERY_SEED "&secret=" SEED_SHA1_BASE32, M2FA_INVALID_URI},
        {"otpauth://totp/a" URI_QUERY_SEED "&digits=six", M2FA_INVALID_URI},
        {"otpauth://totp/a" URI_QUERY_SEED "&period=0", M2FA_INVALID_URI},
        {"otpauth://totp/a" URI_QUERY_SEED "&algorithm=MD5", M2FA_INVALID_URI},
        {"otpauth://totp/a" URI_QUERY_SEED "&counter=1", M2FA_INVALID_URI},
        {"otpauth://hotp/a" URI_QUERY_SEED, M2FA_INVALID_URI},    /* no counter */
        {"otpauth://hotp/a" URI_QUERY_SEED "&counter=1&period=30", M2FA_INVALID_URI},
        {"otpauth://hotp/a" URI_QUERY_SEED "&counter=-1", M2FA_INVALID_URI},
        {"otpauth://hotp/a" URI_QUERY_SEED "&counter=18446744073709551616", M2FA_INVALID_URI},
        {"otpauth://totp/a" URI_QUERY_SEED "&=x", M2FA_INVALID_URI},
        {too_long, M2FA_INVALID_URI},
        {"otpauth://totp/Example:alice" URI_QUERY_SEED "&issuer=Other", M2FA_URI_ISSUER_MISMATCH},
        {"otpauth://totp/Example:alice" URI_QUERY_SEED "&issuer=example",
         M2FA_URI_ISSUER_MISMATCH},
        {"otpauth://totp/a:b:c" URI_QUERY_SEED, M2FA_INVALID_LABEL},
        {"otpauth://totp/:alice" URI_QUERY_SEED, M2FA_INVALID_LABEL},
        {"otpauth://totp/Example:" URI_QUERY_SEED, M2FA_INVALID_LABEL},
        {"otpauth://totp/" URI_QUERY_SEED, M2FA_INVALID_LABEL},
        {"otpauth://totp/alice" URI_QUERY_SEED "&issuer=a%3Ab", M2FA_INVALID_LABEL},
        {"otpauth://totp/%20x" URI_QUERY_SEED, M2FA_INVALID_LABEL},
        {"otpauth://totp/x%20:y" URI_QUERY_SEED, M2FA_INVALID_LABEL},
        {"otpauth://totp/x:y%20" URI_QUERY_SEED, M2FA_INVALID_LABEL},
        {"otpauth://totp/y" URI_QUERY_SEED "&issuer=%20x", M2FA_INVALID_LABEL},
        {"otpauth://totp/a?secret=GEZD1", M2FA_INVALID_BASE32},
        {"otpauth://totp/a?secret=JBSWY3DPEHPK3PXP", M2FA_SECRET_TOO_SHORT}, /* 10 bytes */
        {"otpauth://totp/a" URI_QUERY_SEED "&digits=5", M2FA_INVALID_DIGITS},
        {"otpauth://totp/a" URI_QUERY_SEED "&digits=11", M2FA_INVALID_DIGITS},
        {not_utf8, M2FA_INVALID_UTF8},
        {"otpauth://totp/\xff" URI_QUERY_SEED, M2FA_INVALID_UTF8},
    };
    for (size_t i = 0; i < sizeof bad_uris / sizeof bad_uris[0]; i++) {
        m2fa_key_uri *uri = SENTINEL_HANDLE;
        bool ok = CHECK_STATUS(bad_uris[i].status, m2fa_key_uri_parse(bad_uris[i].text, &uri));
        ok &= CHECK(uri == SENTINEL_HANDLE);
        if (!ok) {
            fprintf(stderr, "    URI #%zu: %.200s\n", i, bad_uris[i].text);
            if (uri != SENTINEL_HANDLE) {
                m2fa_key_uri_free(uri);
            }
        }
    }
    /* A 129-byte secret is too long (and the URI still under 4096 bytes). */
    char long_secret[400];
    snprintf(long_secret, sizeof long_secret, "otpauth://totp/a?secret=");
    used = strlen(long_secret);
    memset(long_secret + used, 'A', 207);
    long_secret[used + 207] = '\0';
    m2fa_key_uri *uri = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_SECRET_TOO_LONG, m2fa_key_uri_parse(long_secret, &uri));
    CHECK(uri == SENTINEL_HANDLE);

    /* NULL for every pointer argument of the URI readers. */
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_key_uri_parse(NULL, &uri));
    CHECK(uri == SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_NULL_ARGUMENT,
                 m2fa_key_uri_parse("otpauth://hotp/a" URI_QUERY_SEED "&counter=7", NULL));

    m2fa_key_uri *hotp_uri = NULL;
    CHECK_STATUS(M2FA_OK,
                 m2fa_key_uri_parse("otpauth://hotp/a" URI_QUERY_SEED "&counter=7", &hotp_uri));
    uint32_t kind = SENTINEL_U32;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_key_uri_kind(NULL, &kind));
    CHECK(kind == SENTINEL_U32);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_key_uri_kind(hotp_uri, NULL));
    CHECK_TEXT_ERROR(M2FA_NULL_ARGUMENT, call_key_uri_issuer, TEXT_ARGS(.uri = NULL));
    CHECK_TEXT_ERROR(M2FA_NULL_ARGUMENT, call_key_uri_account, TEXT_ARGS(.uri = NULL));
    m2fa_secret *secret_out = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_key_uri_secret(NULL, &secret_out));
    CHECK(secret_out == SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_key_uri_secret(hotp_uri, NULL));
    m2fa_otp_config *config_out = SENTINEL_HANDLE;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_key_uri_config(NULL, &config_out));
    CHECK(config_out == SENTINEL_HANDLE);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_key_uri_config(hotp_uri, NULL));
    uint64_t counter = SENTINEL_U64;
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_key_uri_counter(NULL, &counter));
    CHECK(counter == SENTINEL_U64);
    CHECK_STATUS(M2FA_NULL_ARGUMENT, m2fa_key_uri_counter(hotp_uri, NULL));
    CHECK_STATUS(M2FA_OK, m2fa_key_uri_counter(hotp_uri, &counter));
    CHECK(counter == 7);
    m2fa_key_uri_free(hotp_uri);

    m2fa_secret_free(secret);
}

/* ------------------------------------------------------------------------
 * QR codes
 * ------------------------------------------------------------------------ */

/* Number of UTF-8 characters (code points) in `len` bytes. */
static size_t utf8_chars(const char *text, size_t len)
{
    size_t count = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)text[i] & 0xC0) != 0x80) {
            count++;
        }
    }
    return count;
}

static void test_qr(void)
{
    section = "qr";
    const char *uri = "otpauth://totp/Example:alice@example.com" URI_QUERY_SEED
                      "&issuer=Example&algorithm=SHA1&digits=6&period=30";

    char *svg = FETCH_TEXT(call_qr_svg, TEXT_ARGS(.text = uri), M2FA_OK, NULL);
    if (svg != NULL) {
        /* A document: the XML declaration or the svg element first. */
        CHECK(strncmp(svg, "<?xml", 5) == 0 || strncmp(svg, "<svg", 4) == 0);
        CHECK(strstr(svg, "<svg") != NULL && strstr(svg, "</svg>") != NULL);
        free_wiped(svg); /* the image carries the secret */
    }

    char *art = FETCH_TEXT(call_qr_terminal, TEXT_ARGS(.text = uri), M2FA_OK, NULL);
    if (art != NULL) {
        size_t len = strlen(art);
        CHECK(len > 0 && art[len - 1] == '\n');
        /* Half blocks U+2580 (upper), U+2584 (lower) or U+2588 (full). */
        CHECK(strstr(art, "\xe2\x96\x80") != NULL || strstr(art, "\xe2\x96\x84") != NULL ||
              strstr(art, "\xe2\x96\x88") != NULL);
        /* A picture: every line has the same width (in characters, not
         * bytes), and a QR code of this URI is more than 20 cells across. */
        size_t lines = 0, width = 0;
        bool same_width = true;
        for (const char *line = art; *line != '\0';) {
            const char *end = strchr(line, '\n');
            if (end == NULL) {
                same_width = false;
                break;
            }
            size_t chars = utf8_chars(line, (size_t)(end - line));
            if (lines == 0) {
                width = chars;
            } else if (chars != width) {
                same_width = false;
            }
            lines++;
            line = end + 1;
        }
        CHECK(same_width);
        CHECK(lines > 10 && width > 20);
        free_wiped(art);
    }

    /* 3000 characters do not fit in any QR code; nothing is written. */
    char *huge = malloc(3001);
    if (CHECK(huge != NULL)) {
        memset(huge, 'x', 3000);
        huge[3000] = '\0';
        CHECK_TEXT_ERROR(M2FA_QR_TOO_LONG, call_qr_svg, TEXT_ARGS(.text = huge));
        CHECK_TEXT_ERROR(M2FA_QR_TOO_LONG, call_qr_terminal, TEXT_ARGS(.text = huge));
        free(huge);
    }

    CHECK_TEXT_ERROR(M2FA_INVALID_UTF8, call_qr_svg, TEXT_ARGS(.text = not_utf8));
    CHECK_TEXT_ERROR(M2FA_INVALID_UTF8, call_qr_terminal, TEXT_ARGS(.text = not_utf8));
    CHECK_TEXT_ERROR(M2FA_NULL_ARGUMENT, call_qr_svg, TEXT_ARGS(.text = NULL));
    CHECK_TEXT_ERROR(M2FA_NULL_ARGUMENT, call_qr_terminal, TEXT_ARGS(.text = NULL));
}

/* ------------------------------------------------------------------------
 * *_free(NULL)
 * ------------------------------------------------------------------------ */

static void test_free_null(void)
{
    section = "free";
    /* No-ops. There is nothing to CHECK: returning is the test, and a crash
     * or a sanitizer report fails the run. */
    m2fa_secret_free(NULL);
    m2fa_otp_config_free(NULL);
    m2fa_totp_free(NULL);
    m2fa_hotp_free(NULL);
    m2fa_key_uri_free(NULL);
}

/* ------------------------------------------------------------------------
 * Threads: one m2fa_totp and one m2fa_hotp shared by several threads, each
 * verifying and generating, results compared with single-threaded answers.
 * ------------------------------------------------------------------------ */

#define THREADS 4
#define ROUNDS 1500
#define THREAD_BASE_TIME UINT64_C(1111111109) /* step 37037036 */

static char expected_totp[ROUNDS][CODE_SIZE]; /* code of step 37037036 + i */
static char expected_hotp[ROUNDS][CODE_SIZE]; /* code of counter i */

struct worker {
    pthread_t thread;
    unsigned id;
    const m2fa_totp *totp;
    const m2fa_hotp *hotp;
    /* Filled in by the thread, read by main after pthread_join. */
    unsigned long calls;
    unsigned long wrong;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (unsigned r = 0; r < ROUNDS; r++) {
        /* Each thread walks the rounds from a different place, so that they
         * compute different codes at the same moment. */
        unsigned i = (r + w->id * (ROUNDS / THREADS)) % ROUNDS;
        uint64_t time = THREAD_BASE_TIME + (uint64_t)i * 30;
        uint64_t step = 37037036 + (uint64_t)i;
        char code[CODE_SIZE];
        uint64_t matched = 0;

        w->wrong += totp_code(w->totp, time, code) != M2FA_OK;
        w->wrong += strcmp(code, expected_totp[i]) != 0;
        w->wrong += m2fa_totp_verify(w->totp, expected_totp[i], time + 29, &matched) != M2FA_OK;
        w->wrong += matched != step;
        w->wrong += m2fa_totp_verify_after(w->totp, expected_totp[i], time, step, &matched) !=
                    M2FA_CODE_MISMATCH;
        uint64_t after = step - 1;
        w->wrong += m2fa_totp_verify_window(w->totp, expected_totp[i], time + 60, 2, &after,
                                            &matched) != M2FA_OK;
        w->wrong += matched != step;

        w->wrong += hotp_code(w->hotp, i, code) != M2FA_OK;
        w->wrong += strcmp(code, expected_hotp[i]) != 0;
        uint64_t from = i >= 3 ? i - 3 : 0;
        w->wrong += m2fa_hotp_verify(w->hotp, expected_hotp[i], from, 3, &matched) != M2FA_OK;
        w->wrong += matched != i;

        /* Now and then, objects of our own next to the shared ones. */
        if (r % 100 == 0) {
            m2fa_secret *secret = NULL;
            m2fa_totp *own = NULL;
            w->wrong += m2fa_secret_from_bytes((const uint8_t *)SEED_SHA1, 20, &secret) != M2FA_OK;
            w->wrong += m2fa_totp_new(secret, NULL, &own) != M2FA_OK;
            w->wrong += totp_code(own, time, code) != M2FA_OK;
            w->wrong += strcmp(code, expected_totp[i] + 2) != 0; /* 6 of the 8 digits */
            m2fa_totp_free(own);
            m2fa_secret_free(secret);
            char message[128];
            size_t needed = 0;
            w->wrong += m2fa_status_message(M2FA_CODE_MISMATCH, message, sizeof message,
                                            &needed) != M2FA_OK;
            w->wrong += m2fa_version() == NULL;
            w->calls += 6;
        }
        w->calls += 9;
    }
    return NULL;
}

static void test_threads(void)
{
    section = "threads";
    m2fa_totp *totp = new_totp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 8, 30, 0, 1);
    m2fa_hotp *hotp = new_hotp(SEED_SHA1, M2FA_ALGORITHM_SHA1, 6);
    if (totp == NULL || hotp == NULL) {
        CHECK(!"could not create the shared credentials");
        m2fa_totp_free(totp);
        m2fa_hotp_free(hotp);
        return;
    }

    /* The answers, computed on this thread alone. */
    unsigned long setup_failures = 0;
    for (unsigned i = 0; i < ROUNDS; i++) {
        setup_failures += totp_code(totp, THREAD_BASE_TIME + (uint64_t)i * 30, expected_totp[i]) !=
                          M2FA_OK;
        setup_failures += hotp_code(hotp, i, expected_hotp[i]) != M2FA_OK;
    }
    CHECK(setup_failures == 0);
    CHECK_STR(expected_totp[0], "07081804");
    CHECK_STR(expected_hotp[9], rfc4226_six[9]);

    struct worker workers[THREADS];
    unsigned started = 0;
    for (unsigned t = 0; t < THREADS; t++) {
        workers[t] = (struct worker){.id = t, .totp = totp, .hotp = hotp};
        if (CHECK(pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]) == 0)) {
            started++;
        } else {
            break;
        }
    }
    for (unsigned t = 0; t < started; t++) {
        CHECK(pthread_join(workers[t].thread, NULL) == 0);
        CHECK(workers[t].wrong == 0);
        CHECK(workers[t].calls == ROUNDS * 9 + (ROUNDS + 99) / 100 * 6);
    }
    CHECK(started == THREADS);

    m2fa_hotp_free(hotp);
    m2fa_totp_free(totp);
}

int main(void)
{
    test_version();
    test_status_messages();
    test_secrets();
    test_config();
    test_totp_known_answers();
    test_totp_verify();
    test_totp_null_arguments();
    test_hotp();
    test_key_uris();
    test_key_uri_errors();
    test_qr();
    test_free_null();
    test_threads();

    printf("ffi_test: %lu checks, %lu failed (mail2fa %s)\n", checks_run, checks_failed,
           m2fa_version());
    return checks_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
