/*
 * pam_driver.c - one PAM authentication outside any server, for the PAM
 * module's checks that Dovecot cannot reach (Dovecot lower-cases user names
 * and is not a stack with a module answering PAM_IGNORE).
 *
 *   pam_driver CONFDIR SERVICE USER PASSWORD [RHOST [NEW_USER]]
 *
 * Runs pam_authenticate then pam_acct_mgmt for SERVICE from CONFDIR (not
 * /etc/pam.d) and exits 0 if both succeed, 1 if authentication is refused,
 * 2 on a usage or setup error. The password is answered to every prompt.
 * NEW_USER: at the first prompt (the first module asking for the password,
 * mail2fa's phase=app-password in the shipped stack), PAM_USER is changed
 * to NEW_USER, as a module between mail2fa's phases rewriting the user name
 * would; RHOST "-" sets no PAM_RHOST.
 *
 * With PAM_DRIVER_MORE=1 in the environment the process stays, as a
 * long-lived auth process does: after the first authentication it reads
 * commands from stdin, one a line, and answers each with a line
 * ("ok ..." or "refused ..."): `again` authenticates once more in this
 * process; `fork` authenticates once in a forked child (which exits) and
 * waits for it. End of input ends it (exit status: the first login's).
 */
#define _GNU_SOURCE
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *password;
static pam_handle_t *handle;
static const char *new_user; /* NULL: PAM_USER stays */

static int conversation(int n, const struct pam_message **msg, struct pam_response **resp,
                        void *data)
{
    (void)data;
    struct pam_response *r = calloc((size_t)n, sizeof *r);
    if (r == NULL)
        return PAM_BUF_ERR;
    if (new_user != NULL) {
        if (pam_set_item(handle, PAM_USER, new_user) != PAM_SUCCESS) {
            free(r);
            return PAM_CONV_ERR;
        }
        new_user = NULL;
    }
    for (int i = 0; i < n; i++) {
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
            r[i].resp = strdup(password);
            if (r[i].resp == NULL) {
                for (int j = 0; j < i; j++)
                    free(r[j].resp);
                free(r);
                return PAM_BUF_ERR;
            }
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

/* One authentication (pam_authenticate, pam_acct_mgmt): the PAM result,
 * or -1 if PAM cannot start. Prints the result's text. */
static int authenticate(char **argv, int argc)
{
    struct pam_conv conv = {conversation, NULL};
    pam_handle_t *pamh = NULL;
    int ret = pam_start_confdir(argv[2], argv[3], &conv, argv[1], &pamh);
    if (ret != PAM_SUCCESS) {
        fprintf(stderr, "pam_start_confdir: %d\n", ret);
        return -1;
    }
    handle = pamh;
    if (argc >= 6 && strcmp(argv[5], "-") != 0)
        pam_set_item(pamh, PAM_RHOST, argv[5]);
    ret = pam_authenticate(pamh, 0);
    if (ret == PAM_SUCCESS)
        ret = pam_acct_mgmt(pamh, 0);
    printf("%s %s\n", ret == PAM_SUCCESS ? "ok" : "refused", pam_strerror(pamh, ret));
    fflush(stdout);
    pam_end(pamh, ret);
    return ret;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 7) {
        fprintf(stderr, "usage: pam_driver CONFDIR SERVICE USER PASSWORD [RHOST [NEW_USER]]\n");
        return 2;
    }
    password = argv[4];
    if (argc == 7)
        new_user = argv[6];
    int first = authenticate(argv, argc);
    if (first < 0)
        return 2;
    const char *more = getenv("PAM_DRIVER_MORE");
    char line[64];
    while (more != NULL && strcmp(more, "1") == 0 && fgets(line, sizeof line, stdin) != NULL) {
        if (strcmp(line, "again\n") == 0) {
            authenticate(argv, argc);
        } else if (strcmp(line, "fork\n") == 0) {
            pid_t pid = fork();
            if (pid == 0)
                _exit(authenticate(argv, argc) == PAM_SUCCESS ? 0 : 1);
            int status = 0;
            if (pid < 0 || waitpid(pid, &status, 0) != pid) {
                printf("refused fork failed\n");
                fflush(stdout);
            }
        } else {
            fprintf(stderr, "pam_driver: unknown command %s", line);
            return 2;
        }
    }
    return first == PAM_SUCCESS ? 0 : 1;
}
