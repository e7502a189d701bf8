import type { AuditList, ChatMessage, MessageState } from '@roomcast/protocol';
import { describe, expect, it } from 'vitest';
import { call } from '../auth-helpers.js';
import { TestSocket, type TestNode } from '../helpers.js';
import { fold, logFrames, sendAndWait } from '../messages/message-helpers.js';
import { readHistory } from '../redis/cluster-helpers.js';
import { claim, clusterPerTest, openAs, people } from './room-helpers.js';

describe('moderators delete anyone\'s message, on two nodes over Redis', () => {
  const { start, track } = clusterPerTest();

  it('the message disappears for everyone, live, after a reload and on a since resume; the audit list names the moderator', async () => {
    const nodes = await start();
    const [a, b] = nodes as [TestNode, TestNode];
    const cookies = await people(nodes, 'alice', 'mod', 'carol', 'dave');
    await claim(a, cookies.alice!, 'forum', 'public');
    await call(a, 'PUT', '/rooms/forum/members/mod', { role: 'moderator' }, { cookie: cookies.alice! });
    const mod = track(await openAs(a, 'forum', cookies.mod));
    const carol = track(await openAs(b, 'forum', cookies.carol));
    const dave = track(await openAs(a, 'forum', cookies.dave));

    const spam = (await sendAndWait(carol, { type: 'chat.message', message: 'buy cheap spam-text now' }, 'c1')) as ChatMessage;
    const kept = (await sendAndWait(carol, { type: 'chat.message', message: 'a fine message' }, 'c2')) as ChatMessage;
    /** Just before the spam: a resume from here replays it and what came after. */
    const since = `${Number(spam.id.split('-')[0]) - 1}-0`;

    // A member may not delete someone else's message; the moderator may, over the socket.
    const refused = await sendAndWait(dave, { type: 'chat.delete', target: spam.id }, 'd0');
    expect(refused).toMatchObject({ type: 'error', code: 'forbidden' });
    const deleted = await sendAndWait(mod, { type: 'chat.delete', target: spam.id }, 'm1');
    expect(deleted).toMatchObject({ type: 'chat.delete', target: spam.id, user: 'mod' });
    for (const watcher of [carol, dave]) {
      await watcher.waitFor((frame) => frame.type === 'chat.delete' && frame.target === spam.id, 'the deletion, live, on both nodes');
    }

    // After a reload: the history answers it deleted, without its text.
    const state = await readHistory(b.url, 'forum');
    expect(state.find((m) => m.id === spam.id)).toEqual({ type: 'chat.message', id: spam.id, room: 'forum', user: 'carol', ts: spam.ts, deleted: true });
    expect(state.find((m) => m.id === kept.id)).toMatchObject({ message: 'a fine message' });
    // A client resuming from before it on the other node folds to the same: no spam text anywhere.
    const resumed = track(TestSocket.connect(b.url, 'forum', { headers: { cookie: cookies.dave! }, since }));
    await resumed.waitFor((frame) => frame.type === 'recovered', 'the end of the resume');
    const folded = fold(logFrames(resumed));
    expect(folded.find((m: MessageState) => m.id === spam.id)).toMatchObject({ id: spam.id, deleted: true });
    expect(folded.find((m: MessageState) => m.id === spam.id)?.message).toBeUndefined();
    expect(folded.find((m: MessageState) => m.id === kept.id)).toEqual(state.find((m) => m.id === kept.id));
    expect(resumed.raw.join('\n')).not.toContain('spam-text');

    // Over HTTP too, on the other node; the owner's audit list names who did each.
    const another = (await sendAndWait(carol, { type: 'chat.message', message: 'more spam' }, 'c3')) as ChatMessage;
    expect((await call(b, 'DELETE', `/rooms/forum/messages/${another.id}`, undefined, { cookie: cookies.dave! })).status).toBe(403);
    expect((await call(b, 'DELETE', `/rooms/forum/messages/${another.id}`, undefined, { cookie: cookies.alice! })).status).toBe(204);
    const audit = (await call(a, 'GET', '/rooms/forum/audit', undefined, { cookie: cookies.alice! })).body as AuditList;
    expect(audit.entries.filter((entry) => entry.action === 'delete').map(({ by, target }) => ({ by, target }))).toEqual([
      { by: 'alice', target: another.id },
      { by: 'mod', target: spam.id },
    ]);
  });
});
