import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, UnsecuredJWT, importPKCS8 } from 'jose';
import { describe, expect, it } from 'vitest';
import { call } from '../auth-helpers.js';
import { refusedUpgrade, type TestNode } from '../helpers.js';
import { useFixtures } from './fixtures.js';

const SECRET = 'the-django-site-signs-with-this-secret';

/** What a site's view does: sign a short-lived token for its user. */
function sign(claims: Record<string, unknown>, key: Parameters<SignJWT['sign']>[0], alg = 'HS256', expiresIn: string | number = '5m') {
  return new SignJWT(claims).setProtectedHeader({ alg }).setSubject(String(claims.sub ?? 'dave')).setIssuedAt().setExpirationTime(expiresIn).sign(key);
}
const secret = new TextEncoder().encode(SECRET);

describe('connection tokens', () => {
  const fixtures = useFixtures();
  const start = fixtures.start;
  const speak = async (node: TestNode, token: string, room = 'lobby') => {
    const socket = await fixtures.open(node, room, { query: { token } });
    socket.send({ message: 'hello' });
    return (await socket.waitForMessages(1))[0];
  };
  const upgrade = (node: TestNode, token: string, room = 'lobby') => refusedUpgrade(`${node.url}/ws/chat/${room}/?token=${encodeURIComponent(token)}`);

  it('HS256 with TOKEN_SECRET: the socket and an HTTP post are the token’s user; rooms limit where it opens', async () => {
    const node = await start({ tokenSecret: SECRET });
    expect(await speak(node, await sign({ sub: 'dave' }, secret))).toMatchObject({ user: 'dave', message: 'hello' });

    const posted = await call(node, 'POST', '/rooms/lobby/messages', { message: 'over http' }, { headers: { authorization: `Bearer ${await sign({ sub: 'dave' }, secret)}` } });
    expect(posted).toMatchObject({ status: 201, body: { user: 'dave', message: 'over http' } });
    expect(posted.body).not.toHaveProperty('via');

    const scoped = await sign({ sub: 'dave', rooms: ['kitchen'] }, secret);
    expect(await speak(node, scoped, 'kitchen')).toMatchObject({ user: 'dave' });
    expect(await upgrade(node, scoped, 'lobby')).toMatchObject({ status: 403, body: { code: 'forbidden' } });
  });

  it('refuses a wrong key, an expired token, alg none, a bad sub and a reserved sub with 401 and a sentence', async () => {
    const node = await start({ tokenSecret: SECRET });
    const cases: Array<[string, string, RegExp]> = [
      ['wrong key', await sign({ sub: 'dave' }, new TextEncoder().encode('another-secret-another-secret-another')), /signature/],
      ['expired', await sign({ sub: 'dave' }, secret, 'HS256', Math.floor(Date.now() / 1000) - 60), /expired/],
      ['alg none', new UnsecuredJWT({ sub: 'dave' }).setSubject('dave').setExpirationTime('5m').encode(), /algorithm|not a valid/],
      ['HS512', await sign({ sub: 'dave' }, secret, 'HS512'), /algorithm/],
      ['bad sub', await sign({ sub: 'not a name!' }, secret), /sub/],
      ['reserved sub', await sign({ sub: 'service' }, secret), /reserved/],
      ['garbage', 'abc.def.ghi', /not a valid/],
    ];
    for (const [what, token, reason] of cases) {
      const refused = await upgrade(node, token);
      expect(refused.status, what).toBe(401);
      expect(refused.body, what).toEqual({ code: 'unauthorized', error: expect.stringMatching(reason) });
      const posted = await call(node, 'POST', '/rooms/lobby/messages', { message: 'x' }, { headers: { authorization: `Bearer ${token}` } });
      expect(posted.status, what).toBe(401);
    }
  });

  it('a server with no token key refuses tokens with 401, saying so', async () => {
    const node = await start({});
    expect(await upgrade(node, await sign({ sub: 'dave' }, secret))).toEqual({ status: 401, body: { code: 'unauthorized', error: expect.stringMatching(/TOKEN_SECRET/) } });
  });

  for (const [alg, type, options] of [
    ['RS256', 'rsa', { modulusLength: 2048 }],
    ['ES256', 'ec', { namedCurve: 'P-256' }],
  ] as const) {
    it(`${alg} with TOKEN_PUBLIC_KEY; the public key used as an HS256 secret is refused`, async () => {
      const pair = generateKeyPairSync(type as 'rsa', options as { modulusLength: number });
      const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const privateKey = await importPKCS8(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), alg);
      const node = await start({ tokenPublicKey: publicPem });
      expect(await speak(node, await sign({ sub: 'erin' }, privateKey, alg))).toMatchObject({ user: 'erin' });
      const confused = await sign({ sub: 'erin' }, new TextEncoder().encode(publicPem));
      expect(await upgrade(node, confused)).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    });
  }
});
