// Drives code-server (with the SnowAuth .vsix installed) in Debian's headless Chromium via playwright-core,
// step by step, saving a screenshot after each step into E2E_OUT. Exits 1 if any selected step failed.
//
//   E2E_BASE=http://127.0.0.1:18093 E2E_FOLDER=/abs/ws E2E_OUT=artifacts/e2e-vscode node drive.mjs
//   E2E_PHASE=trusted | untrusted | hostile | offline   (which session this is: run.sh starts one code-server per phase;
//   a step runs in its `phase`, or in each of its `phases`)
//   E2E_MARKERS=folder   (hostile: where the workspace's attacks would leave a file; it must stay empty)
//   E2E_USER_DATA=folder (code-server's --user-data-dir: the SnowAuth output's log file is read from its logs/)
//   E2E_STEPS=all | step ids, comma-separated   (default: the steps marked ready; ids of the other phase are ignored)
import { existsSync, readFileSync, readdirSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const base = process.env.E2E_BASE ?? 'http://127.0.0.1:18093';
const phase = process.env.E2E_PHASE ?? 'trusted';
const folder = process.env.E2E_FOLDER ?? '';
const out = process.env.E2E_OUT ?? 'artifacts/e2e-vscode';
const t0 = Date.now();
/** When the workbench appeared (the extension activates then): first diagnostics are timed from it. */
let tWorkbench = t0;
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
mkdirSync(out, { recursive: true });

// ---------------------------------------------------------------- helpers

/** @param {import('playwright-core').Page} page */
async function openFile(page, name) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+P');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 15000 });
  await page.keyboard.type(name);
  try {
    await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 8000 });
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter');
  } catch {
    // a file written a moment ago may not be in Quick Open's file index yet: open it from the Explorer
    await page.keyboard.press('Escape');
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first().click();
  }
  const active = page.locator('.tab.active', { hasText: name });
  try {
    await active.waitFor({ timeout: 8000 });
  } catch {
    // on a loaded machine Quick Open can take the Enter before its list settles and open
    // nothing: open the file from the Explorer instead
    await page.keyboard.press('Escape');
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first().click();
    await active.waitFor({ timeout: 15000 });
  }
  await page.waitForSelector('.editor-group-container.active .monaco-editor .view-lines', { timeout: 20000 });
  await page.waitForTimeout(300);
}

/** Runs a command from the Command Palette by its title. */
async function runCommand(page, title) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 15000 });
  await page.keyboard.type(title);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15000 });
  await page.waitForTimeout(300);
  await page.keyboard.press('Enter');
}

async function gotoLine(page, line) {
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+G');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 10000 });
  await page.keyboard.type(String(line));
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
}

/** The active editor's text, from its rendered lines (fine for files that fit the viewport). */
async function editorText(page) {
  return page.evaluate(() => {
    const lines = [...document.querySelectorAll('.editor-group-container.active .monaco-editor .view-lines .view-line')];
    return lines
      .map((el) => [parseFloat(/** @type {HTMLElement} */ (el).style.top) || 0, el.textContent ?? ''])
      .sort((a, b) => a[0] - b[0])
      .map(([, s]) => s.replace(/\u00a0/g, ' '))
      .join('\n');
  });
}

async function waitForEditorText(page, predicate, what, timeout = 30000) {
  const end = Date.now() + timeout;
  let text = '';
  while (Date.now() < end) {
    text = await editorText(page);
    if (predicate(text)) return text;
    await page.waitForTimeout(250);
  }
  throw new Error(`timed out waiting for ${what}; editor shows:\n${text}`);
}

async function notifications(page) {
  return page.locator('.notifications-toasts .notification-toast').allInnerTexts();
}

async function waitForNotification(page, re, timeout = 30000) {
  const end = Date.now() + timeout;
  let seen = [];
  while (Date.now() < end) {
    seen = await notifications(page);
    const hit = seen.find((s) => re.test(s));
    if (hit) return hit;
    await page.waitForTimeout(250);
  }
  throw new Error(`no notification matching ${re}; shown: ${JSON.stringify(seen)}`);
}

/** Waits until the clipboard (read in the page: clipboard-read is granted) satisfies `predicate`. */
async function waitForClipboard(page, predicate, what, timeout = 30000) {
  const end = Date.now() + timeout;
  let text = '';
  while (Date.now() < end) {
    text = await page.evaluate(() => navigator.clipboard.readText()).catch((e) => `(unreadable: ${e})`);
    if (predicate(text)) return text;
    await page.waitForTimeout(250);
  }
  // never the text itself: it may be a token
  const shape = text.startsWith('(unreadable') ? text : `${text.length} characters${text.startsWith('Bearer ') ? ' starting with "Bearer "' : ''}`;
  throw new Error(`the clipboard never held ${what}; it holds ${shape}`);
}

async function clearNotifications(page) {
  await runCommand(page, 'Notifications: Clear All Notifications').catch(() => {});
  await page.waitForTimeout(300);
}

async function statusText(page) {
  const item = page.locator('.statusbar-item', { hasText: /SnowAuth/ });
  return (await item.count()) ? (await item.first().innerText()).trim() : '';
}

async function waitForStatus(page, re, timeout = 20000) {
  const end = Date.now() + timeout;
  let text = '';
  while (Date.now() < end) {
    text = await statusText(page);
    if (re.test(text)) return text;
    await page.waitForTimeout(250);
  }
  throw new Error(`status bar never matched ${re}; it shows ${JSON.stringify(text)}`);
}

/** The SnowAuth output channel, from its log file (the newest session's). */
function snowauthLog() {
  const logs = process.env.E2E_USER_DATA ? join(process.env.E2E_USER_DATA, 'logs') : '';
  if (!logs || !existsSync(logs)) return '';
  const found = readdirSync(logs, { recursive: true }).filter((f) => String(f).endsWith('SnowAuth.log')).sort();
  return found.length ? readFileSync(join(logs, String(found[found.length - 1])), 'utf8') : '';
}

async function waitForLog(page, predicate, what, timeout = 60000) {
  const end = Date.now() + timeout;
  let text = '';
  while (Date.now() < end) {
    text = snowauthLog();
    if (predicate(text)) return text;
    await page.waitForTimeout(500);
  }
  throw new Error(`the SnowAuth output never showed ${what}; it holds:\n${text.slice(-2000)}`);
}

/** The addresses the server asked VS Code to open in a browser (window/showDocument in the verbose trace), in order. */
function showDocumentUris(logText) {
  return [...logText.matchAll(/Received request 'window\/showDocument[^\n]*\nParams: \{\n\s*"uri": "([^"]+)",\n\s*"external": true/g)].map((m) => m[1]);
}

/** The files the hostile workspace's attacks left in E2E_MARKERS (none, unless one of them ran). */
function markers() {
  const dir = process.env.E2E_MARKERS;
  if (!dir) throw new Error('E2E_MARKERS is not set');
  return readdirSync(dir);
}

function noMarkers(when, quiet = false) {
  const found = markers();
  if (found.length) throw new Error(`the hostile workspace ran code ${when}: ${found.join(', ')}`);
  if (!quiet) log(`no marker ${when}`);
}

/** The Problems panel's rows under the file `name` (its header row is the file name, then its folder). */
function problemsSection(problems, name) {
  const lines = problems.split('\n');
  const header = (l, i) => /^[^\s`]+\.snowauth\.toml/.test(l) && /^\d+$/.test(lines[i + 1] ?? '');
  const start = lines.findIndex((l, i) => l.startsWith(name) && header(l, i));
  if (start < 0) return '';
  const next = lines.findIndex((l, i) => i > start && header(l, i));
  return lines.slice(start, next < 0 ? undefined : next).join('\n');
}

/** Opens the file and waits for its rows in the Problems panel to match every `want`; returns those rows. */
async function problemsOf(page, name, want, timeout = 60000) {
  await openFile(page, name);
  await page.keyboard.press('Control+Shift+M');
  await page.waitForSelector('.markers-panel', { timeout: 15000 });
  const end = Date.now() + timeout;
  let rows = '';
  while (Date.now() < end) {
    if (phase === 'hostile') noMarkers(`while waiting for the diagnostics of ${name}`, true);
    rows = problemsSection(await page.locator('.markers-panel').innerText().catch(() => ''), name);
    if (want.every((re) => re.test(rows))) return rows;
    await page.waitForTimeout(250);
  }
  throw new Error(`the Problems panel lacks ${want.filter((re) => !re.test(rows)).join(', ')} for ${name}; its rows:\n${rows}`);
}

/** The two connection files of the hostile workspace (one beside each of its repositories). */
const HOSTILE_FILES = ['app.snowauth.toml', 'vault.snowauth.toml'];
/** The real server's diagnostic on `${env:SNOW_HOSTILE_CLIENT_SECRET}`, which no .env defines. */
const REAL_SERVER = /SNOW_HOSTILE_CLIENT_SECRET/;
/** The symbolic link `.env` -> a file outside the workspace was refused, not read. */
const DOTENV_REFUSED = /SNOW_HOSTILE_SECRET\b[^\n]*was not read/;

async function hostileChecks(page, when, want) {
  for (const name of HOSTILE_FILES) {
    const problems = await problemsOf(page, name, want);
    log(`${name} (${when}):`, JSON.stringify(problems.slice(0, 700)));
  }
  // git is asked about the files' tokens after the first diagnostics: give it time to have run (or not)
  await page.waitForTimeout(2000);
  noMarkers(when);
}

async function answerNotTrusted(page, shot) {
  const no = page.getByRole('button', { name: /No, I don.t trust the authors/ });
  await no.waitFor({ timeout: 30000 });
  if (shot) await page.screenshot({ path: join(out, shot) });
  await no.click();
  await page.locator('.statusbar-item', { hasText: /Restricted Mode/ }).first().waitFor({ timeout: 15000 });
}

const ws = (name) => join(folder, name);

/**
 * Register OAuth Client and Diagnose Connection ask for an admin of the instance, once: the user name in a plain
 * box (not a secret: what is typed shows), then the password in a masked box without the remember toggle. `shot`:
 * a screenshot of the password box; `password`: what is typed into it. Returns the two boxes' texts.
 */
async function answerAdmin(page, shot, password = ADMIN.password) {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.first().waitFor({ state: 'visible', timeout: 30000 });
  const first = (await page.locator('.quick-input-widget').innerText()).slice(0, 300);
  log('first box:', JSON.stringify(first));
  if ((await input.first().getAttribute('type')) === 'password') throw new Error("the admin's user name is asked in a masked box");
  await page.keyboard.type(ADMIN.user);
  await page.keyboard.press('Enter');
  const masked = page.locator('.quick-input-widget input[type="password"]');
  await masked.waitFor({ state: 'visible', timeout: 30000 });
  const second = (await page.locator('.quick-input-widget').innerText()).slice(0, 300);
  log('second box:', JSON.stringify(second));
  if (shot) await page.screenshot({ path: join(out, shot) });
  if (await page.locator('.quick-input-widget [aria-label*="Remember in VS Code secret storage"]').count()) {
    throw new Error("the admin's password box offers to remember it");
  }
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  return [first, second];
}
/** The emulator's administrator (its default configuration), typed into Register OAuth Client's two boxes. */
const ADMIN = { user: process.env.E2E_ADMIN_USER ?? 'admin', password: process.env.E2E_ADMIN_PASSWORD ?? 'admin-password' };
/** Tokens seen in the documents: run.sh checks that none of them reached a log. */
const tokensSeen = new Set();
function noteTokens(text) {
  for (const m of text.matchAll(/(?:access_token|refresh_token) = "([^"]+)"|Bearer (\S{20,})/g)) tokensSeen.add(m[1] ?? m[2]);
}
/** The workspace files as they were before any step ran. */
const originals = Object.fromEntries(
  readdirSync(folder, { withFileTypes: true }).filter((d) => d.isFile()).map((d) => [d.name, readFileSync(ws(d.name), 'utf8')]),
);

// ---------------------------------------------------------------- typing a connection (type-connection)

/** The suggest widget's rows (their labels), in list order. Opens it with Ctrl+Space when
 * `trigger` (else it should have opened by itself; Ctrl+Space after 5 s). `allowNone`: [] when it shows nothing. */
async function suggestions(page, { trigger, allowNone = false }) {
  const rows = () =>
    page.evaluate(() =>
      [...document.querySelectorAll('.suggest-widget.visible .monaco-list-row')]
        .map((el) => [Number(el.getAttribute('data-index')), (el.querySelector('.left .label-name')?.textContent ?? '').trim()])
        .sort((a, b) => Number(a[0]) - Number(b[0]))
        .map(([, s]) => String(s)),
    );
  if (trigger) await page.keyboard.press('Control+Space');
  for (const again of trigger ? [false] : [false, true]) {
    if (again) await page.keyboard.press('Control+Space');
    const end = Date.now() + (allowNone ? 5000 : 15000);
    while (Date.now() < end) {
      const now = await rows();
      if (now.length) {
        await page.waitForTimeout(300); // the list settles (late items)
        return rows();
      }
      await page.waitForTimeout(200);
    }
  }
  if (allowNone) return [];
  throw new Error('no completion list appeared');
}

/** Waits until the focused completion item is `label`. */
async function focusedSuggestion(page, label) {
  const end = Date.now() + 10000;
  let text = '';
  while (Date.now() < end) {
    text = await page.locator('.suggest-widget.visible .monaco-list-row.focused .left .label-name').first().textContent({ timeout: 1000 }).catch(() => '');
    if ((text ?? '').trim() === label) return;
    await page.waitForTimeout(200);
  }
  throw new Error(`the focused completion item is ${JSON.stringify(text)}, not ${label}`);
}

/** The editor line that assigns `key`. */
async function waitForLine(page, key, want) {
  const re = new RegExp(`^${key} =`);
  const text = await waitForEditorText(page, (t) => t.split('\n').some((l) => re.test(l)), `a line for ${key}`, 10000);
  let line = text.split('\n').find((l) => re.test(l)) ?? '';
  // a loaded machine renders the last keystrokes late: give the line time to become `want`
  for (let i = 0; want !== undefined && line !== want && i < 20; i++) {
    await page.waitForTimeout(250);
    line = (await editorText(page)).split('\n').find((l) => re.test(l)) ?? '';
  }
  return line;
}

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
/** The file read by Python's tomllib (the repository's venv), as JSON; a TOML error fails with tomllib's message. */
function parseToml(path) {
  const py = process.env.E2E_PYTHON || join(REPO, '.venv', 'bin', 'python');
  const code = 'import json, sys, tomllib\nwith open(sys.argv[1], "rb") as f: print(json.dumps(tomllib.load(f), default=str))';
  const r = spawnSync(py, ['-c', code, path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tomllib cannot read ${path}: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`);
  return JSON.parse(r.stdout);
}

/** The Problems panel has no row for `name` (and still none 2 s later). */
async function noProblems(page, name) {
  if (!(await page.locator('.markers-panel').isVisible())) await page.keyboard.press('Control+Shift+M');
  const rows = async () => problemsSection(await page.locator('.markers-panel').innerText().catch(() => ''), name);
  const end = Date.now() + 30000;
  let now = await rows();
  while (now && Date.now() < end) {
    await page.waitForTimeout(250);
    now = await rows();
  }
  if (!now) {
    await page.waitForTimeout(2000);
    now = await rows();
  }
  if (now) throw new Error(`the Problems panel lists for ${name}:\n${now}`);
}

/** Answers the input box whose prompt matches `prompt` with `text` (filled, then checked, then Enter). */
async function answerBox(page, prompt, text) {
  await page.locator('.quick-input-widget', { hasText: prompt }).waitFor({ timeout: 15000 });
  const input = page.locator('.quick-input-widget .quick-input-box input').first();
  await page.waitForTimeout(300);
  await input.fill(text);
  const value = await input.inputValue();
  if (value !== text) throw new Error(`the box ${prompt} holds ${JSON.stringify(value)}, not ${JSON.stringify(text)}`);
  await page.keyboard.press('Enter');
}

/**
 * nav.snowauth.toml (written when missing): two connections, `default` naming the second, which points at the
 * emulator; a comment with non-ASCII text before everything (the server's positions are code points, VS Code's UTF-16).
 */
function navFile() {
  const name = 'nav.snowauth.toml';
  const instance = /instance = "(http:\/\/127\.0\.0\.1:\d+)"/.exec(originals['emulator.snowauth.toml'])?.[1] ?? 'no emulator';
  if (!existsSync(ws(name))) {
    writeFileSync(ws(name), [
      '# café ✓ 😀 navigation, links and hints',
      'default = "hinted"',
      '',
      '[connections.other]',
      'instance = "dev12345"',
      'client = "servicenow-sdk"',
      '',
      '[connections.hinted]                  # line 8',
      `instance = "${instance}"`,
      'grant_type = "password"',
      'client_id = "0123456789abcdef0123456789abcdef"',
      'client_secret = "demo-client-secret"',
      'username = "integration.user"',
      'password = "demo-password"',
      '',
    ].join('\n'));
  }
  return { name, instance, clientId: '0123456789abcdef0123456789abcdef' };
}

/** Opens a file a step has just written: the Explorer refreshed first (its watcher may not have seen it yet). */
async function openNew(page, name) {
  await page.locator('.explorer-folders-view').first().hover();
  await page.locator('.pane-header [aria-label="Refresh Explorer"], .title-actions [aria-label="Refresh Explorer"]').first().click({ force: true });
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 15000 });
  await openFile(page, name);
}

/** The status bar's cursor position ("Ln 8, Col 2") as [line, column]. */
async function cursorAt(page) {
  const text = await page.locator('.statusbar-item', { hasText: /^Ln \d+, Col \d+/ }).first().innerText({ timeout: 5000 }).catch(() => '');
  const m = /Ln (\d+), Col (\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** Sets (or with `undefined` removes) one setting of the workspace's .vscode/settings.json, which VS Code watches. */
function setWorkspaceSetting(key, value) {
  const file = ws(join('.vscode', 'settings.json'));
  mkdirSync(ws('.vscode'), { recursive: true });
  const settings = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  if (value === undefined) delete settings[key];
  else settings[key] = value;
  writeFileSync(file, JSON.stringify(settings, null, 2));
}

/** Hovers the client_id link and returns the link targets its hover shows (the markdown link's data-href or href). */
async function linkHover(page, clientId) {
  const link = page.locator('.editor-group-container.active .view-lines .detected-link', { hasText: clientId }).first();
  await link.waitFor({ timeout: 30000 });
  const end = Date.now() + 20000;
  while (Date.now() < end) {
    await page.mouse.move(0, 0);
    await link.hover();
    await page.waitForTimeout(1000); // the hover's delay
    // only a hover on screen (a hidden hover widget keeps its last content)
    const found = await page
      .locator('.monaco-hover a')
      .evaluateAll((els) =>
        els.filter((a) => a.checkVisibility()).map((a) => a.getAttribute('data-href') || a.getAttribute('href') || '').filter(Boolean),
      )
      .catch(() => []);
    if (found.some((h) => h.includes('oauth_entity_list.do'))) return found;
  }
  const shown = await page.locator('.monaco-hover').allInnerTexts().catch(() => []);
  throw new Error(`no hover with the registry link over ${clientId}; hovers: ${JSON.stringify(shown).slice(0, 800)}`);
}

// ---------------------------------------------------------------- steps

const STEPS = [
  {
    id: 'diagnostics',
    phases: ['trusted', 'offline'],
    ready: true,
    what: 'broken.snowauth.toml: squiggles, and the Problems panel lists the unknown key and the missing client_id',
    async run(page) {
      await openFile(page, 'broken.snowauth.toml');
      await page.waitForSelector('.editor-group-container.active .monaco-editor .squiggly-error', { timeout: 60000 });
      log(`squiggle visible, ${((Date.now() - tWorkbench) / 1000).toFixed(1)} s after the workbench appeared`);
      await page.keyboard.press('Control+Shift+M');
      await page.waitForSelector('.markers-panel .monaco-tl-contents', { timeout: 15000 });
      const want = [/Unknown key `pasword`.*did you mean `password`\?/, /missing `client_id`/, /missing `password`/];
      const end = Date.now() + 20000;
      let problems = '';
      while (Date.now() < end) {
        problems = await page.locator('.markers-panel').innerText();
        if (want.every((re) => re.test(problems))) break;
        await page.waitForTimeout(250);
      }
      log('problems panel:', JSON.stringify(problems.slice(0, 600)));
      for (const re of want) if (!re.test(problems)) throw new Error(`Problems panel lacks ${re}`);
      // hover the misspelt key: the squiggle's message and the quick-fix are there too
    },
  },
  {
    id: 'completion',
    ready: true,
    what: 'completion inside the connection offers the missing keys',
    async run(page) {
      await openFile(page, 'broken.snowauth.toml');
      await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+End');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Control+Space');
      await page.waitForSelector('.suggest-widget .monaco-list-row', { timeout: 15000 });
      await page.waitForTimeout(500);
      const rows = await page.locator('.suggest-widget .monaco-list-row').allInnerTexts();
      log('completion:', JSON.stringify(rows.slice(0, 12)));
      const labels = rows.map((r) => r.split('\n')[0].trim());
      for (const key of ['client_id', 'password']) {
        if (!labels.some((l) => l.startsWith(key))) throw new Error(`completion does not offer ${key}: ${JSON.stringify(labels)}`);
      }
      if (labels.some((l) => /^username\b/.test(l))) throw new Error('completion offers username, which is already there');
    },
    async after(page) {
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+Z');
    },
  },
  {
    id: 'fetch',
    phases: ['trusted', 'offline'],
    ready: true,
    what: 'SnowAuth: Fetch Token against the emulator writes [connections.emu.token]; the status bar shows its expiry',
    async run(page) {
      await openFile(page, 'emulator.snowauth.toml');
      const before = originals['emulator.snowauth.toml'];
      await waitForStatus(page, /SnowAuth emu: no token/);
      await gotoLine(page, 5);
      await runCommand(page, 'SnowAuth: Fetch Token');
      await waitForEditorText(page, (t) => t.includes('[connections.emu.token]'), 'the token table');
      const note = await waitForNotification(page, /Token for emu expires at/);
      log('notification:', note);
      const status = await waitForStatus(page, /SnowAuth emu: (\d+ min|< 1 min)/);
      log('status bar:', status);
      await page.keyboard.press('Control+S');
      await page.waitForTimeout(800);
      const after = readFileSync(ws('emulator.snowauth.toml'), 'utf8');
      noteTokens(after);
      if (!after.startsWith(before.trimEnd())) throw new Error('the lines before the token table changed');
      if (!/\[connections\.emu\.token\][\s\S]*access_token = "[^"]+"[\s\S]*expires_at = \d{4}-\d\d-\d\dT/.test(after)) {
        throw new Error(`the saved file has no complete token table:\n${after}`);
      }
    },
    screenshotAs: 'screenshot',
  },
  {
    id: 'prompt',
    ready: true,
    what: 'password = "${prompt}": the password box asks, the typed answer fetches the token',
    async run(page) {
      await openFile(page, 'prompt.snowauth.toml');
      await gotoLine(page, 5);
      await runCommand(page, 'SnowAuth: Fetch Token');
      const box = page.locator('.quick-input-widget input[type="password"]');
      await box.waitFor({ state: 'visible', timeout: 30000 });
      const title = await page.locator('.quick-input-widget').innerText();
      log('prompt:', JSON.stringify(title.slice(0, 200)));
      await page.screenshot({ path: join(out, 'prompt_box.png') });
      await page.keyboard.type('demo-password');
      await page.keyboard.press('Enter');
      await waitForEditorText(page, (t) => t.includes('[connections.asked.token]'), 'the token table');
      await waitForStatus(page, /SnowAuth asked: (\d+ min|< 1 min)/);
    },
  },
  {
    id: 'wrong-password',
    ready: true,
    what: 'a rejected password: the mapped error notification, and the file unchanged',
    async run(page) {
      await openFile(page, 'wrong.snowauth.toml');
      const before = await editorText(page);
      await gotoLine(page, 5);
      await runCommand(page, 'SnowAuth: Fetch Token');
      const note = await waitForNotification(page, /rejected/i);
      log('notification:', note);
      await page.waitForTimeout(1500);
      const after = await editorText(page);
      if (after !== before) throw new Error(`the document changed:\n${after}`);
      if (await page.locator('.tab.active.dirty').count()) throw new Error('the document is dirty');
      const all = await notifications(page);
      const doubled = all.filter((s) => /contributed command|Request workspace\/executeCommand failed/.test(s));
      if (doubled.length) throw new Error(`a second error notification was shown: ${JSON.stringify(doubled)}`);
      const disk = readFileSync(ws('wrong.snowauth.toml'), 'utf8');
      if (disk.includes('.token]')) throw new Error('a token table was written to disk');
    },
  },
  {
    id: 'status-refresh',
    ready: true,
    what: 'clicking the status bar item of a connection with a token refreshes it',
    async run(page) {
      await openFile(page, 'emulator.snowauth.toml');
      await gotoLine(page, 5);
      await waitForStatus(page, /SnowAuth emu: (\d+ min|< 1 min)/);
      await page.locator('.statusbar-item', { hasText: /SnowAuth emu/ }).first().click();
      const note = await waitForNotification(page, /Token for emu expires at/);
      log('notification:', note);
    },
  },
  {
    id: 'test-connection',
    ready: true,
    what: 'SnowAuth: Test Connection says who the token authenticates as',
    async run(page) {
      await openFile(page, 'emulator.snowauth.toml');
      await gotoLine(page, 5);
      await clearNotifications(page);
      await runCommand(page, 'SnowAuth: Test Connection');
      log('notification:', await waitForNotification(page, /Authenticated as integration\.user/));
      // one message per action: the extension's; the server, told so, adds none of its own
      await page.waitForTimeout(1500);
      const about = (await notifications(page)).filter((n) => /integration\.user|authenticates as/i.test(n));
      if (about.length !== 1) throw new Error(`expected one notification for Test Connection, got ${JSON.stringify(about)}`);
      if (about.some((n) => n.includes('`'))) throw new Error(`markdown in a notification: ${JSON.stringify(about)}`);
    },
  },
  {
    id: 'insert-token',
    ready: true,
    what: 'SnowAuth: Insert Token… puts an Authorization header at the cursor of another file',
    async run(page) {
      await openFile(page, 'request.http');
      await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+End');
      await runCommand(page, 'SnowAuth: Insert Token…');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'emulator.snowauth.toml' }).first().waitFor({ timeout: 15000 });
      await page.keyboard.type('emu');
      await page.waitForTimeout(300);
      await page.keyboard.press('Enter');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Authorization header' }).first().waitFor({ timeout: 15000 });
      await page.keyboard.type('Authorization header');
      await page.waitForTimeout(300);
      await page.keyboard.press('Enter');
      const text = await waitForEditorText(page, (t) => /Authorization: Bearer \S{20,}/.test(t), 'the inserted header');
      noteTokens(text);
      log('request.http:', JSON.stringify(text.replace(/Bearer (\S{6})\S+/, 'Bearer $1…')));
    },
  },
  {
    id: 'revoke',
    ready: true,
    what: 'SnowAuth: Revoke Token removes the token table: the file is byte for byte what it was before the fetch',
    async run(page) {
      await openFile(page, 'emulator.snowauth.toml');
      await gotoLine(page, 5);
      await runCommand(page, 'SnowAuth: Revoke Token');
      log('notification:', await waitForNotification(page, /Token for emu revoked/));
      await waitForEditorText(page, (t) => !t.includes('[connections.emu.token]'), 'the token table to go');
      await waitForStatus(page, /SnowAuth emu: no token/);
      await page.keyboard.press('Control+S');
      await page.waitForTimeout(800);
      const now = readFileSync(ws('emulator.snowauth.toml'), 'utf8');
      if (now !== originals['emulator.snowauth.toml']) throw new Error(`the file differs from the original:\n${now}`);
    },
  },
  {
    id: 'code-lens',
    ready: true,
    what: 'the "Fetch token" code lens fetches (through the client middleware) and reports success once',
    async run(page) {
      await openFile(page, 'emulator.snowauth.toml');
      const lens = page.locator('.editor-group-container.active .codelens-decoration a', { hasText: 'Fetch token' });
      await lens.first().waitFor({ timeout: 15000 });
      await lens.first().click();
      await waitForEditorText(page, (t) => t.includes('[connections.emu.token]'), 'the token table');
      log('notification:', await waitForNotification(page, /Token for emu expires at/));
      await page.waitForTimeout(500);
      const shown = (await notifications(page)).filter((n) => /Token for emu expires at/.test(n));
      if (shown.length !== 1) throw new Error(`expected one success notification, got ${JSON.stringify(shown)}`);
    },
  },
  // before remember-secret: its Revoke also revokes emu's access token (the emulator, as ServiceNow, hands the
  // same client and user the same token within its lifetime), which stays in emu's file with time left
  {
    id: 'copy-header',
    ready: true,
    what: 'SnowAuth: Copy Authorization Header puts "Bearer <token>" on the clipboard and warns once; Copy Access Token the token alone, without a second warning',
    async run(page) {
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
      await openFile(page, 'emulator.snowauth.toml');
      await gotoLine(page, 5);
      await clearNotifications(page);
      await page.evaluate(() => navigator.clipboard.writeText('nothing copied yet'));
      await runCommand(page, 'SnowAuth: Copy Authorization Header');
      log('notification:', await waitForNotification(page, /token is on the clipboard/));
      const header = await waitForClipboard(page, (t) => /^Bearer \S{20,}$/.test(t), 'Bearer <token>');
      noteTokens(header);
      // the token of the connection (fetched into the document when it had none)
      const doc = await waitForEditorText(page, (t) => /access_token = "[^"]+"/.test(t), 'the token table');
      const stored = /access_token = "([^"]+)"/.exec(doc)?.[1];
      if (header !== `Bearer ${stored}`) throw new Error('the header on the clipboard is not the connection\'s token');
      log(`clipboard: "Bearer " and the connection's token (${stored.length} characters)`);
      await clearNotifications(page);
      await runCommand(page, 'SnowAuth: Copy Access Token');
      await waitForClipboard(page, (t) => t === stored, 'the token alone');
      await page.waitForTimeout(1500);
      const again = (await notifications(page)).filter((n) => /clipboard/.test(n));
      if (again.length) throw new Error(`the clipboard warning came twice in one session: ${JSON.stringify(again)}`);
    },
  },
  {
    id: 'task-token',
    ready: true,
    what: 'a tasks.json task whose environment takes ${command:snowauth.accessToken} (an input naming the file and connection) calls the Table API: 200',
    async run(page) {
      const status = ws('api-status.txt');
      rmSync(status, { force: true });
      await openFile(page, 'request.http'); // not a connection file: the input's args name the connection
      await runCommand(page, 'Tasks: Run Build Task');
      const end = Date.now() + 60000;
      while (Date.now() < end && !existsSync(status)) await page.waitForTimeout(250);
      await page.waitForTimeout(500);
      const code = existsSync(status) ? readFileSync(status, 'utf8').trim() : '(no api-status.txt)';
      log('HTTP status written by the task:', code);
      if (code !== '200') throw new Error(`the task's request got ${code}, not 200`);
    },
  },
  {
    id: 'remember-secret',
    ready: true,
    what: 'a remembered ${prompt} answer is used without asking; Forget Remembered Secrets forgets it',
    async run(page) {
      await openFile(page, 'prompt.snowauth.toml');
      await gotoLine(page, 5);
      await runCommand(page, 'SnowAuth: Revoke Token');
      await waitForEditorText(page, (t) => !t.includes('[connections.asked.token]'), 'the token table to go');
      await clearNotifications(page);
      await runCommand(page, 'SnowAuth: Fetch Token');
      await page.locator('.quick-input-widget input[type="password"]').waitFor({ state: 'visible', timeout: 30000 });
      await page.locator('.quick-input-widget [aria-label*="Remember in VS Code secret storage"]').first().click();
      await page.locator('.quick-input-widget', { hasText: 'remembered in VS Code secret storage' }).waitFor({ timeout: 5000 });
      await page.screenshot({ path: join(out, 'prompt_remember.png') });
      await page.locator('.quick-input-widget input[type="password"]').focus();
      await page.keyboard.type('demo-password');
      await page.keyboard.press('Enter');
      await waitForEditorText(page, (t) => t.includes('[connections.asked.token]'), 'the token table');
      await runCommand(page, 'SnowAuth: Revoke Token');
      await waitForEditorText(page, (t) => !t.includes('[connections.asked.token]'), 'the token table to go');
      await clearNotifications(page);
      // now without a prompt
      await runCommand(page, 'SnowAuth: Fetch Token');
      await waitForEditorText(page, (t) => t.includes('[connections.asked.token]'), 'the token table, without a prompt', 20000);
      if (await page.locator('.quick-input-widget input[type="password"]').isVisible()) throw new Error('the password was asked again');
      await runCommand(page, 'SnowAuth: Forget Remembered Secrets');
      log('notification:', await waitForNotification(page, /forgot 1 remembered secret/));
    },
  },
  {
    id: 'type-connection',
    ready: true,
    what: 'an empty team.snowauth.toml: a password-grant connection typed with completion only; valid TOML, no problem, then a token',
    async run(page) {
      const name = 'team.snowauth.toml';
      // the team's client secret lives in the .env beside the file (the convention the completion offers)
      writeFileSync(ws('.env'), 'SNOW_DEV_CLIENT_SECRET=demo-client-secret\n');
      writeFileSync(ws(name), '');
      await openFile(page, name);
      if ((await editorText(page)).trim()) throw new Error('the new file is not empty');
      await page.keyboard.press('Control+Shift+M'); // the Problems panel stays open below the editor
      await page.waitForSelector('.markers-panel', { timeout: 15000 });
      await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+Home');

      // `[` opens the header completion (a trigger character); its first item is the new connection
      await page.keyboard.type('[');
      let rows = await suggestions(page, { trigger: false });
      log('after [:', JSON.stringify(rows.slice(0, 6)));
      if (!/connections\.<name>/.test(rows[0] ?? '')) throw new Error(`the first header item is not connections.<name>: ${JSON.stringify(rows)}`);
      await page.keyboard.press('Enter');
      await page.keyboard.type('dev'); // into the name placeholder
      // while the name is typed, what the user is typing comes first; the token table is never the only item
      rows = await suggestions(page, { trigger: true, allowNone: true });
      log('while typing the name:', JSON.stringify(rows.slice(0, 6)));
      if (rows.length && /\.token\b/.test(rows[0])) throw new Error(`the token table is offered first while the name is typed: ${JSON.stringify(rows)}`);
      if (rows.length) await page.keyboard.press('Enter'); // what a person does with the first item on screen
      await page.keyboard.press('Escape');
      await page.keyboard.press('End');
      const header = (await editorText(page)).split('\n')[0];
      if (header !== '[connections.dev]') throw new Error(`the header line is ${JSON.stringify(header)}, not [connections.dev]`);
      await page.keyboard.press('Enter');
      // the server sees the connection: it lacks its required keys (so the empty Problems list at the end is real)
      await page.locator('.markers-panel', { hasText: /missing `instance`/ }).waitFor({ timeout: 30000 });

      const values = {
        instance: /instance = "(http:\/\/127\.0\.0\.1:\d+)"/.exec(originals['emulator.snowauth.toml'])?.[1] ?? 'no emulator',
        grant_type: 'password',
        client_id: '0123456789abcdef0123456789abcdef',
        client_secret: '${env:SNOW_DEV_CLIENT_SECRET}',
        username: 'integration.user',
        password: '${prompt}',
      };
      for (const [key, value] of Object.entries(values)) {
        await page.locator('.editor-group-container.active .monaco-editor textarea').first().focus();
        rows = await suggestions(page, { trigger: true });
        if (key === 'password') await page.screenshot({ path: join(out, 'completion.png') });
        await page.keyboard.type(key); // filters the list down to the key
        await focusedSuggestion(page, key);
        await page.keyboard.press('Enter');
        let line = await waitForLine(page, key);
        // the snippet puts the value's placeholder inside the quotes
        if (!/^\S+ = "[^"]*"$/.test(line)) throw new Error(`completing ${key} inserted ${JSON.stringify(line)}: the value is not quoted`);
        await page.keyboard.type(value); // replaces the selected placeholder
        await page.keyboard.press('Escape');
        await page.keyboard.press('End');
        const want = `${key} = ${JSON.stringify(value)}`;
        line = await waitForLine(page, key, want);
        if (line !== want) throw new Error(`typing ${key} gave ${JSON.stringify(line)}, not ${JSON.stringify(want)}`);
        await page.keyboard.press('Enter');
      }
      await page.keyboard.press('Control+S');
      await page.waitForTimeout(800);
      const typed = readFileSync(ws(name), 'utf8');
      log(`${name} as typed:\n${typed}`);
      const parsed = parseToml(ws(name));
      const expected = { connections: { dev: values } };
      if (JSON.stringify(parsed) !== JSON.stringify(expected)) {
        throw new Error(`tomllib reads ${JSON.stringify(parsed)}, not ${JSON.stringify(expected)}`);
      }
      // no problem at all: the missing keys are there and the .env defines the client secret
      await noProblems(page, name);

      await gotoLine(page, 2);
      await runCommand(page, 'SnowAuth: Fetch Token');
      const box = page.locator('.quick-input-widget input[type="password"]');
      await box.waitFor({ state: 'visible', timeout: 30000 });
      await page.keyboard.type('demo-password');
      await page.keyboard.press('Enter');
      await waitForEditorText(page, (t) => t.includes('[connections.dev.token]'), 'the token table');
      log('notification:', await waitForNotification(page, /Token for dev/i));
      await page.waitForTimeout(1500);
      // one message for one fetch (the server leaves the success message to the extension)
      const shown = (await notifications(page)).filter((n) => /token for dev/i.test(n));
      if (shown.length !== 1) throw new Error(`one fetch, ${shown.length} success notifications: ${JSON.stringify(shown)}`);
      await page.keyboard.press('Control+S');
      await page.waitForTimeout(800);
      const after = readFileSync(ws(name), 'utf8');
      noteTokens(after);
      if (!after.startsWith(typed)) throw new Error('the typed lines changed when the token was written');
      const token = parseToml(ws(name)).connections?.dev?.token;
      if (typeof token?.access_token !== 'string' || !token.access_token) throw new Error('the saved file has no access_token');
      await noProblems(page, name);
    },
  },
  // after type-connection, which writes the workspace's .env (Register OAuth Client adds the new client's secret to it)
  {
    id: 'register-client',
    ready: true,
    what: 'Register OAuth Client from the code lens of a connection without a client: the admin\'s name (plain box) and password (masked, one-time), "Fetch Token": client_id in the file, its secret in .env, then the token',
    async run(page) {
      const name = 'register.snowauth.toml';
      const instance = /instance = "(http:\/\/127\.0\.0\.1:\d+)"/.exec(originals['emulator.snowauth.toml'])?.[1] ?? 'no emulator';
      const before = [
        '# A connection without a client: Register OAuth Client creates one on the instance.',
        '[connections.reg]',
        `instance = "${instance}"`,
        'grant_type = "password"',
        'username = "integration.user"',
        'password = "${env:SNOW_REG_PASSWORD}"',
        '',
      ].join('\n');
      writeFileSync(ws(name), before);
      // the user's password from the .env beside the file (a literal one would be a problem of its own); register
      // adds the client secret to this .env and keeps what it holds
      const envBefore = `${existsSync(ws('.env')) ? readFileSync(ws('.env'), 'utf8') : ''}SNOW_REG_PASSWORD=demo-password\n`;
      writeFileSync(ws('.env'), envBefore);
      await openFile(page, name);
      await clearNotifications(page);
      const lens = page.locator('.editor-group-container.active .codelens-decoration a', { hasText: 'Register OAuth Client' });
      await lens.first().waitFor({ timeout: 30000 });
      // a wrong admin password: the instance's refusal, once, and nothing written (the failure of a lens's command
      // is no [error] line of the extension either: run.sh checks the whole output)
      await lens.first().click();
      await answerAdmin(page, undefined, 'not-the-password');
      log('refused:', await waitForNotification(page, /refused the admin credentials/));
      await page.waitForTimeout(1500);
      if (readFileSync(ws(name), 'utf8') !== before) throw new Error('a refused registration changed the file');
      if (readFileSync(ws('.env'), 'utf8') !== envBefore) throw new Error('a refused registration changed the .env');
      if ((await editorText(page)).includes('client_id')) throw new Error('a refused registration wrote client_id');
      const doubled = (await notifications(page)).filter((n) => /contributed command|Request workspace\/executeCommand failed/.test(n));
      if (doubled.length) throw new Error(`a second error notification was shown: ${JSON.stringify(doubled)}`);
      await clearNotifications(page);

      await lens.first().click();
      await answerAdmin(page, 'register_password.png');

      // the server asks whether to fetch the first token now
      const fetchNow = page.locator('.notifications-toasts .notification-toast .monaco-button', { hasText: /^Fetch Token$/ });
      await fetchNow.first().waitFor({ timeout: 60000 });
      log('question:', JSON.stringify((await notifications(page)).find((n) => /Fetch Token/.test(n)) ?? ''));
      await fetchNow.first().click();
      await waitForEditorText(page, (t) => t.includes('[connections.reg.token]'), 'the token table', 60000);
      const note = await waitForNotification(page, /Registered reg: client_id written, secret in \S*\.env\b/);
      log('notification:', note);
      await page.keyboard.press('Control+S');
      await page.waitForTimeout(800);
      const after = readFileSync(ws(name), 'utf8');
      noteTokens(after);
      const reg = parseToml(ws(name)).connections?.reg ?? {};
      if (typeof reg.client_id !== 'string' || !reg.client_id) throw new Error(`no client_id in the file:\n${after}`);
      if (typeof reg.token?.access_token !== 'string' || !reg.token.access_token) throw new Error('the saved file has no access_token');
      // the client secret is a reference to the .env, which holds it; the connection file never does
      const ref = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(String(reg.client_secret ?? ''))?.[1];
      if (!ref) throw new Error(`client_secret is not an \${env:…} reference: ${JSON.stringify(reg.client_secret ?? null)}`);
      const env = readFileSync(ws('.env'), 'utf8');
      const secret = env.split('\n').find((l) => l.startsWith(`${ref}=`))?.slice(ref.length + 1).replace(/^["']|["']$/g, '');
      if (!secret) throw new Error(`.env defines no ${ref}`);
      tokensSeen.add(secret); // run.sh: never in a log
      if (after.includes(secret)) throw new Error('the client secret is in the connection file');
      if (note.includes(secret)) throw new Error('the client secret is in the notification');
      for (const line of envBefore.split('\n').filter((l) => l.trim())) {
        if (!env.split('\n').includes(line)) throw new Error(`.env lost its line for ${line.split('=')[0]}`);
      }
      await noProblems(page, name);
    },
  },
  {
    id: 'diagnose',
    ready: true,
    what: "SnowAuth: Diagnose Connection on emu with the admin's credentials: its report opens read-only beside the file and says all good; again without an admin (Escape): the record checks skipped, the same report tab",
    async run(page) {
      await openFile(page, 'emulator.snowauth.toml');
      await gotoLine(page, 5);
      await clearNotifications(page);
      await runCommand(page, 'SnowAuth: Diagnose Connection');
      await answerAdmin(page);
      await page.locator('.tab.active', { hasText: 'Diagnose emu.md' }).waitFor({ timeout: 60000 });
      const report = await waitForEditorText(page, (t) => /All good/.test(t), 'the report saying all good', 30000);
      log('report:', JSON.stringify(report.slice(0, 800)));
      if (/needs an admin/.test(report)) throw new Error("with an admin, the report skipped the checks that need an admin's rights");
      log('notification:', await waitForNotification(page, /Diagnose emu: all good\./));
      // a virtual document of the extension: read-only
      await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
      await page.keyboard.type('x');
      await page.waitForTimeout(800);
      if ((await editorText(page)) !== report) throw new Error('the report document took an edit');
      // (the tab of its own group: the connection file's tab in the first group may be dirty from an earlier step)
      if (await page.locator('.editor-group-container.active .tab.active.dirty').count()) throw new Error('the report document is dirty');

      // again from the connection file (its tab in the first group), declining the admin: the checks that read the
      // instance's records are skipped, and the report is replaced where it is (one tab)
      await page.locator('.tab', { hasText: 'emulator.snowauth.toml' }).first().click();
      await page.locator('.tab.active', { hasText: 'emulator.snowauth.toml' }).first().waitFor({ timeout: 10000 });
      await clearNotifications(page);
      await runCommand(page, 'SnowAuth: Diagnose Connection');
      await page.locator('.quick-input-widget .quick-input-box input').first().waitFor({ state: 'visible', timeout: 30000 });
      await page.keyboard.press('Escape');
      await page.locator('.tab.active', { hasText: 'Diagnose emu.md' }).waitFor({ timeout: 60000 });
      const again = await waitForEditorText(page, (t) => /All good/.test(t) && /needs an admin/.test(t), 'the report with skipped checks', 30000);
      log('report without an admin:', JSON.stringify(again.slice(0, 800)));
      await waitForNotification(page, /Diagnose emu: all good\./);
      const tabs = await page.locator('.tab', { hasText: 'Diagnose emu.md' }).count();
      if (tabs !== 1) throw new Error(`${tabs} tabs of the report after two runs`);
    },
  },
  {
    id: 'sdk-sign-in',
    ready: true,
    what: 'client = "servicenow-sdk": the Fetch token lens opens the instance\'s sign-in page in the browser; its code page\'s code pasted into the one-time box brings the token',
    async run(page) {
      const name = 'sdk.snowauth.toml';
      const instance = /instance = "(http:\/\/127\.0\.0\.1:\d+)"/.exec(originals['emulator.snowauth.toml'])?.[1] ?? 'no emulator';
      // the README's three lines (with the emulator's address)
      writeFileSync(ws(name), `[connections.sdk]\ninstance = "${instance}"\nclient = "servicenow-sdk"\n`);
      await openFile(page, name);
      await clearNotifications(page);
      const lens = page.locator('.editor-group-container.active .codelens-decoration a', { hasText: 'Fetch token' });
      await lens.first().waitFor({ timeout: 30000 });
      const popup = page.context().waitForEvent('page', { timeout: 30000 });
      popup.catch(() => {}); // when a later line throws first, the step fails; an unawaited rejection would end the run
      await lens.first().click();
      // VS Code may ask before it opens an external address
      const open = page.getByRole('button', { name: /^Open$/ });
      if (await open.first().waitFor({ timeout: 3000 }).then(() => true, () => false)) await open.first().click();
      const browser = await popup;
      // the address the server asked VS Code to open (window/showDocument, external), from the protocol trace
      const asked = await waitForLog(page, (t) => showDocumentUris(t).length > 0, 'window/showDocument', 30000);
      const signIn = showDocumentUris(asked).pop();
      const hide = (u) => u.replace(/([?&](?:state|code_challenge)=)[^&]+/g, '$1…');
      log('VS Code opened:', hide(browser.url()), 'for', hide(signIn));
      // code-server 4.100.3 rewrites a loopback address to its port proxy and drops the path and query
      // (https://github.com/coder/code-server/issues/7668, fixed in a later code-server): the browser goes to the
      // address itself, as a desktop VS Code opens it
      if (browser.url() !== signIn) await browser.goto(signIn);
      // the instance's sign-in page
      await browser.locator('input[name="user_name"]').fill('integration.user');
      await browser.locator('input[name="user_password"]').fill('demo-password');
      await browser.locator('button[value="allow"]').click();
      // the page the SDK client's redirect lands on shows the code
      const shown = browser.locator('#oauth-code');
      await shown.waitFor({ timeout: 30000 });
      const code = ((await shown.textContent()) ?? '').trim();
      if (!code) throw new Error(`no code on ${browser.url().split('?')[0]}`);
      tokensSeen.add(code); // run.sh: never in a log
      await browser.close();
      await page.bringToFront();
      // the one-time box: masked, with the server's prompt, no remember toggle
      const box = page.locator('.quick-input-widget input[type="password"]');
      await box.waitFor({ state: 'visible', timeout: 30000 });
      const question = await page.locator('.quick-input-widget').innerText();
      log('box:', JSON.stringify(question.slice(0, 300)));
      if (!/Paste the code/i.test(question)) throw new Error(`the box does not say to paste the code: ${JSON.stringify(question.slice(0, 300))}`);
      if (await page.locator('.quick-input-widget [aria-label*="Remember in VS Code secret storage"]').count()) {
        throw new Error('the code box offers to remember the code');
      }
      await page.screenshot({ path: join(out, 'sdk_paste_box.png') });
      await box.focus();
      await page.keyboard.type(code);
      await page.keyboard.press('Enter');
      await waitForEditorText(page, (t) => t.includes('[connections.sdk.token]'), 'the token table', 60000);
      log('notification:', await waitForNotification(page, /Token for sdk expires at/));
      await page.keyboard.press('Control+S');
      await page.waitForTimeout(800);
      const after = readFileSync(ws(name), 'utf8');
      noteTokens(after);
      if (after.includes(code)) throw new Error('the code is in the connection file');
      const token = parseToml(ws(name)).connections?.sdk?.token;
      if (typeof token?.access_token !== 'string' || !token.access_token) throw new Error('the saved file has no access_token');
      await noProblems(page, name);
    },
  },
  {
    id: 'walkthrough',
    ready: true,
    what: "Welcome: Open Walkthrough… → Get started with SnowAuth; its New Connection File button, the boxes answered (file name, the emulator, Password grant, client ID, user): the file opens with the expected text, no problem once the .env holds its secret",
    async run(page) {
      const name = 'servicenow.snowauth.toml';
      const instance = /instance = "(http:\/\/127\.0\.0\.1:\d+)"/.exec(originals['emulator.snowauth.toml'])?.[1] ?? 'no emulator';
      // the connection is named after the instance ("local" for this machine); its client secret comes from the .env
      const env = existsSync(ws('.env')) ? readFileSync(ws('.env'), 'utf8') : '';
      if (!env.includes('SNOW_LOCAL_CLIENT_SECRET=')) writeFileSync(ws('.env'), `${env}SNOW_LOCAL_CLIENT_SECRET=demo-client-secret\n`);
      if (await page.locator('.part.panel').isVisible()) await runCommand(page, 'View: Toggle Panel Visibility');
      const openWalkthrough = async () => {
        await runCommand(page, 'Welcome: Open Walkthrough');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Get started with SnowAuth' }).first().waitFor({ timeout: 15000 });
        await page.locator('.quick-input-widget .quick-input-box input').first().fill('Get started with SnowAuth');
        await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: 'Get started with SnowAuth' }).waitFor({ timeout: 10000 });
        await page.keyboard.press('Enter');
      };
      await openWalkthrough();
      const button = page.locator('.gettingStartedContainer').getByRole('button', { name: 'New Connection File' });
      await button.first().waitFor({ timeout: 20000 });
      // the README's picture: the walkthrough with its first step's media (Escape there would go back to Welcome)
      await page.waitForTimeout(2500);
      await page.screenshot({ path: join(out, 'walkthrough.png') });
      const checkbox = page.locator('.gettingStartedContainer .getting-started-step', { hasText: 'Create a connection file' }).locator('[role="checkbox"]').first();
      if ((await checkbox.getAttribute('aria-checked')) !== 'false') throw new Error('the first step is done before its command ran');
      await button.first().click();
      // 1. the file name: the default, accepted
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await input.first().waitFor({ state: 'visible', timeout: 15000 });
      const first = await input.first().inputValue();
      if (first !== name) throw new Error(`the file name box offers ${JSON.stringify(first)}, not ${name}`);
      await page.keyboard.press('Enter');
      // 2. the instance
      await answerBox(page, 'The ServiceNow instance', instance);
      // 3. how to sign in: the quick pick, SDK client first
      const rows = page.locator('.quick-input-list .monaco-list-row');
      await rows.first().waitFor({ timeout: 10000 });
      const labels = await rows.allInnerTexts();
      log('sign-in choices:', JSON.stringify(labels.map((l) => l.split('\n')[0])));
      if (!/ServiceNow SDK client/.test(labels[0] ?? '')) throw new Error('the SDK client is not the first choice');
      await input.first().fill('Password grant');
      await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: /^Password grant/ }).waitFor({ timeout: 10000 });
      await page.keyboard.press('Enter');
      // 4. the client ID, 5. the user
      await answerBox(page, 'The client ID', '0123456789abcdef0123456789abcdef');
      await answerBox(page, 'The ServiceNow user', 'integration.user');
      await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 15000 });
      const want = [
        '# A ServiceNow OAuth connection (SnowAuth). Hover a key for what it means; Ctrl+Space offers the others.',
        '# Secrets stay out of this file: ${env:NAME} reads the environment or the .env beside it, ${prompt} asks.',
        'default = "local"',
        '',
        '[connections.local]',
        `instance = "${instance}"`,
        'grant_type = "password"',
        'client_id = "0123456789abcdef0123456789abcdef"',
        'client_secret = "${env:SNOW_LOCAL_CLIENT_SECRET}"',
        'username = "integration.user"',
        'password = "${prompt}"                          # asked when you fetch',
        '',
      ].join('\n');
      const onDisk = readFileSync(ws(name), 'utf8');
      if (onDisk !== want) throw new Error(`the new file holds:\n${onDisk}\nnot:\n${want}`);
      const mode = statSync(ws(name)).mode & 0o777;
      if (mode !== 0o600) throw new Error(`the new file has mode ${mode.toString(8)}, not 600 (a fetch writes tokens into it)`);
      await waitForEditorText(page, (t) => t.trimEnd() === want.trimEnd(), 'the new file in the editor', 10000);
      const local = parseToml(ws(name)).connections?.local ?? {};
      if (local.client_secret !== '${env:SNOW_LOCAL_CLIENT_SECRET}' || local.password !== '${prompt}') throw new Error('a secret is not a reference');
      await noProblems(page, name);
      // the walkthrough's tab shows the step done (onCommand:snowauth.newConnectionFile)
      // (opened again: its tab may have been a preview the new file replaced; it shows the next step, done ones closed)
      await openWalkthrough();
      await page.locator('.gettingStartedContainer .getting-started-step', { hasText: 'Create a connection file' }).first().waitFor({ timeout: 20000 });
      const step = page.locator('.gettingStartedContainer .getting-started-step', { hasText: 'Create a connection file' }).first();
      try {
        await step.locator('[role="checkbox"][aria-checked="true"]').first().waitFor({ timeout: 10000 });
      } catch {
        const html = (await step.evaluate((el) => el.outerHTML).catch(() => '')).replace(/\s+/g, ' ').slice(0, 600);
        throw new Error(`the step "Create a connection file" is not shown as done: ${html}`);
      }
      // asked again, the same name is refused: an existing file is never overwritten
      await step.click();
      await button.first().click();
      await input.first().waitFor({ state: 'visible', timeout: 15000 });
      await page.waitForTimeout(300);
      // the default name typed again (validated on each change): refused, the box stays
      await input.first().fill('');
      await input.first().fill(name);
      await page.keyboard.press('Enter');
      await page.locator('.quick-input-widget', { hasText: `${name} exists already` }).waitFor({ timeout: 10000 });
      await page.keyboard.press('Escape');
      if (readFileSync(ws(name), 'utf8') !== want) throw new Error('the file changed');
    },
  },
  {
    id: 'snippets',
    ready: true,
    what: 'an empty snip.snowauth.toml: `snowauth-password` typed, Ctrl+Space, the snippet accepted: the password-grant connection with its defaults, secrets as references',
    async run(page) {
      const name = 'snip.snowauth.toml';
      writeFileSync(ws(name), '');
      await openFile(page, name);
      await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
      await page.keyboard.type('snowauth-password');
      const rows = await suggestions(page, { trigger: true });
      log('suggestions:', JSON.stringify(rows.slice(0, 6)));
      await focusedSuggestion(page, 'snowauth-password');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Escape'); // leave the snippet's placeholders with their defaults
      const want = [
        '[connections.dev]',
        'instance = "dev12345"',
        'grant_type = "password"',
        'client_id = "0123456789abcdef0123456789abcdef"',
        'client_secret = "${env:SNOW_CLIENT_SECRET}"',
        'username = "integration.user"',
        'password = "${env:SNOW_PASSWORD}"',
        'scope = "useraccount"',
      ].join('\n');
      await waitForEditorText(page, (t) => t.trimEnd() === want, 'the expanded snippet', 10000);
      await page.keyboard.press('Control+S');
      // a loaded machine saves late: wait for the file, not a fixed time
      for (let i = 0; i < 40 && !readFileSync(ws(name), 'utf8').includes('[connections.dev]'); i++) await page.waitForTimeout(250);
      const dev = parseToml(ws(name)).connections?.dev ?? {};
      const keys = Object.keys(dev).join(',');
      if (keys !== 'instance,grant_type,client_id,client_secret,username,password,scope') throw new Error(`the saved connection has ${keys}`);
    },
  },
  {
    id: 'go-to-definition',
    ready: true,
    what: 'Go to Definition (F12) on the value of `default = "hinted"` moves the cursor to the `[connections.hinted]` header (line 8), past a line with non-ASCII text',
    async run(page) {
      const { name } = navFile();
      await openNew(page, name);
      await gotoLine(page, 2);
      await page.keyboard.press('End');
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft');
      const [line] = await cursorAt(page);
      if (line !== 2) throw new Error(`the cursor is on line ${line}, not on default`);
      await page.mouse.move(0, 0);
      // the palette's Go to Definition: what F12 runs (headless Chromium does not hand F12 to the page reliably)
      await runCommand(page, 'Go to Definition');
      const end = Date.now() + 20000;
      let at = [0, 0];
      while (Date.now() < end && at[0] !== 8) {
        await page.waitForTimeout(250);
        at = await cursorAt(page);
      }
      log('cursor after Go to Definition:', JSON.stringify(at));
      if (at[0] !== 8) throw new Error(`Go to Definition left the cursor at line ${at[0]}, column ${at[1]}, not on the header (line 8)`);
    },
  },
  {
    id: 'registry-link',
    ready: true,
    what: "the client_id value is a link to the instance's Application Registry list filtered to it (the emulator is the instance): its hover shows https?://<instance>/oauth_entity_list.do?sysparm_query=client_id=<id>; nothing is opened",
    async run(page) {
      const { name, instance, clientId } = navFile();
      await openNew(page, name);
      const targets = await linkHover(page, clientId);
      log('hover links:', JSON.stringify(targets));
      const want = `${instance}/oauth_entity_list.do?sysparm_query=client_id=${clientId}`;
      if (!targets.includes(want)) throw new Error(`the link's target is not ${want}: ${JSON.stringify(targets)}`);
      await page.mouse.move(0, 0);
    },
  },
  {
    id: 'inlay-hints',
    ready: true,
    what: 'editor.inlayHints.enabled on: after Fetch Token, "in N min" shows after expires_at (and the hover of the client_id link, for the picture)',
    async run(page) {
      const { name, clientId } = navFile();
      setWorkspaceSetting('editor.inlayHints.enabled', 'on');
      await openNew(page, name);
      await gotoLine(page, 10);
      await clearNotifications(page);
      await runCommand(page, 'SnowAuth: Fetch Token');
      await waitForEditorText(page, (t) => t.includes('[connections.hinted.token]'), 'the token table', 60000);
      await waitForNotification(page, /Token for hinted expires at/);
      const text = await waitForEditorText(page, (t) => /^expires_at = \S+\s*in \d+ min\b/m.test(t), 'the hint "in N min" after expires_at', 30000);
      log('expires_at line:', JSON.stringify(text.split('\n').find((l) => l.startsWith('expires_at'))));
      await page.keyboard.press('Control+S');
      await page.waitForTimeout(800);
      noteTokens(readFileSync(ws(name), 'utf8'));
      if (/in \d+ min/.test(readFileSync(ws(name), 'utf8'))) throw new Error('the hint was written into the file');
      // the README's picture: the hints and the client_id link's hover
      await clearNotifications(page);
      await linkHover(page, clientId);
      await page.screenshot({ path: join(out, 'inlay_hints.png') });
    },
    async after() {
      setWorkspaceSetting('editor.inlayHints.enabled', undefined);
    },
  },
  // ------------------------------------------------ phase "untrusted": a fresh profile without server settings
  {
    id: 'restricted-mode',
    phase: 'untrusted',
    ready: true,
    what: 'the workspace trust prompt: "No, I don\'t trust the authors" (Restricted Mode)',
    async run(page) {
      await answerNotTrusted(page, 'untrusted_prompt.png');
      // the extension (activated by workspaceContains) is setting up its private venv: its progress notification
      const progress = page.locator('.notifications-toasts .notification-toast', { hasText: /SnowAuth/ });
      if (await progress.first().waitFor({ timeout: 5000 }).then(() => true, () => false)) {
        log('progress:', JSON.stringify(await progress.first().innerText()));
        await page.screenshot({ path: join(out, 'untrusted_setup_progress.png') });
      }
    },
  },
  {
    id: 'private-venv-diagnostics',
    phase: 'untrusted',
    ready: true,
    what: 'with no server setting the extension sets up its private venv from the bundled wheel; diagnostics work untrusted',
    async run(page) {
      await openFile(page, 'broken.snowauth.toml');
      // the first start (venv + pip install from PyPI) can take a while on a cold pip cache
      await page.waitForSelector('.editor-group-container.active .monaco-editor .squiggly-error', { timeout: 300000 });
      log(`squiggle visible, ${((Date.now() - tWorkbench) / 1000).toFixed(1)} s after the workbench appeared`);
      await page.keyboard.press('Control+Shift+M');
      await page.waitForSelector('.markers-panel .monaco-tl-contents', { timeout: 15000 });
      await page.locator('.markers-panel', { hasText: /did you mean `password`/ }).waitFor({ timeout: 20000 });
    },
  },
  {
    id: 'untrusted-no-fetch',
    phase: 'untrusted',
    ready: true,
    what: 'Fetch Token (palette and code lens) in an untrusted workspace: the warning, no request, the file unchanged',
    async run(page) {
      await openFile(page, 'emulator.snowauth.toml');
      const before = await editorText(page);
      await gotoLine(page, 5);
      await runCommand(page, 'SnowAuth: Fetch Token');
      log('notification:', await waitForNotification(page, /does not send credentials from an untrusted workspace/));
      await clearNotifications(page);
      const lens = page.locator('.editor-group-container.active .codelens-decoration a', { hasText: 'Fetch token' });
      await lens.first().waitFor({ timeout: 15000 });
      await lens.first().click();
      await waitForNotification(page, /does not send credentials from an untrusted workspace/);
      await page.waitForTimeout(1500);
      const after = await editorText(page);
      if (after !== before) throw new Error(`the document changed:\n${after}`);
    },
  },
  {
    id: 'untrusted-no-register',
    phase: 'untrusted',
    ready: true,
    what: 'Register OAuth Client and Diagnose Connection in an untrusted workspace: the untrusted-workspace warning, no admin box, the file unchanged',
    async run(page) {
      await openFile(page, 'emulator.snowauth.toml');
      const before = await editorText(page);
      await gotoLine(page, 5);
      for (const title of ['SnowAuth: Register OAuth Client', 'SnowAuth: Diagnose Connection']) {
        await clearNotifications(page);
        await runCommand(page, title);
        log(`${title}:`, await waitForNotification(page, /does not send credentials from an untrusted workspace/));
        await page.waitForTimeout(1500);
        if (await page.locator('.quick-input-widget .quick-input-box input').first().isVisible()) {
          throw new Error(`${title} asked for something in an untrusted workspace`);
        }
      }
      const after = await editorText(page);
      if (after !== before) throw new Error(`the document changed:\n${after}`);
    },
  },
  {
    id: 'untrusted-new-file',
    phase: 'untrusted',
    ready: true,
    what: 'SnowAuth: New Connection File in an untrusted workspace (it writes a file and runs nothing): the SDK client chosen, sdk-dev.snowauth.toml opens with its three lines',
    async run(page) {
      const name = 'sdk-dev.snowauth.toml';
      await clearNotifications(page);
      await runCommand(page, 'SnowAuth: New Connection File');
      await answerBox(page, 'The file to create', name);
      await answerBox(page, 'The ServiceNow instance', 'dev12345');
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 10000 });
      await input.first().fill('ServiceNow SDK client');
      await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: /^Sign in with the ServiceNow SDK client/ }).waitFor({ timeout: 10000 });
      await page.keyboard.press('Enter');
      await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 15000 });
      const text = readFileSync(ws(name), 'utf8');
      const want = ['default = "dev12345"', '', '[connections.dev12345]', 'instance = "dev12345"', 'client = "servicenow-sdk"'];
      const lines = text.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\s+#.*$/, ''));
      if (lines.slice(0, want.length).join('\n') !== want.join('\n')) throw new Error(`the new file holds:\n${text}`);
      const warned = (await notifications(page)).filter((n) => /untrusted workspace/.test(n));
      if (warned.length) throw new Error(`the command was refused: ${JSON.stringify(warned)}`);
    },
  },
  // ------------------------------------------------ phase "offline": the linux-x64 .vsix, no PyPI, Debian's Python
  {
    id: 'offline-bundled',
    phase: 'offline',
    ready: true,
    what: 'the server came from the .vsix\'s bundle (python -I -S bundled/start.py), nothing was installed: no venv, no pip',
    async run(page) {
      const text = await waitForLog(
        page,
        (t) => /Starting the language server \(bundled\): \S*python3[.\d]* -I -S \S+\/bundled\/start\.py lsp/.test(t),
        'the bundled server started',
      );
      log('launch:', text.split('\n').find((l) => l.includes('Starting the language server')));
      if (/Setting up the language server|pip install/.test(text)) throw new Error('the extension set up a private venv');
      const storage = join(process.env.E2E_USER_DATA ?? '', 'User', 'globalStorage', 'snowauth.snowauth');
      if (existsSync(join(storage, 'venv'))) throw new Error(`a private venv exists in ${storage}`);
    },
  },
  // ------------------------------------------------ phase "hostile": a cloned repository that attacks on open
  // (hostile_workspace.sh); snowauth.server.interpreter = the repository's .venv python, so the extension resolves
  // and starts `<python> -P -m snowauth lsp` itself. First in Restricted Mode, then trusted.
  {
    id: 'hostile-restricted',
    phase: 'hostile',
    ready: true,
    what: 'the hostile workspace opens in Restricted Mode ("No, I don\'t trust the authors")',
    async run(page) {
      await answerNotTrusted(page);
      noMarkers('on opening the workspace');
    },
  },
  {
    id: 'hostile-untrusted',
    phase: 'hostile',
    ready: true,
    what: 'Restricted Mode: the real server (started by the extension from outside the workspace) shows diagnostics; nothing of the workspace ran',
    async run(page) {
      await hostileChecks(page, 'in Restricted Mode', [REAL_SERVER]);
      const out = await waitForLog(page, (t) => /Starting the language server \(setting:interpreter\): \S+ -P -m snowauth lsp/.test(t), 'the server started with -P');
      log('launch:', out.split('\n').find((l) => l.includes('Starting the language server')));
    },
  },
  {
    id: 'hostile-untrusted-dotenv',
    phase: 'hostile',
    ready: true,
    what: 'Restricted Mode: the .env that is a link to a file outside the workspace is not read (the Problems panel says so)',
    async run(page) {
      for (const name of HOSTILE_FILES) await problemsOf(page, name, [DOTENV_REFUSED], 20000);
    },
  },
  {
    id: 'hostile-trusted',
    phase: 'hostile',
    ready: true,
    what: 'the workspace is trusted: the server restarts, shows diagnostics again; still nothing of the workspace ran',
    async run(page) {
      await runCommand(page, 'Workspaces: Manage Workspace Trust');
      const trust = page.getByRole('button', { name: /^Trust$/ }).first();
      await trust.waitFor({ timeout: 15000 });
      await trust.click();
      await page.waitForFunction(
        () => ![...document.querySelectorAll('.statusbar-item')].some((e) => /Restricted Mode/.test(e.textContent ?? '')),
        undefined,
        { timeout: 15000 },
      );
      await waitForLog(page, (t) => /Restarting the language server\.[\s\S]*The language server is running\./.test(t), 'the restart after trust');
      await page.keyboard.press('Control+W'); // the trust editor
      // trusted, the server asks git whether the tokens would be committed (tokens-in-git): git did run, or was
      // refused, in both repositories, and neither ran the command in its config
      await hostileChecks(page, 'in the trusted workspace', [REAL_SERVER, /tokens-in-git/]);
    },
  },
  {
    id: 'hostile-trusted-dotenv',
    phase: 'hostile',
    ready: true,
    what: 'trusted: the .env that is a link to a file outside the workspace is still not read',
    async run(page) {
      for (const name of HOSTILE_FILES) await problemsOf(page, name, [DOTENV_REFUSED], 20000);
    },
  },
];

// ---------------------------------------------------------------- main

const inPhase = STEPS.filter((s) => (s.phases ?? [s.phase ?? 'trusted']).includes(phase));
const wanted = (process.env.E2E_STEPS ?? '').trim();
const known = new Set(STEPS.map((x) => x.id));
for (const id of wanted && wanted !== 'all' ? wanted.split(',') : []) {
  if (!known.has(id.trim())) throw new Error(`unknown step ${id}; known: ${[...known].join(', ')}`);
}
const selected =
  wanted === 'all'
    ? inPhase
    : wanted
      ? inPhase.filter((s) => wanted.split(',').map((x) => x.trim()).includes(s.id))
      : inPhase.filter((s) => s.ready);
log(`phase ${phase}, steps: ${selected.map((s) => s.id).join(', ') || 'none'} (skipped: ${inPhase.filter((s) => !selected.includes(s)).map((s) => s.id).join(', ') || 'none'})`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const results = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => log('pageerror:', e.message));
  await page.goto(`${base}/?folder=${encodeURIComponent(folder)}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
  await page.waitForSelector('.explorer-folders-view, .monaco-list', { timeout: 30000 }).catch(() => {});
  await page.waitForTimeout(1500);
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } }).catch(() => {});
  tWorkbench = Date.now();
  log('workbench visible');
  for (const [i, step] of selected.entries()) {
    const shot = join(out, `${phase === 'trusted' ? '' : `${phase}_`}${String(i + 1).padStart(2, '0')}_${step.id}.png`);
    const started = Date.now();
    try {
      await step.run(page);
      await page.screenshot({ path: shot });
      if (step.screenshotAs && phase === 'trusted') await page.screenshot({ path: join(out, `${step.screenshotAs}.png`) });
      results.push({ id: step.id, ok: true, shot });
      log(`PASS ${step.id} (${Date.now() - started} ms): ${step.what}`);
    } catch (e) {
      const fail = shot.replace(/\.png$/, '_FAIL.png');
      await page.screenshot({ path: fail }).catch(() => {});
      results.push({ id: step.id, ok: false, shot: fail, error: String(e?.message ?? e) });
      log(`FAIL ${step.id}: ${e?.message ?? e}`);
    }
    try {
      await step.after?.(page);
      await clearNotifications(page);
    } catch (e) {
      log(`cleanup after ${step.id}: ${e?.message ?? e}`);
    }
  }
} finally {
  await browser.close();
}
if (tokensSeen.size) writeFileSync(join(out, `.tokens-${phase}`), [...tokensSeen].join('\n') + '\n');
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.id}  ${r.shot}${r.error ? `\n     ${r.error.split('\n').join('\n     ')}` : ''}`);
console.log(`e2e-vscode ${phase}: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
