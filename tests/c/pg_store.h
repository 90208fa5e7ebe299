/*
 * The C tests on PostgreSQL: engine_test built with
 * tests/c/engine/store/postgres.c runs every one of its scenarios on an
 * engine made by m2fa_engine_open_postgres, each in a fresh schema of the
 * database named by MAIL2FA_TEST_POSTGRES (scripts/pg-server.sh start:
 * verified TLS with the test CA, as mail2fa's default wants it); its
 * engines are made by pg_engine_new below. The schemas are made with psql and
 * are named m2fa_c_<pid>_<n> (scripts/test-c.sh drops them afterwards);
 * the mail2fa tables in each are created as an administrator does it (an
 * engine whose configuration says create = 1), then the engine under test
 * opens them with the configuration it was given, which never creates.
 */
#ifndef MAIL2FA_TESTS_PG_STORE_H
#define MAIL2FA_TESTS_PG_STORE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mail2fa.h>

static unsigned pg_schemas_made;

/* The test database's connection string; exits if it is not set. */
static const char *pg_base_url(void)
{
    const char *base = getenv("MAIL2FA_TEST_POSTGRES");
    if (base == NULL || base[0] == '\0' || strchr(base, '\'') != NULL) {
        fprintf(stderr, "MAIL2FA_TEST_POSTGRES is not set (scripts/pg-server.sh start)\n");
        exit(EXIT_FAILURE);
    }
    return base;
}

/* Makes a fresh schema and writes a connection string whose search_path is
 * it into url (size bytes). */
static void pg_fresh_schema_url(char *url, size_t size)
{
    const char *base = pg_base_url();
    char schema[64];
    snprintf(schema, sizeof schema, "m2fa_c_%ld_%u", (long)getpid(), pg_schemas_made++);
    char command[4096];
    int n = snprintf(command, sizeof command,
                     "psql '%s' -qAtX -v ON_ERROR_STOP=1 -c 'CREATE SCHEMA %s' >/dev/null", base,
                     schema);
    if (n < 0 || (size_t)n >= sizeof command || system(command) != 0) {
        fprintf(stderr, "pg_store.h: could not create schema %s\n", schema);
        exit(EXIT_FAILURE);
    }
    n = snprintf(url, size, "%s%coptions=-c%%20search_path%%3D%s", base,
                 strchr(base, '?') != NULL ? '&' : '?', schema);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "pg_store.h: connection string too long\n");
        exit(EXIT_FAILURE);
    }
}

/* Runs one SQL statement with psql on url (which names its schema); exits
 * on failure. */
static void pg_sql(const char *url, const char *statement)
{
    char command[8192];
    int n = snprintf(command, sizeof command,
                     "psql '%s' -qAtX -v ON_ERROR_STOP=1 -c '%s' >/dev/null", url, statement);
    if (n < 0 || (size_t)n >= sizeof command || strchr(statement, '\'') != NULL ||
        system(command) != 0) {
        fprintf(stderr, "pg_store.h: could not run: %s\n", statement);
        exit(EXIT_FAILURE);
    }
}

/* Creates the mail2fa schema at url, the administrator's act: the only
 * opener that may is one whose configuration says create = 1. */
static m2fa_status pg_create_schema(const char *url)
{
    m2fa_engine_config *creator = NULL;
    m2fa_engine *engine = NULL;
    m2fa_status status = m2fa_engine_config_new(&creator);
    if (status == M2FA_OK) {
        status = m2fa_engine_config_set_postgres(creator, 1, 5000, 1);
    }
    if (status == M2FA_OK) {
        status = m2fa_engine_open_postgres(url, creator, &engine);
    }
    m2fa_engine_free(engine);
    m2fa_engine_config_free(creator);
    return status;
}

static m2fa_status pg_engine_new(const m2fa_engine_config *config, m2fa_engine **out)
{
    char url[4096];
    pg_fresh_schema_url(url, sizeof url);
    m2fa_status status = pg_create_schema(url);
    if (status != M2FA_OK) {
        return status;
    }
    return m2fa_engine_open_postgres(url, config, out);
}

#endif
