/** User-facing messages of the commands: pure, unit-tested. */
import {
  type DiagnoseResult,
  type RegisterResult,
  type RevokeResult,
  ServerCommands,
  type TestResult,
  type TokenResult,
} from './protocol';
import { tokenMessage } from './status';

export const UNTRUSTED_MESSAGE =
  'SnowAuth does not send credentials from an untrusted workspace. Trust the workspace to fetch tokens.';

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * The success message of a command. The extension shows it, and tells the server so
 * (`experimental.snowauth.successMessages`): the server sends no message of its own for a success.
 * Failures are the server's to show (window/showMessage, or window/showMessageRequest with an action).
 */
export function successMessage(
  command: string,
  result: unknown,
  now = new Date(),
  offsetMinutes?: number,
  /** How a file path is shown (the extension: relative to the workspace). */
  showPath: (path: string) => string = (p) => p,
): string | undefined {
  if (!isRecord(result)) return undefined;
  const connection = typeof result.connection === 'string' ? result.connection : 'the connection';
  switch (command) {
    case ServerCommands.fetchToken:
      return tokenMessage(connection, (result as Partial<TokenResult>).expires_at ?? null, now, offsetMinutes);
    case ServerCommands.refreshToken: {
      // ServiceNow gives the same access token back within its lifetime, with a later expiry
      const r = result as Partial<TokenResult>;
      const message = tokenMessage(connection, r.expires_at ?? null, now, offsetMinutes);
      return r.same_token ? `${message.replace(/\.$/, '')}: the same token, its expiry extended.` : message;
    }
    case ServerCommands.revokeToken:
      return (result as Partial<RevokeResult>).revoked === false
        ? `Token for ${connection} was not revoked.`
        : `Token for ${connection} revoked.`;
    case ServerCommands.testConnection: {
      const user = (result as Partial<TestResult>).user_name;
      return user ? `Authenticated as ${user} (connection ${connection}).` : `Connection ${connection} works.`;
    }
    case ServerCommands.registerClient:
      return registerMessage(connection, result, showPath);
    case ServerCommands.diagnoseConnection:
      return diagnoseMessage(connection, result);
    default:
      return undefined;
  }
}

/** Register OAuth Client: where the client_id and the secret went (never the secret), and whether a token came. */
function registerMessage(connection: string, r: Partial<RegisterResult>, showPath: (path: string) => string): string {
  const secret = typeof r.secret_file === 'string' && r.secret_file ? `secret in ${showPath(r.secret_file)}` : 'no secret (a public client)';
  return `Registered ${connection}: client_id written, ${secret}.${r.fetched ? ' Token fetched.' : ''}`;
}

/** Diagnose Connection: all good, or the first check that failed (the report says the rest). */
function diagnoseMessage(connection: string, r: Partial<DiagnoseResult>): string {
  const failed = Array.isArray(r.checks) ? r.checks.find((c) => isRecord(c) && c.status === 'fail') : undefined;
  if (r.ok === true || (r.ok === undefined && !failed)) return `Diagnose ${connection}: all good.`;
  if (!failed) return `Diagnose ${connection}: a check failed (see the report).`;
  // a notification shows no markdown: the backticks of the check's message go
  const message = typeof failed.message === 'string' ? failed.message.replace(/`/g, '') : '';
  return `Diagnose ${connection}: ${failed.title} failed${message ? ` — ${message}` : '.'}`;
}

/** Diagnose Connection reports a failed check as a warning, all good as information. */
export function isWarning(command: string, result: unknown): boolean {
  return command === ServerCommands.diagnoseConnection && isRecord(result) && result.ok === false;
}

