/**
 * The processes the extension starts: the probes (`--version`, `import snowauth`), the private venv's set-up
 * steps and the language server itself. No `vscode` import: unit-tested, and bundled as is by
 * tests/security/test_attack_extension.py.
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { CommandLine, Probes, ServerLaunch } from './serverCommand';

const PROBE_TIMEOUT_MS = 20_000;

/** Where and with which environment the extension's child processes run. */
export interface ProcessPlace {
  cwd: string | undefined;
  env: NodeJS.ProcessEnv;
}

export interface PlaceInput {
  /** The extension's global storage folder. */
  globalStorage: string;
  workspaceFolders: readonly string[];
  platform: NodeJS.Platform;
}

export function processPlace(input: PlaceInput, baseEnv: NodeJS.ProcessEnv = process.env): Promise<ProcessPlace> {
  return Promise.resolve({ cwd: input.workspaceFolders[0], env: baseEnv });
}

function run(cmd: CommandLine, timeout = PROBE_TIMEOUT_MS): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const [file, ...args] = cmd as [string, ...string[]];
    execFile(file, args, { timeout, windowsHide: true, encoding: 'utf8' }, (error, stdout, stderr) => {
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
export function processProbes(_place: ProcessPlace, options: ProbeOptions): Probes {
  return {
    async pythonVersionOutput(python) {
      const r = await run([...python, '--version']);
      return r.code === 0 ? r.output : undefined;
    },
    async canImportSnowauth(python) {
      const r = await run([...python, '-c', 'import snowauth']);
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

/** Runs one set-up step, streaming its output to `onOutput`; resolves with its exit code. */
export function runStep(
  cmd: CommandLine,
  _place: ProcessPlace,
  onOutput: (text: string) => void,
  signal?: AbortSignal,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = cmd as [string, ...string[]];
    const child = spawn(file, args, { windowsHide: true, env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' } });
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
  options: { cwd?: string; env?: NodeJS.ProcessEnv };
}

export function serverProcess(launch: ServerLaunch, place: ProcessPlace): ServerProcess {
  return { command: launch.command, args: [...launch.args], options: place.cwd ? { cwd: place.cwd } : {} };
}
