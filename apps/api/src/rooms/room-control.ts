import { CLOSE } from '@roomcast/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { Channel, ChannelLayer, GroupEvent } from '../layer/channel-layer.js';
import type { RoomRegistry, RoomStanding } from '../registry/room-registry.js';
import { actorName, checkRoomAccess, isRoomRefusal, type Actor } from './access.js';

/** A room socket as room control sees it (a RoomConsumer). */
export interface ControlledSocket {
  readonly room: string;
  readonly actor: Actor;
  setStanding(standing: RoomStanding): void;
  close(code: number, reason: string): void;
}

/**
 * What changed in a room: `close` closes the sockets of one person (a username or `guest:NAME`)
 * with 4003 and the reason (`removed`, `kicked`, `banned`); `refresh` has every socket of the
 * room look its standing up again (settings, roles, visibility), closing those no longer allowed.
 */
export interface RoomControlEvent {
  room: string;
  close?: { target: string; reason: string };
  refresh?: boolean;
}

/** Every node's room-control listener is in this group: one subscription per node. */
export const ROOM_CONTROL_GROUP = 'rooms.control';
const ROOM_CHANGED = 'room.changed';

/**
 * Carries room changes to every node's sockets: the node that makes a change applies it to its
 * own sockets at once, then sends it to the group, and every other node applies it to its own
 * (as sign-outs do). A malformed event from the layer is logged and dropped.
 */
export class RoomControl implements Channel {
  readonly name: string;

  constructor(
    private readonly layer: ChannelLayer,
    private readonly registry: RoomRegistry,
    private readonly sockets: () => Iterable<ControlledSocket>,
    private readonly log: FastifyBaseLogger,
  ) {
    this.name = layer.newChannelName('room-control');
  }

  start(): Promise<void> {
    return this.layer.groupAdd(ROOM_CONTROL_GROUP, this);
  }

  stop(): Promise<void> {
    return this.layer.groupDiscard(ROOM_CONTROL_GROUP, this);
  }

  /** Applies `event` here, then on every other node. */
  async publish(event: RoomControlEvent): Promise<void> {
    await this.apply(event);
    await this.layer.groupSend(ROOM_CONTROL_GROUP, { type: ROOM_CHANGED, frame: JSON.stringify(event), sender: this.name });
  }

  deliver(event: GroupEvent): void {
    if (event.type !== ROOM_CHANGED || event.sender === this.name) return;
    const parsed = parseEvent(event.frame);
    if (!parsed) {
      this.log.warn('dropped a room.changed event that is not one');
      return;
    }
    this.apply(parsed).catch((error: unknown) => this.log.warn({ err: error, room: parsed.room }, 'room change not applied to its sockets'));
  }

  private async apply(event: RoomControlEvent): Promise<void> {
    // A refresh looks each person up once, however many sockets (tabs, nodes' worth) they have.
    const refreshing = new Map<string | undefined, ControlledSocket[]>();
    for (const socket of this.sockets()) {
      if (socket.room !== event.room) continue;
      const name = actorName(socket.actor);
      if (event.close && name === event.close.target) socket.close(CLOSE.forbidden, event.close.reason);
      else if (event.refresh) refreshing.set(name, [...(refreshing.get(name) ?? []), socket]);
    }
    await Promise.all([...refreshing.values()].map((sockets) => this.refresh(event.room, sockets)));
  }

  /** Looks one person's standing up again and hands it to their sockets, or closes them when refused. */
  private async refresh(room: string, sockets: ControlledSocket[]): Promise<void> {
    try {
      const standing = await checkRoomAccess(this.registry, room, sockets[0]!.actor);
      for (const socket of sockets) socket.setStanding(standing);
    } catch (error) {
      if (!isRoomRefusal(error)) throw error;
      for (const socket of sockets) socket.close(CLOSE.forbidden, (error as { code: string }).code);
    }
  }
}

function parseEvent(text: string): RoomControlEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { room, close, refresh } = value as Record<string, unknown>;
  if (typeof room !== 'string') return undefined;
  const event: RoomControlEvent = { room, refresh: refresh === true };
  if (close !== undefined) {
    const { target, reason } = close as Record<string, unknown>;
    if (typeof target !== 'string' || typeof reason !== 'string') return undefined;
    event.close = { target, reason };
  }
  return event;
}

