import { describe, expect, it } from 'vitest';
import { UNTRUSTED_MESSAGE, isWarning, successMessage } from '../src/messages';

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

describe('Register OAuth Client and Diagnose Connection', () => {
  const registered = { connection: 'dev', client_id: 'c0ffee', sys_id: '5a1e', secret_file: '/ws/.env', fetched: false };

  it('register names where the secret went, never the secret, and whether a token was fetched', () => {
    expect(successMessage('snowauth.registerClient', registered)).toBe('Registered dev: client_id written, secret in /ws/.env.');
    expect(successMessage('snowauth.registerClient', registered, NOW, 0, (p) => p.replace('/ws/', ''))).toBe(
      'Registered dev: client_id written, secret in .env.',
    );
    expect(successMessage('snowauth.registerClient', { ...registered, fetched: true })).toBe(
      'Registered dev: client_id written, secret in /ws/.env. Token fetched.',
    );
    expect(successMessage('snowauth.registerClient', { ...registered, secret_file: null })).toBe(
      'Registered dev: client_id written, no secret (a public client).',
    );
  });

  const pass = { id: 'dns', title: 'DNS', status: 'pass', message: 'dev12345.service-now.com resolves' };
  const fail = { id: 'oauth_active', title: 'OAuth is active', status: 'fail', message: 'Set `com.snc.platform.security.oauth.is.active` to true.' };
  const skipped = { id: 'token', title: 'Token', status: 'skipped', message: 'an earlier check failed' };

  it('diagnose: all good, as information', () => {
    const r = { connection: 'dev', ok: true, checks: [pass], report: '# dev\n\nAll good.' };
    expect(successMessage('snowauth.diagnoseConnection', r)).toBe('Diagnose dev: all good.');
    expect(isWarning('snowauth.diagnoseConnection', r)).toBe(false);
  });

  it('diagnose: the first failed check and what to do, without markdown, as a warning', () => {
    const r = { connection: 'dev', ok: false, checks: [pass, fail, skipped], report: '…' };
    expect(successMessage('snowauth.diagnoseConnection', r)).toBe(
      'Diagnose dev: OAuth is active failed — Set com.snc.platform.security.oauth.is.active to true.',
    );
    expect(isWarning('snowauth.diagnoseConnection', r)).toBe(true);
    expect(isWarning('snowauth.testConnection', r)).toBe(false);
  });

  it('diagnose: not ok without a failed check points at the report', () => {
    expect(successMessage('snowauth.diagnoseConnection', { connection: 'dev', ok: false, checks: [], report: '' })).toBe(
      'Diagnose dev: a check failed (see the report).',
    );
  });
});
