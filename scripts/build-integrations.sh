#!/usr/bin/env bash
# Builds the mail-server integrations into target/integrations/:
#   pam_mail2fa.so  the PAM module (integrations/pam/)
#   mail2fa.so      the Lua 5.4 module for Dovecot's Lua passdb (integrations/dovecot/)
#   mail2fa/libmail2fa-postgres.so  the PostgreSQL plugin (scripts/build-capi.sh)
# Both link libmail2fa.a statically and export only their entry points
# (pam_sm_*, luaopen_mail2fa). PostgreSQL is the plugin, which a module
# loads on first use from mail2fa/ beside itself (here: target/integrations/
# mail2fa/, so that the modules and tests/dovecot/c_host built here find
# it), else from /usr/lib/<multiarch>/mail2fa/ (the Debian package
# mail2fa-postgres); SQLite is linked in.
#   bash scripts/build-integrations.sh
# Needs: gcc, libpam0g-dev, liblua5.4-dev (Debian package names).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-capi.sh >/dev/null
out=target/integrations
mkdir -p "$out"
cc=${CC:-gcc}
# --gc-sections: of libmail2fa.a (Rust puts each function in a section of
# its own) only what the entry points reach is linked (scripts/build-debs.sh
# strips the modules for the packages).
cflags=(-std=c11 -O2 -g -fPIC -shared -Wall -Wextra -Werror -D_GNU_SOURCE -Itarget/capi/include
  -fstack-protector-strong -D_FORTIFY_SOURCE=2 -Wl,-z,relro,-z,now
  -ffunction-sections -fdata-sections -Wl,--gc-sections)
# Packed relative relocations, when scripts/build-capi.sh found the toolchain
# and the C library can load them (it then linked libmail2fa.so with them).
if readelf -d target/capi/lib/libmail2fa.so | grep -q '(RELR)'; then
  cflags+=(-Wl,-z,pack-relative-relocs)
fi
# The Rust runtime and the m2fa_* symbols stay inside each module.
libs=(target/capi/lib/libmail2fa.a -Wl,--exclude-libs,ALL -Wl,-z,defs -lpthread -ldl -lm -lc)
install -d -m 0755 "$out/mail2fa"
install -m 0644 target/capi/lib/mail2fa/libmail2fa-postgres.so "$out/mail2fa/libmail2fa-postgres.so"
echo "built $out/mail2fa/libmail2fa-postgres.so"
if [ -f integrations/pam/pam_mail2fa.c ]; then
  # nodelete: PAM loads and unloads its modules on every transaction (Dovecot:
  # every login); kept loaded, the module's second dlopen costs nothing
  # (measured: 1.6 -> 0.6 ms per phase). With config= it keeps one engine per
  # process, which must outlive every transaction.
  "$cc" "${cflags[@]}" -o "$out/pam_mail2fa.so" integrations/pam/pam_mail2fa.c "${libs[@]}" \
    -Wl,-z,nodelete -lpam
  echo "built $out/pam_mail2fa.so"
fi
if [ -f integrations/dovecot/mail2fa_lua.c ]; then
  # No -llua: the module uses the Lua of the process that loads it (Dovecot's).
  "$cc" "${cflags[@]}" -I/usr/include/lua5.4 -Wl,-z,undefs \
    -o "$out/mail2fa.so" integrations/dovecot/mail2fa_lua.c \
    target/capi/lib/libmail2fa.a -Wl,--exclude-libs,ALL -lpthread -ldl -lm
  echo "built $out/mail2fa.so"
fi
