import { redisFactory } from '../backends.js';
import { idempotencySuite } from './idempotency-suite.js';

idempotencySuite(redisFactory());
