import type { ErrorFrame } from '@roomcast/protocol';
import type { UpgradeRefusal } from './socket.js';

/** Upgrade refusals that a retry cannot mend: bad input, identity, permission, a taken name. */
export const TERMINAL_REFUSALS: ReadonlySet<number> = new Set([400, 401, 403, 409]);

/** Why a client closed for good: by `close()`, by a terminal close code, or by a refused upgrade. */
export class RoomClosed extends Error {
  constructor(
    message: string,
    readonly closeCode?: number,
    readonly refusal?: UpgradeRefusal,
  ) {
    super(message);
    this.name = 'RoomClosed';
  }
}

/** A send the server refused, with its error frame. */
export class SendRefused extends Error {
  constructor(readonly frame: ErrorFrame) {
    super(frame.reason);
    this.name = 'SendRefused';
  }
}
