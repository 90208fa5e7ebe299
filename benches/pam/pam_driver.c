/*
 * pam_driver.c - the side-by-side PAM benchmark's driver (issue 20).
 *
 * One long-lived process, like a mail server's auth worker (Dovecot's auth
 * process), runs whole PAM transactions (pam_start_confdir, pam_authenticate,
 * pam_end) through three second-factor modules, each behind the same
 * password check (pam_permit), each given password+code in one PAM
 * password, as an IMAP client sends it:
 *
 *   accepted  a fresh user's current TOTP code      -> must be PAM_SUCCESS
 *   replay    the same user and code, again         -> must fail
 *   wrong     the same user, a code outside the window -> must fail
 *
 * Any other result stops the run (exit 1): a broken configuration is never
 * timed. A TOTP step is accepted once per user, so every accepted
 * transaction uses a user of its own (the users file lists them, made by
 * benches/pam/setup.py). The modules take turns in a rotating order, and a
 * bare 4 KiB write + fdatasync in the state directory takes its turn among
 * them (the disk's own fsync time, measured in the same run).
 *
 *   pam_driver --confdir DIR --users FILE --state-dir DIR --iterations N [--markers]
 *
 * users file: one "MODULE SERVICE USER BASE32SECRET" per line (the PAM
 * service is a file in --confdir). Each module needs N + 1 users: the
 * first round is reported apart (it opens what a module keeps open).
 * --markers: before and after each transaction, access(2) on a path that
 * does not exist, "/pam-bench-marker/begin/MODULE/CASE/ROUND", so that
 * `strace -e trace=access,fsync,...` output can be cut per transaction
 * (scripts/bench-pam.sh, benches/pam/fsyncs.py).
 *
 * Codes are computed with libmail2fa's TOTP (SHA-1, 6 digits, 30 s),
 * outside the timed part. Build: scripts/bench-pam.sh.
 */
#define _GNU_SOURCE

#include <security/pam_appl.h>

#include <mail2fa.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_MODULES 3
#define PASSWORD "bench-password"
#define MARKER_ROOT "/pam-bench-marker"

enum bench_case { CASE_ACCEPTED, CASE_REPLAY, CASE_WRONG, CASE_COUNT };
static const char *const case_names[CASE_COUNT] = {"accepted", "replay", "wrong"};

struct user {
    char *name;
    m2fa_totp *totp;
};

struct module {
    char *label;
    char *service;
    struct user *users;
    size_t count, cap;
    size_t next;                 /* the next fresh user */
    double first[CASE_COUNT];    /* round 0, ms */
    int first_ret[CASE_COUNT];
    int fail_ret[CASE_COUNT];    /* the failure code seen (replay, wrong) */
    double *samples[CASE_COUNT]; /* rounds 1..N, ms */
};

static struct module modules[MAX_MODULES];
static size_t module_count;
static const char *confdir;
static int markers;

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "pam_driver: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL)
        die("%s", "out of memory");
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        die("%s", "out of memory");
    return p;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ----------------------------------------------------------------- users */

static struct module *module_named(const char *label, const char *service)
{
    for (size_t i = 0; i < module_count; i++)
        if (strcmp(modules[i].label, label) == 0)
            return &modules[i];
    if (module_count == MAX_MODULES)
        die("more than 3 modules in the users file (%s)", label);
    struct module *m = &modules[module_count++];
    m->label = xstrdup(label);
    m->service = xstrdup(service);
    return m;
}

static void load_users(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die("cannot read the users file %s", path);
    char line[512], label[64], service[128], name[256], secret[160];
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "%63s %127s %255s %159s", label, service, name, secret) != 4)
            die("bad line in the users file: %s", line);
        struct module *m = module_named(label, service);
        if (m->count == m->cap) {
            m->cap = m->cap ? m->cap * 2 : 64;
            m->users = realloc(m->users, m->cap * sizeof *m->users);
            if (m->users == NULL)
                die("%s", "out of memory");
        }
        struct user *u = &m->users[m->count++];
        u->name = xstrdup(name);
        m2fa_secret *s = NULL;
        if (m2fa_secret_from_base32(secret, &s) != M2FA_OK ||
            m2fa_totp_new(s, NULL, &u->totp) != M2FA_OK)
            die("bad secret for user %s", name);
        m2fa_secret_free(s);
        explicit_bzero(secret, sizeof secret);
        explicit_bzero(line, sizeof line);
    }
    fclose(f);
}

/* The code of `u` now, or (wrong) a well-formed code outside its window. */
static void code_for(const struct user *u, int wrong, char out[16])
{
    uint64_t t = (uint64_t)time(NULL);
    size_t needed = 0;
    if (m2fa_totp_generate(u->totp, t, out, 16, &needed) != M2FA_OK)
        die("cannot compute a code for %s", u->name);
    if (!wrong)
        return;
    long value = strtol(out, NULL, 10);
    for (long k = 500000;; k++) {
        uint64_t step = 0;
        snprintf(out, 16, "%06ld", (value + k) % 1000000);
        /* outside -1..+1 now and a step later (the window of all three) */
        if (m2fa_totp_verify(u->totp, out, t, &step) == M2FA_CODE_MISMATCH &&
            m2fa_totp_verify(u->totp, out, t + 30, &step) == M2FA_CODE_MISMATCH)
            return;
    }
}

/* ---------------------------------------------------------- transactions */

/* Answers every prompt with the input (password+code); info and error
 * messages get no answer. */
static int conversation(int n, const struct pam_message **msg, struct pam_response **resp,
                        void *appdata)
{
    const char *input = appdata;
    struct pam_response *r = calloc((size_t)n, sizeof *r);
    if (r == NULL)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
            r[i].resp = strdup(input);
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

static void marker(const char *what, const struct module *m, enum bench_case c, size_t round)
{
    if (!markers)
        return;
    char path[256];
    snprintf(path, sizeof path, MARKER_ROOT "/%s/%s/%s/%zu", what, m->label, case_names[c],
             round);
    /* fails with ENOENT: only strace sees it */
    if (access(path, F_OK) == 0)
        die("marker path %s exists", path);
}

/* One whole transaction; its time in ms; *ret receives pam_authenticate's result. */
static double transaction(const struct module *m, const struct user *u, const char *input,
                          int *ret)
{
    struct pam_conv conv = {conversation, (void *)input};
    pam_handle_t *pamh = NULL;
    double t0 = now_ms();
    int r = pam_start_confdir(m->service, u->name, &conv, confdir, &pamh);
    if (r != PAM_SUCCESS)
        die("pam_start_confdir failed for service %s", m->service);
    pam_set_item(pamh, PAM_RHOST, "192.0.2.10");
    r = pam_authenticate(pamh, PAM_SILENT);
    pam_end(pamh, r);
    double t1 = now_ms();
    *ret = r;
    return t1 - t0;
}

static void run_case(struct module *m, const struct user *u, enum bench_case c, char *input,
                     size_t round)
{
    int ret = 0;
    marker("begin", m, c, round);
    double ms = transaction(m, u, input, &ret);
    marker("end", m, c, round);
    int ok = c == CASE_ACCEPTED ? ret == PAM_SUCCESS : ret != PAM_SUCCESS;
    if (!ok) {
        fprintf(stderr,
                "pam_driver: %s, %s code, user %s, round %zu: pam_authenticate returned %d "
                "(%s); expected %s. Not timing a broken configuration.\n",
                m->label, case_names[c], u->name, round, ret, pam_strerror(NULL, ret),
                c == CASE_ACCEPTED ? "PAM_SUCCESS" : "a failure");
        exit(1);
    }
    if (c != CASE_ACCEPTED)
        m->fail_ret[c] = ret;
    if (round == 0) {
        m->first[c] = ms;
        m->first_ret[c] = ret;
    } else {
        m->samples[c][round - 1] = ms;
    }
}

/* accepted, replay and wrong for the module's next fresh user */
static void run_module(struct module *m, size_t round)
{
    if (m->next == m->count)
        die("not enough users for module %s (need iterations + 1)", m->label);
    const struct user *u = &m->users[m->next++];
    char code[16], input[64];
    code_for(u, 0, code);
    snprintf(input, sizeof input, "%s%s", PASSWORD, code);
    run_case(m, u, CASE_ACCEPTED, input, round);
    run_case(m, u, CASE_REPLAY, input, round);
    code_for(u, 1, code);
    snprintf(input, sizeof input, "%s%s", PASSWORD, code);
    run_case(m, u, CASE_WRONG, input, round);
    explicit_bzero(input, sizeof input);
}

/* ------------------------------------------------------------ bare fsync */

static int probe_fd = -1;
static char probe_block[4096];

static double bare_fsync(void)
{
    double t0 = now_ms();
    if (pwrite(probe_fd, probe_block, sizeof probe_block, 0) != (ssize_t)sizeof probe_block ||
        fdatasync(probe_fd) != 0)
        die("fsync probe: %s", strerror(errno));
    return now_ms() - t0;
}

/* --------------------------------------------------------------- figures */

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* nearest rank */
static double percentile(const double *sorted, size_t n, double p)
{
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

static void row(const char *label, const char *what, double *v, size_t n, double first,
                const char *result)
{
    qsort(v, n, sizeof *v, by_value);
    printf("| %s | %s | %.3f | %.3f | %.3f | %.3f | %s |\n", label, what, percentile(v, n, 50),
           percentile(v, n, 90), percentile(v, n, 99), first, result);
}

static const char *ret_name(int ret)
{
    switch (ret) {
    case PAM_SUCCESS: return "PAM_SUCCESS";
    case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
    case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
    case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
    case PAM_MAXTRIES: return "PAM_MAXTRIES";
    case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
    case PAM_CRED_INSUFFICIENT: return "PAM_CRED_INSUFFICIENT";
    default: return "another failure";
    }
}

/* ------------------------------------------------------------------ main */

static void usage(void)
{
    fprintf(stderr, "usage: pam_driver --confdir DIR --users FILE --state-dir DIR "
                    "--iterations N [--markers]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *users = NULL, *state_dir = NULL;
    long iterations = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--markers") == 0)
            markers = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--confdir") == 0)
            confdir = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--users") == 0)
            users = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--state-dir") == 0)
            state_dir = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--iterations") == 0)
            iterations = strtol(argv[++i], NULL, 10);
        else
            usage();
    }
    if (confdir == NULL || users == NULL || state_dir == NULL || iterations < 1 ||
        iterations > 1000000)
        usage();
    size_t n = (size_t)iterations;
    load_users(users);
    if (module_count == 0)
        die("no users in %s", users);

    char probe[4096];
    snprintf(probe, sizeof probe, "%s/fsync-probe", state_dir);
    probe_fd = open(probe, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (probe_fd < 0)
        die("cannot open the fsync probe %s", probe);
    memset(probe_block, 'x', sizeof probe_block);
    double *fsyncs = xcalloc(n, sizeof *fsyncs);
    double first_fsync = bare_fsync();

    for (size_t i = 0; i < module_count; i++)
        for (int c = 0; c < CASE_COUNT; c++)
            modules[i].samples[c] = xcalloc(n, sizeof(double));

    /* Round 0 (first transactions: what a module opens and keeps), then
     * rounds 1..n; each round the modules and the fsync probe take turns,
     * starting one further along than the round before. */
    size_t slots = module_count + 1;
    for (size_t round = 0; round <= n; round++) {
        for (size_t k = 0; k < slots; k++) {
            size_t slot = (round + k) % slots;
            if (slot == module_count) {
                if (round > 0)
                    fsyncs[round - 1] = bare_fsync();
            } else {
                run_module(&modules[slot], round);
            }
        }
    }
    close(probe_fd);
    unlink(probe);

    printf("| module | case | median ms | p90 ms | p99 ms | first ms | result |\n");
    printf("|---|---|---:|---:|---:|---:|---|\n");
    for (size_t i = 0; i < module_count; i++) {
        struct module *m = &modules[i];
        for (int c = 0; c < CASE_COUNT; c++)
            row(m->label, case_names[c], m->samples[c], n, m->first[c],
                ret_name(c == CASE_ACCEPTED ? PAM_SUCCESS : m->fail_ret[c]));
    }
    row("bare fsync", "4 KiB pwrite + fdatasync", fsyncs, n, first_fsync, "-");
    printf("\n%zu transactions per module and case (+ 1 first, apart), %zu users per module, "
           "modules in rotating order.\n", n, n + 1);
    return 0;
}
