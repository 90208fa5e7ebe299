/*
 * engine_test on the built-in in-memory store: m2fa_engine_new itself.
 * The program's default build (scripts/test-c.sh, "shared" and "static").
 */

#include "../fixture.h"

const struct store_variant store = {
    .name = "in-memory store",
    .engine_new = m2fa_engine_new,
    .fresh_postgres_url = NULL,
    .own_tests = NULL,
};
