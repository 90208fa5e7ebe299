/*
 * c_host.c - a C mail server's logins, as the C library gives them: the
 * engine opened from a configuration file (m2fa_engine_open_config), one
 * m2fa_engine_check_login per line of standard input, the host's password
 * check a callback comparing with the one password it knows.
 *
 *   c_host CONFIG PLATFORM ACCOUNT PROTOCOL ADDRESS PASSWORD
 *
 * Each line of standard input is one login string, as the client typed it
 * (its line end removed); each gets one line of answer on standard output:
 * "OUTCOME REASON" (m2fa_outcome_name, m2fa_reason_name: "allowed
 * code_accepted", "refused replayed", "second_factor_required none"), or
 * "error STATUS" when the call failed (the login refused). ADDRESS "-":
 * no client address. Exit status 0 once the input ends, 2 on a usage or
 * set-up error (the reason on standard error).
 */
#include <mail2fa.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

static int check_password(void *user_data, const char *password, size_t len)
{
    const char *known = user_data;
    return strlen(known) == len && memcmp(known, password, len) == 0;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: c_host CONFIG PLATFORM ACCOUNT PROTOCOL ADDRESS PASSWORD\n");
        return 2;
    }
    const char *platform = argv[2], *account = argv[3], *address = argv[5];
    char message[512];
    size_t needed = 0;
    m2fa_engine *engine = NULL;
    m2fa_status status =
        m2fa_engine_open_config_message(argv[1], &engine, message, sizeof message, &needed);
    if (status != M2FA_OK) {
        fprintf(stderr, "c_host: %s\n", message);
        return 2;
    }
    m2fa_login *login = NULL;
    status = m2fa_login_new(M2FA_PROTOCOL_OTHER, argv[4], &login);
    if (status == M2FA_OK && strcmp(address, "-") != 0)
        status = m2fa_login_set_client(login, NULL, NULL, NULL, address);
    if (status != M2FA_OK) {
        m2fa_status_message(status, message, sizeof message, &needed);
        fprintf(stderr, "c_host: the login: %s\n", message);
        m2fa_login_free(login);
        m2fa_engine_free(engine);
        return 2;
    }
    char line[4200];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        m2fa_decision *decision = NULL;
        status = m2fa_engine_check_login(engine, platform, account, login, line, check_password,
                                         argv[6], (uint64_t)time(NULL), &decision);
        if (status != M2FA_OK) {
            m2fa_status_message(status, message, sizeof message, &needed);
            printf("error %s\n", message);
        } else {
            uint32_t outcome = 0, reason = 0;
            m2fa_decision_outcome(decision, &outcome);
            m2fa_decision_reason(decision, &reason);
            const char *outcome_name = m2fa_outcome_name(outcome);
            const char *reason_name = m2fa_reason_name(reason);
            printf("%s %s\n", outcome_name != NULL ? outcome_name : "unknown",
                   reason_name != NULL ? reason_name : "unknown");
            m2fa_decision_free(decision);
        }
        fflush(stdout);
        memset(line, 0, sizeof line);
    }
    m2fa_login_free(login);
    m2fa_engine_free(engine);
    return 0;
}
