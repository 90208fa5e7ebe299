/*
 * lua_driver.c - runs one Lua script in a fresh Lua 5.4 state, outside
 * Dovecot, for the checks of the mail2fa Lua module that a Dovecot login
 * cannot reach (a password check that raises an error or answers nil).
 *
 *   lua_driver SCRIPT [ARG...]
 *
 * The script gets its arguments in the global `arg` (arg[0] = SCRIPT) and
 * loads the module with require, as Dovecot's Lua passdb does. Two more
 * globals let it play an auth process that forks: driver_fork() -> the
 * child's pid in the parent, 0 in the child (stdout flushed first);
 * driver_wait(pid) -> the child's exit status (-1 if it did not exit).
 * Exit status
 * 0 if the script ran to its end, 1 if it raised an error (printed), 2 on
 * a usage error. The script prints its own checks.
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int driver_fork(lua_State *L)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return luaL_error(L, "fork failed");
    lua_pushinteger(L, pid);
    return 1;
}

static int driver_wait(lua_State *L)
{
    pid_t pid = (pid_t)luaL_checkinteger(L, 1);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        lua_pushinteger(L, -1);
    else
        lua_pushinteger(L, WEXITSTATUS(status));
    return 1;
}

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
    lua_register(L, "driver_fork", driver_fork);
    lua_register(L, "driver_wait", driver_wait);
    int status = luaL_dofile(L, argv[1]);
    if (status != LUA_OK) {
        const char *message = lua_tostring(L, -1);
        fprintf(stderr, "lua_driver: %s\n", message != NULL ? message : "(an error object)");
    }
    lua_close(L);
    return status == LUA_OK ? 0 : 1;
}
