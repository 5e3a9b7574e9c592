import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // `vscode` exists only inside the editor: the modules that import it get a stub
    alias: { vscode: fileURLToPath(new URL('./test/vscode.stub.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
