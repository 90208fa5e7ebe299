/*
 * ffi_test: secrets (m2fa_secret*): from bytes, base32 and random,
 * read back, refused when too short, too long or not base32.
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * Secrets
 * ------------------------------------------------------------------------ */

void test_secrets(void)
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
