/*
 * engine_test's test functions, by the file that holds them; main() in
 * ../engine_test.c runs them all.
 */
#ifndef MAIL2FA_TESTS_ENGINE_TESTS_H
#define MAIL2FA_TESTS_ENGINE_TESTS_H

/* decisions.c */
void test_enum_values(void);
void test_outcome_and_reason_names(void);
void test_audit(void);

/* enrollment.c */
void test_enablement_and_enrollment(void);
void test_totp_logins(void);
void test_split_login(void);

/* check_login.c */
void test_check_login(void);
void test_pending_login(void);
void test_check_login_threads(void);

/* lockout.c */
void test_lockout(void);
void test_suspend(void);

/* codes.c */
void test_delivered_codes(void);
void test_recovery_codes(void);

/* account_changes.c */
void test_reset_and_remove(void);
void test_self_service(void);

/* config.c */
void test_engine_config(void);
void test_bounds(void);
void test_mandatory_platform(void);

/* misuse.c */
void test_misuse_account_functions(void);
void test_misuse_other_arguments(void);
void test_free_null(void);

/* names.c */
void test_names_follow_label_rules(void);
void test_other_spellings_refused(void);
void test_client_functions_refuse_bad_names(void);

/* threads.c */
void test_threads(void);

/* databases.c */
void test_postgres_entry_points(void);
void test_state_fails_closed(void);

/* config_file.c */
void test_config_file(void);

#endif /* MAIL2FA_TESTS_ENGINE_TESTS_H */
