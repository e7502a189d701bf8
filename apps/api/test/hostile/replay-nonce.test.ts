import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../auth-helpers.js';
import { TestSocket, UNLIMITED_SENDS } from '../helpers.js';
import { BACKENDS, roomMessages, startTarget, type Target } from './support.js';

/**
 * Finding (part of "not stored for stored messages"): sends stored during a gap were never
 * confirmed, because the catch-up replayed them without their nonce. Now the nonce and its
 * sender's scope are kept with the stored entry, and only the sender's own replayed copy
 * carries the nonce; the public history never does.
 */
const CLIENT = 'client-0123456789abcdef';
const OTHER = 'client-fedcba9876543210';

for (const backend of BACKENDS) {
  describe(`a replay gives the sender's copy its nonce back (${backend})`, () => {
    let target: Target;
    beforeAll(async () => {
      target = await startTarget(backend, UNLIMITED_SENDS);
    });
    afterAll(() => target.close());

    const open = async (room: string, query: string, headers?: Record<string, string>): Promise<TestSocket> => {
      const socket = new TestSocket(`${target.node.url.replace('http', 'ws')}/ws/chat/${room}/?${query}`, headers);
      await socket.opened;
      await socket.waitFor((frame) => frame.type === 'recovered' || frame.type === 'presence', 'joined');
      return socket;
    };

    it('for an anonymous client by its ?client= ID, and to no one else', async () => {
      const first = await open('replay', `client=${CLIENT}`);
      first.send({ type: 'chat.message', message: 'sent before the gap', nonce: 'r-1' });
      await first.waitFor((frame) => frame.type === 'chat.message', 'the confirmation');
      await first.close();

      const same = await open('replay', `client=${CLIENT}&since=0-0`);
      const other = await open('replay', `client=${OTHER}&since=0-0`);
      const bare = await open('replay', 'since=0-0');
      await Promise.all([same, other, bare].map((socket) => socket.waitFor((frame) => frame.type === 'recovered', 'recovered')));
      expect(same.messages.map((m) => m.nonce)).toEqual(['r-1']);
      expect(other.messages.map((m) => m.nonce)).toEqual([undefined]);
      expect(bare.messages.map((m) => m.nonce)).toEqual([undefined]);
      expect(await roomMessages(target.node, 'replay')).toEqual([expect.not.objectContaining({ nonce: expect.anything() })]);

      // A resend after the reconnect is the same send: confirmed, not stored again.
      same.send({ type: 'chat.message', message: 'sent before the gap', nonce: 'r-1' });
      await same.waitFor((frame) => frame.type === 'chat.message' && same.messages.length === 2, 'the resend answered');
      expect(same.messages[1]).toMatchObject({ id: same.messages[0]!.id, nonce: 'r-1' });
      expect(await roomMessages(target.node, 'replay')).toHaveLength(1);
      await Promise.all([same.close(), other.close(), bare.close()]);
    });

    it('when the room resumes all at once (one shared read), still to its sender only', async () => {
      const first = await open('together', `client=${CLIENT}`);
      for (const nonce of ['t-1', 't-2', 't-3']) first.send({ type: 'chat.message', message: `before ${nonce}`, nonce });
      await first.waitFor(() => first.messages.length === 3, 'the confirmations');
      await first.close();
      // Like a room coming back after its node went away: every socket from the same point, at once.
      const sockets = await Promise.all([
        open('together', `client=${CLIENT}&since=0-0`),
        ...Array.from({ length: 8 }, (_, index) => open('together', `client=${OTHER.slice(0, -1)}${index}&since=0-0`)),
      ]);
      await Promise.all(sockets.map((socket) => socket.waitFor((frame) => frame.type === 'recovered', 'recovered')));
      const [same, ...others] = sockets;
      expect(same!.messages.map((m) => m.nonce)).toEqual(['t-1', 't-2', 't-3']);
      for (const other of others) {
        expect(other.messages.map((m) => m.message)).toEqual(['before t-1', 'before t-2', 'before t-3']);
        expect(other.messages.map((m) => m.nonce)).toEqual([undefined, undefined, undefined]);
      }
      await Promise.all(sockets.map((socket) => socket.close()));
    });

    it('for a signed-in user on any of their sockets', async () => {
      const cookie = await register(target.node, `replayer-${backend}`);
      const first = await open('replay-user', '', { cookie });
      first.send({ type: 'chat.message', message: 'mine', nonce: 'u-1' });
      await first.waitFor((frame) => frame.type === 'chat.message', 'the confirmation');
      await first.close();
      const again = await open('replay-user', 'since=0-0', { cookie });
      await again.waitFor((frame) => frame.type === 'recovered', 'recovered');
      expect(again.messages.map((m) => m.nonce)).toEqual(['u-1']);
      await again.close();
    });
  });
}
