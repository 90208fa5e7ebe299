// Proves that include/mail2fa.h works from C++: it compiles under
// -std=c++17 -Wall -Wextra -Wpedantic -Werror, its functions link with C
// linkage (the extern "C" guards), and its enumerations are real C++ enums
// with a 32-bit underlying type, the same ABI as the uint32_t C sees.
// Built and run by scripts/test-c.sh.

#include <mail2fa.h>

#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(std::is_enum<m2fa_status>::value, "m2fa_status is an enum in C++");
static_assert(std::is_same<std::underlying_type<m2fa_status>::type, uint32_t>::value,
              "m2fa_status has the uint32_t representation C code sees");
static_assert(std::is_same<std::underlying_type<m2fa_algorithm>::type, uint32_t>::value,
              "m2fa_algorithm is passed as uint32_t");
static_assert(std::is_same<std::underlying_type<m2fa_otp_kind>::type, uint32_t>::value,
              "m2fa_otp_kind is passed as uint32_t");
static_assert(std::is_same<decltype(m2fa_totp_generate(nullptr, 0, nullptr, 0, nullptr)),
                           m2fa_status>::value,
              "functions return m2fa_status");

int main()
{
    int failures = 0;
    auto check = [&failures](bool ok, const char *what) {
        if (!ok) {
            std::fprintf(stderr, "cxx_header_test: FAILED: %s\n", what);
            failures++;
        }
    };

    char expected_version[32];
    std::snprintf(expected_version, sizeof expected_version, "%d.%d.%d", M2FA_VERSION_MAJOR,
                  M2FA_VERSION_MINOR, M2FA_VERSION_PATCH);
    const char *version = m2fa_version();
    check(version != nullptr && std::strcmp(version, expected_version) == 0,
          "m2fa_version() matches the M2FA_VERSION_* macros");

    // RFC 6238 Appendix B, SHA-1, T = 59 s: 94287082 with 8 digits.
    static const char seed[] = "12345678901234567890";
    m2fa_secret *secret = nullptr;
    m2fa_otp_config *config = nullptr;
    m2fa_totp *totp = nullptr;
    check(m2fa_secret_from_bytes(reinterpret_cast<const uint8_t *>(seed), sizeof seed - 1,
                                 &secret) == M2FA_OK,
          "m2fa_secret_from_bytes");
    check(m2fa_otp_config_new(&config) == M2FA_OK, "m2fa_otp_config_new");
    check(m2fa_otp_config_set_algorithm(config, M2FA_ALGORITHM_SHA1) == M2FA_OK,
          "an enumerator converts to the uint32_t parameter");
    check(m2fa_otp_config_set_digits(config, 8) == M2FA_OK, "m2fa_otp_config_set_digits");
    check(m2fa_totp_new(secret, config, &totp) == M2FA_OK, "m2fa_totp_new");

    char code[11] = "";
    size_t needed = 0;
    m2fa_status status = m2fa_totp_generate(totp, 59, code, sizeof code, &needed);
    check(status == M2FA_OK && std::strcmp(code, "94287082") == 0 && needed == 9,
          "m2fa_totp_generate gives the RFC 6238 code");

    m2fa_totp_free(totp);
    m2fa_otp_config_free(config);
    m2fa_secret_free(secret);

    std::printf("cxx_header_test: mail2fa %s, TOTP(59) = %s, %s\n", version ? version : "?", code,
                failures == 0 ? "ok" : "FAILED");
    return failures == 0 ? 0 : 1;
}
