let counter = 0;

/** A nonce unique to this client: random where `crypto.randomUUID` exists, plus a counter. */
export function newNonce(): string {
  counter += 1;
  const random =
    typeof globalThis.crypto?.randomUUID === 'function'
      ? globalThis.crypto.randomUUID().slice(0, 13)
      : Math.random().toString(36).slice(2, 15);
  return `${random}-${counter.toString(36)}`;
}

/**
 * A client ID for `?client=`: random, 22 or more visible ASCII characters, kept by one page or
 * process across its reconnects so its resends after a reconnect are recognised.
 */
export function newClientId(): string {
  const random = (): string =>
    typeof globalThis.crypto?.randomUUID === 'function' ? globalThis.crypto.randomUUID() : Math.random().toString(36).slice(2);
  return `${random()}${random()}`.replace(/-/g, '').slice(0, 32);
}
