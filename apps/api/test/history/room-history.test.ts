import { memoryFactory, redisFactory } from '../backends.js';
import { historySuite } from './history-suite.js';

historySuite(memoryFactory());
historySuite(redisFactory());
