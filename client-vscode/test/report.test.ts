import { describe, expect, it } from 'vitest';
import { reportName } from '../src/report';

describe('reportName', () => {
  it("is the report's tab title: a markdown file named for the connection", () => {
    expect(reportName('dev')).toBe('Diagnose dev.md');
  });
  it('a connection name with path separators stays one path segment', () => {
    expect(reportName('a/b\\c')).toBe('Diagnose a_b_c.md');
  });
});
