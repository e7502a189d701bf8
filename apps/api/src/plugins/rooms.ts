import fp from 'fastify-plugin';
import { RoomControl } from '../rooms/room-control.js';
import '../types.js';

/**
 * Rooms people own: the room-control listener that carries removals, kicks, bans and settings
 * to every node's sockets, and the request's room standing (set by `requireSocketAccess`).
 */
export default fp(
  async (app) => {
    const control = new RoomControl(app.backend.layer, app.backend.rooms, () => app.consumers, app.log);
    await control.start();
    app.decorate('roomControl', control);
    app.decorateRequest('roomStanding', null);
    app.addHook('preClose', async () => {
      await control.stop().catch(() => undefined);
    });
  },
  { name: 'roomcast-rooms', fastify: '5.x', dependencies: ['roomcast-backend'] },
);
