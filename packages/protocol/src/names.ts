import { USERNAME_PATTERN } from './constants.js';

/**
 * Names no account may take: they would pass for the system or for a kind of sender. Every
 * API key's name is reserved too (the server adds those from its configuration).
 */
export const RESERVED_USERNAMES: readonly string[] = ['guest', 'service', 'django', 'system', 'admin'];

/**
 * A name folded so that names a reader cannot tell apart fold the same: case is ignored, and
 * `I`, `l` and `1` read as one letter, as do `O` and `0`. Two names with the same fold are one
 * name: the second is refused.
 */
export function foldUsername(name: string): string {
  return name.toLowerCase().replace(/[i1]/g, 'l').replace(/0/g, 'o');
}

/** A guest's chosen name follows the username rule. */
export const isGuestName = (value: unknown): value is string => typeof value === 'string' && USERNAME_PATTERN.test(value);
