/*
 * devices_test's test functions, by the file that holds them; main() in
 * ../devices_test.c runs them all.
 */
#ifndef MAIL2FA_TESTS_DEVICES_TESTS_H
#define MAIL2FA_TESTS_DEVICES_TESTS_H

/* device_tokens.c */
void test_outlook_device(void);
void test_device_refusals(void);

/* app_passwords.c */
void test_app_passwords(void);

/* policies.c */
void test_policies(void);

/* binding.c */
void test_binding(void);

/* misuse.c */
void test_misuse(void);

/* threads.c */
void test_threads(void);

/* database.c */
void test_database(void);

/* key_file.c */
void test_key_file(void);

#endif /* MAIL2FA_TESTS_DEVICES_TESTS_H */
