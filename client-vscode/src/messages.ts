/** User-facing messages of the commands: pure, unit-tested. */
import { type RevokeResult, ServerCommands, type TestResult, type TokenResult } from './protocol';
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
export function successMessage(command: string, result: unknown, now = new Date(), offsetMinutes?: number): string | undefined {
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
    default:
      return undefined;
  }
}

