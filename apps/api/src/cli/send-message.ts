#!/usr/bin/env node
/**
 * `npm run send-message -- ROOM TEXT`: posts a message into a room of a running server over its
 * HTTP API, like a Django project's `manage.py send_message` command. Works against either backend, since it
 * goes through the same publish path as every other message.
 */
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isRoomName, roomMessagesPath, type ChatMessage, type ErrorBody } from '@roomcast/protocol';

const USAGE = `usage: npm run send-message -- ROOM TEXT [--url http://127.0.0.1:8000] [--key KEY]

Posts TEXT to ROOM on a running Roomcast server: the one at --url, else at ROOMCAST_URL, else
on this machine's PORT (default 8000). The API key comes from --key, or else from the first
key in API_KEYS (a "name:key" entry posts as "name").`;

/** Tries of a send the server answers `unconfirmed` (its backend did not answer in time). */
const UNCONFIRMED_TRIES = 3;

export interface SendOptions {
  room: string;
  text: string;
  url: string;
  key: string | undefined;
}

/** The server to post to: ROOMCAST_URL, else this machine on PORT (as `npm start` reads it). */
export function urlFromEnv(env: Record<string, string | undefined>): string | { error: string } {
  const url = env.ROOMCAST_URL?.trim();
  if (url) return url;
  const port = env.PORT?.trim() || '8000';
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return { error: `PORT must be a port number, got ${JSON.stringify(port)}.` };
  return `http://127.0.0.1:${port}`;
}

/** The key to use: --key, else the first API_KEYS entry (without its `name:` part). */
export function keyFromEnv(env: Record<string, string | undefined>): string | undefined {
  const first = env.API_KEYS?.split(',')[0]?.trim();
  if (!first) return undefined;
  const colon = first.indexOf(':');
  return colon > 0 && colon < first.length - 1 ? first.slice(colon + 1) : first;
}

export function parseCommandLine(argv: string[], env: Record<string, string | undefined>): SendOptions | string {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { url: { type: 'string' }, key: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    return `${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`;
  }
  if (parsed.values.help) return USAGE;
  const [room, ...words] = parsed.positionals;
  if (room === undefined || words.length === 0) return USAGE;
  if (!isRoomName(room)) return `"${room}" is not a room name: use 1 to 64 letters, digits, "_" or "-".`;
  const url = parsed.values.url ?? urlFromEnv(env);
  if (typeof url !== 'string') return url.error;
  return {
    room,
    text: words.join(' '),
    url,
    key: parsed.values.key ?? keyFromEnv(env),
  };
}

/** Posts the message; resolves with the stored message or rejects with a sentence for a person. */
export async function sendMessage(options: SendOptions): Promise<ChatMessage> {
  if (!options.key) {
    throw new Error('No API key: pass --key KEY or set API_KEYS (the server must be started with the same key in API_KEYS).');
  }
  const target = new URL(roomMessagesPath(options.room), options.url);
  // One key for every try: a try whose outcome was unknown (503 unconfirmed) is stored at most once.
  const idempotencyKey = randomUUID();
  for (let attempt = 1; ; attempt += 1) {
    let response: Response;
    try {
      response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.key}`, 'idempotency-key': idempotencyKey },
        body: JSON.stringify({ message: options.text }),
      });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new Error(`Could not reach a Roomcast server at ${options.url} (${cause}). Is it running? Start it with npm start, or pass --url.`);
    }
    const body = (await response.json().catch(() => undefined)) as ChatMessage | ErrorBody | undefined;
    if (response.status === 201 && body && 'id' in body) return body;
    const reason = body && 'error' in body ? `${body.error} (${body.code})` : `HTTP ${response.status}`;
    if (response.status === 401) throw new Error(`The server refused the API key: ${reason}. Is the key listed in the server's API_KEYS?`);
    if (!(body && 'code' in body && body.code === 'unconfirmed')) throw new Error(`The server refused the message: ${reason}.`);
    if (attempt >= UNCONFIRMED_TRIES) {
      throw new Error(`The server could not confirm the message after ${attempt} tries; it may have been stored (Idempotency-Key ${idempotencyKey}).`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
  }
}

async function main(): Promise<number> {
  const options = parseCommandLine(process.argv.slice(2), process.env);
  if (typeof options === 'string') {
    process.stderr.write(`${options}\n`);
    return 2;
  }
  try {
    const message = await sendMessage(options);
    process.stdout.write(`sent to ${message.room} as ${message.id}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`send-message: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

// Run only when executed, not when imported by tests.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  void main().then((code) => process.exit(code));
}
