/** The extension's own palette / menu commands (`snowauth.ui.*`), and the middleware for the server's own command ids. */
import * as vscode from 'vscode';
import { ExecuteCommandRequest, type Middleware, ResponseError } from 'vscode-languageclient/node';
import { type ConnectionService, LANGUAGE_ID } from './connections';
import {
  ACCESS_TOKEN,
  type AccessTokenResult,
  type CommandTarget,
  type InsertTokenArgs,
  NETWORK_COMMANDS,
  type ServerCommand,
  ServerCommands,
} from './protocol';
import type { ReportDocuments } from './report';
import type { SecretPrompter } from './secrets';
import type { ServerManager } from './server';
import { NEW_CONNECTION_FILE, newConnectionFile } from './newConnectionFile';
import { UNTRUSTED_MESSAGE, isRecord, isWarning, successMessage } from './messages';
import type { StatusBar } from './statusBar';
import { authorizationHeader, curlLine, parseTokenArgs } from './tokenUse';

export interface Services {
  log: vscode.LogOutputChannel;
  server: ServerManager;
  connections: ConnectionService;
  secrets: SecretPrompter;
  status: () => StatusBar | undefined;
  reports: ReportDocuments;
}

function untrusted(): boolean {
  if (vscode.workspace.isTrusted) return false;
  void vscode.window.showWarningMessage(UNTRUSTED_MESSAGE, 'Manage Workspace Trust').then((choice) => {
    if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return true;
}

export function announce(command: string, result: unknown): void {
  const message = successMessage(command, result, undefined, undefined, (p) => vscode.workspace.asRelativePath(p));
  if (message && isWarning(command, result)) void vscode.window.showWarningMessage(message);
  else if (message) void vscode.window.showInformationMessage(message);
  else if (command === ServerCommands.insertToken && result) vscode.window.setStatusBarMessage('$(key) SnowAuth: token inserted', 4000);
}

/** A command's result shown: its message, and for Diagnose Connection its report beside the file. */
async function present(services: Services, command: string, result: unknown, arg: unknown): Promise<void> {
  announce(command, result);
  if (command !== ServerCommands.diagnoseConnection || !isRecord(result) || typeof result.report !== 'string') return;
  const uri = isRecord(arg) && typeof arg.uri === 'string' ? arg.uri : '';
  const connection = typeof result.connection === 'string' ? result.connection : 'connection';
  try {
    await services.reports.show(uri, connection, result.report);
  } catch (e) {
    services.log.warn(`cannot show the report of ${connection}: ${describe(e)}`);
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** RequestFailed: a failure the server showed the user and logged (window/logMessage) itself. */
const REPORTED_FAILURE = -32803;

function logFailure(services: Services, command: string, e: unknown): void {
  // once in the Output channel: the server's line, at warning level; anything else is ours to log
  if (e instanceof ResponseError && e.code === REPORTED_FAILURE) services.log.debug(`${command} failed (reported by the server)`);
  else services.log.warn(`${command} failed: ${describe(e)}`);
}

/** Middleware for the server's command ids (code lenses, and `snowauth.*` run by other extensions). */
export function commandMiddleware(services: Services): Middleware {
  return {
    executeCommand: async (command, args, next) => {
      if (!NETWORK_COMMANDS.has(command)) return (await next(command, args)) as unknown;
      if (untrusted()) return undefined;
      try {
        // sent as the palette's commands send it: through `next`, vscode-languageclient would log a failure the
        // server has already reported (window/showMessage, logged) a second time, as an [error] of its own
        const client = services.server.running;
        const result: unknown = client
          ? await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args as unknown[] })
          : await next(command, args);
        await present(services, command, result, (args as unknown[])[0]);
        return result;
      } catch (e) {
        // The server has shown the error (window/showMessage); keep VS Code from showing a second one.
        logFailure(services, command, e);
        return undefined;
      } finally {
        services.status()?.schedule(200);
      }
    },
  };
}

async function send(services: Services, command: ServerCommand, arg: CommandTarget | InsertTokenArgs): Promise<unknown> {
  const client = services.server.running;
  if (!client) {
    const why = services.server.lastError ? ` ${services.server.lastError}` : '';
    void vscode.window.showErrorMessage(`SnowAuth: the language server is not running.${why}`, 'Show Output').then((c) => {
      if (c) services.log.show();
    });
    return undefined;
  }
  try {
    const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [arg] });
    await present(services, command, result, arg);
    return result;
  } catch (e) {
    logFailure(services, command, e);
    return undefined;
  } finally {
    services.status()?.schedule(200);
  }
}

/** The connection a command acts on: given, under the cursor, or picked. */
async function target(services: Services, title: string, given: unknown): Promise<CommandTarget | undefined> {
  if (isRecord(given) && typeof given.uri === 'string' && typeof given.connection === 'string') {
    return { uri: given.uri, connection: given.connection };
  }
  const editor = vscode.window.activeTextEditor;
  if (editor && editor.document.languageId === LANGUAGE_ID) {
    const outcome = await services.connections.list(editor.document.uri);
    const pos = editor.selection.active;
    if (outcome.kind === 'unsupported') {
      // An older server: it picks the connection from the position (README, Neovim).
      return { uri: editor.document.uri.toString(), position: { line: pos.line, character: pos.character } };
    }
    const here = await services.connections.atCursor(editor);
    if (here) return { uri: editor.document.uri.toString(), connection: here.name };
  }
  const picked = await services.connections.pick(title);
  return picked ? { uri: picked.uri.toString(), connection: picked.connection.name } : undefined;
}

async function insertToken(services: Services): Promise<void> {
  if (untrusted()) return;
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('SnowAuth: open the document to insert the token into, and put the cursor there.');
    return;
  }
  const position = editor.selection.active;
  const targetUri = editor.document.uri.toString();
  // one connection in the workspace: it is the one (the only question left is what to insert)
  const picked = await services.connections.pick('SnowAuth: Insert Token — connection');
  if (!picked) return;
  const format = await vscode.window.showQuickPick(
    [
      { label: 'Raw token', description: 'the access token alone', format: 'raw' as const },
      { label: 'Authorization header', description: 'Authorization: Bearer <token>', format: 'header' as const },
    ],
    { title: `SnowAuth: Insert Token — ${picked.connection.name}`, placeHolder: 'What to insert' },
  );
  if (!format) return;
  const args: InsertTokenArgs = {
    uri: picked.uri.toString(),
    connection: picked.connection.name,
    target: { uri: targetUri, position: { line: position.line, character: position.character } },
    format: format.format,
  };
  await send(services, ServerCommands.insertToken, args);
}

// -- the access token for other tools: the Copy commands and `${command:snowauth.accessToken}`

/** globalState key: the person chose "Don't show again" on the clipboard warning. */
const CLIPBOARD_WARNING_OFF = 'snowauth.clipboardWarning.off';
let clipboardWarned = false;

/** Once per session (never again after "Don't show again", kept in globalState): the token has left the editor. */
function warnClipboard(context: vscode.ExtensionContext): void {
  if (clipboardWarned || context.globalState.get<boolean>(CLIPBOARD_WARNING_OFF)) return;
  clipboardWarned = true;
  const off = "Don't Show Again";
  void vscode.window
    .showWarningMessage(
      'SnowAuth: the token is on the clipboard and has left the editor: other applications and clipboard history can read it until it expires.',
      off,
    )
    .then((choice) => {
      if (choice === off) void context.globalState.update(CLIPBOARD_WARNING_OFF, true);
    });
}

function isTokenResult(v: unknown): v is AccessTokenResult {
  return isRecord(v) && typeof v.access_token === 'string' && typeof v.instance_url === 'string';
}

/** Asks the server for a fresh access token (`snowauth.accessToken`): reused, refreshed, or fetched. */
async function requestToken(services: Services, t: CommandTarget): Promise<AccessTokenResult | undefined> {
  const client = services.server.running;
  if (!client) return undefined;
  try {
    const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, { command: ACCESS_TOKEN, arguments: [t] });
    return isTokenResult(result) ? result : undefined;
  } catch (e) {
    logFailure(services, ACCESS_TOKEN, e);
    return undefined;
  } finally {
    services.status()?.schedule(200);
  }
}

/** The server, started when it is not running yet (a task may run before it is up). */
async function serverReady(services: Services): Promise<boolean> {
  if (!services.server.running) await services.server.start();
  if (services.server.running) return true;
  const why = services.server.lastError ? ` ${services.server.lastError}` : '';
  void vscode.window.showErrorMessage(`SnowAuth: the language server is not running.${why}`);
  return false;
}

/**
 * `snowauth.accessToken` as a VS Code command (`${command:snowauth.accessToken}` in tasks.json and launch.json):
 * the token string. `{file, connection}` (an `inputs` entry's `args`) name the connection; without them, the
 * active editor's connection or a picker. Undefined (the task is not run) when there is none or it failed.
 */
async function accessTokenCommand(services: Services, arg: unknown): Promise<string | undefined> {
  if (untrusted() || !(await serverReady(services))) return undefined;
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => ({ name: f.name, fsPath: f.uri.fsPath }));
  const parsed = parseTokenArgs(arg, folders);
  if (parsed.kind === 'error') {
    void vscode.window.showErrorMessage(`SnowAuth: ${ACCESS_TOKEN}: ${parsed.message}`);
    return undefined;
  }
  const { file, connection } = parsed.args;
  let t: CommandTarget | undefined;
  if (file) {
    const uri = file.startsWith('file:') ? vscode.Uri.parse(file) : vscode.Uri.file(file);
    t = connection ? { uri: uri.toString(), connection } : { uri: uri.toString() };
  } else if (connection) {
    const found = (await services.connections.all()).find((fc) => fc.connection.name === connection);
    if (!found) {
      void vscode.window.showErrorMessage(`SnowAuth: no connection named “${connection}” in the workspace.`);
      return undefined;
    }
    t = { uri: found.uri.toString(), connection };
  } else {
    t = await target(services, 'SnowAuth: Access Token — connection', undefined);
  }
  if (!t) return undefined;
  return (await requestToken(services, t))?.access_token;
}

function registerCopyCommands(context: vscode.ExtensionContext, services: Services): void {
  const copies: Array<[string, string, string, (r: AccessTokenResult) => string]> = [
    ['snowauth.ui.copyAccessToken', 'SnowAuth: Copy Access Token', 'access token', (r) => r.access_token],
    ['snowauth.ui.copyAuthorizationHeader', 'SnowAuth: Copy Authorization Header', 'Authorization header', (r) => authorizationHeader(r.access_token)],
    ['snowauth.ui.copyAsCurl', 'SnowAuth: Copy as curl', 'curl command', (r) => curlLine(r.instance_url, r.access_token)],
  ];
  for (const [id, title, what, render] of copies) {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (arg?: unknown) => {
        if (untrusted() || !(await serverReady(services))) return;
        const t = await target(services, title, arg);
        const result = t ? await requestToken(services, t) : undefined;
        if (!result) return;
        await vscode.env.clipboard.writeText(render(result));
        vscode.window.setStatusBarMessage(`$(key) SnowAuth: ${what} of ${result.connection} copied`, 4000);
        warnClipboard(context);
      }),
    );
  }
  context.subscriptions.push(
    vscode.commands.registerCommand(ACCESS_TOKEN, (arg?: unknown) => accessTokenCommand(services, arg)),
  );
}

export function registerCommands(context: vscode.ExtensionContext, services: Services): void {
  registerCopyCommands(context, services);
  const network: Array<[string, ServerCommand, string]> = [
    ['snowauth.ui.fetchToken', ServerCommands.fetchToken, 'SnowAuth: Fetch Token'],
    ['snowauth.ui.refreshToken', ServerCommands.refreshToken, 'SnowAuth: Refresh Token'],
    ['snowauth.ui.revokeToken', ServerCommands.revokeToken, 'SnowAuth: Revoke Token'],
    ['snowauth.ui.testConnection', ServerCommands.testConnection, 'SnowAuth: Test Connection'],
    ['snowauth.ui.registerClient', ServerCommands.registerClient, 'SnowAuth: Register OAuth Client'],
    ['snowauth.ui.diagnoseConnection', ServerCommands.diagnoseConnection, 'SnowAuth: Diagnose Connection'],
  ];
  for (const [id, serverCommand, title] of network) {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (arg?: unknown) => {
        if (untrusted()) return undefined;
        const t = await target(services, title, arg);
        return t ? send(services, serverCommand, t) : undefined;
      }),
    );
  }
  context.subscriptions.push(
    vscode.commands.registerCommand('snowauth.ui.insertToken', () => insertToken(services)),
    // a client command: it writes a file and runs nothing, so it works in an untrusted workspace too
    vscode.commands.registerCommand(NEW_CONNECTION_FILE, (arg?: unknown) => newConnectionFile(arg)),
    vscode.commands.registerCommand('snowauth.showOutput', () => services.log.show()),
    vscode.commands.registerCommand('snowauth.restartServer', async () => {
      services.connections.resetSupport();
      await services.server.restart();
      services.status()?.schedule(0);
    }),
    vscode.commands.registerCommand('snowauth.forgetSecrets', async () => {
      const n = await services.secrets.forgetAll();
      void vscode.window.showInformationMessage(
        n ? `SnowAuth forgot ${n} remembered secret${n === 1 ? '' : 's'}.` : 'SnowAuth had no remembered secrets.',
      );
    }),
  );
}
