import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type SettingsSource, SERVER_SETTINGS, changedSettings, initializationOptions, sendSettings } from '../src/settings';

function config(values: Record<string, unknown>): SettingsSource {
  return { get: <T>(key: string, fallback: T): T => (key in values ? (values[key] as T) : fallback) };
}

describe('the settings the server reads', () => {
  it('sends trusted and format.alignValues at start (default false)', () => {
    expect(initializationOptions(true, config({}))).toEqual({ trusted: true, format: { alignValues: false } });
    expect(initializationOptions(false, config({ 'format.alignValues': true }))).toEqual({ trusted: false, format: { alignValues: true } });
    // anything but true is false: the server gets a boolean
    expect(initializationOptions(true, config({ 'format.alignValues': 'yes' })).format.alignValues).toBe(false);
  });

  it('sends workspace/didChangeConfiguration with the snowauth section on change', async () => {
    const sent: Array<[string, unknown]> = [];
    const client = {
      sendNotification: (method: string, params: unknown) => Promise.resolve(void sent.push([method, params])),
    };
    await sendSettings(client, config({ 'format.alignValues': true }));
    await sendSettings(client, config({}));
    await sendSettings(undefined, config({ 'format.alignValues': true }));
    expect(sent).toEqual([
      ['workspace/didChangeConfiguration', { settings: { snowauth: { format: { alignValues: true } } } }],
      ['workspace/didChangeConfiguration', { settings: { snowauth: { format: { alignValues: false } } } }],
    ]);
    expect(changedSettings(config({}))).toEqual({ snowauth: { format: { alignValues: false } } });
  });

  it('watches the format settings, which are in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { type: string; default: unknown }> } };
    };
    expect(SERVER_SETTINGS).toContain('snowauth.format');
    expect(pkg.contributes.configuration.properties['snowauth.format.alignValues']).toMatchObject({ type: 'boolean', default: false });
  });
});
