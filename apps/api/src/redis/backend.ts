import type { Backend, BackendContext } from '../backend.js';

export async function createRedisBackend(_context: BackendContext): Promise<Backend> {
  throw new Error('The Redis backend is not built yet.');
}
