import { readFileSync } from 'node:fs';
import { ERRORS, ERROR_CODES } from '@roomcast/protocol';
import { describe, expect, it } from 'vitest';
import { httpError } from '../src/errors.js';

const protocolDoc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

describe('the error list', () => {
  it('documents every code in docs/protocol.md with its status', () => {
    const undocumented = ERROR_CODES.filter((code) => {
      const row = protocolDoc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
      if (!row) return true;
      const status = ERRORS[code].status;
      return !(row.includes(`| ${status} |`) || row.includes('| frame |'));
    });
    expect(undocumented).toEqual([]);
  });

  it('turns each code into an error with the wire code and status', () => {
    for (const code of ERROR_CODES) {
      const error = httpError(code);
      expect({ code: error.code, status: error.statusCode }).toEqual({ code, status: ERRORS[code].status });
    }
  });
});
