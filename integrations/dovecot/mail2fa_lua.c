/*
 * mail2fa_lua.c: Lua 5.4 module `mail2fa`, the calls a Dovecot Lua passdb
 * needs (integrations/dovecot/mail2fa-passdb.lua uses it).
 *
 * Build (scripts/build-integrations.sh does it):
 *   gcc -std=c11 -O2 -fPIC -shared -D_GNU_SOURCE -I/usr/include/lua5.4 \
 *       -Itarget/capi/include -Wl,-z,undefs -o mail2fa.so mail2fa_lua.c \
 *       target/capi/lib/libmail2fa.a -Wl,--exclude-libs,ALL -lpthread -ldl -lm
 * No -llua: the module uses the Lua of the process that loads it (Dovecot's
 * liblua5.4). libmail2fa.a is linked in and its symbols stay hidden; the
 * only exported symbol is luaopen_mail2fa.
 *
 * API
 *   local m2fa = require "mail2fa"
 *   m2fa.version                    library version, e.g. "0.1.0"
 *   m2fa.open_config(path)          -> engine | nil, message
 *       Opens the engine the mail2fa configuration file at `path` names
 *       (the file the operator tool and every other component read, e.g.
 *       /etc/mail2fa/mail2fa.toml; m2fa_engine_open_config): its store
 *       (SQLite or PostgreSQL, created only if the file says so), key,
 *       password and device key files, and policies. The message of a
 *       file that cannot be used names it, with the line and column.
 *   m2fa.open(path [, key_file])    -> engine | nil, message
 *       Legacy, prefer open_config: the library's default policies, which
 *       may disagree with the operator tool's configuration.
 *       Opens the SQLite database written by the `mail2fa` operator tool.
 *       A missing database is an error (never created here: a mistyped
 *       path must not turn 2FA off for everyone). key_file: the encryption
 *       keys, one `ID:KEY` per line (KEY = 64 hex digits), the current key
 *       first, `#` and blank lines skipped; the file must be a regular file
 *       not readable or writable by group or others. Same format as the
 *       operator tool's --key-file: the library reads both
 *       (m2fa_engine_config_load_key_file).
 *   m2fa.check_name(platform, account) -> true | nil, message
 *       Whether both names are in mail2fa's alphabet (one spelling per
 *       account: lower-case ASCII letters, digits, '.', '-', '_', '+', one
 *       '@' before a lower-case DNS name; m2fa_account_name_check). Every
 *       engine call refuses other names too (nil and a message); this lets
 *       the script refuse them before anything else.
 *   engine:check_login(platform, account, protocol, input, client, check [, now])
 *       -> result | nil, message
 *       The whole login in one call (m2fa_engine_check_login): `input` is
 *       the password field as the client sent it (a password, password+code,
 *       an application password); client = { device_id =, device_type =,
 *       user_agent =, remote_addr = (strings or nil) } or nil; check =
 *       function(password) -> true | false | nil, message: the script's
 *       own password check, called at most once, with the password part
 *       only (never the code), and not at all for input mail2fa refuses.
 *       false: not the account password (the input may still be an
 *       application password); nil (or an error raised in it): the check
 *       could not answer, and check_login returns nil and a message with
 *       the check's. result: as authenticate's. Each record is read once.
 *   engine:split(platform, account, protocol, input [, now])
 *       -> password, code | password, nil | nil, nil, message
 *       Splits a password+code string for this account and protocol (a
 *       code is split off only where the protocol's policy takes one).
 *       check_login splits inside; this is for scripts that cannot hand
 *       their password check to check_login.
 *   engine:authenticate(platform, account, request [, now])
 *       -> result | nil, message
 *       For a credential the script worked out itself (the password alone
 *       when the input cannot go to check_login: not UTF-8, over 4096
 *       bytes, a NUL byte).
 *       request = { protocol = "imap", password_correct = true|false,
 *                   code = "123456"|nil, app_password = "..."|nil,
 *                   device_id =, device_type =, user_agent =,
 *                   remote_addr = (strings or nil) }
 *       app_password given: the credential is that (maybe an application
 *       password; password_correct and code are ignored); else code given:
 *       password + code; else the password alone.
 *       result = { allowed = bool, outcome = "allowed" | "device_pending" |
 *                  "second_factor_required" | "enrollment_required" |
 *                  "refused", reason = "code_accepted" | ... (the
 *                  library's m2fa_reason_name: the M2FA_REASON_ constant
 *                  in lower case; "reason_<N>" for a reason this build does
 *                  not know), cacheable = bool, audit = "<audit line>",
 *                  device = "<32 hex>" | nil, notification = note | nil }
 *       notification: the message about a blocked device that the host
 *       should deliver (m2fa_decision_notification), on a device_pending
 *       decision when mail2fa has one to send (not when the user was told
 *       within [devices] notify_interval_seconds, nor without a
 *       destination):
 *       note = { channel = "email" | "sms", to = "<address or number>",
 *                subject = "...", text = "..." (with the portal link of
 *                [engine] portal_link; no secret in any of them) }
 *   engine:notification_fallback(platform, account, device [, now])
 *       -> note | nil | nil, message
 *       The host could not send the SMS about `device` (the 32 hex digits
 *       of result.device): the same message by e-mail
 *       (m2fa_engine_notification_fallback), as a note of channel "email";
 *       nil alone when the account has no e-mail address.
 *   engine:close()                  -> true (idempotent; also __gc/__close)
 *   engine:is_open()                -> bool: open, and opened by this process
 *       After fork, the child's copy of an engine behaves as closed: it is
 *       never used there (its store's threads and connections are the
 *       parent's) nor freed (close and __gc only drop it); open a new one.
 *   protocol: webmail, portal, activesync, outlook, imap, pop3, smtp,
 *   rpc-over-http (any case); any other name is a host-named protocol
 *   (1-32 letters, digits, '-', '_', '.').
 *   now: Unix seconds, default time(NULL).
 *
 * Errors: every failure of mail2fa or of the input is returned as nil and a
 * message. Lua errors are raised only for arguments of the wrong type (not
 * a string, request not a table, a request field that is neither nil nor a
 * string/boolean as documented), by luaL_check* / luaL_error before any
 * library object exists. After close(), methods return nil + "closed"
 * (split: nil, nil, "closed"). A lone nil from notification_fallback is
 * no failure: there is no e-mail address to send to.
 *
 * Secrets: the C side makes no copy of a password, code or key of its own
 * (check_login: mail2fa hands the check a copy of the password part, wiped
 * after the call; the Lua string made from it is Lua's, like split's)
 * (mail2fa reads the key file and wipes its contents); mail2fa copies the
 * code or application password into its login object and wipes it when the
 * object is freed (before this function returns). Lua strings are immutable and
 * cannot be wiped: the password string belongs to Dovecot, and the two
 * strings split() returns live until Lua's garbage collector frees them.
 *
 * Threads: one engine per Lua state; an engine is thread-safe, a Lua state
 * is not (Dovecot runs one Lua state per auth process). Keep the engine for
 * the life of the process (the passdb script does): one store connection
 * pool serves every login.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "mail2fa.h"

#define ENGINE_MT "mail2fa.engine"
#define GUARD_MT "mail2fa.login_guard"
#define MSG_SIZE 512

typedef struct {
    m2fa_engine *engine; /* NULL once closed */
    pid_t pid;           /* the process that opened it: only it uses it */
} engine_ud;

/* Holds the library objects of one authenticate() call, so that they are
 * freed (and the credential copy wiped) even if a Lua error (out of
 * memory) interrupts the call: it is a to-be-closed slot with __gc too. */
typedef struct {
    m2fa_login *login;
    m2fa_decision *decision;
    m2fa_notification *notification;
} login_guard;

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static void status_text(m2fa_status st, char *buf, size_t len)
{
    size_t needed = 0;
    m2fa_status r = m2fa_status_message((uint32_t)st, buf, len, &needed);
    if (r != M2FA_OK && r != M2FA_UNKNOWN_ENUM_VALUE)
        snprintf(buf, len, "mail2fa status %u", (unsigned)st);
}

/* "<what>: <status message> (status N)" */
static void fail_msg(char *msg, size_t len, const char *what, m2fa_status st)
{
    char text[256];
    status_text(st, text, sizeof text);
    /* A message cut to fit is still a message. */
    if (snprintf(msg, len, "%s: %s (mail2fa status %u)", what, text, (unsigned)st) < 0)
        msg[0] = '\0';
}

/* Pushes nil and a message; returns 2. */
static int push_fail(lua_State *L, const char *msg)
{
    lua_pushnil(L);
    lua_pushstring(L, msg);
    return 2;
}

/* A string argument without embedded NUL (the C API takes C strings: a NUL
 * inside would silently cut the string). Raises for a non-string. */
static const char *check_cstr(lua_State *L, int arg, int *has_nul)
{
    size_t len = 0;
    const char *s = luaL_checklstring(L, arg, &len);
    if (strlen(s) != len)
        *has_nul = 1;
    return s;
}

static int get_now(lua_State *L, int arg, uint64_t *now)
{
    if (lua_isnoneornil(L, arg)) {
        time_t t = time(NULL);
        if (t < 0)
            return 0;
        *now = (uint64_t)t;
        return 1;
    }
    lua_Integer n = luaL_checkinteger(L, arg);
    if (n < 0)
        return 0;
    *now = (uint64_t)n;
    return 1;
}

/* The engine argument. In a forked child, the parent's engine is dropped
 * (not freed: its threads and connections are the parent's) and the
 * userdata reads as closed. */
static engine_ud *check_engine(lua_State *L)
{
    engine_ud *ud = (engine_ud *)luaL_checkudata(L, 1, ENGINE_MT);
    if (ud->engine != NULL && ud->pid != getpid())
        ud->engine = NULL;
    return ud;
}

/* Protocols are passed by name: M2FA_PROTOCOL_OTHER with a name means "the
 * protocol of this name" (standard names included, case ignored). */
#define BY_NAME M2FA_PROTOCOL_OTHER

/* ------------------------------------------------------------------ */
/* m2fa.open                                                           */

static int open_engine(const char *path, const char *key_file, m2fa_engine **out, char *msg,
                       size_t msglen)
{
    m2fa_engine_config *config = NULL;
    m2fa_status st = m2fa_engine_config_new(&config);
    if (st != M2FA_OK) {
        fail_msg(msg, msglen, "mail2fa.open", st);
        return 0;
    }
    int ok = 0;
    /* Never create the database: a wrong path must not mean "no 2FA". */
    st = m2fa_engine_config_set_sqlite(config, M2FA_SYNCHRONOUS_FULL, 5000, 0);
    if (st != M2FA_OK) {
        fail_msg(msg, msglen, "mail2fa.open", st);
        goto out;
    }
    if (key_file != NULL) {
        st = m2fa_engine_config_load_key_file(config, key_file);
        if (st != M2FA_OK) {
            char text[160];
            status_text(st, text, sizeof text);
            snprintf(msg, msglen,
                     "cannot use the key file %.150s: %s (mail2fa status %u); `mail2fa db "
                     "check --key-file` names the problem", key_file, text, (unsigned)st);
            goto out;
        }
    }
    st = m2fa_engine_open(path, config, out);
    if (st != M2FA_OK) {
        char what[MSG_SIZE / 2];
        struct stat sb;
        /* The status alone does not say why; add what the system says. */
        if (st == M2FA_STORAGE_FAILURE && lstat(path, &sb) != 0)
            snprintf(what, sizeof what, "cannot open the database %.200s (%s)", path,
                     strerror(errno));
        else if (st == M2FA_STORAGE_FAILURE &&
                 faccessat(AT_FDCWD, path, R_OK | W_OK, AT_EACCESS) != 0)
            snprintf(what, sizeof what, "cannot open the database %.200s (%s)", path,
                     strerror(errno));
        else
            snprintf(what, sizeof what, "cannot open the database %.200s", path);
        fail_msg(msg, msglen, what, st);
        goto out;
    }
    ok = 1;
out:
    m2fa_engine_config_free(config); /* wipes the keys it copied */
    return ok;
}

static int l_open(lua_State *L)
{
    int nul = 0;
    const char *path = check_cstr(L, 1, &nul);
    const char *key_file = NULL;
    if (!lua_isnoneornil(L, 2))
        key_file = check_cstr(L, 2, &nul);
    if (nul)
        return push_fail(L, "mail2fa.open: a path contains a NUL byte");
    /* The userdata first: if allocating it fails (a Lua error), nothing
     * is held yet. */
    engine_ud *ud = (engine_ud *)lua_newuserdatauv(L, sizeof *ud, 0);
    ud->engine = NULL;
    luaL_setmetatable(L, ENGINE_MT);
    char msg[MSG_SIZE];
    m2fa_engine *engine = NULL;
    if (!open_engine(path, key_file, &engine, msg, sizeof msg))
        return push_fail(L, msg);
    ud->engine = engine;
    ud->pid = getpid();
    return 1;
}

static int l_open_config(lua_State *L)
{
    int nul = 0;
    const char *path = check_cstr(L, 1, &nul);
    if (nul)
        return push_fail(L, "mail2fa.open_config: the path contains a NUL byte");
    engine_ud *ud = (engine_ud *)lua_newuserdatauv(L, sizeof *ud, 0);
    ud->engine = NULL;
    luaL_setmetatable(L, ENGINE_MT);
    char why[MSG_SIZE], msg[MSG_SIZE + 64];
    size_t needed = 0;
    m2fa_engine *engine = NULL;
    m2fa_status st = m2fa_engine_open_config_message(path, &engine, why, sizeof why, &needed);
    if (st != M2FA_OK) {
        /* The library's message names the file, line and column. */
        snprintf(msg, sizeof msg, "%s (mail2fa status %u)", why, (unsigned)st);
        return push_fail(L, msg);
    }
    ud->engine = engine;
    ud->pid = getpid();
    return 1;
}

/* ------------------------------------------------------------------ */
/* engine methods                                                      */

static int l_close(lua_State *L)
{
    engine_ud *ud = check_engine(L);
    if (ud->engine != NULL) {
        m2fa_engine *e = ud->engine;
        ud->engine = NULL;
        m2fa_engine_free(e);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_is_open(lua_State *L)
{
    lua_pushboolean(L, check_engine(L)->engine != NULL);
    return 1;
}

static int l_tostring(lua_State *L)
{
    engine_ud *ud = check_engine(L);
    lua_pushfstring(L, "mail2fa.engine (%s)", ud->engine ? "open" : "closed");
    return 1;
}

/* engine:split(platform, account, protocol, input [, now]) */
static int l_split(lua_State *L)
{
    engine_ud *ud = check_engine(L);
    int nul = 0;
    size_t input_len = 0;
    const char *platform = check_cstr(L, 2, &nul);
    const char *account = check_cstr(L, 3, &nul);
    const char *protocol = check_cstr(L, 4, &nul);
    const char *input = luaL_checklstring(L, 5, &input_len);
    uint64_t now = 0;
    int now_ok = get_now(L, 6, &now);
    if (ud->engine == NULL) {
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 3;
    }
    const char *bad = NULL;
    if (nul)
        bad = "split: platform, account or protocol contains a NUL byte";
    else if (strlen(input) != input_len)
        bad = "split: the input contains a NUL byte";
    else if (!now_ok)
        bad = "split: now must be a non-negative Unix time";
    char msg[MSG_SIZE];
    size_t password_len = 0;
    uint32_t has_code = 0;
    if (bad == NULL) {
        m2fa_status st = m2fa_engine_split_login_for(ud->engine, platform, account,
                                                     BY_NAME, protocol,
                                                     input, now, &password_len, &has_code);
        if (st != M2FA_OK) {
            fail_msg(msg, sizeof msg, "split", st);
            bad = msg;
        } else if (password_len > input_len) {
            bad = "split: the library returned a length beyond the input";
        }
    }
    if (bad != NULL) {
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushstring(L, bad);
        return 3;
    }
    lua_pushlstring(L, input, password_len);
    if (has_code)
        lua_pushlstring(L, input + password_len, input_len - password_len);
    else
        lua_pushnil(L);
    return 2;
}

static int guard_release(lua_State *L)
{
    login_guard *g = (login_guard *)luaL_checkudata(L, 1, GUARD_MT);
    m2fa_notification_free(g->notification);
    g->notification = NULL;
    m2fa_decision_free(g->decision);
    g->decision = NULL;
    m2fa_login_free(g->login); /* wipes its code / application password */
    g->login = NULL;
    return 0;
}

/* A new, empty guard on the stack, to-be-closed: whatever it holds is
 * freed when the calling function returns or raises. Its stack index in
 * *index. */
static login_guard *push_guard(lua_State *L, int *index)
{
    login_guard *g = (login_guard *)lua_newuserdatauv(L, sizeof *g, 0);
    g->login = NULL;
    g->decision = NULL;
    g->notification = NULL;
    luaL_setmetatable(L, GUARD_MT);
    lua_toclose(L, -1);
    *index = lua_gettop(L);
    return g;
}

/* A string field of the request table, left on the stack (anchored while
 * we use the pointer). NULL for nil. Raises for another type. Sets *bad
 * when the string holds a NUL byte. */
static const char *string_field(lua_State *L, int t, const char *key, int *bad)
{
    size_t len = 0;
    int type = lua_getfield(L, t, key);
    if (type == LUA_TNIL)
        return NULL;
    if (type != LUA_TSTRING)
        luaL_error(L, "bad request field '%s' (string expected, got %s)", key,
                   luaL_typename(L, -1));
    const char *s = lua_tolstring(L, -1, &len);
    if (strlen(s) != len)
        *bad = 1;
    return s;
}

/* The parts of a notification, read with the same calls. */
enum { NOTE_DESTINATION, NOTE_SUBJECT, NOTE_TEXT };

static m2fa_status note_part(const m2fa_notification *n, int part, uint32_t *channel, char *buf,
                             size_t len, size_t *needed)
{
    switch (part) {
    case NOTE_DESTINATION:
        return m2fa_notification_destination(n, channel, buf, len, needed);
    case NOTE_SUBJECT:
        return m2fa_notification_subject(n, buf, len, needed);
    default:
        return m2fa_notification_text(n, buf, len, needed);
    }
}

/* Pushes one part of a notification as a Lua string; returns M2FA_OK, or
 * the library's status with nothing pushed. Its buffer is Lua's (a Lua
 * allocation error is safe: the caller's guard frees the notification). */
static m2fa_status push_note_part(lua_State *L, const m2fa_notification *n, int part,
                                  uint32_t *channel)
{
    size_t needed = 0;
    m2fa_status st = note_part(n, part, channel, NULL, 0, &needed);
    if (st != M2FA_BUFFER_TOO_SMALL)
        return st == M2FA_OK ? M2FA_INVALID_ARGUMENT : st; /* it needs at least the NUL */
    if (needed == 0)
        return M2FA_INVALID_ARGUMENT;
    char *buf = (char *)lua_newuserdatauv(L, needed, 0);
    size_t size = needed;
    st = note_part(n, part, channel, buf, size, &needed);
    if (st != M2FA_OK) {
        lua_pop(L, 1);
        return st;
    }
    lua_pushstring(L, buf);
    lua_remove(L, -2);
    return M2FA_OK;
}

/* Pushes { channel = "email" | "sms", to =, subject =, text = } for the
 * notification `n`; or nil and a message naming `what`, returning 0. */
static int push_notification(lua_State *L, const m2fa_notification *n, const char *what)
{
    char msg[MSG_SIZE];
    static const char *const keys[] = {"to", "subject", "text"};
    uint32_t channel = 0;
    lua_createtable(L, 0, 4);
    for (int part = NOTE_DESTINATION; part <= NOTE_TEXT; part++) {
        m2fa_status st = push_note_part(L, n, part, &channel);
        if (st != M2FA_OK) {
            lua_pop(L, 1);
            fail_msg(msg, sizeof msg, what, st);
            push_fail(L, msg);
            return 0;
        }
        lua_setfield(L, -2, keys[part - NOTE_DESTINATION]);
    }
    if (channel == M2FA_MODE_EMAIL) {
        lua_pushliteral(L, "email");
    } else if (channel == M2FA_MODE_SMS) {
        lua_pushliteral(L, "sms");
    } else {
        /* A channel this module does not know: never guess where it goes. */
        lua_pop(L, 1);
        snprintf(msg, sizeof msg, "%s: unknown channel %u", what, (unsigned)channel);
        push_fail(L, msg);
        return 0;
    }
    lua_setfield(L, -2, "channel");
    return 1;
}

/* Pushes the result table of the decision in the guard `g` (at stack
 * index `guard`), after freeing the guard's objects; or nil and a message
 * naming `what` (the method). */
static int push_decision(lua_State *L, login_guard *g, int guard, const char *what)
{
    char msg[MSG_SIZE], what_decision[64], what_device[64], what_audit[64], what_note[64];
    m2fa_status st;
    snprintf(what_decision, sizeof what_decision, "%s: decision", what);
    snprintf(what_device, sizeof what_device, "%s: device", what);
    snprintf(what_audit, sizeof what_audit, "%s: audit", what);
    snprintf(what_note, sizeof what_note, "%s: notification", what);
    uint32_t outcome = 0, reason = 0, cacheable = 0;
    if ((st = m2fa_decision_outcome(g->decision, &outcome)) != M2FA_OK ||
        (st = m2fa_decision_reason(g->decision, &reason)) != M2FA_OK ||
        (st = m2fa_decision_cacheable(g->decision, &cacheable)) != M2FA_OK) {
        fail_msg(msg, sizeof msg, what_decision, st);
        return push_fail(L, msg);
    }
    const char *outcome_str = m2fa_outcome_name(outcome);
    if (outcome_str == NULL) {
        /* An outcome this module does not know: never read it as allowed. */
        snprintf(msg, sizeof msg, "%s: unknown outcome %u", what, (unsigned)outcome);
        return push_fail(L, msg);
    }
    char device[M2FA_DEVICE_ID_SIZE];
    size_t needed = 0;
    int has_device = 0;
    st = m2fa_decision_device(g->decision, device, sizeof device, &needed);
    if (st == M2FA_OK) {
        has_device = 1;
    } else if (st != M2FA_INVALID_ARGUMENT) {
        fail_msg(msg, sizeof msg, what_device, st);
        return push_fail(L, msg);
    }
    /* The audit line (no secret in it): into a small buffer, else into a
     * Lua-managed one (a Lua allocation error is safe: the guard frees). */
    char small[512];
    char *audit = small;
    st = m2fa_decision_audit(g->decision, small, sizeof small, &needed);
    if (st == M2FA_BUFFER_TOO_SMALL) {
        audit = (char *)lua_newuserdatauv(L, needed, 0);
        st = m2fa_decision_audit(g->decision, audit, needed, &needed);
    }
    if (st != M2FA_OK) {
        fail_msg(msg, sizeof msg, what_audit, st);
        return push_fail(L, msg);
    }
    const char *reason_str = m2fa_reason_name(reason);
    char reason_buf[32];
    if (reason_str == NULL) {
        snprintf(reason_buf, sizeof reason_buf, "reason_%u", (unsigned)reason);
        reason_str = reason_buf;
    }
    /* The message about a blocked device, if the decision carries one
     * (M2FA_INVALID_ARGUMENT: none to send), as a table left on the stack. */
    int note = 0;
    st = m2fa_decision_notification(g->decision, &g->notification);
    if (st == M2FA_OK) {
        if (!push_notification(L, g->notification, what_note))
            return 2;
        note = lua_gettop(L);
    } else if (st != M2FA_INVALID_ARGUMENT) {
        fail_msg(msg, sizeof msg, what_note, st);
        return push_fail(L, msg);
    }

    /* Free the decision and the login (wiping the credential copy) now;
     * the to-be-closed slot would do it at return anyway. */
    lua_pushcfunction(L, guard_release);
    lua_pushvalue(L, guard);
    lua_call(L, 1, 0);

    lua_createtable(L, 0, 7);
    lua_pushboolean(L, outcome == M2FA_OUTCOME_ALLOWED);
    lua_setfield(L, -2, "allowed");
    lua_pushstring(L, outcome_str);
    lua_setfield(L, -2, "outcome");
    lua_pushstring(L, reason_str);
    lua_setfield(L, -2, "reason");
    lua_pushboolean(L, cacheable != 0);
    lua_setfield(L, -2, "cacheable");
    lua_pushstring(L, audit);
    lua_setfield(L, -2, "audit");
    if (has_device) {
        lua_pushstring(L, device);
        lua_setfield(L, -2, "device");
    }
    if (note != 0) {
        lua_pushvalue(L, note);
        lua_setfield(L, -2, "notification");
    }
    return 1;
}


/* engine:authenticate(platform, account, request [, now]) */
static int l_authenticate(lua_State *L)
{
    engine_ud *ud = check_engine(L);
    int nul = 0;
    const char *platform = check_cstr(L, 2, &nul);
    const char *account = check_cstr(L, 3, &nul);
    luaL_checktype(L, 4, LUA_TTABLE);
    uint64_t now = 0;
    int now_ok = get_now(L, 5, &now);

    /* Read and type-check every field before any library object exists
     * (luaL_error must not skip a free). */
    int bad = 0;
    const char *protocol = string_field(L, 4, "protocol", &bad);
    if (protocol == NULL)
        return luaL_error(L, "bad request field 'protocol' (string expected, got nil)");
    int type = lua_getfield(L, 4, "password_correct");
    if (type != LUA_TNIL && type != LUA_TBOOLEAN)
        return luaL_error(L, "bad request field 'password_correct' (boolean expected, got %s)",
                          luaL_typename(L, -1));
    uint32_t correct = lua_toboolean(L, -1) ? 1u : 0u;
    const char *code = string_field(L, 4, "code", &bad);
    const char *app_password = string_field(L, 4, "app_password", &bad);
    const char *device_id = string_field(L, 4, "device_id", &bad);
    const char *device_type = string_field(L, 4, "device_type", &bad);
    const char *user_agent = string_field(L, 4, "user_agent", &bad);
    const char *remote_addr = string_field(L, 4, "remote_addr", &bad);

    if (ud->engine == NULL)
        return push_fail(L, "closed");
    if (nul || bad)
        return push_fail(L, "authenticate: an argument or request field contains a NUL byte");
    if (!now_ok)
        return push_fail(L, "authenticate: now must be a non-negative Unix time");

    int guard;
    login_guard *g = push_guard(L, &guard);

    char msg[MSG_SIZE];
    m2fa_status st = m2fa_login_new(BY_NAME, protocol, &g->login);
    if (st != M2FA_OK) {
        fail_msg(msg, sizeof msg, "authenticate: protocol", st);
        return push_fail(L, msg);
    }
    if (app_password != NULL)
        st = m2fa_login_set_app_password(g->login, app_password);
    else if (code != NULL)
        st = m2fa_login_set_password_and_code(g->login, correct, code);
    else
        st = m2fa_login_set_password(g->login, correct);
    if (st != M2FA_OK) {
        fail_msg(msg, sizeof msg, "authenticate: credential", st);
        return push_fail(L, msg);
    }
    st = m2fa_login_set_client(g->login, device_id, device_type, user_agent, remote_addr);
    if (st != M2FA_OK) {
        fail_msg(msg, sizeof msg, "authenticate: client", st);
        return push_fail(L, msg);
    }
    st = m2fa_engine_authenticate(ud->engine, platform, account, g->login, now, &g->decision);
    if (st != M2FA_OK) {
        fail_msg(msg, sizeof msg, "authenticate", st);
        return push_fail(L, msg);
    }

    return push_decision(L, g, guard, "authenticate");
}

/* The script's password check, called by mail2fa through
 * m2fa_engine_check_login. Lua errors must not unwind through mail2fa's
 * frames: the check runs under lua_pcall, and nothing here may raise. */
struct script_check {
    lua_State *L;
    int fn;            /* stack index of the script's function */
    char message[256]; /* why it could not answer ("" if it did) */
};

/* Under lua_pcall: (password pointer, length, function) -> its 2 results. */
static int call_script_check(lua_State *L)
{
    const char *password = (const char *)lua_touserdata(L, 1);
    size_t len = (size_t)lua_tointeger(L, 2);
    lua_pushvalue(L, 3);
    lua_pushlstring(L, password, len);
    lua_call(L, 1, 2);
    return 2;
}

static int script_password_check(void *user_data, const char *password, size_t password_len)
{
    struct script_check *c = user_data;
    lua_State *L = c->L;
    /* Stack space was reserved before m2fa_engine_check_login: these pushes
     * do not allocate and cannot raise. */
    lua_pushcfunction(L, call_script_check);
    lua_pushlightuserdata(L, (void *)password);
    lua_pushinteger(L, (lua_Integer)password_len);
    lua_pushvalue(L, c->fn);
    if (lua_pcall(L, 3, 2, 0) != LUA_OK) {
        snprintf(c->message, sizeof c->message, "%s",
                 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(an error object)");
        lua_pop(L, 1);
        return -1;
    }
    int answer = -1;
    if (lua_type(L, -2) == LUA_TBOOLEAN) {
        answer = lua_toboolean(L, -2) ? 1 : 0;
    } else if (lua_isnil(L, -2)) {
        snprintf(c->message, sizeof c->message, "%s",
                 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "no answer");
    } else {
        snprintf(c->message, sizeof c->message, "the check returned a %s, not a boolean",
                 luaL_typename(L, -2));
    }
    lua_pop(L, 2);
    return answer;
}

/* engine:check_login(platform, account, protocol, input, client, check [, now]) */
static int l_check_login(lua_State *L)
{
    engine_ud *ud = check_engine(L);
    int nul = 0;
    size_t input_len = 0;
    const char *platform = check_cstr(L, 2, &nul);
    const char *account = check_cstr(L, 3, &nul);
    const char *protocol = check_cstr(L, 4, &nul);
    const char *input = luaL_checklstring(L, 5, &input_len);
    if (!lua_isnoneornil(L, 6))
        luaL_checktype(L, 6, LUA_TTABLE);
    luaL_checktype(L, 7, LUA_TFUNCTION);
    uint64_t now = 0;
    int now_ok = get_now(L, 8, &now);

    /* Every field read and type-checked before any library object exists. */
    int bad = 0;
    const char *device_id = NULL, *device_type = NULL, *user_agent = NULL, *remote_addr = NULL;
    if (!lua_isnoneornil(L, 6)) {
        device_id = string_field(L, 6, "device_id", &bad);
        device_type = string_field(L, 6, "device_type", &bad);
        user_agent = string_field(L, 6, "user_agent", &bad);
        remote_addr = string_field(L, 6, "remote_addr", &bad);
    }
    if (ud->engine == NULL)
        return push_fail(L, "closed");
    if (nul || bad)
        return push_fail(L, "check_login: an argument or client field contains a NUL byte");
    if (strlen(input) != input_len)
        return push_fail(L, "check_login: the input contains a NUL byte");
    if (!now_ok)
        return push_fail(L, "check_login: now must be a non-negative Unix time");
    luaL_checkstack(L, 8, "check_login");

    int guard;
    login_guard *g = push_guard(L, &guard);
    luaL_checkstack(L, 8, "check_login"); /* for the check, inside the call */

    char msg[MSG_SIZE];
    m2fa_status st = m2fa_login_new(BY_NAME, protocol, &g->login);
    if (st != M2FA_OK) {
        fail_msg(msg, sizeof msg, "check_login: protocol", st);
        return push_fail(L, msg);
    }
    st = m2fa_login_set_client(g->login, device_id, device_type, user_agent, remote_addr);
    if (st != M2FA_OK) {
        fail_msg(msg, sizeof msg, "check_login: client", st);
        return push_fail(L, msg);
    }
    struct script_check check = {.L = L, .fn = 7, .message = ""};
    st = m2fa_engine_check_login(ud->engine, platform, account, g->login, input,
                                 script_password_check, &check, now, &g->decision);
    if (st == M2FA_PASSWORD_CHECK_FAILED) {
        snprintf(msg, sizeof msg, "check_login: the password check could not answer: %s",
                 check.message[0] != '\0' ? check.message : "(no message)");
        return push_fail(L, msg);
    }
    if (st != M2FA_OK) {
        fail_msg(msg, sizeof msg, "check_login", st);
        return push_fail(L, msg);
    }
    return push_decision(L, g, guard, "check_login");
}

/* engine:notification_fallback(platform, account, device [, now]) */
static int l_notification_fallback(lua_State *L)
{
    engine_ud *ud = check_engine(L);
    int nul = 0;
    const char *platform = check_cstr(L, 2, &nul);
    const char *account = check_cstr(L, 3, &nul);
    const char *device = check_cstr(L, 4, &nul);
    uint64_t now = 0;
    int now_ok = get_now(L, 5, &now);
    if (ud->engine == NULL)
        return push_fail(L, "closed");
    if (nul)
        return push_fail(L, "notification_fallback: an argument contains a NUL byte");
    if (!now_ok)
        return push_fail(L, "notification_fallback: now must be a non-negative Unix time");

    int guard;
    login_guard *g = push_guard(L, &guard);

    m2fa_status st = m2fa_engine_notification_fallback(ud->engine, platform, account, device,
                                                       now, &g->notification);
    if (st == M2FA_NO_CONTACT) {
        lua_pushnil(L); /* no e-mail address: nothing to send, not an error */
        return 1;
    }
    if (st != M2FA_OK) {
        char msg[MSG_SIZE];
        fail_msg(msg, sizeof msg, "notification_fallback", st);
        return push_fail(L, msg);
    }
    if (!push_notification(L, g->notification, "notification_fallback"))
        return 2;
    lua_pushcfunction(L, guard_release);
    lua_pushvalue(L, guard);
    lua_call(L, 1, 0);
    return 1;
}

/* m2fa.check_name(platform, account) -> true | nil, message */
static int l_check_name(lua_State *L)
{
    int has_nul = 0;
    const char *platform = check_cstr(L, 1, &has_nul);
    const char *account = check_cstr(L, 2, &has_nul);
    if (has_nul)
        return push_fail(L, "check_name: a name contains a NUL byte");
    m2fa_status st = m2fa_account_name_check(platform, account);
    if (st != M2FA_OK) {
        char msg[MSG_SIZE];
        fail_msg(msg, sizeof msg, "check_name", st);
        return push_fail(L, msg);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* ------------------------------------------------------------------ */
/* registration                                                        */

static const luaL_Reg engine_methods[] = {
    {"check_login", l_check_login},
    {"split", l_split},
    {"authenticate", l_authenticate},
    {"notification_fallback", l_notification_fallback},
    {"close", l_close},
    {"is_open", l_is_open},
    {NULL, NULL},
};

static const luaL_Reg module_functions[] = {
    {"open", l_open},
    {"open_config", l_open_config},
    {"check_name", l_check_name},
    {NULL, NULL},
};

__attribute__((visibility("default"))) int luaopen_mail2fa(lua_State *L)
{
    if (luaL_newmetatable(L, ENGINE_MT)) {
        luaL_newlib(L, engine_methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, l_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, "mail2fa.engine");
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, GUARD_MT)) {
        lua_pushcfunction(L, guard_release);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, guard_release);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
    luaL_newlib(L, module_functions);
    lua_pushstring(L, m2fa_version());
    lua_setfield(L, -2, "version");
    return 1;
}
