/*
 * ffi_test's test functions, by the file that holds them; main() in
 * ../ffi_test.c runs them all.
 */
#ifndef MAIL2FA_TESTS_FFI_TESTS_H
#define MAIL2FA_TESTS_FFI_TESTS_H

/* conventions.c */
void test_version(void);
void test_status_messages(void);
void test_free_null(void);

/* secrets.c */
void test_secrets(void);

/* otp_config.c */
void test_config(void);

/* totp.c */
void test_totp_known_answers(void);
void test_totp_verify(void);
void test_totp_null_arguments(void);

/* hotp.c */
void test_hotp(void);

/* key_uri.c */
void test_key_uris(void);
void test_key_uri_errors(void);

/* qr.c */
void test_qr(void);

/* threads.c */
void test_threads(void);

#endif /* MAIL2FA_TESTS_FFI_TESTS_H */
