/**
 * The SnowAuth settings the language server reads: sent in `initializationOptions` at start and, when they change,
 * in `workspace/didChangeConfiguration` (the server keeps running). No `vscode` import: unit tests load this module.
 */

/** What this module reads of the configuration (a `vscode.WorkspaceConfiguration` of section `snowauth`). */
export interface SettingsSource {
  get<T>(key: string, defaultValue: T): T;
}

/** `snowauth.format.*`: how the server formats a connection file. */
export interface FormatSettings {
  alignValues: boolean;
}

export interface InitializationOptions {
  trusted: boolean;
  format: FormatSettings;
}

/** The configuration sections whose change the server is told about (it is not restarted for them). */
export const SERVER_SETTINGS = ['snowauth.format'] as const;

export function formatSettings(config: SettingsSource): FormatSettings {
  return { alignValues: config.get<boolean>('format.alignValues', false) === true };
}

/** `initializationOptions` of the `initialize` request. */
export function initializationOptions(trusted: boolean, config: SettingsSource): InitializationOptions {
  return { trusted, format: formatSettings(config) };
}

/** The `settings` of `workspace/didChangeConfiguration`: `{snowauth: {format: {alignValues}}}`. */
export function changedSettings(config: SettingsSource): { snowauth: { format: FormatSettings } } {
  return { snowauth: { format: formatSettings(config) } };
}

/** The little of a language client this module uses. */
export interface NotifyingClient {
  sendNotification(method: string, params: unknown): Promise<void>;
}

/** Tells a running server the settings it reads (`workspace/didChangeConfiguration`). */
export function sendSettings(client: NotifyingClient | undefined, config: SettingsSource): Promise<void> {
  if (!client) return Promise.resolve();
  return client.sendNotification('workspace/didChangeConfiguration', { settings: changedSettings(config) });
}
