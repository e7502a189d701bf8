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
