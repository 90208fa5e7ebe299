/*
 * devices_test's fixture, shared by every file of the program: test data,
 * an engine with a known device key and portal link, enrolled users, what
 * the host knows about a client, and logins through m2fa_engine_authenticate
 * checked. Include it first: it asks for POSIX (pthreads, barriers, lstat)
 * under -std=c11.
 */
#ifndef MAIL2FA_TESTS_DEVICES_FIXTURE_H
#define MAIL2FA_TESTS_DEVICES_FIXTURE_H

#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail2fa.h>

#include "../check.h"

/* ------------------------------------------------------------------------
 * Test data
 * ------------------------------------------------------------------------ */

#define PLATFORM "example.com"
#define T0 UINT64_C(1800000000) /* 2027-01-15, a multiple of 30 */
#define CODE_SIZE 11
#define DAY UINT64_C(86400)
#define EMAIL "frank@home.example"
#define PHONE "+33 6 12 34 56 78"
#define PORTAL_LINK "https://portal.example.com/{platform}/devices/{device}"
#define PORTAL_PREFIX "https://portal.example.com/example.com/devices/"
#define OUTLOOK_UA "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0)"
#define BINDING_PERIOD UINT64_C(43200)
#define NOTIFY_INTERVAL DAY

static const char not_utf8[] = "\xff";
extern const uint8_t device_key[32];

/* Words for messages. */
const char *outcome_word(uint32_t outcome);
const char *reason_word(uint32_t reason);

/* An engine with a known device key and portal link; max_pending as given. */
m2fa_engine *new_engine(uint32_t max_pending);

/* ------------------------------------------------------------------------
 * Users
 * ------------------------------------------------------------------------ */

/* An account and the phone that scanned its provisioning URI. */
struct user {
    const m2fa_engine *engine;
    const char *name;
    m2fa_totp *phone;
};

const char *code_at(const struct user *u, uint64_t time, char code[CODE_SIZE]);
bool enroll(struct user *u, uint64_t now);
void user_free(struct user *u);

/* One login with a code through m2fa_engine_login; the outcome and reason. */
void login_expect(const struct user *u, const char *code, uint64_t now, uint32_t want_outcome,
                  uint32_t want_reason);

/* ------------------------------------------------------------------------
 * Logins from mail clients
 * ------------------------------------------------------------------------ */

/* What the host knows about the client. */
struct client {
    const char *device_id, *device_type, *user_agent, *remote_addr;
};

enum credential { WRONG_PASSWORD, PASSWORD, PASSWORD_AND_CODE, APP_PASSWORD, NO_CREDENTIAL };

/* An Outlook on a PC, as the host sees it. */
extern const struct client outlook_pc;

m2fa_login *make_login(uint32_t protocol, const char *name, enum credential credential,
                       const char *secret, const struct client *client);

/* One login through m2fa_engine_authenticate, checked (fixture.c says
 * how); the decision, which the caller frees, or NULL. */
m2fa_decision *auth_impl(const struct user *u, uint32_t protocol, const char *name,
                         enum credential credential, const char *secret,
                         const struct client *client, uint64_t now, uint32_t want_outcome,
                         uint32_t want_reason, const char *file, int line);
#define AUTH(u, protocol, name, credential, secret, client, now, outcome, reason)             \
    auth_impl((u), (protocol), (name), (credential), (secret), (client), (now), (outcome), \
              (reason), __FILE__, __LINE__)
#define EXPECT_AUTH(u, protocol, name, credential, secret, client, now, outcome, reason) \
    m2fa_decision_free(AUTH(u, protocol, name, credential, secret, client, now, outcome, reason))

/* The policy in force for a protocol of the account. */
uint32_t policy_of(const struct user *u, uint32_t protocol, const char *name);

/* ------------------------------------------------------------------------
 * Device tokens and notifications
 * ------------------------------------------------------------------------ */

const char *device_of(const m2fa_decision *d, char id[M2FA_DEVICE_ID_SIZE]);
m2fa_device_list *devices_of(const struct user *u, uint64_t now, size_t *count);
size_t device_count(const struct user *u, uint64_t now);
void device_text(const m2fa_device_list *list, size_t index, uint32_t field, char *buf,
                 size_t len);

/* Checks a notification: channel, destination, and what its text says. */
void check_notification_impl(const m2fa_notification *n, uint32_t want_channel,
                             const char *want_to, const char *account, const char *device,
                             const char *protocol, const char *file, int line);
#define CHECK_NOTIFICATION(n, channel, to, account, device, protocol) \
    check_notification_impl((n), (channel), (to), (account), (device), (protocol), __FILE__, __LINE__)

m2fa_notification *notification_of(const m2fa_decision *d);

#endif /* MAIL2FA_TESTS_DEVICES_FIXTURE_H */
