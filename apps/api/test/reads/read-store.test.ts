import { memoryFactory, redisFactory } from '../backends.js';
import { readStoreSuite } from './read-store-suite.js';

readStoreSuite(memoryFactory());
readStoreSuite(redisFactory());
