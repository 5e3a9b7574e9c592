import { describe, expect, it } from 'vitest';
import { UNTRUSTED_MESSAGE, successMessage } from '../src/messages';

const NOW = new Date('2026-11-28T10:00:00Z');

describe('successMessage', () => {
  it('fetch and refresh name the expiry', () => {
    const r = { connection: 'dev', token_type: 'Bearer', scope: 'useraccount', expires_at: '2026-11-28T10:29:59Z' };
    expect(successMessage('snowauth.fetchToken', r, NOW, 0)).toBe('Token for dev expires at 2026-11-28 10:29:59 UTC (in 29 min).');
    expect(successMessage('snowauth.refreshToken', r, NOW, 0)).toContain('Token for dev expires at');
  });
  it('a refresh that got the same token back says its expiry was extended', () => {
    const r = { connection: 'dev', expires_at: '2026-11-28T10:42:00Z', same_token: true };
    expect(successMessage('snowauth.refreshToken', r, NOW, 0)).toBe(
      'Token for dev expires at 2026-11-28 10:42:00 UTC (in 42 min): the same token, its expiry extended.',
    );
    expect(successMessage('snowauth.refreshToken', { ...r, same_token: false }, NOW, 0)).toBe(
      'Token for dev expires at 2026-11-28 10:42:00 UTC (in 42 min).',
    );
  });
  it('revoke and test', () => {
    expect(successMessage('snowauth.revokeToken', { connection: 'dev', revoked: true })).toBe('Token for dev revoked.');
    expect(successMessage('snowauth.testConnection', { connection: 'dev', user_name: 'integration.user' })).toBe(
      'Authenticated as integration.user (connection dev).',
    );
  });
  it('nothing for insert, unknown commands or empty results', () => {
    expect(successMessage('snowauth.insertToken', { connection: 'dev', inserted: true })).toBeUndefined();
    expect(successMessage('snowauth.fetchToken', null)).toBeUndefined();
    expect(successMessage('other', { connection: 'dev' })).toBeUndefined();
  });
  it('the untrusted-workspace message', () => {
    expect(UNTRUSTED_MESSAGE).toBe('SnowAuth does not send credentials from an untrusted workspace. Trust the workspace to fetch tokens.');
  });
});
