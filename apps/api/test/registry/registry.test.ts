import { memoryFactory, redisFactory } from '../backends.js';
import { registrySuite } from './registry-suite.js';

registrySuite(memoryFactory());
registrySuite(redisFactory());
