/**
 * vscode-languageclient 10+ traces only when its trace channel's log level is Trace, and `<id>.trace.server`
 * merely picks messages/verbose. So that the `snowauth.trace.server` setting alone switches tracing on, the
 * client gets this channel: its log level follows the setting (or the real channel's level, when that is
 * Trace), and its trace lines go, with secrets redacted, into the "SnowAuth" output.
 */
import * as vscode from 'vscode';
import { redactTrace } from './redact';

export function createTraceChannel(
  target: vscode.LogOutputChannel,
  knownSecrets: () => Iterable<string> = () => [],
): vscode.LogOutputChannel {
  const emitter = new vscode.EventEmitter<vscode.LogLevel>();
  const level = (): vscode.LogLevel => {
    const setting = vscode.workspace.getConfiguration('snowauth').get<string>('trace.server', 'off');
    return setting !== 'off' || target.logLevel === vscode.LogLevel.Trace ? vscode.LogLevel.Trace : vscode.LogLevel.Info;
  };
  let current = level();
  const update = (): void => {
    const next = level();
    if (next !== current) {
      current = next;
      emitter.fire(next);
    }
  };
  const listeners = [
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('snowauth.trace.server')) update();
    }),
    target.onDidChangeLogLevel(update),
  ];
  const write = (message: string): void => {
    if (current === vscode.LogLevel.Trace) target.info(`[trace] ${redactTrace(message, knownSecrets())}`);
  };
  return {
    name: target.name,
    get logLevel() {
      return current;
    },
    onDidChangeLogLevel: emitter.event,
    trace: write,
    debug: (message: string, ...args: unknown[]) => target.debug(message, ...args),
    info: (message: string, ...args: unknown[]) => target.info(message, ...args),
    warn: (message: string, ...args: unknown[]) => target.warn(message, ...args),
    error: (error: string | Error, ...args: unknown[]) => target.error(error, ...args),
    append: write,
    appendLine: write,
    replace: () => undefined,
    clear: () => undefined,
    show: (...args: unknown[]) => target.show(...(args as [boolean?])),
    hide: () => target.hide(),
    dispose: () => {
      for (const l of listeners) l.dispose();
      emitter.dispose();
    },
  };
}
