import { ChatMessage, Directory, ERRORS, MessageState, MessagesPage, MyRooms, type ErrorCode } from '@roomcast/protocol';

/**
 * Pieces of route schemas that describe answers for the OpenAPI document (`/docs`). Fastify
 * also serializes with a route's response schemas, so every object here allows more properties
 * than it lists: a field added to messages or error bodies is never dropped on its way out.
 */

type Schema = Record<string, unknown>;

/** `schema` with every object in it open to more properties (a copy; TypeBox's own are shared). */
function open(schema: Schema): Schema {
  const copy: Schema = { ...schema };
  if (copy.type === 'object') copy.additionalProperties = true;
  if (copy.properties) copy.properties = Object.fromEntries(Object.entries(copy.properties as Record<string, Schema>).map(([key, value]) => [key, open(value)]));
  if (copy.items) copy.items = open(copy.items as Schema);
  if (Array.isArray(copy.anyOf)) copy.anyOf = (copy.anyOf as Schema[]).map(open);
  return copy;
}

/** A stored message, as `POST` answers it and history lists it. */
export const MessageAnswer = open(ChatMessage);
export const MessagesPageAnswer = open(MessagesPage);
export const DirectoryAnswer = open(Directory);
/** A message in its current state (edited, reacted to), as `PATCH` answers it. */
export const MessageStateAnswer = open(MessageState);
export const MyRoomsAnswer = open(MyRooms);

/**
 * The error answers a route may give, one entry per status, each listing its codes (as an enum)
 * with what they mean: `response: { ...refusals('invalid_room', 'unauthorized') }`. Any route
 * may answer `internal` (500); `not_found` belongs to paths that are not routes.
 */
export function refusals(...codes: ErrorCode[]): Record<number, object> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...codes, 'internal' as const]) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, statusCodes]) => [
      status,
      {
        description: statusCodes.map((code) => `\`${code}\`: ${ERRORS[code].message}`).join('\n\n'),
        type: 'object',
        required: ['error', 'code'],
        additionalProperties: true,
        properties: {
          error: { type: 'string', description: 'A sentence for a person.' },
          code: { type: 'string', enum: statusCodes },
        },
      },
    ]),
  );
}

/** Who may call a route, for the document: an API key, a session cookie, or either. */
export const SECURITY = {
  apiKey: [{ apiKey: [] }],
  session: [{ session: [] }],
  apiKeyOrSession: [{ apiKey: [] }, { session: [] }],
  /** Anyone (a session or key only matters with REQUIRE_LOGIN=true). */
  anyone: [{}, { session: [] }, { apiKey: [] }],
} as const;
