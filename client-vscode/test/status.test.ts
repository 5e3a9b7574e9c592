import { describe, expect, it } from 'vitest';
import { formatDuration, formatLocal, statusView, tokenMessage } from '../src/status';

const NOW = new Date('2026-11-28T10:00:00Z');
const at = (iso: string) => ({ name: 'dev', token: { expiresAt: iso, hasRefreshToken: true } });

describe('formatDuration', () => {
  it.each([
    [0, '< 1 min'],
    [59_000, '< 1 min'],
    [60_000, '1 min'],
    [23 * 60_000 + 59_000, '23 min'],
    [59 * 60_000, '59 min'],
    [3_600_000, '1 h'],
    [2 * 3_600_000 + 5 * 60_000, '2 h 5 min'],
    [23 * 3_600_000 + 59 * 60_000, '23 h 59 min'],
    [24 * 3_600_000, '1 d'],
    [3 * 86_400_000 + 4 * 3_600_000 + 30 * 60_000, '3 d 4 h'],
    [100 * 86_400_000, '100 d'],
    [-2 * 3_600_000, '2 h'],
  ])('%d ms -> %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('statusView', () => {
  it('minutes left', () => {
    const v = statusView(at('2026-11-28T10:23:30Z'), NOW, 0);
    expect(v.text).toBe('$(key) SnowAuth dev: 23 min');
    expect(v.tooltip).toContain('expires at 2026-11-28 10:23:30 UTC');
    expect(v.action).toBe('refresh');
    expect(v.warning).toBe(false);
  });

  it('hours and days left', () => {
    expect(statusView(at('2026-11-28T12:30:00Z'), NOW, 0).text).toBe('$(key) SnowAuth dev: 2 h 30 min');
    expect(statusView(at('2027-03-08T09:59:59Z'), NOW, 0).text).toBe('$(key) SnowAuth dev: 99 d 23 h');
  });

  it('expired', () => {
    const v = statusView(at('2026-11-28T08:00:00Z'), NOW, 0);
    expect(v.text).toBe('$(key) SnowAuth dev: expired 2 h ago');
    expect(v.tooltip).toContain('expired at 2026-11-28 08:00:00 UTC');
    expect(v.action).toBe('refresh');
    expect(v.warning).toBe(true);
    expect(statusView(at('2026-11-28T10:00:00Z'), NOW, 0).text).toBe('$(key) SnowAuth dev: expired < 1 min ago');
  });

  it('no token: a click fetches', () => {
    const v = statusView({ name: 'prod', token: null }, NOW);
    expect(v.text).toBe('$(key) SnowAuth prod: no token');
    expect(v.action).toBe('fetch');
  });

  it('a token without expiry', () => {
    const v = statusView({ name: 'dev', token: { expiresAt: null, hasRefreshToken: false } }, NOW);
    expect(v.text).toBe('$(key) SnowAuth dev: token');
    expect(v.tooltip).toContain('No refresh token');
    expect(v.action).toBe('refresh');
  });

  it('the tooltip is in the given zone', () => {
    expect(formatLocal(new Date('2026-11-28T10:29:59Z'), 60)).toBe('2026-11-28 11:29:59 UTC+01:00');
    expect(formatLocal(new Date('2026-11-28T10:29:59Z'), -330)).toBe('2026-11-28 04:59:59 UTC-05:30');
  });
});

describe('tokenMessage', () => {
  it('says when the token expires', () => {
    expect(tokenMessage('dev', '2026-11-28T10:29:59Z', NOW, 0)).toBe('Token for dev expires at 2026-11-28 10:29:59 UTC (in 29 min).');
    expect(tokenMessage('dev', null, NOW, 0)).toBe('Token for dev stored (no expiry given).');
  });
});
