export { backoffDelay, type BackoffOptions } from './backoff.js';
export { Emitter } from './emitter.js';
export { newClientId, newNonce } from './nonce.js';
export { RoomClient, SendRefused, type RoomClientOptions, type RoomEvents, type RoomStatus } from './room.js';
export {
  browserWebSocketFactory,
  nodeWebSocketFactory,
  type NodeWebSocketConstructor,
  type SocketLike,
  type WebSocketFactory,
} from './socket.js';
