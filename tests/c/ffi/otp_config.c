/*
 * ffi_test: m2fa_otp_config, its setters, getters and the values refused.
 */

#include "fixture.h"

#include "tests.h"

/* ------------------------------------------------------------------------
 * m2fa_otp_config
 * ------------------------------------------------------------------------ */

void test_config(void)
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
