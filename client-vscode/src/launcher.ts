/** The outside-world side of server resolution: settings, the Python extension, the set-up's progress. */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type ProcessPlace, processPlace, processProbes, runStep } from './processes';
import {
  type BootstrapPlan,
  type Probes,
  type Resolution,
  type ServerLaunch,
  WHEEL_MARKER,
  formatVersion,
  resolveServer,
} from './serverCommand';

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

export function makeProbes(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, place: ProcessPlace): Probes {
  return processProbes(place, {
    bundledDir: context.asAbsolutePath('bundled'),
    pythonExtensionInterpreter: () => pythonExtensionInterpreter(log),
    log: (m) => log.info(m),
  });
}

function runLogged(
  cmd: readonly string[],
  place: ProcessPlace,
  log: vscode.LogOutputChannel,
  token: vscode.CancellationToken,
): Promise<number> {
  log.info(`$ ${cmd.join(' ')}`);
  const abort = new AbortController();
  const cancel = token.onCancellationRequested(() => abort.abort());
  return runStep(cmd, place, (text) => log.info(text), abort.signal).finally(() => {
    cancel.dispose();
  });
}

/** Runs the plan's steps under a progress notification; returns the launch or throws an Error with a user message. */
export async function bootstrap(plan: BootstrapPlan, log: vscode.LogOutputChannel, place: ProcessPlace): Promise<ServerLaunch> {
  return vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: 'SnowAuth',
      cancellable: true,
    },
    async (progress, token) => {
      log.info(plan.why);
      log.info(
        `Setting up the language server in ${plan.venvDir} with ${plan.basePython.join(' ')} ` +
          `(Python ${formatVersion(plan.basePythonVersion)}) and ${path.basename(plan.wheel)}`,
      );
      const messages = [
        `Creating a Python ${formatVersion(plan.basePythonVersion)} environment for the language server (first run only)…`,
        'Installing the language server and its dependencies from PyPI…',
      ];
      for (const [i, step] of plan.steps.entries()) {
        progress.report({ message: messages[i] ?? step.join(' ') });
        const code = await runLogged(step, place, log, token);
        if (token.isCancellationRequested) throw new Error('Setting up the SnowAuth language server was cancelled.');
        if (code !== 0) {
          const hint =
            i === 0
              ? ` Could not create a virtual environment with ${plan.basePython.join(' ')}` +
                ' (on Debian/Ubuntu: apt install python3-venv).'
              : ` Installing the language server failed: its dependencies come from PyPI, which may be out of reach. ${plan.why}` +
                ' Install the SnowAuth build for this platform, or a Python it bundles, or set "snowauth.server.interpreter".';
          throw new Error(`${hint.trim()} Details are in the SnowAuth output.`);
        }
      }
      await fs.writeFile(path.join(plan.venvDir, WHEEL_MARKER), `${path.basename(plan.wheel)}\n`, 'utf8');
      return plan.launch;
    },
  );
}

function workspaceFolders(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
}

/** Where the probes, the set-up steps and the server run. */
export function launchPlace(context: vscode.ExtensionContext): Promise<ProcessPlace> {
  return processPlace({
    globalStorage: context.globalStorageUri.fsPath,
    workspaceFolders: workspaceFolders(),
    platform: process.platform,
  });
}

export async function resolve(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  place: ProcessPlace,
): Promise<Resolution> {
  const cfg = vscode.workspace.getConfiguration('snowauth');
  return resolveServer(
    {
      command: cfg.get('server.command'),
      interpreter: cfg.get('server.interpreter'),
      globalStorage: context.globalStorageUri.fsPath,
      platform: process.platform,
      arch: process.arch,
      trusted: vscode.workspace.isTrusted,
      workspaceFolders: workspaceFolders(),
    },
    makeProbes(context, log, place),
  );
}
