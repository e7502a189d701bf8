import { memoryFactory, redisFactory } from '../backends.js';
import { layerSuite } from './layer-suite.js';

layerSuite(memoryFactory());
layerSuite(redisFactory());
