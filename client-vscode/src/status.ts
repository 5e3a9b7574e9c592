/**
 * Status bar text for the connection under the cursor: pure, unit-tested.
 *   "$(key) SnowAuth dev: 23 min"   "$(key) SnowAuth dev: expired 2 h ago"   "$(key) SnowAuth dev: no token"
 */
import type { ACTIONS, ConnectionInfo } from './protocol';

/** The action a click runs (through the extension's own `snowauth.ui.*` command of that action). */
export type StatusAction = Extract<keyof typeof ACTIONS, 'fetch' | 'refresh'>;

export interface StatusView {
  text: string;
  tooltip: string;
  /** What a click does: fetch when there is no token, refresh otherwise. */
  action: StatusAction;
  /** An expired token is shown with the warning colour. */
  warning: boolean;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A duration for people: "< 1 min", "23 min", "2 h", "2 h 5 min", "3 d", "3 d 4 h". */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < MINUTE) return '< 1 min';
  if (abs < HOUR) return `${Math.floor(abs / MINUTE)} min`;
  if (abs < DAY) {
    const h = Math.floor(abs / HOUR);
    const m = Math.floor((abs % HOUR) / MINUTE);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  const d = Math.floor(abs / DAY);
  const h = Math.floor((abs % DAY) / HOUR);
  return h ? `${d} d ${h} h` : `${d} d`;
}

/** `2026-11-28 10:29:59` in the given offset (minutes east of UTC; default: the machine's zone). */
export function formatLocal(date: Date, offsetMinutes = -date.getTimezoneOffset()): string {
  const shifted = new Date(date.getTime() + offsetMinutes * MINUTE);
  const iso = shifted.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ, already shifted
  const sign = offsetMinutes >= 0 ? '+' : '-';
  const off = Math.abs(offsetMinutes);
  const zone = off === 0 ? 'UTC' : `UTC${sign}${String(Math.floor(off / 60)).padStart(2, '0')}:${String(off % 60).padStart(2, '0')}`;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} ${zone}`;
}

export function parseExpiry(expiresAt: string | null | undefined): Date | undefined {
  if (!expiresAt) return undefined;
  const t = Date.parse(expiresAt);
  return Number.isNaN(t) ? undefined : new Date(t);
}

export function statusView(conn: Pick<ConnectionInfo, 'name' | 'token'>, now: Date, offsetMinutes?: number): StatusView {
  const prefix = `$(key) SnowAuth ${conn.name}`;
  const token = conn.token;
  if (!token) {
    return {
      text: `${prefix}: no token`,
      tooltip: `SnowAuth connection "${conn.name}" has no stored token.\nClick to fetch one.`,
      action: 'fetch',
      warning: false,
    };
  }
  const refreshLine = token.hasRefreshToken ? 'A refresh token is stored.' : 'No refresh token is stored.';
  const expiry = parseExpiry(token.expiresAt);
  if (!expiry) {
    return {
      text: `${prefix}: token`,
      tooltip: `SnowAuth connection "${conn.name}": the stored token has no expiry time.\n${refreshLine}\nClick to refresh it.`,
      action: 'refresh',
      warning: false,
    };
  }
  const left = expiry.getTime() - now.getTime();
  const when = formatLocal(expiry, offsetMinutes);
  if (left <= 0) {
    return {
      text: `${prefix}: expired ${formatDuration(left)} ago`,
      tooltip: `SnowAuth connection "${conn.name}": the access token expired at ${when}.\n${refreshLine}\nClick to refresh it.`,
      action: 'refresh',
      warning: true,
    };
  }
  return {
    text: `${prefix}: ${formatDuration(left)}`,
    tooltip: `SnowAuth connection "${conn.name}": the access token expires at ${when} (in ${formatDuration(left)}).\n${refreshLine}\nClick to refresh it.`,
    action: 'refresh',
    warning: false,
  };
}

/** The notification after a fetch or refresh: "Token for dev expires at 2026-11-28 10:29:59 UTC (in 29 min)." */
export function tokenMessage(connection: string, expiresAt: string | null | undefined, now: Date, offsetMinutes?: number): string {
  const expiry = parseExpiry(expiresAt);
  if (!expiry) return `Token for ${connection} stored (no expiry given).`;
  const left = expiry.getTime() - now.getTime();
  const rel = left > 0 ? `in ${formatDuration(left)}` : `${formatDuration(left)} ago`;
  return `Token for ${connection} expires at ${formatLocal(expiry, offsetMinutes)} (${rel}).`;
}
