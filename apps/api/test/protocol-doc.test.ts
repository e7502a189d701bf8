import { readFileSync } from 'node:fs';
import { CLIENT_FRAME, CLOSE, SERVER_FRAME, SUBPROTOCOL } from '@roomcast/protocol';
import { describe, expect, it } from 'vitest';

const protocolDoc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

/** The text of one `###` section of docs/protocol.md, up to the next heading. */
function section(title: string): string {
  const start = protocolDoc.indexOf(`\n### ${title}\n`);
  if (start === -1) throw new Error(`docs/protocol.md has no "### ${title}" section`);
  const rest = protocolDoc.slice(start + title.length + 6);
  const end = rest.search(/\n#{2,3} /);
  return end === -1 ? rest : rest.slice(0, end);
}

/** The first cells of a section's table rows: `| \`value\` | ...`. */
const rowKeys = (text: string): string[] =>
  text
    .split('\n')
    .map((line) => /^\| `([^`]+)` \|/.exec(line)?.[1])
    .filter((key): key is string => key !== undefined);

describe('docs/protocol.md', () => {
  it('has a row for every frame type a client may send', () => {
    expect(Object.values(CLIENT_FRAME).filter((type) => !rowKeys(section('Client to server')).includes(type))).toEqual([]);
  });

  it('has a row for every frame type the server sends', () => {
    expect(Object.values(SERVER_FRAME).filter((type) => !rowKeys(section('Server to client')).includes(type))).toEqual([]);
  });

  it('has a row for every close code', () => {
    const documented = rowKeys(section('Close codes'));
    expect(Object.values(CLOSE).filter((code) => !documented.includes(String(code)))).toEqual([]);
  });

  it('names the subprotocol', () => {
    expect(section(`Subprotocol \`${SUBPROTOCOL}\``)).toContain(`Sec-WebSocket-Protocol:`);
  });
});
