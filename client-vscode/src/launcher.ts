/** The outside-world side of server resolution: child processes, the Python extension, the private venv. */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  type BootstrapPlan,
  type CommandLine,
  type Probes,
  type Resolution,
  type ServerLaunch,
  WHEEL_MARKER,
  formatVersion,
  resolveServer,
} from './serverCommand';

const PROBE_TIMEOUT_MS = 20_000;

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

async function withTimeout<T>(p: Thenable<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([Promise.resolve(p), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath?(resource?: vscode.Uri): { id: string; path: string } | undefined;
    resolveEnvironment?(env: { id: string; path: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
}

async function pythonExtensionInterpreter(log: vscode.LogOutputChannel): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!ext) return undefined;
  try {
    const api = ext.isActive ? ext.exports : await withTimeout(ext.activate(), 15_000);
    const envs = api?.environments;
    const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
    const active = envs?.getActiveEnvironmentPath?.(resource);
    if (!active) return undefined;
    const resolved = envs?.resolveEnvironment ? await withTimeout(envs.resolveEnvironment(active), 15_000) : undefined;
    return resolved?.executable?.uri?.fsPath ?? active.path;
  } catch (e) {
    log.warn(`Could not ask the Python extension for its interpreter: ${String(e)}`);
    return undefined;
  }
}

export function makeProbes(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): Probes {
  return {
    async pythonVersionOutput(python) {
      const r = await run([...python, '--version']);
      return r.code === 0 ? r.output : undefined;
    },
    async canImportSnowauth(python) {
      const r = await run([...python, '-c', 'import snowauth']);
      if (r.code !== 0) log.info(`${python.join(' ')} cannot import snowauth`);
      return r.code === 0;
    },
    pythonExtensionInterpreter: () => pythonExtensionInterpreter(log),
    async bundledWheel() {
      const dir = context.asAbsolutePath('bundled');
      try {
        const wheels = (await fs.readdir(dir)).filter((f) => /^snowauth-.*\.whl$/.test(f)).sort();
        const last = wheels[wheels.length - 1];
        return last ? path.join(dir, last) : undefined;
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

function runLogged(cmd: CommandLine, log: vscode.LogOutputChannel, token: vscode.CancellationToken): Promise<number> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = cmd as [string, ...string[]];
    log.info(`$ ${cmd.join(' ')}`);
    const child = spawn(file, args, { windowsHide: true, env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' } });
    const cancel = token.onCancellationRequested(() => child.kill());
    child.stdout.on('data', (d: Buffer) => log.info(d.toString().trimEnd()));
    child.stderr.on('data', (d: Buffer) => log.info(d.toString().trimEnd()));
    child.on('error', (e) => {
      cancel.dispose();
      reject(e);
    });
    child.on('close', (code) => {
      cancel.dispose();
      resolve(code ?? -1);
    });
  });
}

/** Runs the plan's steps under a progress notification; returns the launch or throws an Error with a user message. */
export async function bootstrap(plan: BootstrapPlan, log: vscode.LogOutputChannel): Promise<ServerLaunch> {
  return vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: 'SnowAuth',
      cancellable: true,
    },
    async (progress, token) => {
      log.info(
        `Setting up the language server in ${plan.venvDir} with ${plan.basePython.join(' ')} ` +
          `(Python ${formatVersion(plan.basePythonVersion)}) and ${path.basename(plan.wheel)}`,
      );
      const messages = [
        `Creating a Python ${formatVersion(plan.basePythonVersion)} environment for the language server (first run only)…`,
        'Installing the language server and its dependencies…',
      ];
      for (const [i, step] of plan.steps.entries()) {
        progress.report({ message: messages[i] ?? step.join(' ') });
        const code = await runLogged(step, log, token);
        if (token.isCancellationRequested) throw new Error('Setting up the SnowAuth language server was cancelled.');
        if (code !== 0) {
          const hint =
            i === 0
              ? ` Could not create a virtual environment with ${plan.basePython.join(' ')}` +
                ' (on Debian/Ubuntu: apt install python3-venv).'
              : ' Installing the language server failed (it needs access to PyPI for its dependencies).';
          throw new Error(`${hint.trim()} Details are in the SnowAuth output.`);
        }
      }
      await fs.writeFile(path.join(plan.venvDir, WHEEL_MARKER), `${path.basename(plan.wheel)}\n`, 'utf8');
      return plan.launch;
    },
  );
}

export async function resolve(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): Promise<Resolution> {
  const cfg = vscode.workspace.getConfiguration('snowauth');
  return resolveServer(
    {
      command: cfg.get('server.command'),
      interpreter: cfg.get('server.interpreter'),
      globalStorage: context.globalStorageUri.fsPath,
      platform: process.platform,
      trusted: vscode.workspace.isTrusted,
      workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
    },
    makeProbes(context, log),
  );
}
