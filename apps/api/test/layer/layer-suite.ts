import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend.js';
import type { ChannelLayer, GroupEvent } from '../../src/layer/channel-layer.js';
import { RecordingChannel, type BackendFactory } from '../backends.js';
import { eventually, sleep } from '../helpers.js';

const event = (n: number, extra: Partial<GroupEvent> = {}): GroupEvent => ({ type: 'typing', frame: `{"n":${n}}`, ...extra });
const numbers = (channel: RecordingChannel): number[] => channel.events.map((e) => (JSON.parse(e.frame) as { n: number }).n);

/** The channel layer's contract, run against every implementation. */
export function layerSuite(factory: BackendFactory): void {
  describe(`channel layer (${factory.name})`, () => {
    let backend: Backend;
    let layer: ChannelLayer;
    const channel = (): RecordingChannel => new RecordingChannel(layer.newChannelName());

    beforeAll(() => factory.setUp());
    afterAll(() => factory.tearDown());
    const fresh = async () => {
      backend = await factory.create();
      layer = backend.layer;
    };
    afterEach(() => factory.reset());

    it('sends an event to every channel of the group and to no other', async () => {
      await fresh();
      const [a, b, other] = [channel(), channel(), channel()];
      await layer.groupAdd('g1', a);
      await layer.groupAdd('g1', b);
      await layer.groupAdd('g2', other);
      await layer.groupSend('g1', event(1, { sender: a.name, nonce: 'x' }));
      await eventually(() => a.events.length === 1 && b.events.length === 1, 5000, 'both members to get the event');
      expect(a.events[0]).toEqual(event(1, { sender: a.name, nonce: 'x' }));
      expect(b.events[0]).toEqual(a.events[0]);
      await sleep(100);
      expect(other.events).toHaveLength(0);
    });

    it('delivers in send order', async () => {
      await fresh();
      const [a, b] = [channel(), channel()];
      await layer.groupAdd('g', a);
      await layer.groupAdd('g', b);
      const sent = Array.from({ length: 200 }, (_, n) => n);
      await Promise.all(sent.map((n) => layer.groupSend('g', event(n))));
      await eventually(() => a.events.length === 200 && b.events.length === 200, 10_000, '200 events');
      expect(numbers(a)).toEqual(sent);
      expect(numbers(b)).toEqual(sent);
    });

    it('delivers an event sent right after groupAdd resolves, and none after groupDiscard', async () => {
      await fresh();
      const a = channel();
      await layer.groupAdd('g', a);
      await layer.groupSend('g', event(1));
      await eventually(() => a.events.length === 1, 5000, 'the first event');
      await layer.groupDiscard('g', a);
      await layer.groupSend('g', event(2));
      await sleep(150);
      expect(numbers(a)).toEqual([1]);
      expect(layer.localGroupSize('g')).toBe(0);
    });

    it('keeps a channel subscribed through a quick leave and rejoin', async () => {
      await fresh();
      const a = channel();
      await layer.groupAdd('g', a);
      const leaving = layer.groupDiscard('g', a);
      await layer.groupAdd('g', a);
      await leaving;
      await layer.groupSend('g', event(7));
      await eventually(() => a.events.length === 1, 5000, 'the event after the rejoin');
      expect(numbers(a)).toEqual([7]);
    });

    it('sends to one channel by name', async () => {
      await fresh();
      const [a, b] = [channel(), channel()];
      await layer.groupAdd('g', a);
      await layer.groupAdd('g', b);
      await layer.send(b.name, event(5));
      await eventually(() => b.events.length === 1, 5000, 'the direct event');
      await sleep(100);
      expect(a.events).toHaveLength(0);
    });

    it('counts local members and names channels uniquely', async () => {
      await fresh();
      const names = new Set(Array.from({ length: 100 }, () => layer.newChannelName()));
      expect(names.size).toBe(100);
      const [a, b] = [channel(), channel()];
      await layer.groupAdd('g', a);
      await layer.groupAdd('g', b);
      await layer.groupAdd('g', b);
      expect(layer.localGroupSize('g')).toBe(2);
      expect(layer.localGroupSize('nobody')).toBe(0);
    });

    it('keeps delivering to the others when one channel throws', async () => {
      await fresh();
      const broken = channel();
      broken.deliver = () => {
        throw new Error('broken socket');
      };
      const fine = channel();
      await layer.groupAdd('g', broken);
      await layer.groupAdd('g', fine);
      await layer.groupSend('g', event(1));
      await layer.groupSend('g', event(2));
      await eventually(() => fine.events.length === 2, 5000, 'both events at the healthy channel');
      expect(numbers(fine)).toEqual([1, 2]);
    });
  });
}
