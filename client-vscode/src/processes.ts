/**
 * The processes the extension starts: the probes (`--version`, `import snowauth`), the private venv's set-up
 * steps and the language server itself. No `vscode` import: unit-tested, and bundled as is by
 * tests/security/test_attack_extension.py.
 *
 * None of them runs in the workspace: `python -m`/`-c` put the working directory first on `sys.path`, and a
 * cloned repository's `snowauth/` (or `venv/`, `pip/`) would run instead of the real module. They run in a
 * folder of the extension's own (`<global storage>/run`), with `PYTHONSAFEPATH=1` (Python 3.11+: the same as
 * `-P`, which the Python command lines carry too) in their environment.
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BUNDLE_FLAGS,
  type CommandLine,
  IMPORT_PROBE_ARGS,
  type Probes,
  type ServerLaunch,
  isInside,
  parseBundleManifest,
} from './serverCommand';

const PROBE_TIMEOUT_MS = 20_000;

/** Where and with which environment the extension's child processes run. */
export interface ProcessPlace {
  /** Outside every workspace folder. */
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface PlaceInput {
  /** The extension's global storage folder. */
  globalStorage: string;
  workspaceFolders: readonly string[];
  platform: NodeJS.Platform;
}

export async function processPlace(input: PlaceInput, baseEnv: NodeJS.ProcessEnv = process.env): Promise<ProcessPlace> {
  return { cwd: await workingDirectory(input), env: childEnv(baseEnv) };
}

/** The environment of every child: the extension host's, with `PYTHONSAFEPATH=1`. */
export function childEnv(baseEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...baseEnv, PYTHONSAFEPATH: '1' };
}

/**
 * The language server's environment with the editor's proxy: VS Code's `http.proxy` from the USER settings
 * only (a workspace's `.vscode/settings.json` comes with a cloned repository and must not route credentials
 * through a proxy of its choosing), as `HTTPS_PROXY`, unless the environment already names one (the
 * environment wins, as for every other tool). `http.proxyStrictSSL` is not passed: snowauth verifies TLS to
 * the instance end to end through the proxy whatever it says, and never switches verification off.
 */
export function withEditorProxy(env: NodeJS.ProcessEnv, userProxy: string | undefined): NodeJS.ProcessEnv {
  const proxy = userProxy?.trim();
  if (!proxy || !/^https?:\/\//i.test(proxy)) return env;
  if (env.HTTPS_PROXY?.trim() || env.https_proxy?.trim()) return env;
  return { ...env, HTTPS_PROXY: proxy };
}

/**
 * `<global storage>/run`, an empty folder of the extension's own; when that is inside a workspace folder (the
 * home folder opened as a workspace) or cannot be made, a fresh empty temporary folder.
 */
export async function workingDirectory(input: PlaceInput): Promise<string> {
  const own = path.join(input.globalStorage, 'run');
  if (!isInside(own, input.workspaceFolders, input.platform)) {
    try {
      await fs.mkdir(own, { recursive: true, mode: 0o700 });
      return own;
    } catch {
      // below
    }
  }
  return fs.mkdtemp(path.join(os.tmpdir(), 'snowauth-'));
}

function run(cmd: CommandLine, place: ProcessPlace, timeout = PROBE_TIMEOUT_MS): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const [file, ...args] = cmd as [string, ...string[]];
    const options = { cwd: place.cwd, env: place.env, timeout, windowsHide: true, encoding: 'utf8' } as const;
    execFile(file, args, options, (error, stdout, stderr) => {
      const output = `${stdout ?? ''}${stderr ?? ''}`;
      if (error) {
        const code = typeof error.code === 'number' ? error.code : null;
        resolve({ code: code ?? -1, output });
      } else {
        resolve({ code: 0, output });
      }
    });
  });
}

export interface ProbeOptions {
  /** The folder of the wheels shipped with the extension (`bundled/`). */
  bundledDir: string;
  pythonExtensionInterpreter(): Promise<string | undefined>;
  log(message: string): void;
}

/** The probes of server resolution, as child processes. */
export function processProbes(place: ProcessPlace, options: ProbeOptions): Probes {
  return {
    async pythonVersionOutput(python) {
      // No `-P` here: the version is not known yet, and Python < 3.11 refuses `-P`.
      const r = await run([...python, '--version'], place);
      return r.code === 0 ? r.output : undefined;
    },
    async canImportSnowauth(python) {
      const r = await run([...python, ...IMPORT_PROBE_ARGS], place);
      if (r.code !== 0) options.log(`${python.join(' ')} cannot import snowauth`);
      return r.code === 0;
    },
    pythonExtensionInterpreter: () => options.pythonExtensionInterpreter(),
    async bundledWheel() {
      try {
        const wheels = (await fs.readdir(options.bundledDir)).filter((f) => /^snowauth-.*\.whl$/.test(f)).sort();
        const last = wheels[wheels.length - 1];
        return last ? path.join(options.bundledDir, last) : undefined;
      } catch {
        return undefined;
      }
    },
    async bundle() {
      const manifest = parseBundleManifest(await readSmall(path.join(options.bundledDir, 'bundle.json')));
      const start = path.join(options.bundledDir, 'start.py');
      if (!manifest) return undefined;
      try {
        await fs.access(start);
      } catch {
        return undefined;
      }
      return { manifest, start };
    },
    async bundleWorks(python, start) {
      const r = await run([...python, ...BUNDLE_FLAGS, start, '--check'], place);
      if (r.code !== 0) options.log(`${python.join(' ')} cannot run the bundled language server: ${r.output.trim().split('\n').slice(-1)[0] ?? ''}`);
      return r.code === 0;
    },
    async exists(file) {
      try {
        await fs.access(file);
        return true;
      } catch {
        return false;
      }
    },
    async readText(file) {
      try {
        return await fs.readFile(file, 'utf8');
      } catch {
        return undefined;
      }
    },
  };
}

async function readSmall(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Runs one set-up step, streaming its output to `onOutput`; resolves with its exit code. */
export function runStep(
  cmd: CommandLine,
  place: ProcessPlace,
  onOutput: (text: string) => void,
  signal?: AbortSignal,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = cmd as [string, ...string[]];
    const env = { ...place.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' };
    const child = spawn(file, args, { cwd: place.cwd, env, windowsHide: true });
    const abort = (): void => void child.kill();
    signal?.addEventListener('abort', abort);
    child.stdout.on('data', (d: Buffer) => onOutput(d.toString().trimEnd()));
    child.stderr.on('data', (d: Buffer) => onOutput(d.toString().trimEnd()));
    child.on('error', (e) => {
      signal?.removeEventListener('abort', abort);
      reject(e);
    });
    child.on('close', (code) => {
      signal?.removeEventListener('abort', abort);
      resolve(code ?? -1);
    });
  });
}

/** The language server's process: what vscode-languageclient's `ServerOptions` gets. */
export interface ServerProcess {
  command: string;
  args: string[];
  options: { cwd: string; env: NodeJS.ProcessEnv };
}

/**
 * Always with a `cwd`: without one vscode-languageclient starts the server in the first workspace folder. The
 * environment is complete (it is handed to `child_process.spawn` as is).
 */
export function serverProcess(launch: ServerLaunch, place: ProcessPlace): ServerProcess {
  return { command: launch.command, args: [...launch.args], options: { cwd: place.cwd, env: place.env } };
}
