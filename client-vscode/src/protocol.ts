/**
 * The custom messages between this extension and the snowauth language server.
 * Pure types and constants: no `vscode` import, so unit tests can load this module.
 *
 * The twin of the server's `server/snowauth/lsp/ext.py`: the same constant names and values, the same interface
 * names and fields (tests/lsp/test_ext_twin.py reads this file and fails when the two differ). Constants are
 * `export const NAME = '...';` on one line each, interfaces `export interface Name {` with one field a line.
 */

// -- custom requests

/** `snowauth/listConnections` (client -> server): `{uri}` -> `{connections: [...]}`. The server reads files that are not open from disk. */
export const LIST_CONNECTIONS = 'snowauth/listConnections';
/** `snowauth/promptSecret` (server -> client): asked for `${prompt}` values at fetch time. */
export const PROMPT_SECRET = 'snowauth/promptSecret';

// -- client capabilities: capabilities.experimental.snowauth.<name> = true

/** The key under `capabilities.experimental` that holds snowauth's own capabilities. */
export const EXPERIMENTAL = 'snowauth';
/** The client answers `snowauth/promptSecret`. */
export const CAP_PROMPT_SECRET = 'promptSecret';
/** The client shows each command's success itself, so the server sends none (one message per action). */
export const CAP_SUCCESS_MESSAGES = 'successMessages';
/**
 * A failure may come as window/showMessageRequest with a "Show Problem"/"Details" action (a notification with a
 * button here; a client that would ask modally does not declare it).
 */
export const CAP_MESSAGE_ACTIONS = 'messageActions';

// -- the server's `workspace/executeCommand` ids (vscode-languageclient registers them as VS Code commands)

export const FETCH_TOKEN = 'snowauth.fetchToken';
export const REFRESH_TOKEN = 'snowauth.refreshToken';
export const REVOKE_TOKEN = 'snowauth.revokeToken';
export const TEST_CONNECTION = 'snowauth.testConnection';
export const INSERT_TOKEN = 'snowauth.insertToken';
/** Create the connection's Application Registry record on the instance (`CommandTarget` -> `RegisterResult`); asks once for an admin's credentials. */
export const REGISTER_CLIENT = 'snowauth.registerClient';
/** Walk the connection's chain live (`CommandTarget` -> `DiagnoseResult`). */
export const DIAGNOSE_CONNECTION = 'snowauth.diagnoseConnection';

/** The short action names (of code lenses, of the status bar) -> command ids. */
export const ACTIONS = {
  fetch: FETCH_TOKEN,
  refresh: REFRESH_TOKEN,
  revoke: REVOKE_TOKEN,
  test: TEST_CONNECTION,
  insert: INSERT_TOKEN,
} as const;

/**
 * A fresh access token for another tool (`CommandTarget` -> `AccessTokenResult`): no lens or quick fix runs it.
 * The one command whose result carries a secret: the extension registers its own VS Code command under this id
 * (returning the token string, for `${command:snowauth.accessToken}`), and the trace redacts the result.
 */
export const ACCESS_TOKEN = 'snowauth.accessToken';

export const ServerCommands = {
  fetchToken: FETCH_TOKEN,
  refreshToken: REFRESH_TOKEN,
  revokeToken: REVOKE_TOKEN,
  testConnection: TEST_CONNECTION,
  insertToken: INSERT_TOKEN,
  registerClient: REGISTER_CLIENT,
  diagnoseConnection: DIAGNOSE_CONNECTION,
} as const;

export type ServerCommand = (typeof ServerCommands)[keyof typeof ServerCommands];

/** Every server command sends credentials over the network. */
export const NETWORK_COMMANDS: ReadonlySet<string> = new Set(Object.values(ServerCommands));

// -- action titles of the server's window/showMessageRequest questions

/** Before credentials first go to a destination (instance + trust settings): send or not. */
export const HOST_SEND = 'Send';
export const HOST_CANCEL = 'Cancel';
/** A failed command (with CAP_MESSAGE_ACTIONS): go to the diagnostic that explains it, or read the whole message. */
export const SHOW_PROBLEM = 'Show Problem';
export const DETAILS = 'Details';
/** After Register OAuth Client: fetch the first token now, or not. */
export const FETCH_NOW = 'Fetch Token';
export const NOT_NOW = 'Later';

// -- shapes

export interface LspPosition {
  line: number;
  character: number;
}

export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}

export interface ListConnectionsParams {
  uri: string;
}

export interface TokenSummary {
  /** ISO 8601 UTC, or null when the stored token carries no expiry. */
  expiresAt: string | null;
  hasRefreshToken: boolean;
}

export interface ConnectionInfo {
  name: string;
  /** The whole extent of the connection. */
  range: LspRange;
  /** Its header (`[connections.<name>]`, or the first key that introduces it). */
  selectionRange: LspRange;
  /** The connection the file's `default` names. */
  isDefault: boolean;
  token: TokenSummary | null;
}

export interface ListConnectionsResult {
  connections: ConnectionInfo[];
}

export interface PromptSecretParams {
  connection: string;
  key: string;
  title: string;
  /** The connection file the command runs on (absent from older servers: then nothing is remembered). */
  uri?: string;
  /** A one-time answer (a pasted authorization code, an admin's credentials): never remembered, never answered from storage. */
  once?: boolean;
  /** false: the answer is not secret (an admin's user name) and may be shown as typed. */
  password?: boolean;
  /** What to do, shown with the box (e.g. "Paste the code the browser shows"). */
  prompt?: string;
}

export interface PromptSecretResult {
  /** null: the user cancelled. */
  value: string | null;
}

/** The argument of fetch, refresh, revoke and test: the connection by name, else the one at `position`. */
export interface CommandTarget {
  uri: string;
  connection?: string;
  position?: LspPosition;
}

export interface InsertTokenTarget {
  uri: string;
  position: LspPosition;
}

export interface InsertTokenArgs {
  uri: string;
  connection?: string;
  position?: LspPosition;
  target: InsertTokenTarget;
  /** 'raw': the access token alone; 'header': `Authorization: Bearer <token>`. */
  format?: 'raw' | 'header';
}

/** Results of the commands (README.md, client-vscode/README.md). Fetch and refresh: */
export interface TokenResult {
  connection: string;
  token_type: string | null;
  scope: string | null;
  /** TOML's datetime form (UTC), or null when the token carries no expiry. */
  expires_at: string | null;
  /** Refresh only: the instance gave the same access token back, with a later expiry. */
  same_token?: boolean;
}

export interface RevokeResult {
  connection: string;
  revoked: boolean;
}

/** Test: the instance and who the token authenticates as (the fields the instance gave of its current user). */
export interface TestResult {
  connection: string;
  instance: string;
  user_name?: string;
  user_sys_id?: string;
  user_display_name?: string;
  first_name?: string;
  last_name?: string;
  email?: string;
}

/** Register: the record made and where its secret went. */
export interface RegisterResult {
  connection: string;
  client_id: string;
  /** The Application Registry record's sys_id on the instance. */
  sys_id: string;
  /** The `.env` file the client secret was written to (null: a public client, no secret). */
  secret_file: string | null;
  /** Whether the first token was fetched afterwards (the user accepted FETCH_NOW). */
  fetched: boolean;
}

export interface DiagnoseCheck {
  /** A stable id of the link of the chain, e.g. "dns", "tls", "hibernating", "oauth_active". */
  id: string;
  title: string;
  status: 'pass' | 'fail' | 'skipped';
  /** What was found and, for "fail", what to do; for "skipped", why (no secret). */
  message: string;
  /** The connection key the failure implicates (its diagnostic goes there). */
  key?: string;
}

/** Diagnose: the checks in chain order, stopping at the first failure, and the same as a markdown report to show. */
export interface DiagnoseResult {
  connection: string;
  ok: boolean;
  checks: DiagnoseCheck[];
  report: string;
}

export interface InsertResult {
  connection: string;
  inserted: boolean;
}

/** accessToken: an access token with at least 60 s left (reused, refreshed, or fetched). A secret: never log it. */
export interface AccessTokenResult {
  connection: string;
  access_token: string;
  /** The instance's origin, e.g. `https://dev12345.service-now.com`. */
  instance_url: string;
  /** TOML's datetime form (UTC), or null when the token carries no expiry. */
  expires_at: string | null;
}

/** What the extension declares under `capabilities.experimental.snowauth` (see the CAP_* constants). */
export const CLIENT_CAPABILITIES = {
  [CAP_PROMPT_SECRET]: true,
  [CAP_SUCCESS_MESSAGES]: true,
  [CAP_MESSAGE_ACTIONS]: true,
} as const;

export function declareCapabilities(capabilities: { experimental?: unknown }): void {
  const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
  const own = (experimental[EXPERIMENTAL] ?? {}) as Record<string, unknown>;
  experimental[EXPERIMENTAL] = { ...own, ...CLIENT_CAPABILITIES };
  capabilities.experimental = experimental;
}

/** Does `range` contain `pos` (start inclusive, end inclusive so the cursor at the end of the last line counts)? */
export function rangeContains(range: LspRange, pos: LspPosition): boolean {
  const afterStart =
    pos.line > range.start.line || (pos.line === range.start.line && pos.character >= range.start.character);
  const beforeEnd = pos.line < range.end.line || (pos.line === range.end.line && pos.character <= range.end.character);
  return afterStart && beforeEnd;
}

/**
 * The connection the cursor is in. When several ranges contain it (an inline table inside another
 * construct, or touching ranges), the innermost one (latest start) wins.
 */
export function connectionAt(connections: readonly ConnectionInfo[], pos: LspPosition): ConnectionInfo | undefined {
  let best: ConnectionInfo | undefined;
  for (const c of connections) {
    if (!rangeContains(c.range, pos)) continue;
    if (
      !best ||
      c.range.start.line > best.range.start.line ||
      (c.range.start.line === best.range.start.line && c.range.start.character > best.range.start.character)
    ) {
      best = c;
    }
  }
  return best;
}

/** The connection the status bar shows: under the cursor, else the file's default, else its only one. */
export function connectionForStatus(
  connections: readonly ConnectionInfo[],
  pos: LspPosition,
): ConnectionInfo | undefined {
  return (
    connectionAt(connections, pos) ??
    connections.find((c) => c.isDefault) ??
    (connections.length === 1 ? connections[0] : undefined)
  );
}
