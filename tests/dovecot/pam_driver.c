/*
 * pam_driver.c - one PAM authentication outside any server, for the PAM
 * module's checks that Dovecot cannot reach (Dovecot lower-cases user names
 * and is not a stack with a module answering PAM_IGNORE).
 *
 *   pam_driver CONFDIR SERVICE USER PASSWORD [RHOST]
 *
 * Runs pam_authenticate then pam_acct_mgmt for SERVICE from CONFDIR (not
 * /etc/pam.d) and exits 0 if both succeed, 1 if authentication is refused,
 * 2 on a usage or setup error. The password is answered to every prompt.
 */
#define _GNU_SOURCE
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *password;

static int conversation(int n, const struct pam_message **msg, struct pam_response **resp,
                        void *data)
{
    (void)data;
    struct pam_response *r = calloc((size_t)n, sizeof *r);
    if (r == NULL)
        return PAM_BUF_ERR;
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
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: pam_driver CONFDIR SERVICE USER PASSWORD [RHOST]\n");
        return 2;
    }
    password = argv[4];
    struct pam_conv conv = {conversation, NULL};
    pam_handle_t *pamh = NULL;
    int ret = pam_start_confdir(argv[2], argv[3], &conv, argv[1], &pamh);
    if (ret != PAM_SUCCESS) {
        fprintf(stderr, "pam_start_confdir: %d\n", ret);
        return 2;
    }
    if (argc == 6)
        pam_set_item(pamh, PAM_RHOST, argv[5]);
    ret = pam_authenticate(pamh, 0);
    if (ret == PAM_SUCCESS)
        ret = pam_acct_mgmt(pamh, 0);
    printf("%s\n", pam_strerror(pamh, ret));
    pam_end(pamh, ret);
    return ret == PAM_SUCCESS ? 0 : 1;
}
