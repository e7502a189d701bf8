export { startLink, type Link } from './link.js';
export { freePort } from './ports.js';
export { assertRedisInstalled, redisAnswers, startRedis, type TestRedis } from './redis.js';
export { assertRedisClusterInstalled, startRedisCluster, type TestClusterNode, type TestRedisCluster } from './redis-cluster.js';
export { REPO, SERVER_SCRIPT, spawnServer, type ServerProcess, type SpawnOptions } from './server-process.js';
export { eventually, sleep } from './wait.js';
export {
  DJANGO_FIXTURE,
  PYTHON,
  assertDjangoInstalled,
  djangoInstalled,
  manage,
  runPython,
  startDaphne,
  type Daphne,
  type DjangoEnv,
} from './django.js';
