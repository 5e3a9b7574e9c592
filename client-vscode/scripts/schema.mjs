// npm run schema: writes schema/snowauth.schema.json from `python -m snowauth schema` (the server's model is
// the single source of truth). The file is only replaced when the command succeeds and prints JSON, and it is
// written byte for byte as the command printed it (re-serialising would turn its `\u2026` escapes into `…`).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extensionDir, findPython, repoDir } from './python.mjs';

const python = findPython();
const r = spawnSync(python, ['-m', 'snowauth', 'schema'], { cwd: repoDir, encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(repoDir, 'server') } });
if (r.status !== 0) {
  console.error(`"${python} -m snowauth schema" failed (exit ${r.status}); schema/snowauth.schema.json left as it was.`);
  console.error((r.stderr || r.error?.message || '').trim());
  process.exit(1);
}
try {
  JSON.parse(r.stdout);
} catch (e) {
  console.error(`"${python} -m snowauth schema" did not print JSON: ${e.message}`);
  process.exit(1);
}
mkdirSync(join(extensionDir, 'schema'), { recursive: true });
writeFileSync(join(extensionDir, 'schema', 'snowauth.schema.json'), r.stdout);
console.log('wrote schema/snowauth.schema.json');
