/*
 * ffi_test: QR codes of provisioning URIs (m2fa_qr_svg, m2fa_qr_terminal).
 */

#include "fixture.h"

#include "tests.h"

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

void test_qr(void)
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
