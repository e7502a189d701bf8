import { describe, expect, it } from 'vitest';
import { parseCommandLine, type SendOptions } from '../../src/cli/send-message.js';

const urlOf = (argv: string[], env: Record<string, string>): string => (parseCommandLine(['lobby', 'hi', ...argv], env) as SendOptions).url;

describe('which server npm run send-message posts to', () => {
  it('is this machine on PORT, as npm start listens, by default on 8000', () => {
    expect(urlOf([], {})).toBe('http://127.0.0.1:8000');
    expect(urlOf([], { PORT: '9100' })).toBe('http://127.0.0.1:9100');
  });

  it('is ROOMCAST_URL when set, and --url above both', () => {
    expect(urlOf([], { PORT: '9100', ROOMCAST_URL: 'http://chat.internal:8000' })).toBe('http://chat.internal:8000');
    expect(urlOf(['--url', 'http://other:1'], { PORT: '9100', ROOMCAST_URL: 'http://chat.internal:8000' })).toBe('http://other:1');
  });

  it('refuses a PORT that is not a port, saying so', () => {
    expect(parseCommandLine(['lobby', 'hi'], { PORT: 'eighty' })).toBe('PORT must be a port number, got "eighty".');
    expect(parseCommandLine(['lobby', 'hi'], { PORT: '70000' })).toBe('PORT must be a port number, got "70000".');
  });
});
