/**
 * The little of the `vscode` API that modules under test touch when they are loaded or run without an editor
 * (vitest.config.ts aliases `vscode` to this file). Tests replace what they need.
 */
export class ThemeIcon {
  constructor(readonly id: string) {}
}

export const window: { activeTextEditor: unknown; createInputBox: () => never } = {
  activeTextEditor: undefined,
  createInputBox: () => {
    throw new Error('the test did not expect an input box');
  },
};
