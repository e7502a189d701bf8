import { memoryFactory, redisFactory } from '../backends.js';
import { presenceSuite } from './presence-suite.js';

presenceSuite(memoryFactory());
presenceSuite(redisFactory());
