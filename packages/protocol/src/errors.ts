/**
 * Every refusal Roomcast gives, over HTTP and in error frames. A code is the machine-readable
 * name; `status` is the HTTP status when the refusal is an HTTP answer. The API's error list is
 * built from this table, and a test checks every code here is documented in docs/protocol.md.
 */
export const ERRORS = {
  invalid_room: { status: 400, message: 'Room names are 1 to 64 letters, digits, "_" or "-".' },
  invalid_body: { status: 400, message: 'The request body is not valid.' },
  invalid_query: { status: 400, message: 'The query string is not valid.' },
  invalid_username: { status: 400, message: 'Usernames are 3 to 32 letters, digits, ".", "_" or "-".' },
  invalid_password: { status: 400, message: 'Passwords are 8 to 200 characters.' },
  unauthorized: { status: 401, message: 'Credentials are required: an API key or a logged-in session.' },
  invalid_credentials: { status: 401, message: 'Wrong username or password.' },
  login_required: { status: 401, message: 'This server requires you to log in.' },
  session_expired: { status: 401, message: 'Your session has ended (signed out, expired or unknown); sign in again or continue as a guest.' },
  forbidden_origin: { status: 403, message: 'This origin is not allowed.' },
  forbidden: { status: 403, message: 'You may not do that here.' },
  banned: { status: 403, message: 'You are banned from this room.' },
  not_found: { status: 404, message: 'Nothing is here.' },
  username_taken: { status: 409, message: 'That username is taken.' },
  room_taken: { status: 409, message: 'That room already has an owner.' },
  timeout: { status: 408, message: 'The request did not arrive in time.' },
  too_large: { status: 413, message: 'The request body is too large.' },
  too_long: { status: 413, message: 'The message is too long.' },
  rate_limited: { status: 429, message: 'Too many requests; slow down.' },
  internal: { status: 500, message: 'Something went wrong on the server.' },
  unavailable: { status: 503, message: 'The backend is unavailable; nothing was stored. Try again.' },
  busy: { status: 503, message: 'The server is busy; try again in a moment.' },
  unconfirmed: {
    status: 503,
    message: 'The backend did not answer in time: the message may have been stored. Resend it with the same nonce or Idempotency-Key.',
  },
  // Frame-only refusals (the socket stays open); status is what they would be over HTTP.
  invalid_frame: { status: 400, message: 'The frame is not a valid Roomcast frame.' },
  unknown_type: { status: 400, message: 'The frame has an unknown type.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;
export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

export const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERRORS, value);
