/**
 * The access token used outside the editor: the Authorization header, the `curl` line of the Copy commands, and
 * the arguments of the `snowauth.accessToken` VS Code command (`${command:snowauth.accessToken}`, or an `inputs`
 * entry of type `command` with `args`). Pure, unit-tested: no `vscode` import.
 */
import { isRecord } from './messages';

/** The Table API request of "Copy as curl": one record of `sys_user`, enough to prove the token works. */
export const CURL_PATH = '/api/now/table/sys_user?sysparm_limit=1';

export function authorizationHeader(token: string): string {
  return `Bearer ${token}`;
}

/** A word for a POSIX shell: single-quoted, a `'` inside written as `'\''` (a token is visible ASCII, `'` included). */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `curl -H 'Authorization: Bearer …' 'https://<instance>/api/now/table/sys_user?sysparm_limit=1'`. */
export function curlLine(instanceUrl: string, token: string): string {
  const base = instanceUrl.replace(/\/+$/, '');
  return `curl -H ${shellQuote(`Authorization: ${authorizationHeader(token)}`)} ${shellQuote(base + CURL_PATH)}`;
}

/** What the `snowauth.accessToken` command was given: a connection file and/or a connection name. */
export interface TokenArgs {
  /** An absolute path (or a `file:` URI) of a `*.snowauth.toml`. */
  file?: string;
  connection?: string;
}

export type ParsedTokenArgs = { kind: 'ok'; args: TokenArgs } | { kind: 'error'; message: string };

/** A workspace folder as `${workspaceFolder}` / `${workspaceFolder:name}` knows it. */
export interface Folder {
  name: string;
  fsPath: string;
}

/**
 * `${workspaceFolder}` and `${workspaceFolder:name}` in a path (VS Code may hand `args` over unresolved), and a
 * relative path taken from the first workspace folder. Undefined: a folder it names does not exist.
 */
export function resolvePath(path: string, folders: readonly Folder[]): string | undefined {
  let unknown = false;
  const out = path.replace(/\$\{workspaceFolder(?::([^}]*))?\}/g, (_whole, name: string | undefined) => {
    const folder = name === undefined ? folders[0] : folders.find((f) => f.name === name);
    if (!folder) unknown = true;
    return folder?.fsPath ?? '';
  });
  if (unknown) return undefined;
  if (out.startsWith('/') || /^[A-Za-z]:[\\/]/.test(out) || out.startsWith('file:')) return out;
  const first = folders[0];
  return first ? `${first.fsPath.replace(/[\\/]+$/, '')}/${out}` : undefined;
}

/**
 * The command's argument. `${command:snowauth.accessToken}` in a task passes none, in launch.json the launch
 * configuration (an object with neither `file` nor `connection`): both mean "the active editor's connection, or
 * a picker". An `inputs` entry passes its `args`: `{ "file": …, "connection": … }`.
 */
export function parseTokenArgs(arg: unknown, folders: readonly Folder[]): ParsedTokenArgs {
  if (!isRecord(arg) || (!('file' in arg) && !('connection' in arg))) return { kind: 'ok', args: {} };
  const { file, connection } = arg;
  if (file !== undefined && typeof file !== 'string') return { kind: 'error', message: '"file" must be a path' };
  if (connection !== undefined && typeof connection !== 'string') {
    return { kind: 'error', message: '"connection" must be a connection name' };
  }
  const args: TokenArgs = {};
  if (connection) args.connection = connection;
  if (file) {
    const path = resolvePath(file, folders);
    if (!path) return { kind: 'error', message: `"file" names a workspace folder that is not open: ${file}` };
    args.file = path;
  }
  return { kind: 'ok', args };
}
