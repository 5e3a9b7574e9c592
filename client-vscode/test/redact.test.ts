import { describe, expect, it } from 'vitest';
import { redactTrace } from '../src/redact';

describe('redactTrace', () => {
  it('hides literal secrets in document text, plain and JSON-escaped, but keeps references', () => {
    const doc = 'client_secret = "s3cr3t"\npassword=\'pw\'\nusername = "integration.user"\nrefresh_token = "${env:RT}"';
    expect(redactTrace(doc)).toBe(
      'client_secret = "<redacted>"\npassword=\'<redacted>\'\nusername = "integration.user"\nrefresh_token = "${env:RT}"',
    );
    const json = JSON.stringify({ text: 'access_token = "abc.def"\nscope = "useraccount"' });
    expect(redactTrace(json)).toBe('{"text":"access_token = \\"<redacted>\\"\\nscope = \\"useraccount\\""}');
    const doc2 = JSON.stringify({ text: 'grant_type = "password"\npassword = "pw"\n\tclient_secret = "cs"\nmy_password = "keep"' });
    expect(redactTrace(doc2)).toBe(
      '{"text":"grant_type = \\"password\\"\\npassword = \\"<redacted>\\"\\n\\tclient_secret = \\"<redacted>\\"\\nmy_password = \\"keep\\""}',
    );
  });

  it('hides every newText of workspace/applyEdit (tokens, inserted raw)', () => {
    const msg = "Received request 'workspace/applyEdit - (3)'.\nParams: {\"edit\": {\"changes\": {\"file:///x\": [{\"newText\": \"eyJ0eXAi.raw-token\"}]}}}";
    expect(redactTrace(msg)).toContain('"newText": "<redacted>"');
    expect(redactTrace(msg)).not.toContain('raw-token');
  });

  it('hides the secret a quick fix moves into .env (the code action response)', () => {
    const msg =
      "Received response 'textDocument/codeAction - (88)' in 5ms.\nResult: [{\"edit\": {\"documentChanges\": [" +
      '{"textDocument": {"uri": "file:///w/.env", "version": null}, "edits": [{"range": {}, ' +
      '"newText": "SNOW_EMU_CLIENT_SECRET=demo-client-secret\\n"}]}]}}]';
    expect(redactTrace(msg)).toContain('"newText": "<redacted>"');
    expect(redactTrace(msg)).not.toContain('demo-client-secret');
  });

  it('keeps completion text, which carries no secret', () => {
    const msg = "Received response 'textDocument/completion - (9)'.\nResult: {\"items\": [{\"textEdit\": {\"newText\": \"grant_type\"}}]}";
    expect(redactTrace(msg)).toContain('"newText": "grant_type"');
  });

  it('hides bearer tokens and the answers given to prompts', () => {
    expect(redactTrace('Authorization: Bearer abcdefghijkl_-.')).toBe('Authorization: Bearer <redacted>');
    expect(redactTrace('Result: {"value": "pa\\"ss"}', ['pa"ss'])).toBe('Result: {"value": "<redacted>"}');
    expect(redactTrace('nothing secret here', ['', 'x y'])).toBe('nothing secret here');
  });

  it('hides the access token in the result of snowauth.accessToken, compact or pretty-printed', () => {
    const result = { connection: 'dev', access_token: 'eyJ0.tok"en', instance_url: 'https://dev1.service-now.com', expires_at: null };
    const compact = `Received response 'workspace/executeCommand - (7)' in 12ms.\nResult: ${JSON.stringify(result)}`;
    const pretty = `Result: ${JSON.stringify(result, null, 4)}`;
    for (const text of [compact, pretty]) {
      const out = redactTrace(text);
      expect(out).not.toContain('eyJ0');
      expect(out).toMatch(/"access_token":\s*"<redacted>"/);
      expect(out).toContain('"instance_url"');
      expect(out).toContain('https://dev1.service-now.com');
    }
  });
});
