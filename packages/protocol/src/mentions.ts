import { MAX_MENTIONS } from './constants.js';

/**
 * `@name` where the name follows the username rule and the `@` does not sit inside a word or an
 * address (`me@example.com` mentions nobody). Both ends use it: the server to decide which names
 * a message mentions (keeping only people of the room), the SPA to highlight them.
 */
const MENTION = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_.-]{3,32})(?![A-Za-z0-9_-])/g;

/** Every distinct name written `@name` in `text`, in order of first appearance, at most MAX_MENTIONS. */
export function findMentions(text: string): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(MENTION)) {
    const name = (match[2] as string).replace(/\.+$/, '');
    if (name.length >= 3 && !names.includes(name)) names.push(name);
    if (names.length === MAX_MENTIONS) break;
  }
  return names;
}
