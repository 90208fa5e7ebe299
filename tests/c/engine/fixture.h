/*
 * engine_test's fixture, shared by every file of the program: the store the
 * engines are made on, test data, users (an account and the phone that
 * scanned its URI), and the checked steps the scenarios are made of.
 * Include it first: it asks for POSIX (pthreads, barriers, truncate) under
 * -std=c11.
 */
#ifndef MAIL2FA_TESTS_ENGINE_FIXTURE_H
#define MAIL2FA_TESTS_ENGINE_FIXTURE_H

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
 * The store every scenario runs on. Exactly one of store/memory.c (the
 * built-in in-memory store), store/table.c (a host table behind
 * m2fa_engine_with_store, ../table_store.h) and store/postgres.c
 * (m2fa_engine_open_postgres in a fresh schema, ../pg_store.h) is linked
 * into the program: scripts/test-c.sh builds engine_test once with each.
 * Nothing else in the tests depends on the choice.
 * ------------------------------------------------------------------------ */

struct store_variant {
    const char *name; /* for the summary line */
    /* m2fa_engine_new, on this store. */
    m2fa_status (*engine_new)(const m2fa_engine_config *config, m2fa_engine **out);
    /* PostgreSQL only (NULL on the other stores): writes into url (size
     * bytes) the connection string of a fresh schema without the mail2fa
     * tables, for the checks that open a real database. */
    void (*fresh_postgres_url)(char *url, size_t size);
    /* The checks only this store can make (NULL: none). */
    void (*own_tests)(void);
};

extern const struct store_variant store;

/* Every engine the scenarios make comes from that store. */
#define m2fa_engine_new(config, out) store.engine_new((config), (out))

/* ------------------------------------------------------------------------
 * Test data
 * ------------------------------------------------------------------------ */

#define PLATFORM "example.com"
#define T0 UINT64_C(1800000000) /* 2027-01-15, a multiple of 30 and 60 */
#define CODE_SIZE 11             /* any code: at most 10 digits and the NUL */
#define MAX_NAME M2FA_MAX_ACCOUNT_NAME_LEN /* longest account name, in bytes */
#define EMAIL "frank@home.example"
#define PHONE "+33 6 12 34 56 78"

static const char not_utf8[] = "\xff\xfe";
static const char not_utf8_six[] = "12345\xff";

/* Words for the engine's enumerations, for messages. */
const char *outcome_word(uint32_t outcome);
const char *reason_word(uint32_t reason);

/* ------------------------------------------------------------------------
 * The text-output protocol, checked in full (as FETCH_TEXT in
 * ../ffi/fixture.c) for the engine's five text outputs. FETCH_TEXT returns
 * the text, malloc'd; read_text reads it without the protocol checks.
 * ------------------------------------------------------------------------ */

typedef m2fa_status (*text_fn)(const void *object, size_t index, char *buf, size_t len,
                               size_t *needed);

m2fa_status text_decision_uri(const void *object, size_t index, char *buf, size_t len,
                              size_t *needed);
m2fa_status text_decision_audit(const void *object, size_t index, char *buf, size_t len,
                                size_t *needed);
m2fa_status text_issued_code(const void *object, size_t index, char *buf, size_t len,
                             size_t *needed);
/* The channel of the last successful m2fa_issued_code_destination call. */
extern uint32_t destination_channel;
m2fa_status text_issued_destination(const void *object, size_t index, char *buf, size_t len,
                                    size_t *needed);
m2fa_status text_recovery_code(const void *object, size_t index, char *buf, size_t len,
                               size_t *needed);

char *fetch_text_impl(text_fn fn, const void *object, size_t index, const char *call,
                      const char *file, int line);
#define FETCH_TEXT(fn, object, index) fetch_text_impl((fn), (object), (index), #fn, __FILE__, __LINE__)
char *read_text(text_fn fn, const void *object, size_t index);

/* ------------------------------------------------------------------------
 * Users: an account on an engine, and the phone that scanned its URI
 * ------------------------------------------------------------------------ */

struct user {
    const m2fa_engine *engine;
    const char *platform;
    const char *name;
    const char *issuer;  /* expected in the URI; NULL: the platform */
    m2fa_totp *phone;    /* the authenticator app, from the last URI shown */
    char *uri;           /* that URI (malloc'd, wiped when replaced) */
    char secret[256];    /* its secret in base32, which no audit line may show */
    uint32_t digits;     /* of the URI's codes */
    uint64_t period;
};

void user_free(struct user *u);

/* ------------------------------------------------------------------------
 * Decisions: the checks every one gets (fixture.c says which)
 * ------------------------------------------------------------------------ */

bool shows(const char *text, const char *secret);
bool plain_name(const char *name);
void check_audit(const m2fa_decision *decision, const struct user *u, const char *code,
                 uint64_t now, uint32_t outcome, const char *file, int line);
bool reason_fits(uint32_t outcome, uint32_t reason);

#define ANY_REFUSAL UINT32_MAX /* want_reason: any reason of a refusal */

bool check_decision_impl(m2fa_status status, const m2fa_decision *decision,
                         const struct user *u, const char *code, uint64_t now,
                         uint32_t want_outcome, uint32_t want_reason, bool want_uri,
                         const char *call, const char *file, int line);

/* A login, checked; returns the decision (the caller frees it) or NULL. */
m2fa_decision *login_impl(const struct user *u, const char *code, uint64_t now,
                          uint32_t outcome, uint32_t reason, const char *file, int line);
#define LOGIN(u, code, now, outcome, reason) \
    login_impl((u), (code), (now), (outcome), (reason), __FILE__, __LINE__)
#define EXPECT_LOGIN(u, code, now, outcome, reason) \
    m2fa_decision_free(LOGIN((u), (code), (now), (outcome), (reason)))

/* S11: a self-service change, checked; the caller frees the decision. */
m2fa_decision *self_service_impl(const struct user *u, const char *code, uint32_t reset,
                                 uint64_t now, uint32_t outcome, uint32_t reason,
                                 const char *file, int line);
#define SELF_SERVICE(u, code, reset, now, outcome, reason) \
    self_service_impl((u), (code), (reset), (now), (outcome), (reason), __FILE__, __LINE__)

/* The getters, each expected to answer. */
uint64_t decision_step(const m2fa_decision *d);
uint64_t decision_until(const m2fa_decision *d);
int64_t decision_clock_skew(const m2fa_decision *d);
uint32_t decision_remaining(const m2fa_decision *d);
uint32_t decision_mode(const m2fa_decision *d);

/* ------------------------------------------------------------------------
 * The steps of the scenarios
 * ------------------------------------------------------------------------ */

bool phone_scan(struct user *u, const m2fa_decision *decision);
bool enable_account(struct user *u, uint64_t now);
const char *code_at(const struct user *u, uint64_t time, char code[CODE_SIZE]);
uint64_t step_at(const struct user *u, uint64_t time);
bool enroll(struct user *u, uint64_t now);
uint64_t quiet_time(const struct user *u, uint64_t from, unsigned radius);
const char *wrong_code(const struct user *u, uint64_t now, unsigned *counter,
                       char code[CODE_SIZE]);

/* S5: the split of `input` for the account, checked. */
void check_split_impl(const struct user *u, const char *input, uint64_t now, size_t want_len,
                      uint32_t want_code, const char *file, int line);
#define CHECK_SPLIT(u, input, now, len, has_code) \
    check_split_impl((u), (input), (now), (len), (has_code), __FILE__, __LINE__)

m2fa_engine *new_engine(const m2fa_engine_config *config);
void other_code(const char *code, char out[CODE_SIZE]);

#define RECOVERY_ALPHABET "0123456789abcdefghjkmnpqrstvwxyz"
bool recovery_code_shape(const char *code);
size_t generate_recovery_codes(const struct user *u, uint32_t count, char list[][12],
                               bool full);

m2fa_status codeless_login(const m2fa_engine *engine, const char *name, uint64_t now,
                           uint32_t *outcome);

#endif /* MAIL2FA_TESTS_ENGINE_FIXTURE_H */
