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
 */
#define _GNU_SOURCE
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 7) {
        fprintf(stderr, "usage: pam_driver CONFDIR SERVICE USER PASSWORD [RHOST [NEW_USER]]\n");
        return 2;
    }
    password = argv[4];
    if (argc == 7)
        new_user = argv[6];
    struct pam_conv conv = {conversation, NULL};
    pam_handle_t *pamh = NULL;
    int ret = pam_start_confdir(argv[2], argv[3], &conv, argv[1], &pamh);
    if (ret != PAM_SUCCESS) {
        fprintf(stderr, "pam_start_confdir: %d\n", ret);
        return 2;
    }
    handle = pamh;
    if (argc >= 6 && strcmp(argv[5], "-") != 0)
        pam_set_item(pamh, PAM_RHOST, argv[5]);
    ret = pam_authenticate(pamh, 0);
    if (ret == PAM_SUCCESS)
        ret = pam_acct_mgmt(pamh, 0);
    printf("%s\n", pam_strerror(pamh, ret));
    pam_end(pamh, ret);
    return ret == PAM_SUCCESS ? 0 : 1;
}
