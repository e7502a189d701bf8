import { findMentions } from '@roomcast/protocol';
import type { Backend } from '../backend.js';

/**
 * The names a text mentions that belong to people of the room: `@name` (see findMentions) of a
 * signed-in user present in the room now (on any node), or who posted in or read it. A guest's
 * or a stranger's `@name` stays plain text. A text with no `@` costs nothing.
 */
export async function roomMentions(backend: Pick<Backend, 'presence' | 'reads'>, room: string, text: string): Promise<string[]> {
  if (!text.includes('@')) return [];
  const names = findMentions(text);
  if (names.length === 0) return [];
  const [presence, readers] = await Promise.all([backend.presence.get(room), backend.reads.readers(room, names)]);
  const present = new Set(presence.users.map((user) => user.toLowerCase()));
  const known = new Set(readers.map((name) => name.toLowerCase()));
  return names.filter((name) => present.has(name.toLowerCase()) || known.has(name.toLowerCase()));
}
