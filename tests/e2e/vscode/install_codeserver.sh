#!/usr/bin/env bash
# Installs code-server (from the npm registry) into a project-local prefix, as root, without GitHub:
# the ripgrep download cache is pre-seeded from Debian's rg. Idempotent.
# Usage: bash install_codeserver.sh WORKDIR      -> WORKDIR/cs/node_modules/.bin/code-server
set -euo pipefail
WORK="${1:?workdir}"
CS_VERSION="${CS_VERSION:-4.100.3}"
CS="$WORK/cs/node_modules/.bin/code-server"
if [ -x "$CS" ] && [ "$("$CS" --version 2>/dev/null | head -1 | cut -d' ' -f1)" = "$CS_VERSION" ]; then
  exit 0
fi
export XDG_CONFIG_HOME="${XDG_CONFIG_HOME:-$WORK/cs-run/xdg-config}" XDG_DATA_HOME="${XDG_DATA_HOME:-$WORK/cs-run/xdg-data}"
mkdir -p "$WORK/tmp/vscode-ripgrep-cache-1.15.11" "$WORK/rgstage" "$WORK/cs"
# @vscode/ripgrep (a dependency of code-server 4.100.3) downloads rg from GitHub in its postinstall;
# pre-seed its cache (os.tmpdir()/vscode-ripgrep-cache-<pkgver>/) with Debian's rg.
cp "$(command -v rg)" "$WORK/rgstage/rg"
tar czf "$WORK/tmp/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$WORK/rgstage" rg
cd "$WORK/cs"
[ -f package.json ] || npm init -y >/dev/null
# npm_config_unsafe_perm: code-server's postinstall refuses root without it.
# npm_config_yes: node-pty's post-install runs `npx node-gyp`, which aborts without a TTY otherwise.
if ! TMPDIR="$WORK/tmp" npm_config_unsafe_perm=true npm_config_yes=true \
  npm install --no-audit --no-fund "code-server@$CS_VERSION" > "$WORK/cs-install.log" 2>&1; then
  tail -40 "$WORK/cs-install.log"; exit 1
fi
"$CS" --version
