/*
 * lua_driver.c - runs one Lua script in a fresh Lua 5.4 state, outside
 * Dovecot, for the checks of the mail2fa Lua module that a Dovecot login
 * cannot reach (a password check that raises an error or answers nil).
 *
 *   lua_driver SCRIPT [ARG...]
 *
 * The script gets its arguments in the global `arg` (arg[0] = SCRIPT) and
 * loads the module with require, as Dovecot's Lua passdb does. Exit status
 * 0 if the script ran to its end, 1 if it raised an error (printed), 2 on
 * a usage error. The script prints its own checks.
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: lua_driver SCRIPT [ARG...]\n");
        return 2;
    }
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "lua_driver: cannot create a Lua state\n");
        return 2;
    }
    luaL_openlibs(L);
    lua_createtable(L, argc, 0);
    for (int i = 1; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setglobal(L, "arg");
    int status = luaL_dofile(L, argv[1]);
    if (status != LUA_OK) {
        const char *message = lua_tostring(L, -1);
        fprintf(stderr, "lua_driver: %s\n", message != NULL ? message : "(an error object)");
    }
    lua_close(L);
    return status == LUA_OK ? 0 : 1;
}
