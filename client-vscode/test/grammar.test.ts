import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';

const root = join(__dirname, '..');
let grammar: vsctm.IGrammar;

beforeAll(async () => {
  const wasm = readFileSync(join(root, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (p: string[]) => new oniguruma.OnigScanner(p),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: (scope: string) =>
      Promise.resolve(
        scope === 'source.toml.snowauth'
          ? vsctm.parseRawGrammar(readFileSync(join(root, 'syntaxes', 'snowauth-toml.tmLanguage.json'), 'utf8'), 'g.json')
          : null,
      ),
  });
  const g = await registry.loadGrammar('source.toml.snowauth');
  if (!g) throw new Error('grammar did not load');
  grammar = g;
});

/** Tokenises `text` and returns [token text, its innermost-but-meaningful scopes joined] pairs, blank tokens dropped. */
function tokens(text: string): Array<[string, string]> {
  let state = vsctm.INITIAL;
  const out: Array<[string, string]> = [];
  for (const line of text.split('\n')) {
    const r = grammar.tokenizeLine(line, state);
    for (const t of r.tokens) {
      const s = line.slice(t.startIndex, t.endIndex);
      if (s.trim()) out.push([s.trim(), t.scopes.slice(1).join(' ')]);
    }
    state = r.ruleStack;
  }
  return out;
}

function scopeOf(text: string, piece: string, nth = 0): string {
  const found = tokens(text).filter(([s]) => s === piece);
  const hit = found[nth];
  if (!hit) throw new Error(`no token ${JSON.stringify(piece)} in ${JSON.stringify(tokens(text))}`);
  return hit[1];
}

describe('TextMate grammar', () => {
  it('table headers and array-of-tables headers, with dotted and quoted keys', () => {
    const t = '[connections.dev]\n[[ servers."eu west".hosts ]]';
    expect(scopeOf(t, 'connections')).toContain('entity.name.tag.table.toml');
    expect(scopeOf(t, '.')).toContain('punctuation.separator.dot.toml');
    expect(scopeOf(t, 'dev')).toContain('entity.name.tag.table.toml');
    expect(scopeOf(t, '[[')).toContain('punctuation.definition.table.array.begin.toml');
    expect(scopeOf(t, '"eu west"')).toContain('entity.name.tag.table.array.toml');
    expect(scopeOf(t, 'hosts')).toContain('meta.table.array.toml');
  });

  it('bare, quoted and dotted keys', () => {
    const t = 'client_id = "x"\n"quoted key" = 1\nconnections.dev.instance = "acme"\n\'lit\'.b-c = true';
    expect(scopeOf(t, 'client_id')).toBe('support.type.property-name.toml');
    expect(scopeOf(t, '"quoted key"')).toContain('support.type.property-name.toml');
    expect(scopeOf(t, 'instance')).toBe('support.type.property-name.toml');
    expect(scopeOf(t, "'lit'")).toContain('support.type.property-name.toml');
    expect(scopeOf(t, 'b-c')).toBe('support.type.property-name.toml');
    expect(scopeOf(t, '=')).toBe('punctuation.separator.key-value.toml');
  });

  it('all four kinds of strings, with escapes', () => {
    const t = [
      'a = "tab\\there \\u00e9 \\U0001F600 bad\\q"',
      "b = 'C:\\path\\no-escape'",
      'c = """',
      'multi \\',
      '  line \\n"""',
      "d = '''",
      "raw 'lines'",
      "'''",
      'e = 1',
    ].join('\n');
    expect(scopeOf(t, '\\t')).toContain('constant.character.escape.toml');
    expect(scopeOf(t, '\\u00e9')).toContain('constant.character.escape.toml');
    expect(scopeOf(t, '\\U0001F600')).toContain('constant.character.escape.toml');
    expect(scopeOf(t, '\\q')).toContain('invalid.illegal.escape.toml');
    expect(scopeOf(t, "C:\\path\\no-escape")).toBe('string.quoted.single.literal.toml');
    expect(scopeOf(t, 'multi')).toBe('string.quoted.triple.basic.block.toml');
    expect(scopeOf(t, '\\n')).toContain('string.quoted.triple.basic.block.toml constant.character.escape.toml');
    expect(scopeOf(t, "raw 'lines'")).toBe('string.quoted.triple.literal.block.toml');
    expect(scopeOf(t, 'e')).toBe('support.type.property-name.toml'); // back to normal after the block strings
  });

  it('numbers of every form', () => {
    const t = 'a = [0xDEAD_beef, 0o755, 0b1101_0011, 1_000, -17, +3, 3.14, 6.02e23, 1e-7, -0.5E+3, inf, -inf, nan, +nan]';
    expect(scopeOf(t, '0xDEAD_beef')).toContain('constant.numeric.integer.hex.toml');
    expect(scopeOf(t, '0o755')).toContain('constant.numeric.integer.oct.toml');
    expect(scopeOf(t, '0b1101_0011')).toContain('constant.numeric.integer.bin.toml');
    expect(scopeOf(t, '1_000')).toContain('constant.numeric.integer.toml');
    expect(scopeOf(t, '-17')).toContain('constant.numeric.integer.toml');
    expect(scopeOf(t, '+3')).toContain('constant.numeric.integer.toml');
    for (const f of ['3.14', '6.02e23', '1e-7', '-0.5E+3']) expect(scopeOf(t, f)).toContain('constant.numeric.float.toml');
    expect(scopeOf(t, '-inf')).toContain('constant.numeric.float.inf.toml');
    expect(scopeOf(t, '+nan')).toContain('constant.numeric.float.nan.toml');
    expect(scopeOf(t, ',')).toContain('punctuation.separator.array.toml');
  });

  it('date-times and booleans', () => {
    const t = [
      'expires_at = 2026-11-28T10:29:59Z',
      'b = 1979-05-27T00:32:00.999999-07:00',
      'c = 1979-05-27 07:32:00',
      'd = 1979-05-27',
      'e = 07:32:00.5',
      'pkce = true',
      'x = false',
    ].join('\n');
    expect(scopeOf(t, '2026-11-28T10:29:59Z')).toContain('constant.other.time.datetime.offset.toml');
    expect(scopeOf(t, '1979-05-27T00:32:00.999999-07:00')).toContain('constant.other.time.datetime.offset.toml');
    expect(scopeOf(t, '1979-05-27 07:32:00')).toContain('constant.other.time.datetime.local.toml');
    expect(scopeOf(t, '1979-05-27')).toContain('constant.other.time.date.toml');
    expect(scopeOf(t, '07:32:00.5')).toContain('constant.other.time.time.toml');
    expect(scopeOf(t, 'true')).toContain('constant.language.boolean.toml');
    expect(scopeOf(t, 'false')).toContain('constant.language.boolean.toml');
  });

  it('comments, arrays across lines, and inline tables', () => {
    const t = [
      '# a comment',
      'scopes = [ # why',
      '  "a",',
      '  [1, 2],',
      ']',
      'token = { access_token = "x", expires_at = 2026-11-28T10:29:59Z }',
      'k = 1 # trailing',
    ].join('\n');
    expect(scopeOf(t, 'a comment')).toBe('comment.line.number-sign.toml');
    expect(scopeOf(t, 'why')).toContain('meta.array.toml comment.line.number-sign.toml');
    expect(scopeOf(t, '1')).toContain('meta.array.toml meta.array.toml constant.numeric.integer.toml');
    expect(scopeOf(t, 'access_token')).toContain('meta.table.inline.toml support.type.property-name.toml');
    expect(scopeOf(t, '2026-11-28T10:29:59Z')).toContain('meta.table.inline.toml constant.other.time.datetime.offset.toml');
    expect(scopeOf(t, 'k')).toBe('support.type.property-name.toml');
    expect(scopeOf(t, 'trailing')).toBe('comment.line.number-sign.toml');
  });

  it('highlights ${env:NAME}, ${file:…} and ${prompt} inside strings', () => {
    const t = [
      'client_secret = "${env:SNOW_CLIENT_SECRET}"',
      "password = 'pre-${file:secrets/pw.txt}'",
      'x = """${prompt}"""',
      'plain = "$ {env:NOPE}"',
    ].join('\n');
    expect(scopeOf(t, '${')).toContain('string.quoted.double.basic.toml meta.embedded.reference.env.snowauth punctuation.definition.template-expression.begin.snowauth');
    expect(scopeOf(t, 'env')).toContain('keyword.other.reference.env.snowauth');
    expect(scopeOf(t, 'SNOW_CLIENT_SECRET')).toContain('variable.other.constant.env.snowauth');
    expect(scopeOf(t, 'file')).toContain('string.quoted.single.literal.toml meta.embedded.reference.file.snowauth');
    expect(scopeOf(t, 'secrets/pw.txt')).toContain('variable.other.path.snowauth');
    expect(scopeOf(t, 'prompt')).toContain('string.quoted.triple.basic.block.toml meta.embedded.reference.prompt.snowauth keyword.other.reference.prompt.snowauth');
    expect(scopeOf(t, '$ {env:NOPE}')).toBe('string.quoted.double.basic.toml');
  });

  it('an unterminated string ends at the end of its line', () => {
    const t = 'a = "oops\nb = 2';
    expect(scopeOf(t, 'b')).toBe('support.type.property-name.toml');
  });
});
