/**
 * Where each signed-in user has read up to in each room (#13: unread counts and mentions that
 * follow the user across devices and nodes), and who belongs to a room for mentions: users who
 * posted in it or read it. Usernames are compared case-insensitively, as accounts are.
 */
export interface ReadStore {
  /**
   * The user has read the room up to `id`: the position only moves forward (a device that read
   * less does not move it back). Also makes the user one of the room's readers. Answers the
   * position now held.
   */
  markRead(user: string, room: string, id: string): Promise<string>;
  /** The user posted in the room: it becomes one of their rooms (with no read position yet). */
  notePoster(user: string, room: string): Promise<void>;
  /** The user's rooms (posted in or read), with the read position where there is one. */
  rooms(user: string): Promise<Array<{ room: string; readId?: string }>>;
  /** Those of `names` who posted in or read the room. */
  readers(room: string, names: readonly string[]): Promise<string[]>;
  close(): Promise<void>;
}

/** A read position's placeholder for a room posted in but never read: the field exists, the value is empty. */
export const NOT_READ = '';
