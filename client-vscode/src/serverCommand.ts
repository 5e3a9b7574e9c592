/**
 * How the language server is started: pure resolution logic (no `vscode` import), unit-tested.
 *
 * Order:
 *  1. `snowauth.server.command`: a full command line (array of strings), used as is.
 *  2. `snowauth.server.interpreter`: a Python that has snowauth installed: `<python> -m snowauth lsp`.
 *  3. The Python extension's active interpreter, when `<python> -c "import snowauth"` succeeds.
 *  4. The bundle of a platform's .vsix (`bundled/bundle.json`, `libs/`, `cp3XX/`): the server and every
 *     dependency, unpacked, run by a Python on PATH whose version the bundle has native builds for, as
 *     `<python> -I -S bundled/start.py lsp` (isolated, no site-packages: only the bundle and the standard
 *     library are importable). Nothing is downloaded.
 *  5. A private virtual environment in the extension's global storage, created on first use with a
 *     Python 3.11+ found on PATH, into which the wheel shipped in the .vsix (`bundled/`) is installed, its
 *     dependencies from PyPI: the universal .vsix, or a platform's .vsix whose bundle fits no Python found.
 *
 * `python -m …` and `python -c …` put the working directory first on `sys.path`, so a cloned repository
 * holding `snowauth/__init__.py` (or `venv/`, `pip/`) would be run instead of the real package. Every Python
 * the extension runs with `-m` or `-c` has been checked to be 3.11+ first and gets `-P` (3.11+: put nothing
 * of the working directory on `sys.path`); on top of that every process runs in a folder outside the
 * workspace with `PYTHONSAFEPATH=1` (processes.ts).
 */
import * as path from 'node:path';

export const MIN_PYTHON: readonly [number, number] = [3, 11];
/** Python 3.11+: do not put the working directory (or the script's folder) first on `sys.path`. */
export const SAFE_PATH = '-P';
export const SERVER_ARGS: readonly string[] = [SAFE_PATH, '-m', 'snowauth', 'lsp'];
/** The arguments of the import probe (`<python> -P -c "import snowauth"`). */
export const IMPORT_PROBE_ARGS: readonly string[] = [SAFE_PATH, '-c', 'import snowauth'];

/** A command line: the executable and its leading arguments (`['py', '-3.12']` on Windows). */
export type CommandLine = readonly string[];

/** `<python> -I -S <bundled>/start.py`: isolated (no PYTHON* variables, no user site, no working directory) and no site-packages. */
export const BUNDLE_FLAGS: readonly string[] = ['-I', '-S'];

export type LaunchSource = 'setting:command' | 'setting:interpreter' | 'python-extension' | 'bundled' | 'private-venv';

/** `bundled/bundle.json` of a platform's .vsix (client-vscode/scripts/bundle.py writes it). */
export interface BundleManifest {
  /** vsce's target, e.g. `linux-x64`. */
  target: string;
  /** Node's `process.platform` and `process.arch` it was built for. */
  platform: string;
  arch: string;
  /** The Python versions it has native builds for (`3.11`, …). */
  pythons: string[];
}

/** The manifest's fields, or undefined when the text is not one. */
export function parseBundleManifest(text: string | undefined): BundleManifest | undefined {
  if (!text) return undefined;
  try {
    const m = JSON.parse(text) as Partial<Record<keyof BundleManifest, unknown>>;
    const pythons = Array.isArray(m.pythons) ? m.pythons.filter((p): p is string => typeof p === 'string') : [];
    if (typeof m.target !== 'string' || typeof m.platform !== 'string' || typeof m.arch !== 'string' || !pythons.length) {
      return undefined;
    }
    return { target: m.target, platform: m.platform, arch: m.arch, pythons };
  } catch {
    return undefined;
  }
}

export interface ServerLaunch {
  command: string;
  args: string[];
  source: LaunchSource;
}

export interface BootstrapPlan {
  /** The Python 3.11+ that creates the venv. */
  basePython: CommandLine;
  basePythonVersion: PythonVersion;
  venvDir: string;
  venvPython: string;
  wheel: string;
  /** The commands to run, in order. */
  steps: CommandLine[];
  /** What the server is started with once the steps succeeded. */
  launch: ServerLaunch;
  /** Why the language server is not run from a bundle (shown while the venv is set up, and if it fails). */
  why: string;
}

export type Resolution =
  | { kind: 'launch'; launch: ServerLaunch }
  | { kind: 'bootstrap'; plan: BootstrapPlan }
  | { kind: 'error'; message: string };

export interface PythonVersion {
  major: number;
  minor: number;
  micro: number;
}

/** Everything resolution needs from the outside world; the extension implements it with child processes. */
export interface Probes {
  /** Output (stdout + stderr) of `<python> --version`, or undefined when it could not be run. */
  pythonVersionOutput(python: CommandLine): Promise<string | undefined>;
  /** Does `<python> -P -c "import snowauth"` exit 0? Only asked of a Python known to be 3.11+. */
  canImportSnowauth(python: CommandLine): Promise<boolean>;
  /** The Python extension's active interpreter for the workspace, if that extension is installed. */
  pythonExtensionInterpreter(): Promise<string | undefined>;
  /** Absolute path of the `snowauth-*.whl` shipped with the extension, if any. */
  bundledWheel(): Promise<string | undefined>;
  /** The bundle of a platform's .vsix: its manifest and launcher, or undefined (the universal .vsix). */
  bundle(): Promise<{ manifest: BundleManifest; start: string } | undefined>;
  /** Does `<python> -I -S <start> --check` load the bundle's native parts and snowauth (exit 0)? */
  bundleWorks(python: CommandLine, start: string): Promise<boolean>;
  /** Does this file exist? */
  exists(file: string): Promise<boolean>;
  /** Contents of a small text file, or undefined. */
  readText(file: string): Promise<string | undefined>;
}

export interface ResolveInput {
  /** Raw value of `snowauth.server.command`. */
  command: unknown;
  /** Raw value of `snowauth.server.interpreter`. */
  interpreter: unknown;
  /** The extension's global storage folder (the private venv lives in `<it>/venv`). */
  globalStorage: string;
  platform: NodeJS.Platform;
  /** `process.arch` (the bundle's must match). */
  arch: string;
  /** Workspace trust: an untrusted workspace's own interpreters are never run. */
  trusted: boolean;
  workspaceFolders: readonly string[];
}

/** `Python 3.11.7`, `Python 3.13.0rc1`, `3.12.1`, `Python 3.12.0+` → the version; anything else → undefined. */
export function parsePythonVersion(output: string | undefined): PythonVersion | undefined {
  if (!output) return undefined;
  const m = /(?:^|\s|Python\s+)(\d+)\.(\d+)(?:\.(\d+))?/i.exec(output.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), micro: m[3] === undefined ? 0 : Number(m[3]) };
}

export function isSupportedPython(v: PythonVersion | undefined): v is PythonVersion {
  if (!v) return false;
  return v.major > MIN_PYTHON[0] || (v.major === MIN_PYTHON[0] && v.minor >= MIN_PYTHON[1]);
}

export function formatVersion(v: PythonVersion): string {
  return `${v.major}.${v.minor}.${v.micro}`;
}

/** The Pythons looked for on PATH, newest first. */
export function pythonCandidates(platform: NodeJS.Platform): CommandLine[] {
  if (platform === 'win32') {
    return [['py', '-3.14'], ['py', '-3.13'], ['py', '-3.12'], ['py', '-3.11'], ['python3'], ['python']];
  }
  return [['python3.14'], ['python3.13'], ['python3.12'], ['python3.11'], ['python3'], ['python']];
}

export function venvPythonPath(venvDir: string, platform: NodeJS.Platform): string {
  return platform === 'win32'
    ? path.win32.join(venvDir, 'Scripts', 'python.exe')
    : path.posix.join(venvDir, 'bin', 'python');
}

/** Normalises `snowauth.server.command`: a non-empty array of non-empty strings (a lone string is one word). */
export function commandSetting(value: unknown): string[] | undefined {
  if (typeof value === 'string') return value.trim() ? [value.trim()] : undefined;
  if (!Array.isArray(value)) return undefined;
  const words = value.filter((w): w is string => typeof w === 'string');
  if (words.length === 0 || words.length !== value.length || !words[0]?.trim()) return undefined;
  return words;
}

export function interpreterSetting(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/**
 * A relative path in a setting (`.venv/bin/python`) means the first workspace folder's: the processes no
 * longer run there, so it is made absolute. A bare name (`python3`) is looked up on PATH as before.
 */
export function settingPath(file: string, workspaceFolders: readonly string[], platform: NodeJS.Platform): string {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const folder = workspaceFolders[0];
  const hasSeparator = platform === 'win32' ? /[\\/]/.test(file) : file.includes('/');
  return folder && hasSeparator && !p.isAbsolute(file) ? p.resolve(folder, file) : file;
}

/** The version `<python> --version` reports, or undefined when it could not be run. */
async function checkedVersion(probes: Probes, python: CommandLine): Promise<PythonVersion | undefined> {
  return parsePythonVersion(await probes.pythonVersionOutput(python));
}

export function isInside(file: string, folders: readonly string[], platform: NodeJS.Platform): boolean {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const norm = (s: string): string => (platform === 'win32' ? p.resolve(s).toLowerCase() : p.resolve(s));
  const f = norm(file);
  return folders.some((folder) => {
    const rel = p.relative(norm(folder), f);
    return rel === '' || (!rel.startsWith('..') && !p.isAbsolute(rel));
  });
}

export function noPythonMessage(tried: readonly CommandLine[], found: ReadonlyArray<[CommandLine, PythonVersion]>): string {
  const names = tried.map((c) => c.join(' ')).join(', ');
  const tooOld = found.length
    ? ` Found only ${found.map(([c, v]) => `${c.join(' ')} ${formatVersion(v)}`).join(', ')}.`
    : '';
  return (
    `SnowAuth needs Python ${MIN_PYTHON.join('.')} or newer to run its language server, and none was found on PATH ` +
    `(looked for ${names}).${tooOld} Install Python ${MIN_PYTHON.join('.')}+ or set "snowauth.server.interpreter" ` +
    'to a Python that has snowauth installed.'
  );
}

export const WHEEL_MARKER = 'snowauth-wheel.txt';

/** Resolves the server's command line, or what must be set up first, or the one error to show. */
export async function resolveServer(input: ResolveInput, probes: Probes): Promise<Resolution> {
  // 1. A full command.
  // It is the user's own command line: run as given (not necessarily a Python, so no `-P`), but like every
  // process of the extension outside the workspace and with PYTHONSAFEPATH=1.
  const cmd = commandSetting(input.command);
  if (cmd) {
    const [command, ...args] = cmd as [string, ...string[]];
    return {
      kind: 'launch',
      launch: { command: settingPath(command, input.workspaceFolders, input.platform), args, source: 'setting:command' },
    };
  }

  // 2. An interpreter the user chose: checked, so a wrong one gives one clear message instead of crash loops.
  const setting = interpreterSetting(input.interpreter);
  if (setting) {
    const interp = settingPath(setting, input.workspaceFolders, input.platform);
    const version = await checkedVersion(probes, [interp]);
    if (!version) {
      return { kind: 'error', message: `"snowauth.server.interpreter" is set to ${interp}, which could not be run as Python.` };
    }
    if (!isSupportedPython(version)) {
      return {
        kind: 'error',
        message:
          `"snowauth.server.interpreter" is set to ${interp}, which is Python ${formatVersion(version)}; ` +
          `SnowAuth needs Python ${MIN_PYTHON.join('.')} or newer.`,
      };
    }
    if (!(await probes.canImportSnowauth([interp]))) {
      return {
        kind: 'error',
        message:
          `"snowauth.server.interpreter" is set to ${interp}, which cannot import snowauth. Install SnowAuth's ` +
          'wheel into it (the one the extension bundles, or one built from the repository: see the README), or ' +
          'clear the setting to let SnowAuth manage its own environment.',
      };
    }
    return { kind: 'launch', launch: { command: interp, args: [...SERVER_ARGS], source: 'setting:interpreter' } };
  }

  // 3. The Python extension's interpreter, if snowauth is importable there. In an untrusted workspace an
  //    interpreter inside the workspace (a checked-in venv) is not run. Its version is checked before anything
  //    is imported with it (`-P` needs 3.11+).
  const extPython = await probes.pythonExtensionInterpreter();
  if (extPython && (input.trusted || !isInside(extPython, input.workspaceFolders, input.platform))) {
    if (isSupportedPython(await checkedVersion(probes, [extPython])) && (await probes.canImportSnowauth([extPython]))) {
      return { kind: 'launch', launch: { command: extPython, args: [...SERVER_ARGS], source: 'python-extension' } };
    }
  }

  // 4. The bundle, run by a Python on PATH it has native builds for.
  const versions = new Map<string, PythonVersion | undefined>();
  const versionOf = async (c: CommandLine): Promise<PythonVersion | undefined> => {
    const k = c.join(' ');
    if (!versions.has(k)) versions.set(k, parsePythonVersion(await probes.pythonVersionOutput(c)));
    return versions.get(k);
  };
  const tried = pythonCandidates(input.platform);
  const bundle = await probes.bundle();
  let why = `This is SnowAuth's universal build, without bundled libraries: the language server's dependencies come from PyPI.`;
  if (bundle) {
    const { manifest } = bundle;
    const here = `${input.platform}-${input.arch}`;
    if (manifest.platform !== input.platform || manifest.arch !== input.arch) {
      why = `This SnowAuth build bundles the language server for ${manifest.target}, not ${here}: its dependencies come from PyPI.`;
    } else {
      const seen: string[] = [];
      for (const candidate of tried) {
        const v = await versionOf(candidate);
        if (!v) continue;
        seen.push(`${candidate.join(' ')} ${formatVersion(v)}`);
        if (!manifest.pythons.includes(`${v.major}.${v.minor}`)) continue;
        if (await probes.bundleWorks(candidate, bundle.start)) {
          const [command, ...rest] = candidate as [string, ...string[]];
          return {
            kind: 'launch',
            launch: { command, args: [...rest, ...bundleArgs(bundle.start)], source: 'bundled' },
          };
        }
      }
      why =
        `SnowAuth bundles its language server for Python ${manifest.pythons.join(', ')} on ${manifest.target}, and ` +
        `${seen.length ? `found ${seen.join(', ')}` : 'found no Python on PATH'}: its dependencies come from PyPI.`;
    }
  }

  // 5. The private venv (made by a Python 3.11+ that was checked; `-P` fails closed on an older one).
  const venvDir = path.join(input.globalStorage, 'venv');
  const venvPython = venvPythonPath(venvDir, input.platform);
  const launch: ServerLaunch = { command: venvPython, args: [...SERVER_ARGS], source: 'private-venv' };
  const wheel = await probes.bundledWheel();
  if (await probes.exists(venvPython)) {
    const marker = (await probes.readText(path.join(venvDir, WHEEL_MARKER)))?.trim();
    const upToDate = !wheel || marker === path.basename(wheel);
    if (upToDate && (await probes.canImportSnowauth([venvPython]))) {
      return { kind: 'launch', launch };
    }
  }
  if (!wheel) {
    return {
      kind: 'error',
      message:
        'This build of SnowAuth has no bundled language server. Set "snowauth.server.interpreter" to a Python 3.11+ ' +
        'that has snowauth installed, or "snowauth.server.command" to the full command.',
    };
  }
  const found: Array<[CommandLine, PythonVersion]> = [];
  for (const candidate of tried) {
    const version = await versionOf(candidate);
    if (!version) continue;
    if (!isSupportedPython(version)) {
      found.push([candidate, version]);
      continue;
    }
    return {
      kind: 'bootstrap',
      plan: {
        basePython: candidate,
        basePythonVersion: version,
        venvDir,
        venvPython,
        wheel,
        steps: bootstrapSteps(candidate, venvDir, venvPython, wheel),
        launch,
        why,
      },
    };
  }
  return { kind: 'error', message: noPythonMessage(tried, found) };
}

/** The arguments that run the bundle's launcher (after the Python's own, e.g. `py -3.12`). */
export function bundleArgs(start: string): string[] {
  return [...BUNDLE_FLAGS, start, 'lsp'];
}

/** Creates (or re-creates) the venv and installs the bundled wheel and its dependencies into it. */
export function bootstrapSteps(basePython: CommandLine, venvDir: string, venvPython: string, wheel: string): CommandLine[] {
  return [
    [...basePython, SAFE_PATH, '-m', 'venv', '--clear', venvDir],
    [venvPython, SAFE_PATH, '-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', wheel],
  ];
}
