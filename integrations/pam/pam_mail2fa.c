/*
 * pam_mail2fa.c - PAM module for mail2fa: two-factor authentication for
 * mail servers whose password check runs through PAM (Dovecot's PAM
 * passdb, Postfix/Cyrus via saslauthd, ...).
 *
 * One module, three lines in the auth stack, told apart by `phase=`:
 *
 *   auth     sufficient pam_mail2fa.so phase=app-password config=/etc/mail2fa/mail2fa.toml
 *   auth     requisite  pam_mail2fa.so phase=split        config=/etc/mail2fa/mail2fa.toml
 *   auth     requisite  pam_unix.so use_first_pass        # the host's password module
 *   auth     required   pam_mail2fa.so phase=verify       config=/etc/mail2fa/mail2fa.toml
 *   account  required   pam_permit.so
 *
 * The three mail2fa lines are the two halves of one mail2fa login
 * (m2fa_engine_begin_login, m2fa_pending_login_finish) with the host's
 * password check between them: the account's and its platform's records
 * are read once, by the first line, and the login is carried to the others
 * with pam_set_data ("mail2fa-login", with a copy of the input; wiped and
 * freed by pam_end or by the next login on the handle).
 *
 * phase=app-password
 *     Reads the password (pam_get_authtok), begins the login, and asks
 *     mail2fa whether the input is one of the account's application
 *     passwords (the login finished as "not the account password"). Yes:
 *     PAM_SUCCESS, and with `sufficient` the stack ends there, so an
 *     application password never reaches the host's password module.
 *     Anything else, errors included: PAM_IGNORE, the stack goes on (the
 *     next phases fail closed).
 * phase=split
 *     For an account whose second factor is active, on a protocol whose
 *     policy is "code in login", the client typed its password with the
 *     one-time code appended ("secret123456"). The login begun by
 *     phase=app-password (or begun here, for the same input, if there is
 *     none) knows where the code starts: PAM_AUTHTOK is replaced by the
 *     password part for the host's module. Other accounts and protocols:
 *     nothing changes. Input that is not UTF-8 or over 4096 bytes carries
 *     no code and is left whole. PAM_SUCCESS; on any error PAM_AUTH_ERR
 *     (`requisite`: the stack stops, fail closed).
 * the host's password module
 *     Must be `requisite` (a wrong password must never reach the code check:
 *     it would consume, or count against, the code) and must take the
 *     password from PAM_AUTHTOK without asking again: `use_first_pass`
 *     (asking the application again would get the full password+code).
 * phase=verify
 *     Runs only after the host's module said yes. Finishes the login split
 *     by phase=split as "the account password is right": mail2fa checks the
 *     code, if any, and decides (without a login from phase=split — input
 *     left whole — it decides on the password alone). Allowed: PAM_SUCCESS;
 *     anything else (refused, code required, enrollment required, device
 *     pending) and every error: PAM_AUTH_ERR. A valid code is consumed: the
 *     same password+code cannot log in twice.
 *
 * Arguments (all phases):
 *   phase=app-password|split|verify   required
 *   config=PATH          the mail2fa configuration file (the one the
 *                        operator tool and every other component read;
 *                        default /etc/mail2fa/mail2fa.toml): the store
 *                        (SQLite or PostgreSQL, created only if the file
 *                        says `create = true`), the key, password and device
 *                        key files, the policies. Opened by
 *                        m2fa_engine_open_config; a file that cannot be
 *                        used is logged with its line and column, and every
 *                        login fails closed.
 *   db=PATH              legacy, instead of config=: a SQLite database,
 *                        opened with the library's default policies (so
 *                        they may disagree with the tool's: prefer config=).
 *                        It must exist: it is never created here (a wrong
 *                        path would otherwise mean "nobody has 2FA"). Giving
 *                        both config= and db= is refused.
 *   key_file=PATH        with db= only (the configuration file names its
 *                        own, encryption.key_file): encryption keys of
 *                        account records, as for the
 *                        `mail2fa` tool: one `ID:KEY` per line (KEY: 64 hex
 *                        digits), the current key first; blank and `#` lines
 *                        are skipped. Read by the library
 *                        (m2fa_engine_config_load_key_file): refused if it is
 *                        not a regular file or group or others may read or
 *                        write it.
 *   platform=NAME        a fixed platform; by default the domain of the user
 *                        name (the text after the last '@').
 *   default_platform=NAME  the platform of user names without '@' (without
 *                        it such users are refused).
 *   protocol=NAME        webmail, portal, activesync, outlook, imap, pop3,
 *                        smtp, rpc-over-http, or another name (1-32 letters,
 *                        digits, '-', '_', '.'). By default the part of the
 *                        PAM service name after its last '-' ("mail2fa-imap"
 *                        -> imap; a service ending in "-rpc-over-http" ->
 *                        rpc-over-http).
 *   debug                log more (still never a password or a code).
 *
 * The account is the PAM user name as given. It must be in mail2fa's
 * alphabet (m2fa_account_name_check: lower-case ASCII letters, digits,
 * '.', '-', '_', '+', one '@' before a lower-case domain), and so must the
 * platform: any other spelling ("Alice@...", full-width or other non-ASCII
 * letters, a trailing dot, "EXAMPLE\alice") is refused in every phase,
 * since the host's password module may match it loosely to a real account
 * while mail2fa would find no 2FA record under it. The user name must also
 * stay the same through the phases of one login: if PAM_USER changes
 * between them (a module in between rewrote it), the login is refused
 * (PAM_AUTH_ERR, logged with both names). PAM_RHOST, when it is an IP
 * address, is passed to mail2fa as the client's address.
 *
 * Logging: syslog (authpriv), one line per decision with the phase, user,
 * service, protocol, outcome and reason (mail2fa's stable names:
 * m2fa_outcome_name, m2fa_reason_name), and mail2fa's audit line. Never a
 * password, an application password or a code.
 *
 * Engines. One engine per configuration path (config=), or per database
 * and key file (db= and key_file=), is kept for the life of the process
 * (the module is never unloaded, see Build): its store connections (a
 * PostgreSQL pool; SQLite's connection with its WAL) serve every login
 * instead of one open per login. An open and close per login would cost
 * SQLite's WAL creation, a directory sync, a checkpoint and the WAL's
 * deletion: 5 fsyncs per writing login instead of 1, and 2 unlinks even
 * for a login that writes nothing. A configuration or key file changed on
 * disk is read by new processes (restart the auth service). It is safe
 * across fork: each engine remembers the process that opened it, and a
 * child opens its own, never using, freeing or closing the parent's (whose
 * threads and connections are not the child's).
 *
 * Build: bash scripts/build-integrations.sh (links libmail2fa.a statically,
 * exports only pam_sm_authenticate and pam_sm_setcred, and is linked
 * -z nodelete: libpam unloads modules after every transaction, and a
 * reload of the Rust runtime would cost a millisecond per login).
 */
#define PAM_SM_AUTH

#include <security/pam_modules.h>
#include <security/pam_ext.h>

#include <mail2fa.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOGIN_DATA "mail2fa-login"
#define USER_DATA "mail2fa-user"
#define SQLITE_BUSY_MS 5000
#define DEFAULT_CONFIG "/etc/mail2fa/mail2fa.toml"

/* In the order of the stack: a phase that runs after a later one has begun
 * a new login on the same handle (see same_user_as_before). */
enum phase { PHASE_NONE = 0, PHASE_APP_PASSWORD, PHASE_SPLIT, PHASE_VERIFY };

static const char *phase_label(enum phase phase)
{
    switch (phase) {
    case PHASE_APP_PASSWORD: return "app-password";
    case PHASE_SPLIT: return "split";
    case PHASE_VERIFY: return "verify";
    default: return "?";
    }
}

struct args {
    enum phase phase;
    const char *phase_name;
    const char *config;
    const char *db;
    const char *key_file;
    const char *platform;
    const char *default_platform;
    const char *protocol;
    int debug;
};

/* Everything one call works with. Strings point into libpam's items or the
 * module arguments: nothing here is allocated. */
struct request {
    pam_handle_t *pamh;
    struct args args;
    const char *user;     /* PAM_USER, the account */
    const char *service;  /* PAM_SERVICE, or "(none)" for logs */
    int has_service;      /* PAM_SERVICE is set and not empty */
    const char *rhost;    /* PAM_RHOST if it is an IP address, else NULL */
    const char *platform;
    uint32_t protocol;    /* an m2fa_protocol */
    const char *protocol_name; /* the name given or derived */
    uint64_t now;
    char user_log[128];   /* the user name, printable, for logs */
};

/* ---------------------------------------------------------------- helpers */

static void wipe_free(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* Copies `s` for a log line: at most size-1 bytes, control and non-ASCII
 * bytes as '?', "(null)" for NULL. */
static void printable(char *out, size_t size, const char *s)
{
    if (s == NULL)
        s = "(null)";
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[i] = '\0';
}

static void status_text(m2fa_status status, char *buf, size_t len)
{
    size_t needed = 0;
    m2fa_status st = m2fa_status_message(status, buf, len, &needed);
    if (st != M2FA_OK && st != M2FA_UNKNOWN_ENUM_VALUE)
        snprintf(buf, len, "status %u", (unsigned)status);
}

static void log_status(const struct request *r, const char *what, m2fa_status status)
{
    char message[160];
    status_text(status, message, sizeof message);
    pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_ERR,
               "phase=%s user=%s service=%s: %s failed: %s (mail2fa status %u)",
               r->args.phase_name, r->user_log, r->service, what, message,
               (unsigned)status);
}

/* The library's stable name of an outcome or reason, "unknown" for a value
 * it does not know. */
static const char *or_unknown(const char *name)
{
    return name != NULL ? name : "unknown";
}

/* The user name an earlier phase of this login saw (pam_set_data). */
struct user_seen {
    enum phase phase;
    char name[];
};

static void user_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
    (void)pamh;
    (void)error_status;
    free(data);
}

/*
 * The phases of one login must all see the same PAM_USER: the code split
 * off for one account must not be checked against another, nor the
 * password checked for one account let another in. Each phase compares
 * PAM_USER with the name the previous phase of the same login recorded; a
 * phase not later in the stack than the recorded one starts a new login on
 * the handle (an application may authenticate again, for another user).
 * 0, or -1 (logged) if the name changed or cannot be recorded.
 */
static int same_user_as_before(const struct request *r)
{
    const void *data = NULL;
    if (pam_get_data(r->pamh, USER_DATA, &data) == PAM_SUCCESS && data != NULL) {
        const struct user_seen *seen = data;
        if (seen->phase < r->args.phase && strcmp(seen->name, r->user) != 0) {
            char before[128];
            printable(before, sizeof before, seen->name);
            pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_ERR,
                       "phase=%s user=%s service=%s: refused: the user name changed since "
                       "phase=%s of this login (was %s); a module between mail2fa's lines "
                       "must not change PAM_USER",
                       r->args.phase_name, r->user_log, r->service, phase_label(seen->phase),
                       before);
            return -1;
        }
    }
    size_t n = strlen(r->user);
    struct user_seen *now = malloc(sizeof *now + n + 1);
    if (now == NULL) {
        pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_CRIT, "out of memory");
        return -1;
    }
    now->phase = r->args.phase;
    memcpy(now->name, r->user, n + 1);
    /* Replaces (and frees) the previous record. */
    if (pam_set_data(r->pamh, USER_DATA, now, user_cleanup) != PAM_SUCCESS) {
        free(now);
        pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_ERR, "phase=%s: cannot keep the user name",
                   r->args.phase_name);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- arguments */

/* The value of "key=value" if `arg` starts with "key=", else NULL. */
static const char *arg_value(const char *arg, const char *key)
{
    size_t n = strlen(key);
    if (strncmp(arg, key, n) == 0 && arg[n] == '=')
        return arg + n + 1;
    return NULL;
}

/* 0 on success; on a bad argument logs it and returns -1. */
static int parse_args(pam_handle_t *pamh, int argc, const char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    a->phase_name = "?";
    int bad = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *v;
        if (arg == NULL)
            continue;
        if ((v = arg_value(arg, "phase")) != NULL) {
            a->phase_name = v;
            if (strcmp(v, "app-password") == 0)
                a->phase = PHASE_APP_PASSWORD;
            else if (strcmp(v, "split") == 0)
                a->phase = PHASE_SPLIT;
            else if (strcmp(v, "verify") == 0)
                a->phase = PHASE_VERIFY;
            else
                a->phase = PHASE_NONE;
        } else if ((v = arg_value(arg, "config")) != NULL) {
            a->config = v;
        } else if ((v = arg_value(arg, "db")) != NULL) {
            a->db = v;
        } else if ((v = arg_value(arg, "key_file")) != NULL) {
            a->key_file = v;
        } else if ((v = arg_value(arg, "platform")) != NULL) {
            a->platform = v;
        } else if ((v = arg_value(arg, "default_platform")) != NULL) {
            a->default_platform = v;
        } else if ((v = arg_value(arg, "protocol")) != NULL) {
            a->protocol = v;
        } else if (strcmp(arg, "debug") == 0) {
            a->debug = 1;
        } else {
            char shown[64];
            /* only the name: a misplaced secret must not reach the log */
            size_t n = strcspn(arg, "=");
            printable(shown, n + 1 < sizeof shown ? n + 1 : sizeof shown, arg);
            pam_syslog(pamh, LOG_AUTHPRIV | LOG_ERR, "unknown module argument \"%s\"", shown);
            bad = 1;
        }
    }
    if (a->phase == PHASE_NONE) {
        pam_syslog(pamh, LOG_AUTHPRIV | LOG_ERR,
                   "missing or unknown phase= (app-password, split or verify)");
        bad = 1;
    }
    if (a->config != NULL && a->db != NULL) {
        pam_syslog(pamh, LOG_AUTHPRIV | LOG_ERR,
                   "config= and db= given: the configuration file names the store "
                   "(keep config=)");
        bad = 1;
    } else if (a->db == NULL && a->config == NULL) {
        a->config = DEFAULT_CONFIG;
    }
    if (a->config != NULL && a->key_file != NULL) {
        pam_syslog(pamh, LOG_AUTHPRIV | LOG_ERR,
                   "key_file= goes with db= only: with config= the configuration file names "
                   "the key file (encryption.key_file)");
        bad = 1;
    }
    if ((a->db != NULL && a->db[0] == '\0') || (a->config != NULL && a->config[0] == '\0')) {
        pam_syslog(pamh, LOG_AUTHPRIV | LOG_ERR, "empty db= or config=");
        bad = 1;
    }
    if ((a->platform != NULL && a->platform[0] == '\0') ||
        (a->default_platform != NULL && a->default_platform[0] == '\0') ||
        (a->protocol != NULL && a->protocol[0] == '\0') ||
        (a->key_file != NULL && a->key_file[0] == '\0')) {
        pam_syslog(pamh, LOG_AUTHPRIV | LOG_ERR, "empty platform=, default_platform=, "
                   "protocol= or key_file=");
        bad = 1;
    }
    return bad ? -1 : 0;
}

/* ------------------------------------------------------- the login context */

/* Fills user, service, rhost, platform, protocol and now. 0, or -1 (logged). */
static int resolve(struct request *r)
{
    pam_handle_t *pamh = r->pamh;
    const void *item = NULL;

    r->service = "(none)";
    if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS && item != NULL &&
        ((const char *)item)[0] != '\0') {
        r->service = item;
        r->has_service = 1;
    }

    const char *user = NULL;
    if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL || user[0] == '\0') {
        pam_syslog(pamh, LOG_AUTHPRIV | LOG_ERR, "phase=%s service=%s: no user name",
                   r->args.phase_name, r->service);
        return -1;
    }
    r->user = user;
    printable(r->user_log, sizeof r->user_log, user);
    if (same_user_as_before(r) != 0)
        return -1;

    /* The client's address, when PAM_RHOST is an IP address. */
    r->rhost = NULL;
    item = NULL;
    if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS && item != NULL) {
        unsigned char addr[sizeof(struct in6_addr)];
        if (inet_pton(AF_INET, item, addr) == 1 || inet_pton(AF_INET6, item, addr) == 1)
            r->rhost = item;
    }

    /* Platform: fixed, else the domain of the user name. */
    if (r->args.platform != NULL) {
        r->platform = r->args.platform;
    } else {
        const char *at = strrchr(user, '@');
        if (at != NULL && at[1] != '\0') {
            r->platform = at + 1;
        } else if (at == NULL && r->args.default_platform != NULL) {
            r->platform = r->args.default_platform;
        } else {
            pam_syslog(pamh, LOG_AUTHPRIV | LOG_ERR,
                       "phase=%s user=%s service=%s: no platform (the user name has no "
                       "domain, and no platform= or default_platform= is given)",
                       r->args.phase_name, r->user_log, r->service);
            return -1;
        }
    }

    /* mail2fa compares names exactly, and password modules (LDAP, SSSD)
     * often do not: "Alice@Example.com", a full-width letter or a trailing
     * dot would find no 2FA record and get in with the password alone. The
     * library's alphabet has one spelling per account; any other is
     * refused here, in every phase. */
    m2fa_status name_status = m2fa_account_name_check(r->platform, user);
    if (name_status != M2FA_OK) {
        char message[160];
        status_text(name_status, message, sizeof message);
        pam_syslog(pamh, LOG_AUTHPRIV | LOG_NOTICE,
                   "phase=%s user=%s service=%s: refused: %s (mail2fa status %u; Dovecot: "
                   "auth_username_format = %%Lu)",
                   r->args.phase_name, r->user_log, r->service, message,
                   (unsigned)name_status);
        return -1;
    }

    /* Protocol: given, else derived from the service name. */
    const char *name = r->args.protocol;
    if (name == NULL) {
        if (!r->has_service) {
            pam_syslog(pamh, LOG_AUTHPRIV | LOG_ERR,
                       "phase=%s user=%s: no PAM service name to derive the protocol "
                       "from (give protocol=)", r->args.phase_name, r->user_log);
            return -1;
        }
        static const char rpc[] = "rpc-over-http";
        size_t n = strlen(r->service), m = sizeof rpc - 1;
        if (n >= m && strcasecmp(r->service + n - m, rpc) == 0 &&
            (n == m || r->service[n - m - 1] == '-')) {
            name = r->service + n - m;
        } else {
            const char *dash = strrchr(r->service, '-');
            name = dash != NULL ? dash + 1 : r->service;
        }
        /* Dovecot's submission service is SMTP submission. */
        if (strcasecmp(name, "submission") == 0)
            name = "smtp";
    }
    /* By name: the library maps standard names (any case) to their
     * protocols and refuses invalid ones. */
    r->protocol_name = name;
    r->protocol = M2FA_PROTOCOL_OTHER;
    if (name[0] == '\0') {
        pam_syslog(pamh, LOG_AUTHPRIV | LOG_ERR,
                   "phase=%s user=%s service=%s: empty protocol name",
                   r->args.phase_name, r->user_log, r->service);
        return -1;
    }

    time_t t = time(NULL);
    if (t == (time_t)-1 || t < 0) {
        pam_syslog(pamh, LOG_AUTHPRIV | LOG_ERR, "phase=%s: cannot read the clock",
                   r->args.phase_name);
        return -1;
    }
    r->now = (uint64_t)t;

    if (r->args.debug) {
        char platform[128], protocol[64];
        printable(platform, sizeof platform, r->platform);
        printable(protocol, sizeof protocol, r->protocol_name);
        pam_syslog(pamh, LOG_AUTHPRIV | LOG_DEBUG,
                   "phase=%s user=%s service=%s platform=%s protocol=%s rhost=%s config=%s "
                   "db=%s key_file=%s", r->args.phase_name, r->user_log, r->service, platform,
                   protocol, r->rhost != NULL ? r->rhost : "(none)",
                   r->args.config != NULL ? r->args.config : "(none)",
                   r->args.db != NULL ? r->args.db : "(none)",
                   r->args.key_file != NULL ? r->args.key_file : "(none)");
    }
    return 0;
}

/* ------------------------------------------------------------ the engine */

/* Loads the key file into the configuration. 0, or -1 (logged). */
static int load_keys(const struct request *r, m2fa_engine_config *config)
{
    m2fa_status st = m2fa_engine_config_load_key_file(config, r->args.key_file);
    if (st != M2FA_OK) {
        char message[160];
        status_text(st, message, sizeof message);
        pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_ERR,
                   "phase=%s user=%s service=%s: cannot use the key file %s: %s (mail2fa "
                   "status %u); `mail2fa db check --key-file %s` names the problem",
                   r->args.phase_name, r->user_log, r->service, r->args.key_file, message,
                   (unsigned)st, r->args.key_file);
        return -1;
    }
    return 0;
}

static int same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Opens the engine of db= (and key_file=): the library's default policies,
 * SQLite with synchronous=FULL, the database never created. 0 with *engine
 * set (the caller's), or -1 (logged). */
static int open_db_engine(const struct request *r, m2fa_engine **engine)
{
    m2fa_engine_config *config = NULL;
    m2fa_status st = m2fa_engine_config_new(&config);
    if (st != M2FA_OK) {
        log_status(r, "engine configuration", st);
        return -1;
    }
    int rc = -1;
    /* never create the database: a wrong path must not mean "no 2FA" */
    st = m2fa_engine_config_set_sqlite(config, M2FA_SYNCHRONOUS_FULL, SQLITE_BUSY_MS, 0);
    if (st != M2FA_OK) {
        log_status(r, "database options", st);
        goto out;
    }
    if (r->args.key_file != NULL && load_keys(r, config) != 0)
        goto out;
    st = m2fa_engine_open(r->args.db, config, engine);
    if (st != M2FA_OK) {
        char what[512];
        snprintf(what, sizeof what, "opening the database %s", r->args.db);
        log_status(r, what, st);
        goto out;
    }
    rc = 0;
out:
    m2fa_engine_config_free(config); /* wipes the keys */
    return rc;
}

/* The engines of the process, one per config= path (or db= and key_file=
 * pair), kept for the life of the process that opened them (never freed:
 * they serve every later login, so SQLite's connection, its WAL and its
 * page cache outlive each PAM transaction: one fsync per write, none per
 * read). `lock` guards the list; around fork it is held (pthread_atfork),
 * so that a child never inherits it locked. */
struct process_engine {
    struct process_engine *next;
    pid_t pid; /* the process that opened it: only it may use it */
    char *config;   /* config=, or NULL */
    char *db;       /* db=, or NULL */
    char *key_file; /* key_file= (with db=), or NULL */
    m2fa_engine *engine;
};

static pthread_mutex_t engines_lock = PTHREAD_MUTEX_INITIALIZER;
static struct process_engine *engines;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void engines_prepare(void) { pthread_mutex_lock(&engines_lock); }
static void engines_release(void) { pthread_mutex_unlock(&engines_lock); }
static void engines_atfork(void)
{
    pthread_atfork(engines_prepare, engines_release, engines_release);
}

/* The engine of the module's arguments for this process: found, or opened
 * (config=: m2fa_engine_open_config; db=: open_db_engine) and kept. The
 * parent's engines, in a forked child, are left alone (not used, not
 * freed: freeing would close what the parent still uses, and their threads
 * do not exist here). 0 with *engine set (owned by the module: do not free
 * it), or -1 (logged; nothing kept, the next login tries again). */
static int open_engine(const struct request *r, m2fa_engine **engine)
{
    pthread_once(&atfork_once, engines_atfork);
    pid_t pid = getpid();
    int rc = -1;
    pthread_mutex_lock(&engines_lock);
    for (struct process_engine *e = engines; e != NULL; e = e->next) {
        if (e->pid == pid && same_text(e->config, r->args.config) &&
            same_text(e->db, r->args.db) && same_text(e->key_file, r->args.key_file)) {
            *engine = e->engine;
            rc = 0;
            goto out;
        }
    }
    m2fa_engine *opened = NULL;
    if (r->args.config != NULL) {
        char message[512];
        size_t needed = 0;
        m2fa_status st = m2fa_engine_open_config_message(r->args.config, &opened, message,
                                                         sizeof message, &needed);
        if (st != M2FA_OK) {
            /* The message names the file, line and column; never a secret. */
            pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_ERR,
                       "phase=%s user=%s service=%s: cannot open the engine of %s: %s "
                       "(mail2fa status %u); `mail2fa config check` names the problem",
                       r->args.phase_name, r->user_log, r->service, r->args.config, message,
                       (unsigned)st);
            goto out;
        }
    } else if (open_db_engine(r, &opened) != 0) {
        goto out;
    }
    struct process_engine *kept = calloc(1, sizeof *kept);
    if (kept == NULL ||
        (r->args.config != NULL && (kept->config = strdup(r->args.config)) == NULL) ||
        (r->args.db != NULL && (kept->db = strdup(r->args.db)) == NULL) ||
        (r->args.key_file != NULL && (kept->key_file = strdup(r->args.key_file)) == NULL)) {
        if (kept != NULL) {
            free(kept->config);
            free(kept->db);
            free(kept->key_file);
        }
        free(kept);
        m2fa_engine_free(opened);
        pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_ERR, "phase=%s: out of memory", r->args.phase_name);
        goto out;
    }
    kept->pid = pid;
    kept->engine = opened;
    /* The list keeps the parent's entries (a child never frees them). */
    kept->next = engines;
    engines = kept;
    if (r->args.debug)
        pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_DEBUG, "opened the engine of %s for pid %ld",
                   r->args.config != NULL ? r->args.config : r->args.db, (long)pid);
    *engine = opened;
    rc = 0;
out:
    pthread_mutex_unlock(&engines_lock);
    return rc;
}

/* Builds a login over the request's protocol with the client's address;
 * the credential is set by the caller. 0 or -1 (logged). */
static int new_login(const struct request *r, m2fa_login **login)
{
    m2fa_status st = m2fa_login_new(r->protocol, r->protocol_name, login);
    if (st != M2FA_OK) {
        log_status(r, "login (protocol name)", st);
        return -1;
    }
    st = m2fa_login_set_client(*login, NULL, NULL, NULL, r->rhost);
    if (st != M2FA_OK) {
        log_status(r, "login (client)", st);
        m2fa_login_free(*login);
        *login = NULL;
        return -1;
    }
    return 0;
}

/* Logs one decision; writes its outcome into *outcome. 0, or -1 (logged)
 * if the outcome cannot be read. */
static int log_decision(const struct request *r, const m2fa_decision *decision,
                        uint32_t *outcome, const char *result)
{
    uint32_t reason = 0;
    m2fa_status st = m2fa_decision_outcome(decision, outcome);
    if (st != M2FA_OK) {
        log_status(r, "reading the decision", st);
        return -1;
    }
    if (m2fa_decision_reason(decision, &reason) != M2FA_OK)
        reason = UINT32_MAX;
    char audit[512], *big = NULL;
    const char *shown = audit;
    size_t needed = 0;
    st = m2fa_decision_audit(decision, audit, sizeof audit, &needed);
    if (st == M2FA_BUFFER_TOO_SMALL && needed > 0 && (big = malloc(needed)) != NULL &&
        m2fa_decision_audit(decision, big, needed, &needed) == M2FA_OK)
        shown = big;
    else if (st != M2FA_OK)
        shown = "(no audit line)";

    int level;
    if (*outcome == M2FA_OUTCOME_ALLOWED)
        level = LOG_INFO;
    else if (r->args.phase == PHASE_APP_PASSWORD && reason == M2FA_REASON_WRONG_PASSWORD)
        level = LOG_DEBUG; /* not an application password at all: the usual case */
    else
        level = LOG_NOTICE;
    char protocol[64];
    printable(protocol, sizeof protocol, r->protocol_name);
    pam_syslog(r->pamh, LOG_AUTHPRIV | level,
               "phase=%s user=%s service=%s protocol=%s outcome=%s reason=%s -> %s [%s]",
               r->args.phase_name, r->user_log, r->service, protocol,
               or_unknown(m2fa_outcome_name(*outcome)), or_unknown(m2fa_reason_name(reason)),
               result, shown);
    free(big);
    return 0;
}

/* ------------------------------------------------------- the pending login */

/* One mail2fa login carried from line to line of the stack (pam_set_data
 * LOGIN_DATA): begun by the first mail2fa line that sees the input, split
 * by phase=split, finished by phase=verify. The arguments and the input
 * it was begun with are kept, so that a later line only uses it for the
 * same database, user, protocol and input. */
struct carried_login {
    enum phase phase; /* the last phase that used it */
    char *config, *db, *key_file, *user, *protocol; /* config or db: NULL when not given */
    char *input;      /* a copy of what was typed (wiped on cleanup) */
    m2fa_pending_login *pending;
};

static void login_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
    (void)pamh;
    (void)error_status;
    struct carried_login *c = data;
    if (c == NULL)
        return;
    m2fa_pending_login_free(c->pending); /* wipes its copy of the input */
    wipe_free(c->input);
    free(c->config);
    free(c->db);
    free(c->key_file);
    free(c->user);
    free(c->protocol);
    free(c);
}

/* Drops the carried login, if any. 0, or -1 (logged). */
static int drop_login(const struct request *r)
{
    if (pam_set_data(r->pamh, LOGIN_DATA, NULL, NULL) != PAM_SUCCESS) {
        pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_ERR, "phase=%s: pam_set_data failed",
                   r->args.phase_name);
        return -1;
    }
    return 0;
}

/* The login an earlier line of this login carried, begun with these
 * arguments for this user and protocol, last used by phase `after`; with
 * `input` non-NULL, begun for that input. NULL if there is none. */
static struct carried_login *carried(const struct request *r, enum phase after,
                                     const char *input)
{
    const void *data = NULL;
    if (pam_get_data(r->pamh, LOGIN_DATA, &data) != PAM_SUCCESS || data == NULL)
        return NULL;
    struct carried_login *c = (struct carried_login *)data;
    if (c->phase != after || !same_text(c->config, r->args.config) ||
        !same_text(c->db, r->args.db) ||
        !same_text(c->key_file, r->args.key_file) || strcmp(c->user, r->user) != 0 ||
        strcmp(c->protocol, r->protocol_name) != 0 ||
        (input != NULL && strcmp(c->input, input) != 0))
        return NULL;
    return c;
}

/* Begins a login for `input` and carries it (replacing any other).
 * M2FA_OK with *out set (owned by the PAM handle), or the status of
 * m2fa_engine_begin_login (logged, unless it is M2FA_INVALID_UTF8 or
 * M2FA_INVALID_INPUT: input that carries no code), or M2FA_INTERNAL_PANIC
 * when the login cannot be kept (logged). */
static m2fa_status begin_login(const struct request *r, m2fa_engine *engine, const char *input,
                               struct carried_login **out)
{
    if (drop_login(r) != 0)
        return M2FA_INTERNAL_PANIC;
    m2fa_login *login = NULL;
    if (new_login(r, &login) != 0)
        return M2FA_INTERNAL_PANIC;
    struct carried_login *c = calloc(1, sizeof *c);
    m2fa_status st = M2FA_INTERNAL_PANIC;
    if (c == NULL ||
        (r->args.config != NULL && (c->config = strdup(r->args.config)) == NULL) ||
        (r->args.db != NULL && (c->db = strdup(r->args.db)) == NULL) ||
        (r->args.key_file != NULL && (c->key_file = strdup(r->args.key_file)) == NULL) ||
        (c->user = strdup(r->user)) == NULL || (c->protocol = strdup(r->protocol_name)) == NULL ||
        (c->input = strdup(input)) == NULL) {
        pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_CRIT, "out of memory");
        goto out;
    }
    c->phase = r->args.phase;
    st = m2fa_engine_begin_login(engine, r->platform, r->user, login, input, r->now,
                                 &c->pending);
    if (st != M2FA_OK) {
        if (st != M2FA_INVALID_UTF8 && st != M2FA_INVALID_INPUT)
            log_status(r, "begin login", st);
        goto out;
    }
    if (pam_set_data(r->pamh, LOGIN_DATA, c, login_cleanup) != PAM_SUCCESS) {
        pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_ERR, "phase=%s: cannot keep the login",
                   r->args.phase_name);
        st = M2FA_INTERNAL_PANIC;
        goto out;
    }
    *out = c;
    c = NULL;
out:
    if (c != NULL)
        login_cleanup(r->pamh, c, 0);
    m2fa_login_free(login);
    return st;
}

/* --------------------------------------------------------------- phases */

/* The password typed, or NULL (logged) if there is none. */
static const char *get_password(const struct request *r)
{
    const char *token = NULL;
    int ret = pam_get_authtok(r->pamh, PAM_AUTHTOK, &token, NULL);
    if (ret != PAM_SUCCESS || token == NULL || token[0] == '\0') {
        pam_syslog(r->pamh, r->args.phase == PHASE_APP_PASSWORD && ret == PAM_SUCCESS
                   ? LOG_AUTHPRIV | LOG_DEBUG : LOG_AUTHPRIV | LOG_NOTICE,
                   "phase=%s user=%s service=%s: no password (%s)", r->args.phase_name,
                   r->user_log, r->service,
                   ret == PAM_SUCCESS ? "empty" : pam_strerror(r->pamh, ret));
        return NULL;
    }
    return token;
}

/* Application password? PAM_SUCCESS, else PAM_IGNORE. */
static int phase_app_password(struct request *r)
{
    /* Whatever happens, a login of an earlier attempt is not carried on. */
    if (drop_login(r) != 0)
        return PAM_IGNORE;
    const char *input = get_password(r);
    if (input == NULL)
        return PAM_IGNORE;
    m2fa_engine *engine = NULL;
    m2fa_decision *decision = NULL;
    struct carried_login *c = NULL;
    int result = PAM_IGNORE;
    if (open_engine(r, &engine) != 0 || begin_login(r, engine, input, &c) != M2FA_OK)
        goto out;
    /* Not the account password: is it an application password? */
    m2fa_status st = m2fa_pending_login_finish(c->pending, M2FA_PASSWORD_WRONG, r->now,
                                               &decision);
    if (st != M2FA_OK) {
        log_status(r, "application password check", st);
        goto out;
    }
    uint32_t outcome = 0, reason = 0;
    /* Only an application password ends the stack here: any other "allowed"
     * (there is none today) must not skip the host's password module. */
    if (m2fa_decision_outcome(decision, &outcome) == M2FA_OK &&
        outcome == M2FA_OUTCOME_ALLOWED && m2fa_decision_reason(decision, &reason) == M2FA_OK &&
        reason == M2FA_REASON_APP_PASSWORD)
        result = PAM_SUCCESS;
    log_decision(r, decision, &outcome,
                 result == PAM_SUCCESS ? "PAM_SUCCESS (application password)"
                                       : "PAM_IGNORE (go on to the password check)");
out:
    /* Done with: the login is over; else phase=split takes it over. */
    if (result == PAM_SUCCESS)
        drop_login(r);
    m2fa_decision_free(decision);
    return result;
}

/* Splits password+code. PAM_SUCCESS or PAM_AUTH_ERR. */
static int phase_split(struct request *r)
{
    const char *input = get_password(r);
    if (input == NULL) {
        drop_login(r);
        return PAM_AUTH_ERR;
    }
    m2fa_engine *engine = NULL;
    char *password = NULL;
    int result = PAM_AUTH_ERR;
    /* The login phase=app-password began for this very input, else a new one. */
    struct carried_login *c = carried(r, PHASE_APP_PASSWORD, input);
    if (c == NULL) {
        if (open_engine(r, &engine) != 0)
            goto out;
        m2fa_status st = begin_login(r, engine, input, &c);
        if (st == M2FA_INVALID_UTF8 || st == M2FA_INVALID_INPUT) {
            /* Not UTF-8, or too long for a credential: it carries no code;
             * the host's module checks it as it is (line 4 then decides on
             * the password alone). */
            if (r->args.debug)
                pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_DEBUG,
                           "phase=split user=%s service=%s: input taken whole (status %u)",
                           r->user_log, r->service, (unsigned)st);
            result = PAM_SUCCESS;
            goto out;
        }
        if (st != M2FA_OK)
            goto out;
    }
    size_t needed = 0, input_len = strlen(input);
    m2fa_status st = m2fa_pending_login_password(c->pending, NULL, 0, &needed);
    if (st != M2FA_BUFFER_TOO_SMALL || needed == 0 || needed > input_len + 1 ||
        (password = malloc(needed)) == NULL ||
        (st = m2fa_pending_login_password(c->pending, password, needed, &needed)) != M2FA_OK) {
        log_status(r, "split", st == M2FA_OK ? M2FA_INTERNAL_PANIC : st);
        goto out;
    }
    c->phase = PHASE_SPLIT;
    if (needed == input_len + 1) {
        if (r->args.debug)
            pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_DEBUG,
                       "phase=split user=%s service=%s: no code to split off (no active "
                       "second factor, or the protocol takes no code, or none typed)",
                       r->user_log, r->service);
        result = PAM_SUCCESS;
        goto out;
    }
    if (needed == 1) {
        pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_ERR,
                   "phase=split user=%s service=%s: inconsistent split", r->user_log,
                   r->service);
        goto out;
    }
    /* From here on `input` (libpam's PAM_AUTHTOK) is not used: pam_set_item
     * below wipes and frees it. */
    int ret = pam_set_item(r->pamh, PAM_AUTHTOK, password); /* libpam copies it */
    if (ret != PAM_SUCCESS) {
        pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_ERR,
                   "phase=split: cannot replace the password: %s", pam_strerror(r->pamh, ret));
        goto out;
    }
    if (r->args.debug)
        pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_DEBUG,
                   "phase=split user=%s service=%s: code split off and kept for "
                   "phase=verify; the password alone goes to the next module",
                   r->user_log, r->service);
    result = PAM_SUCCESS;
out:
    if (result != PAM_SUCCESS || c == NULL || c->phase != PHASE_SPLIT)
        drop_login(r);
    wipe_free(password);
    return result;
}

/* The final decision, after the host's module accepted the password. */
static int phase_verify(struct request *r)
{
    struct carried_login *c = carried(r, PHASE_SPLIT, NULL);
    m2fa_engine *engine = NULL;
    m2fa_login *login = NULL;
    m2fa_decision *decision = NULL;
    int result = PAM_AUTH_ERR;
    m2fa_status st;
    if (c != NULL) {
        if (r->args.debug)
            pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_DEBUG,
                       "phase=verify user=%s service=%s: password accepted by the host",
                       r->user_log, r->service);
        st = m2fa_pending_login_finish(c->pending, M2FA_PASSWORD_CORRECT, r->now, &decision);
    } else {
        /* No login from phase=split (input left whole, or no split line in
         * the stack): the password alone, as the host's module took it. */
        if (open_engine(r, &engine) != 0 || new_login(r, &login) != 0)
            goto out;
        st = m2fa_login_set_password(login, 1);
        if (st != M2FA_OK) {
            log_status(r, "login (password)", st);
            goto out;
        }
        if (r->args.debug)
            pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_DEBUG,
                       "phase=verify user=%s service=%s: password accepted by the host, "
                       "taken whole", r->user_log, r->service);
        st = m2fa_engine_authenticate(engine, r->platform, r->user, login, r->now, &decision);
    }
    if (st != M2FA_OK) {
        log_status(r, "decision", st);
        goto out;
    }
    uint32_t outcome = 0;
    if (m2fa_decision_outcome(decision, &outcome) == M2FA_OK &&
        outcome == M2FA_OUTCOME_ALLOWED)
        result = PAM_SUCCESS;
    if (log_decision(r, decision, &outcome,
                     result == PAM_SUCCESS ? "PAM_SUCCESS" : "PAM_AUTH_ERR") != 0)
        result = PAM_AUTH_ERR;
    if (outcome == M2FA_OUTCOME_DEVICE_PENDING) {
        char device[M2FA_DEVICE_ID_SIZE];
        size_t needed = 0;
        if (m2fa_decision_device(decision, device, sizeof device, &needed) != M2FA_OK)
            snprintf(device, sizeof device, "(unknown)");
        pam_syslog(r->pamh, LOG_AUTHPRIV | LOG_NOTICE,
                   "phase=verify user=%s service=%s: new device %s waits for authorization "
                   "(PAM cannot deliver mail2fa's notification: the user or an operator "
                   "must activate it, e.g. `mail2fa device activate`)",
                   r->user_log, r->service, device);
    }
out:
    /* One decision per login: drop it (its input copy is wiped). */
    drop_login(r);
    m2fa_decision_free(decision);
    m2fa_login_free(login);
    return result;
}

/* ---------------------------------------------------------- entry points */

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)flags;
    struct request r;
    memset(&r, 0, sizeof r);
    r.pamh = pamh;
    if (parse_args(pamh, argc, argv, &r.args) != 0)
        return r.args.phase == PHASE_APP_PASSWORD ? PAM_IGNORE : PAM_AUTH_ERR;
    if (resolve(&r) != 0) {
        /* Nothing of this login is carried on. */
        pam_set_data(pamh, LOGIN_DATA, NULL, NULL);
        return r.args.phase == PHASE_APP_PASSWORD ? PAM_IGNORE : PAM_AUTH_ERR;
    }
    switch (r.args.phase) {
    case PHASE_APP_PASSWORD: return phase_app_password(&r);
    case PHASE_SPLIT: return phase_split(&r);
    case PHASE_VERIFY: return phase_verify(&r);
    default: return PAM_AUTH_ERR;
    }
}

/* No credentials to establish: PAM_SUCCESS, as pam_unix answers. Tested with
 * pam_setcred after both paths of the stack (the `sufficient` application
 * password and password+code): both succeed. */
PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}
