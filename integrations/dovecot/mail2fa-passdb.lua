-- mail2fa-passdb.lua: Dovecot 2.3 Lua passdb with mail2fa two-factor authentication.
--
-- The host password stays in a passwd-file style file (config.users_file);
-- mail2fa adds the second factor: a one-time code appended to the password
-- ("secret123456"), device binding after a code login, application passwords
-- (IMAP/POP3/SMTP clients that cannot type codes), per-protocol policies.
--
-- dovecot.conf:
--
--   auth_mechanisms = plain login      # plaintext only: the code travels in the password
--   auth_cache_size = 0                # REQUIRED: a cached answer would replay one-time codes
--   imap_id_retain = yes               # passes the client's IMAP ID (device binding)
--   passdb {
--     driver = lua
--     args = file=/etc/dovecot/mail2fa-passdb.lua blocking=yes
--   }
--
-- * blocking=yes (the default) runs auth_password_verify in the auth worker
--   processes, as root: the configuration file and the store it names (a
--   SQLite database, root 0600, or a PostgreSQL connection pool) and its key
--   files are opened there, lazily, once per worker process, and kept for
--   the worker's life (a forked child opens its own). The
--   script is also loaded in the main auth process (user dovecot), where
--   script_init runs: nothing is opened there.
-- * Never give this passdb a cache_key: an empty `cache_key=` crashes the
--   auth process of Dovecot 2.3.19, and any cache (auth_cache_size > 0)
--   would replay one-time codes (the Lua passdb's default key is %u).
-- * Only plaintext mechanisms work: auth_passdb_lookup is deliberately not
--   defined, so a non-plaintext mechanism (CRAM-MD5, ...) fails with a
--   temporary failure; a hash cannot carry a one-time code.
-- * User names are compared exactly (users file and mail2fa account), and
--   must be in mail2fa's alphabet (lower-case ASCII letters, digits, '.',
--   '-', '_', '+', one '@' before a lower-case domain): any other spelling
--   is refused before the users file is read. Let Dovecot normalise them,
--   e.g. auth_username_format = %Lu.
--
-- The portal of mail2fa-server (service config.portal_service, when set)
-- is answered on the password alone: it asks the second factor itself.
--
-- Answers: OK only when mail2fa allows the login; every refusal (wrong
-- password, wrong/replayed code, lock, app password revoked, protocol
-- refused...) is PASSWORD_MISMATCH, so a lock looks like a wrong password;
-- a user missing from the users file is USER_UNKNOWN; any error (database,
-- module, users file) is INTERNAL_FAILURE (the login is refused: fail closed).
-- One log line per decision (req:log_info): outcome, reason and mail2fa's
-- audit line, never the password, the code or the application password.
--
-- A new device blocked (protocol policy device-authorization, a client with
-- an IMAP ID): mail2fa composes a message for the user (at most one per
-- device per [devices] notify_interval_seconds), with the portal link of
-- [engine] portal_link. With config.notify_command set, the script mails it;
-- else it only logs that one was not sent.

local config = {
  -- The mail2fa configuration file, the one the operator tool and every
  -- other component read: the store (SQLite or PostgreSQL), the key files,
  -- the policies.
  config_file =
    "/etc/mail2fa/mail2fa.toml",
  -- Legacy, instead of config_file (set config_file = nil): a SQLite
  -- database written by the operator tool, with the library's default
  -- policies, never created here; and its encryption key file (nil: none;
  -- mode 0600/0400).
  db_path = nil,
  key_file = nil,
  -- The host's passwords, passwd-file format: `user:{SCHEME}hash[:...]`
  -- (lines starting with '#' are skipped; fields after the hash are ignored).
  -- Hashes need a {SCHEME} prefix: a bare `$6$...` is read as PLAIN by
  -- Dovecot. Re-read on every login, so changes apply at once.
  users_file =
    "/etc/dovecot/mail2fa-users",
  -- Added in front of package.cpath: where `require "mail2fa"` finds mail2fa.so.
  module_path =
    "/usr/lib/x86_64-linux-gnu/lua/5.4/?.so",
  -- mail2fa platform of a user: the domain of "user@domain" (account = the
  -- whole user name). Users without '@' get default_platform (account = the
  -- user name); nil: such users are unknown to this passdb (USER_UNKNOWN).
  default_platform = nil,
  -- Dovecot service name -> mail2fa protocol. Names not listed are used as
  -- they are (imap, pop3, smtp; others become host-named protocols).
  protocols = {
    submission = "smtp",
  },
  -- Client fields (device id/type, user agent) are cut to this many bytes.
  max_client_field = 256,
  -- The Dovecot service of mail2fa-server's portal (its password check,
  -- [password_check] method = "dovecot"): for it, the password alone is
  -- checked, without mail2fa, since the portal asks the second factor
  -- itself (see portal_check below). nil (the default): no such service.
  -- Set it ("portal") only with the portal deployed, and know that every
  -- process that can reach one of Dovecot's auth-client sockets (Postfix's
  -- private/auth, doveadm's...) chooses the service name it asks with.
  portal_service = nil,
  -- How the message about a blocked device is mailed: a command reading a
  -- whole message on its standard input and taking its recipients from the
  -- To header, e.g. "/usr/sbin/sendmail -t -i" (Postfix's and Exim's
  -- sendmail; add "-C /etc/postfix-other" for another Postfix configuration
  -- directory). Run by the auth worker (root with blocking=yes) through
  -- io.popen; the login waits for it, so it must only hand the message to
  -- the mail system. nil: the message is not sent, only logged as not sent.
  notify_command = nil,
  -- The From header of those messages (nil: none, the mail system's default).
  notify_from = nil,
}

package.cpath = config.module_path .. ";" .. package.cpath

-- Longest credential mail2fa takes (bytes).
local MAX_LOGIN_INPUT = 4096

-- ---------------------------------------------------------------------------
-- the engine: one per Lua state (= per auth worker), opened on first use

local engine

local function get_engine()
  -- is_open is false in a forked child: it opens its own.
  if engine and engine:is_open() then return engine end
  local ok, m2fa = pcall(require, "mail2fa")
  if not ok then return nil, "cannot load the mail2fa Lua module: " .. tostring(m2fa) end
  local e, err
  if config.config_file and config.db_path then
    return nil, "config_file and db_path are both set: the configuration file names the store"
  elseif config.config_file then
    e, err = m2fa.open_config(config.config_file)
  else
    e, err = m2fa.open(config.db_path, config.key_file)
  end
  if not e then return nil, err end
  engine = e
  return engine
end

-- ---------------------------------------------------------------------------
-- users file

-- The hash of `user`: a string; false if the user is not in the file;
-- nil and a message if the file cannot be read.
local function lookup_hash(user)
  local f, err = io.open(config.users_file, "r")
  if not f then return nil, err end
  local ok, found = pcall(function()
    for line in f:lines() do
      if line:sub(1, 1) ~= "#" then
        local name, rest = line:match("^([^:]*):(.*)$")
        if name == user then
          return (rest:match("^[^:]*"):gsub("\r$", ""))
        end
      end
    end
    return false
  end)
  f:close()
  if not ok then return nil, tostring(found) end
  return found
end

-- true / false (wrong) / nil, message (the hash cannot be used).
local function password_ok(req, hash, password)
  if hash == "" then return false end
  local r, err = req:password_verify(hash, password)
  if r == 1 then return true end
  if type(r) == "number" and r < 0 then
    return nil, tostring(err)
  end
  if err ~= nil and err ~= "Password mismatch" then
    -- e.g. "Unknown scheme X": the users file needs fixing.
    req:log_warning("mail2fa: password check of " .. config.users_file .. ": " .. tostring(err))
  end
  return false
end

-- ---------------------------------------------------------------------------
-- client information

-- Parses the IMAP ID parameter list Dovecot keeps in req.client_id
-- (`"name" "Thunderbird" "version" "115.0"`, quoted strings with \\ and \"
-- escapes, NIL) into a table with lower-case keys; NIL values are absent.
local function parse_imap_id(text)
  local id = {}
  if type(text) ~= "string" then return id end
  local items, i, n = {}, 1, #text
  while i <= n do
    local c = text:sub(i, i)
    if c:match("[%s()]") then
      i = i + 1
    elseif c == '"' then
      local parts, closed = {}, false
      i = i + 1
      while i <= n do
        local j = text:find('[\\"]', i)
        if not j then break end
        parts[#parts + 1] = text:sub(i, j - 1)
        if text:sub(j, j) == '"' then
          closed, i = true, j + 1
          break
        end
        parts[#parts + 1] = text:sub(j + 1, j + 1) -- escaped character
        i = j + 2
      end
      if not closed then break end -- malformed: keep what came before
      items[#items + 1] = table.concat(parts)
    else
      local atom = text:match('^[^%s"()]+', i)
      i = i + #atom
      items[#items + 1] = atom:upper() ~= "NIL" and atom or false
    end
  end
  for k = 1, #items - 1, 2 do
    local key, value = items[k], items[k + 1]
    if type(key) == "string" and type(value) == "string" and value ~= "" then
      key = key:lower()
      if id[key] == nil then id[key] = value end
    end
  end
  return id
end

-- A client field as mail2fa takes it: valid UTF-8 (else dropped), control
-- characters removed, at most config.max_client_field bytes (cut at a
-- character boundary); nil when nothing is left.
local function clean(value)
  if type(value) ~= "string" or value == "" or not utf8.len(value) then return nil end
  local out, size = {}, 0
  for _, cp in utf8.codes(value) do
    if cp >= 32 and not (cp >= 127 and cp < 160) then
      local ch = utf8.char(cp)
      if size + #ch > config.max_client_field then break end
      out[#out + 1] = ch
      size = size + #ch
    end
  end
  local s = table.concat(out)
  return s ~= "" and s or nil
end

-- device_type = ID "name"; user_agent = "name/version" followed by os,
-- os-version and vendor when sent; device_id = ID "x-device-id" or
-- "device-id" (not RFC 2971 fields; a few clients send one). POP3 and SMTP
-- have no ID: those fields stay nil there. remote_addr = the client's IP.
local function client_info(req)
  local id = parse_imap_id(req.client_id)
  local ua
  if id.name then
    ua = id.name .. (id.version and ("/" .. id.version) or "")
  end
  for _, key in ipairs({ "os", "os-version", "vendor" }) do
    if id[key] then ua = (ua and (ua .. " ") or "") .. id[key] end
  end
  local addr = req.remote_ip or req.rip
  if addr == "" then addr = nil end
  return {
    device_id = clean(id["x-device-id"] or id["device-id"]),
    device_type = clean(id.name),
    user_agent = clean(ua),
    remote_addr = addr,
  }
end

-- ---------------------------------------------------------------------------
-- the passdb

-- platform, account of a Dovecot user (nil: none).
local function platform_of(user)
  local domain = user:match("@([^@]*)$")
  if domain and domain ~= "" then return domain, user end
  if not user:find("@", 1, true) and config.default_platform then
    return config.default_platform, user
  end
  return nil
end

local function request(protocol, client, fields)
  fields.protocol = protocol
  fields.device_id = client.device_id
  fields.device_type = client.device_type
  fields.user_agent = client.user_agent
  fields.remote_addr = client.remote_addr
  return fields
end

-- The reasons of a decision on an application password (for the log).
local APP_PASSWORD_REASONS = {
  app_password = true, wrong_app_password = true, app_password_not_accepted = true,
  app_password_out_of_scope = true,
}

-- ---------------------------------------------------------------------------
-- notifications

-- A header value that cannot start another header: control characters
-- (CR, LF, NUL, ...) refuse it (nil). The engine's subjects and addresses
-- have none; this holds whatever reaches it.
local function header_value(value)
  if type(value) ~= "string" or value == "" or value:find("[%c\127]") then return nil end
  return value
end

-- Mails `note` ({ channel = "email", to, subject, text }) through
-- config.notify_command. true, or nil and why not. The text (no secret in
-- it, but never logged either) is the body.
local function mail_note(note)
  local to, subject = header_value(note.to), header_value(note.subject)
  local from = config.notify_from
  if not to or not subject or (from ~= nil and not header_value(from)) then
    return nil, "a header value is empty or holds a control character: not sent"
  end
  local lines = { "To: " .. to, "Subject: " .. subject }
  if from then lines[#lines + 1] = "From: " .. from end
  lines[#lines + 1] = "MIME-Version: 1.0"
  lines[#lines + 1] = "Content-Type: text/plain; charset=utf-8"
  lines[#lines + 1] = "Content-Transfer-Encoding: 8bit"
  lines[#lines + 1] = ""
  local body = tostring(note.text):gsub("\r\n?", "\n")
  local message = table.concat(lines, "\n") .. "\n" .. body .. "\n"
  local pipe, err = io.popen(config.notify_command, "w")
  if not pipe then return nil, "cannot run notify_command: " .. tostring(err) end
  local written, werr = pipe:write(message)
  -- close waits for the command: its exit status says whether it took it.
  local ok, how, code = pipe:close()
  if not written then return nil, "notify_command: cannot write the message: " .. tostring(werr) end
  if not ok then
    return nil, string.format("notify_command failed (%s %s)", tostring(how), tostring(code))
  end
  return true
end

-- The decision `r` carries a message about a blocked device: send it, or
-- say why not. Never changes the login's answer (the device is pending: it
-- is refused anyway).
local function notify(req, e, platform, account, r)
  local note = r.notification
  local what = string.format("mail2fa: notification about device %s (%s)",
    tostring(r.device), tostring(note.channel))
  if not config.notify_command then
    req:log_info(what .. ": not sent (notify_command is not set)")
    return
  end
  if note.channel == "sms" then
    -- This script cannot send an SMS; mail2fa-server's delivery ([notifications]
    -- of the configuration file) can. The same message goes by e-mail instead,
    -- if the account has an address.
    req:log_info(what .. ": an SMS cannot be sent from Dovecot (mail2fa-server can); "
      .. "sending it by e-mail instead")
    local fallback, err = e:notification_fallback(platform, account, r.device)
    if not fallback then
      if err then
        req:log_warning(what .. ": no e-mail version: " .. tostring(err))
      else
        req:log_info(what .. ": not sent (no e-mail address)")
      end
      return
    end
    note = fallback
  end
  if note.channel ~= "email" then
    req:log_warning(what .. ": not sent (not an e-mail)")
    return
  end
  local sent, err = mail_note(note)
  if sent then
    req:log_info(what .. ": mailed to " .. note.to)
  else
    req:log_warning(what .. ": " .. tostring(err))
  end
end

local function log_decision(req, via, r, note)
  local line = string.format("mail2fa: %s via=%s reason=%s", r.outcome, via, r.reason)
  if r.device then line = line .. " device=" .. r.device end
  line = line .. " audit: " .. r.audit
  if note then line = line .. note end
  req:log_info(line)
end

-- mail2fa-server's portal signs users in with their mailbox password, then
-- asks the second factor (protocol "portal") through mail2fa itself. Its
-- password check must therefore be the password's alone: no code split
-- off, no application password, and nothing recorded by mail2fa (a wrong
-- password counts no failure against the account). The checks above (name
-- alphabet, users file, disabled user) still apply.
-- Such an OK lets nobody in anywhere by itself, but only while it is never
-- replayed for another service: keep Dovecot's auth cache off
-- (auth_cache_size = 0, as the shipped snippets have it), whose key (%u)
-- would let this password-only answer stand for an IMAP login. And only
-- the portal (and Dovecot itself) may reach the auth-client socket: a
-- client there chooses its service.
local function portal_check(req, hash, password)
  local A = dovecot.auth
  local ok, err = password_ok(req, hash, password)
  if ok == nil then
    req:log_error("mail2fa: portal password check: " .. tostring(err) .. " (refused)")
    return A.PASSDB_RESULT_INTERNAL_FAILURE, "mail2fa: password check"
  end
  if not ok then
    req:log_info("mail2fa: portal: wrong password (password only, not counted by mail2fa)")
    return A.PASSDB_RESULT_PASSWORD_MISMATCH, "mail2fa: portal: wrong password"
  end
  req:log_info("mail2fa: portal: password right (password only: the portal asks the second factor)")
  return A.PASSDB_RESULT_OK, ""
end

-- Sends the decision's notification, if any; an error there is logged and
-- the decision stands.
local function deliver(req, e, platform, account, r)
  if not r.notification then return end
  local ok, err = pcall(notify, req, e, platform, account, r)
  if not ok then req:log_error("mail2fa: notification: " .. tostring(err)) end
end

local function verify(req, password)
  local A = dovecot.auth
  local function internal(what, err)
    req:log_error("mail2fa: " .. what .. ": " .. tostring(err) .. " (login refused)")
    return A.PASSDB_RESULT_INTERNAL_FAILURE, "mail2fa: " .. what
  end

  local user = req.user
  local platform, account = platform_of(user or "")
  if not platform then
    req:log_info("mail2fa: user without a domain and no default_platform: unknown")
    return A.PASSDB_RESULT_USER_UNKNOWN, "mail2fa: no platform for this user"
  end
  local m2fa_ok, m2fa = pcall(require, "mail2fa")
  if not m2fa_ok then return internal("cannot load the mail2fa Lua module", m2fa) end
  local valid, why = m2fa.check_name(platform, account)
  if not valid then
    -- mail2fa compares names exactly, the users file or a directory may
    -- not: another spelling (upper case, full-width letters, a trailing
    -- dot...) would find no 2FA record. Refused, never "no 2FA".
    req:log_info("mail2fa: refused: user name outside mail2fa's alphabet: " .. tostring(why)
      .. " (auth_username_format = %Lu)")
    return A.PASSDB_RESULT_PASSWORD_MISMATCH, "mail2fa: refused (user name)"
  end
  local hash, err = lookup_hash(user)
  if hash == nil then return internal("cannot read " .. config.users_file, err) end
  if hash == false then
    req:log_info("mail2fa: unknown user (not in " .. config.users_file .. ")")
    return A.PASSDB_RESULT_USER_UNKNOWN, "mail2fa: unknown user"
  end
  local bare = hash:gsub("^{[^}]*}", "")
  if bare == "" or bare:find("^[!*]") then
    -- A disabled user (empty or locked hash): refused, application
    -- passwords included.
    req:log_info("mail2fa: refused: the user is disabled in " .. config.users_file)
    return A.PASSDB_RESULT_PASSWORD_MISMATCH, "mail2fa: refused (user disabled)"
  end
  local service = req.service or "other"
  if config.portal_service and service == config.portal_service then
    return portal_check(req, hash, password)
  end

  local e
  e, err = get_engine()
  if not e then return internal("cannot open the mail2fa engine", err) end

  local protocol = config.protocols[service] or service
  local client = client_info(req)
  -- What mail2fa can take as a credential (else: a password, never a code).
  local usable = #password <= MAX_LOGIN_INPUT and not password:find("\0", 1, true)
    and utf8.len(password) ~= nil

  if not usable then
    -- Not UTF-8, too long or with a NUL: no code and no application
    -- password in it. The password check on the whole input, then mail2fa
    -- on the password alone.
    local ok
    ok, err = password_ok(req, hash, password)
    if ok == nil then return internal("password check", err) end
    if not ok then
      req:log_info("mail2fa: refused via=password reason=wrong_password")
      return A.PASSDB_RESULT_PASSWORD_MISMATCH, "mail2fa: refused (wrong_password)"
    end
    local r
    r, err = e:authenticate(platform, account,
      request(protocol, client, { password_correct = true }))
    if not r then return internal("authenticate", err) end
    log_decision(req, "password", r)
    deliver(req, e, platform, account, r)
    if r.allowed then return A.PASSDB_RESULT_OK, "" end
    return A.PASSDB_RESULT_PASSWORD_MISMATCH,
      string.format("mail2fa: %s (%s)", r.outcome, r.reason)
  end

  -- One call: mail2fa splits a password+code string where the protocol's
  -- policy takes a code, hands the password part (never the code) to the
  -- password check below, tries a wrong password as an application
  -- password, and decides. A wrong password never reaches the code.
  local check_failure
  local r
  r, err = e:check_login(platform, account, protocol, password, client, function(secret)
    local ok, why = password_ok(req, hash, secret)
    if ok == nil then check_failure = why end
    return ok, why
  end)
  if not r then
    if check_failure then return internal("password check", check_failure) end
    return internal("check_login", err)
  end
  log_decision(req, APP_PASSWORD_REASONS[r.reason] and "app-password" or "password", r)
  deliver(req, e, platform, account, r)
  if r.allowed then return A.PASSDB_RESULT_OK, "" end
  return A.PASSDB_RESULT_PASSWORD_MISMATCH,
    string.format("mail2fa: %s (%s)", r.outcome, r.reason)
end

-- ---------------------------------------------------------------------------
-- Dovecot entry points

function script_init()
  -- Runs in the main auth process too (user dovecot): open nothing here.
  return 0
end

function script_deinit()
  if engine then
    engine:close()
    engine = nil
  end
end

-- Called for PLAIN/LOGIN (IMAP, POP3 USER/PASS, SMTP AUTH).
function auth_password_verify(req, password)
  local ok, result, extra = pcall(verify, req, password)
  if ok then return result, extra end
  req:log_error("mail2fa: script error: " .. tostring(result) .. " (login refused)")
  return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, "mail2fa: script error"
end
