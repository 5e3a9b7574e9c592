#!/usr/bin/env bash
# End-to-end test of the VS Code extension in a real VS Code (code-server 4.100.3, Code 1.100.3) driven by
# Debian's headless Chromium through playwright-core. From a clean clone (as root, with the npm registry,
# PyPI and Debian's mirror reachable):
#
#   make setup                      # the repository's .venv (python -m snowauth ...)
#   bash tests/e2e/vscode/run.sh    # installs what is missing, builds the .vsix, drives the editor
#
# Screenshots: artifacts/e2e-vscode/NN_<step>.png (and client-vscode/images/screenshot.png).
# Environment:
#   E2E_PHASES="trusted untrusted hostile offline" (default: all four; see run_phase below)
#   E2E_STEPS=all | a comma list of drive.mjs step ids   (default: the steps marked ready in drive.mjs)
#   PORT (code-server; the untrusted phase uses PORT+1, hostile PORT+2, offline PORT+3), EMU_PORT (emulator): free
#   ports unless given
#   WORK (default tests/e2e/vscode/.work)
#   SNOWAUTH_VSIX=path, SNOWAUTH_VSIX_LINUX_X64=path: prebuilt .vsix files (the universal one; the linux-x64 one for
#   the offline phase) instead of building them
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
WORK="${WORK:-$HERE/.work}"
ART="${ARTIFACTS:-$REPO/artifacts/e2e-vscode}"
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PY="$REPO/.venv/bin/python"
ts() { date +%H:%M:%S; }
mkdir -p "$WORK" "$ART"
rm -f "$ART"/*.png

[ -x "$PY" ] || { echo "no $PY: run 'make setup' first" >&2; exit 2; }
# Free ports unless given. code-server itself reads $PORT (over --bind-addr): keep it out of its environment.
CS_PORT="${PORT:-$(free_port)}"
CS_PORT2="$( [ -n "${PORT:-}" ] && echo $((PORT + 1)) || free_port )"
CS_PORT3="$( [ -n "${PORT:-}" ] && echo $((PORT + 2)) || free_port )"
CS_PORT4="$( [ -n "${PORT:-}" ] && echo $((PORT + 3)) || free_port )"
unset PORT
EMU_PORT="${EMU_PORT:-$(free_port)}"
while [ "$CS_PORT2" = "$CS_PORT" ] || [ "$CS_PORT2" = "$EMU_PORT" ]; do CS_PORT2="$(free_port)"; done
while [ "$CS_PORT3" = "$CS_PORT" ] || [ "$CS_PORT3" = "$CS_PORT2" ] || [ "$CS_PORT3" = "$EMU_PORT" ]; do CS_PORT3="$(free_port)"; done
while [ "$CS_PORT4" = "$CS_PORT" ] || [ "$CS_PORT4" = "$CS_PORT2" ] || [ "$CS_PORT4" = "$CS_PORT3" ] || [ "$CS_PORT4" = "$EMU_PORT" ]; do
  CS_PORT4="$(free_port)"
done
echo "code-server on 127.0.0.1:$CS_PORT (trusted), :$CS_PORT2 (untrusted), :$CS_PORT3 (hostile), :$CS_PORT4 (offline)," \
  "the emulator on :$EMU_PORT"

echo "[$(ts)] 1. Debian packages"
PKGS=(chromium ripgrep build-essential pkg-config libkrb5-dev libxkbfile-dev libsecret-1-dev)
MISSING=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || MISSING+=("$p"); done
if [ "${#MISSING[@]}" -gt 0 ]; then
  echo "installing: ${MISSING[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null
fi

echo "[$(ts)] 2. code-server (npm, project-local)"
export XDG_CONFIG_HOME="$WORK/cs-run/xdg-config" XDG_DATA_HOME="$WORK/cs-run/xdg-data"   # else it writes ~/.config/code-server
bash "$HERE/install_codeserver.sh" "$WORK"
CS="$WORK/cs/node_modules/.bin/code-server"

echo "[$(ts)] 3. the .vsix files: the universal one (trusted, untrusted, hostile) and linux-x64's (offline)"
if [ -n "${SNOWAUTH_VSIX:-}" ] && [ -n "${SNOWAUTH_VSIX_LINUX_X64:-}" ]; then
  VSIX="$SNOWAUTH_VSIX" VSIX_LINUX_X64="$SNOWAUTH_VSIX_LINUX_X64"
else
  PYTHON="$PY" make -C "$REPO/client-vscode" vsix TARGETS="linux-x64 universal"
  VSIX="${SNOWAUTH_VSIX:-$REPO/client-vscode/snowauth-0.1.0.vsix}"
  VSIX_LINUX_X64="${SNOWAUTH_VSIX_LINUX_X64:-$REPO/client-vscode/snowauth-linux-x64-0.1.0.vsix}"
fi

echo "[$(ts)] 4. playwright-core (uses /usr/bin/chromium; never downloads a browser)"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
(cd "$HERE" && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund >/dev/null; })

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -- "-$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "[$(ts)] 5. the emulator on 127.0.0.1:$EMU_PORT"
setsid "$PY" -m snowauth emulator --port "$EMU_PORT" > "$ART/emulator.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 80); do curl -s -o /dev/null "http://127.0.0.1:$EMU_PORT/" && break; sleep 0.25; done

# One code-server session: a fresh profile and a fresh copy of workspace/, then drive.mjs's steps of that phase.
#   trusted:   snowauth.server.command = the repository's .venv; workspace trust switched off
#   untrusted: no server setting (the extension builds its private venv from the bundled wheel with a Python 3.11+
#              on PATH, installing the wheel's dependencies from PyPI: the universal .vsix); the workspace is not trusted
#   hostile:   hostile_workspace.sh's cloned repository (git configs that run commands, a snowauth/ package, a .env
#              linked to a file outside); snowauth.server.interpreter = the repository's .venv (user settings, so
#              it applies in Restricted Mode too); untrusted first, then trusted. No file may appear in $MARKERS.
#   offline:   the linux-x64 .vsix (its bundled server), no server setting, code-server's PATH the system's only
#              (Debian's /usr/bin/python3, without snowauth or pygls), pip pointed at a closed port with no index and
#              no configuration; workspace trust off (trusted): diagnostics and a token from the emulator.
OFFLINE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
MARKERS="$WORK/hostile-outside/markers"
run_phase() {
  local phase="$1" port="$2"
  local run="$WORK/cs-$phase" ws="$WORK/ws-$phase"
  local started=$SECONDS
  echo "[$(ts)] phase $phase: profile, workspace, code-server on 127.0.0.1:$port"
  rm -rf "$run" "$ws"
  rm -f "$ART/SnowAuth-$phase.log"   # the log checks below must never read an earlier run's
  mkdir -p "$ws" "$run/user-data/User" "$run/extensions"
  if [ "$phase" = hostile ]; then
    bash "$HERE/hostile_workspace.sh" "$ws" "$WORK/hostile-outside" "$EMU_PORT"
  else
    for f in "$HERE"/workspace/*; do sed "s/@EMU_PORT@/$EMU_PORT/g" "$f" > "$ws/$(basename "$f")"; done
    mkdir -p "$ws/.vscode"   # the workspace's tasks.json (${command:snowauth.accessToken})
    for f in "$HERE"/workspace/.vscode/*; do sed "s/@EMU_PORT@/$EMU_PORT/g" "$f" > "$ws/.vscode/$(basename "$f")"; done
  fi
  local server_setting='' trust=false trust_flag=(--disable-workspace-trust)
  if [ "$phase" = trusted ]; then
    # verbose protocol tracing too: the log check at the end proves the trace is written and redacted
    server_setting="\"snowauth.server.command\": [\"$PY\", \"-m\", \"snowauth\", \"lsp\"], \"snowauth.trace.server\": \"verbose\","
  elif [ "$phase" = hostile ]; then
    server_setting="\"snowauth.server.interpreter\": \"$PY\","
    trust=true trust_flag=()
  elif [ "$phase" = untrusted ]; then
    trust=true trust_flag=()
  fi   # offline: no server setting, workspace trust off (trusted)
  cat > "$run/user-data/User/settings.json" <<JSON
{
  $server_setting
  "security.workspace.trust.enabled": $trust,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "chat.commandCenter.enabled": false,
  "editor.quickSuggestions": { "other": false, "comments": false, "strings": false },
  "editor.inlayHints.enabled": "offUnlessPressed",
  "files.autoSave": "off",
  "git.enabled": false,
  "git.openRepositoryInParentFolders": "never",
  "remote.autoForwardPorts": false
}
JSON
  # The server setting is machine-overridable: in code-server (a remote window) VS Code drops it from the user
  # settings when it re-reads the configuration (running a task of the workspace's tasks.json does), and the
  # extension would restart on its private venv. The machine (remote) settings hold it too.
  if [ "$phase" = trusted ]; then
    mkdir -p "$run/user-data/Machine"
    printf '{ %s "workbench.startupEditor": "none" }\n' "$server_setting" > "$run/user-data/Machine/settings.json"
  fi
  local args=(--user-data-dir "$run/user-data" --extensions-dir "$run/extensions") vsix="$VSIX" envs=()
  if [ "$phase" = offline ]; then
    vsix="$VSIX_LINUX_X64"
    local closed
    closed="$(free_port)"   # nothing listens there
    envs=(PATH="$OFFLINE_PATH" PIP_INDEX_URL="http://127.0.0.1:$closed/simple" PIP_NO_INDEX=1 PIP_CONFIG_FILE=/dev/null
      PIP_FIND_LINKS= PIP_EXTRA_INDEX_URL=)
    # the Python the extension finds must not have snowauth (nor its dependencies) already
    for py in python3.14 python3.13 python3.12 python3.11 python3 python; do
      local found
      found="$(PATH="$OFFLINE_PATH" command -v "$py" || true)"
      [ -n "$found" ] || continue
      if "$found" -c 'import snowauth' 2>/dev/null || "$found" -c 'import pygls' 2>/dev/null; then
        echo "FAIL: $found on the offline PATH imports snowauth or pygls"; return 1
      fi
    done
  fi
  "$CS" "${args[@]}" --install-extension "$vsix" --force >/dev/null
  "$CS" "${args[@]}" --list-extensions --show-versions
  setsid env "${envs[@]}" "$CS" --auth none --bind-addr "127.0.0.1:$port" "${args[@]}" --disable-telemetry --disable-update-check \
    "${trust_flag[@]}" --disable-getting-started-override "$ws" > "$ART/code-server-$phase.log" 2>&1 &
  local cs_pid=$!
  PIDS+=($cs_pid)
  for _ in $(seq 1 240); do curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break; sleep 0.25; done
  local rc=0
  if ! curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz"; then
    echo "code-server did not start"; tail -20 "$ART/code-server-$phase.log"; rc=1
  else
    E2E_PHASE="$phase" E2E_BASE="http://127.0.0.1:$port" E2E_FOLDER="$ws" E2E_OUT="$ART" \
      E2E_MARKERS="$MARKERS" E2E_USER_DATA="$run/user-data" node "$HERE/drive.mjs" || rc=$?
  fi
  kill -- "-$cs_pid" 2>/dev/null || true
  if [ "$phase" = hostile ] && [ -n "$(ls -A "$MARKERS" 2>/dev/null)" ]; then
    echo "FAIL: the hostile workspace ran code: $(ls "$MARKERS" | tr '\n' ' ')"; rc=1
  fi
  echo "[$(ts)] phase $phase took $((SECONDS - started)) s"
  # the extension host's log (the SnowAuth output channel) is worth keeping
  find "$run/user-data/logs" -name 'SnowAuth.log' -exec cp {} "$ART/SnowAuth-$phase.log" \; 2>/dev/null || true
  return $rc
}

RC=0
for phase in ${E2E_PHASES:-trusted untrusted hostile offline}; do
  case "$phase" in
    trusted) run_phase trusted "$CS_PORT" || RC=1 ;;
    untrusted) run_phase untrusted "$CS_PORT2" || RC=1 ;;
    hostile) run_phase hostile "$CS_PORT3" || RC=1 ;;
    offline) run_phase offline "$CS_PORT4" || RC=1 ;;
    *) echo "unknown phase $phase"; RC=1 ;;
  esac
done
# The extension README's screenshots (client-vscode/images/): screenshot.png comes from the fetch step,
# completion.png from type-connection (the connection being typed, the completion list open), walkthrough.png from
# walkthrough, inlay_hints.png from inlay-hints (the hints and the client_id link's hover); each is replaced
# only when missing or with E2E_UPDATE_SCREENSHOT=1, so that test runs leave the work tree clean.
for img in screenshot.png completion.png walkthrough.png inlay_hints.png; do
  if [ -f "$ART/$img" ] && { [ ! -f "$REPO/client-vscode/images/$img" ] || [ "${E2E_UPDATE_SCREENSHOT:-}" = 1 ]; }; then
    cp "$ART/$img" "$REPO/client-vscode/images/$img"
  fi
done
# The SnowAuth output of the whole trusted phase has no [error] line (the server's stderr and the extension's own
# log) except the lines a step provokes on purpose, listed here as "<step id>|<extended regex>". Expected failures
# (a rejected password in wrong-password, an unreachable instance) are one info/warn line, and pygls' benign
# warnings ("Cancel notification for unknown message id", "unknown method") are not errors: no step provokes a
# real error today, so the list is empty.
ERRORS_ALLOWED=(
)
if [[ " ${E2E_PHASES:-trusted} " == *" trusted "* ]] && [ ! -f "$ART/SnowAuth-trusted.log" ]; then
  echo "FAIL: no SnowAuth output log of the trusted phase to check (another run using the same WORK removed it?)"; RC=1
fi
if [ -f "$ART/SnowAuth-trusted.log" ]; then
  errors="$(grep -E '^[0-9-]+ [0-9:.]+ \[error\]' "$ART/SnowAuth-trusted.log" || true)"
  for allowed in "${ERRORS_ALLOWED[@]}"; do
    errors="$(printf '%s\n' "$errors" | grep -v -E -e "${allowed#*|}" || true)"
  done
  if [ -n "$errors" ]; then
    # shown with the test secrets and anything token-like masked
    echo "FAIL: $(printf '%s\n' "$errors" | wc -l) [error] lines in the SnowAuth output of the trusted phase:"
    printf '%s\n' "$errors" | cut -c1-220 | head -40 |
      sed -E -e 's/demo-password|demo-client-secret|not-the-password|from-outside|admin-password/<secret>/g' -e 's/[A-Za-z0-9_~+=-]{32,}/<…>/g'
    RC=1
  fi
fi
if [ -f "$ART/SnowAuth-trusted.log" ] && ! grep -q '\[trace\]' "$ART/SnowAuth-trusted.log"; then
  echo "FAIL: snowauth.trace.server = verbose wrote no trace into the SnowAuth output"; RC=1
fi
# No secret of the test may reach a log: the output channel, code-server's log, the emulator's log (from-outside:
# the hostile phase's secret outside the workspace; admin-password: the emulator admin's, typed by register-client
# and diagnose). The client secret Register OAuth Client generated is among the .tokens-* checked below.
if grep -l -e 'demo-password' -e 'demo-client-secret' -e 'not-the-password' -e 'from-outside' -e 'admin-password' "$ART"/*.log 2>/dev/null; then
  echo "FAIL: a secret appears in the logs above"; RC=1
fi
for f in "$ART"/.tokens-*; do
  [ -f "$f" ] || continue
  if grep -l -F -f "$f" "$ART"/*.log 2>/dev/null; then echo "FAIL: a token appears in the logs above"; RC=1; fi
  [ "${E2E_KEEP_TOKENS:-}" = 1 ] || rm -f "$f"
done
echo "[$(ts)] screenshots: $(ls "$ART"/*.png 2>/dev/null | tr '\n' ' ')"
exit $RC
