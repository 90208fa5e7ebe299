/*
 * ffi_test: key URIs (m2fa_key_uri*): otpauth:// URIs written, parsed and
 * read back, and the URIs refused.
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * Key URIs
 * ------------------------------------------------------------------------ */

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

void test_key_uris(void)
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

void test_key_uri_errors(void)
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
