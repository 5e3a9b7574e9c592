/**
 * The custom messages between this extension and the snowauth language server.
 * Pure types and constants: no `vscode` import, so unit tests can load this module.
 */

export interface LspPosition {
  line: number;
  character: number;
}

export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}

/** `snowauth/listConnections`: `{uri}` -> `{connections: [...]}`. The server reads files that are not open from disk. */
export const LIST_CONNECTIONS = 'snowauth/listConnections';

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
  isDefault: boolean;
  token: TokenSummary | null;
}

export interface ListConnectionsResult {
  connections: ConnectionInfo[];
}

/**
 * What the extension declares under `capabilities.experimental.snowauth`:
 * - `promptSecret`: it answers `snowauth/promptSecret`;
 * - `successMessages`: it shows each command's success itself, so the server sends none (one message per action);
 * - `messageActions`: a failure may come as window/showMessageRequest with a "Show Problem"/"Details" action
 *   (a notification with a button here; a client that would ask modally does not declare it).
 */
export const CLIENT_CAPABILITIES = { promptSecret: true, successMessages: true, messageActions: true } as const;

export function declareCapabilities(capabilities: { experimental?: unknown }): void {
  const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
  const own = (experimental.snowauth ?? {}) as Record<string, unknown>;
  experimental.snowauth = { ...own, ...CLIENT_CAPABILITIES };
  capabilities.experimental = experimental;
}

/** `snowauth/promptSecret` (server -> client): asked for `${prompt}` values at fetch time. */
export const PROMPT_SECRET = 'snowauth/promptSecret';

export interface PromptSecretParams {
  connection: string;
  key: string;
  title: string;
  /** The connection file the command runs on (absent from older servers: then nothing is remembered). */
  uri?: string;
}

export interface PromptSecretResult {
  value: string | null;
}

/** The server's `workspace/executeCommand` ids (vscode-languageclient registers them as VS Code commands). */
export const ServerCommands = {
  fetchToken: 'snowauth.fetchToken',
  refreshToken: 'snowauth.refreshToken',
  revokeToken: 'snowauth.revokeToken',
  testConnection: 'snowauth.testConnection',
  insertToken: 'snowauth.insertToken',
} as const;

export type ServerCommand = (typeof ServerCommands)[keyof typeof ServerCommands];

/** Every server command sends credentials over the network. */
export const NETWORK_COMMANDS: ReadonlySet<string> = new Set(Object.values(ServerCommands));

export interface CommandTarget {
  uri: string;
  connection?: string;
  position?: LspPosition;
}

export interface InsertTokenArgs {
  uri: string;
  connection: string;
  target: { uri: string; position: LspPosition };
  format: 'raw' | 'header';
}

/** Results of the commands, as the README's command table describes them. Extra keys are allowed. */
export interface TokenResult {
  connection: string;
  token_type?: string;
  scope?: string;
  expires_at?: string | null;
  /** Refresh only: the instance gave the same access token back, with a later expiry. */
  same_token?: boolean;
}

export interface RevokeResult {
  connection: string;
  revoked: boolean;
}

export interface TestResult {
  connection: string;
  user_name?: string;
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
