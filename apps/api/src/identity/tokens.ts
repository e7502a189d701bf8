import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { isRoomName, isUsername } from '@roomcast/protocol';
import { errors as joseErrors, jwtVerify } from 'jose';
import type { Config } from '../config.js';

/** Who a valid connection token says the bearer is. */
export interface TokenClaims {
  username: string;
  /** The rooms the token may open; undefined: any room. */
  rooms: string[] | undefined;
}

/** A token that does not verify, with a sentence saying why (sent as the 401's `error`). */
export class TokenRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenRefused';
  }
}

/** A JWT is three base64url parts joined by dots; an API key never is. */
export const looksLikeJwt = (value: string): boolean => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value);

/** Tokens older than their `exp` by this much are refused even if clocks disagree a little. */
const CLOCK_TOLERANCE_S = 5;

/**
 * Connection tokens: a JWT the site people already sign in to hands its user, signed HS256 with
 * TOKEN_SECRET or RS256/ES256 with the private half of TOKEN_PUBLIC_KEY. Verified by `jose`;
 * only the algorithm of the configured key is accepted, so `alg: none`, an HS256 token signed
 * with the public key as its secret, and unknown algorithms are all refused.
 */
export class TokenVerifier {
  private constructor(private readonly keys: Array<{ key: KeyObject; algorithms: string[] }>) {}

  /** A verifier for the configured keys, or undefined when no token key is configured. */
  static fromConfig(config: Pick<Config, 'tokenSecret' | 'tokenPublicKey'>): TokenVerifier | undefined {
    const keys: Array<{ key: KeyObject; algorithms: string[] }> = [];
    if (config.tokenSecret !== undefined) keys.push({ key: createSecretKey(Buffer.from(config.tokenSecret)), algorithms: ['HS256'] });
    if (config.tokenPublicKey !== undefined) {
      const key = createPublicKey(config.tokenPublicKey);
      keys.push({ key, algorithms: [key.asymmetricKeyType === 'rsa' ? 'RS256' : 'ES256'] });
    }
    return keys.length === 0 ? undefined : new TokenVerifier(keys);
  }

  /** The token's user and rooms; throws TokenRefused for anything else. */
  async verify(token: string): Promise<TokenClaims> {
    let lastError: unknown;
    for (const { key, algorithms } of this.keys) {
      try {
        const { payload } = await jwtVerify(token, key, { algorithms, requiredClaims: ['sub', 'exp'], clockTolerance: CLOCK_TOLERANCE_S });
        return claimsOf(payload);
      } catch (error) {
        if (error instanceof TokenRefused) throw error;
        lastError = error;
      }
    }
    throw new TokenRefused(reasonOf(lastError));
  }
}

function claimsOf(payload: { sub?: unknown; rooms?: unknown }): TokenClaims {
  if (!isUsername(payload.sub)) throw new TokenRefused('The token\u2019s "sub" is not a valid username.');
  const { rooms } = payload;
  if (rooms !== undefined && !(Array.isArray(rooms) && rooms.every(isRoomName))) {
    throw new TokenRefused('The token\u2019s "rooms" must be a list of room names.');
  }
  return { username: payload.sub, rooms: rooms as string[] | undefined };
}

function reasonOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The token has expired; ask the site for a new one.';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'The token is signed with an algorithm this server does not accept.';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'The token\u2019s signature does not verify.';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `The token is not valid: ${error.message}.`;
  return 'The token is not a valid connection token.';
}
