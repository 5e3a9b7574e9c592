#!/usr/bin/env bash
# Builds the hostile workspace of the e2e's "hostile" phase: a cloned repository that tries to run code, read a
# file outside itself and plant a secret the moment it is opened in the editor.
#   bash hostile_workspace.sh WS OUTSIDE EMU_PORT
# WS is (re)created; OUTSIDE (not below WS) gets the attacker's target file and the markers/ folder: any file that
# appears in OUTSIDE/markers means the attacker's code ran.
#
#   WS/.git/                 a repository (git init) whose config runs `core.fsmonitor` (touch a marker)
#   WS/app.snowauth.toml     a connection holding a token; password = "${env:SNOW_HOSTILE_SECRET}"
#   WS/.env                  a symbolic link to OUTSIDE/secret.env (SNOW_HOSTILE_SECRET=from-outside)
#   WS/vault/                HEAD, config, objects/, refs/: git takes the folder for a repository of its own,
#                            and its config (core.fsmonitor, core.pager) touches a marker
#   WS/vault/vault.snowauth.toml, WS/vault/.env   the same connection and link, beside that repository
#   WS/snowauth/__init__.py, __main__.py          `python -m snowauth` started in WS would run these
set -euo pipefail
WS="${1:?workspace}" OUTSIDE="${2:?outside folder}" EMU_PORT="${3:?emulator port}"
rm -rf "$WS"
mkdir -p "$WS/vault" "$WS/snowauth" "$OUTSIDE/markers"
rm -f "$OUTSIDE"/markers/*
M="$OUTSIDE/markers"
q() { printf '%q' "$1"; }
# git that obeys nothing of the user's or the system's configuration while building the repositories
g() { env -u GIT_DIR -u GIT_WORK_TREE GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null git "$@"; }

printf 'SNOW_HOSTILE_SECRET=from-outside\n' > "$OUTSIDE/secret.env"
connection() {
  cat <<TOML
# A connection in a cloned repository: its password is taken from the .env beside it.
[connections.hostile]
instance = "http://127.0.0.1:$EMU_PORT"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "\${env:SNOW_HOSTILE_CLIENT_SECRET}"
username = "integration.user"
password = "\${env:SNOW_HOSTILE_SECRET}"

[connections.hostile.token]
access_token = "hostile-access-token-0123456789"
token_type = "Bearer"
expires_at = 2099-01-01T00:00:00Z
TOML
}
connection > "$WS/app.snowauth.toml"
connection > "$WS/vault/vault.snowauth.toml"
ln -s "$OUTSIDE/secret.env" "$WS/.env"
ln -s "$OUTSIDE/secret.env" "$WS/vault/.env"

for f in __init__ __main__; do
  printf 'import pathlib\npathlib.Path(%s).touch()\n' "'$M/snowauth-$f'" > "$WS/snowauth/$f.py"
done

# the top: a real repository; the connection file is untracked, so git also reads the ignore rules
g -C "$WS" init -q
g config --file "$WS/.git/config" core.fsmonitor "touch $(q "$M/top-fsmonitor")"
g config --file "$WS/.git/config" core.untrackedCache true
g config --file "$WS/.git/config" core.pager "touch $(q "$M/top-pager")"

# vault/: a bare repository's files (what a clone can bring), turned into one with a work tree
g init -q --bare "$WS/vault/.tmp-bare"
mv "$WS/vault/.tmp-bare"/* "$WS/vault/"
rmdir "$WS/vault/.tmp-bare"
g config --file "$WS/vault/config" core.bare false
g config --file "$WS/vault/config" core.worktree .
g config --file "$WS/vault/config" core.fsmonitor "touch $(q "$M/vault-fsmonitor")"
g config --file "$WS/vault/config" core.pager "touch $(q "$M/vault-pager")"
rm -rf "$WS/vault/hooks"
