export { backoffDelay, type BackoffOptions } from './backoff.js';
export { Emitter } from './emitter.js';
export { newClientId, newNonce } from './nonce.js';
export { RoomClosed, SendRefused } from './refusals.js';
export type { RoomEventFrame, Sent } from './outbox.js';
export { RoomClient, type RoomClientOptions, type RoomEvents, type RoomStatus } from './room.js';
export {
  browserWebSocketFactory,
  nodeWebSocketFactory,
  probeUpgrade,
  type UpgradeRefusal,
  type NodeWebSocketConstructor,
  type SocketLike,
  type WebSocketFactory,
} from './socket.js';
