/*
 * ffi_test's fixture, shared by every file of the program: test data (the
 * RFC seeds and known answers), small constructors, the text-output
 * protocol (FETCH_TEXT, CHECK_TEXT_ERROR) and readers of secrets and
 * configurations. Include it first: it asks for POSIX (pthreads) under
 * -std=c11.
 */
#ifndef MAIL2FA_TESTS_FFI_FIXTURE_H
#define MAIL2FA_TESTS_FFI_FIXTURE_H

#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail2fa.h>

#include "../check.h"

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

m2fa_secret *secret_from_text(const char *ascii);
m2fa_otp_config *new_config(uint32_t algorithm, uint32_t digits, uint64_t period, uint64_t t0,
                            uint32_t window);
/* A TOTP credential; the secret and config are copied (and freed here). */
m2fa_totp *new_totp(const char *seed, uint32_t algorithm, uint32_t digits, uint64_t period,
                    uint64_t t0, uint32_t window);
m2fa_hotp *new_hotp(const char *seed, uint32_t algorithm, uint32_t digits);
m2fa_status totp_code(const m2fa_totp *totp, uint64_t time, char code[CODE_SIZE]);
m2fa_status hotp_code(const m2fa_hotp *hotp, uint64_t counter, char code[CODE_SIZE]);

/* ------------------------------------------------------------------------
 * The text-output protocol (fixture.c says which cases FETCH_TEXT drives):
 * the arguments of one call, and an adapter per text-output function
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

m2fa_status call_status_message(const struct text_args *a, char *buf, size_t len, size_t *needed);
m2fa_status call_totp_generate(const struct text_args *a, char *buf, size_t len, size_t *needed);
m2fa_status call_hotp_generate(const struct text_args *a, char *buf, size_t len, size_t *needed);
m2fa_status call_secret_to_base32(const struct text_args *a, char *buf, size_t len,
                                  size_t *needed);
m2fa_status call_key_uri_totp(const struct text_args *a, char *buf, size_t len, size_t *needed);
m2fa_status call_key_uri_hotp(const struct text_args *a, char *buf, size_t len, size_t *needed);
m2fa_status call_key_uri_issuer(const struct text_args *a, char *buf, size_t len, size_t *needed);
m2fa_status call_key_uri_account(const struct text_args *a, char *buf, size_t len,
                                 size_t *needed);
m2fa_status call_qr_svg(const struct text_args *a, char *buf, size_t len, size_t *needed);
m2fa_status call_qr_terminal(const struct text_args *a, char *buf, size_t len, size_t *needed);

char *fetch_text_impl(text_fn fn, const struct text_args *args, m2fa_status want,
                      const char *expected, const char *call, const char *file, int line);

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
 * Secrets and configurations read back
 * ------------------------------------------------------------------------ */

/* The raw bytes of a secret, through the (buf, len, needed) protocol of
 * m2fa_secret_bytes, which counts bytes (no NUL). Returns the length. */
size_t secret_bytes(const m2fa_secret *secret, uint8_t *out, size_t out_len);

/* The values an m2fa_otp_config reads back as. */
struct config_values {
    uint32_t algorithm, digits, window;
    uint64_t period, t0;
};

struct config_values read_config(const m2fa_otp_config *config);
bool same_values(struct config_values a, struct config_values b);

/* The Base32 seed of RFC 4226 as the query of a key URI. */
#define URI_QUERY_SEED "?secret=" SEED_SHA1_BASE32

#endif /* MAIL2FA_TESTS_FFI_FIXTURE_H */
