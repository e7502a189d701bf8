import { describe, expect, it } from 'vitest';
import { MemoryChannelLayer } from '../../src/layer/memory.js';
import { MemoryRoomHistory } from '../../src/history/memory.js';
import { Metrics } from '../../src/metrics.js';
import { memoryFactory, redisFactory } from '../backends.js';
import { changesSuite } from './changes-suite.js';

changesSuite(memoryFactory());
changesSuite(redisFactory());

describe('a deletion in the embedded store', () => {
  it('leaves the text (and its edits’ text) nowhere in the store', async () => {
    const history = new MemoryRoomHistory(new MemoryChannelLayer(new Metrics()), 100, { idleTtlMs: 60_000 });
    const message = await history.append({ room: 'lobby', user: 'alice', message: 'secret-original' });
    const kept = await history.append({ room: 'lobby', user: 'alice', message: 'kept-text' });
    await history.change({ kind: 'edit', room: 'lobby', user: 'alice', target: message.id, message: 'secret-edit', right: 'own' });
    await history.change({ kind: 'reaction', room: 'lobby', user: 'bob', target: message.id, emoji: '👍' });
    await history.change({ kind: 'delete', room: 'lobby', user: 'alice', target: message.id, right: 'own' });
    // Everything the store holds for the room, as one text.
    const everything = JSON.stringify([...history['rooms']].map(([room, log]) => [room, log.messages, log.senders, [...log.overlays], log.tombstones]));
    expect(everything).toContain('kept-text');
    expect(everything).toContain(kept.id);
    expect(everything).not.toContain('secret-original');
    expect(everything).not.toContain('secret-edit');
    await history.close();
  });
});
