/**
 * GET /v2.1/users/me/apikeys — the API keys of the user the calling key belongs to.
 *
 * Always v2.1: v2.0 of this route returns every key in plain text. Even so, the schema below keeps
 * only metadata; zod drops any other field (a plaintext `apiKey`/`key` from a misbehaving server
 * included), so a key value can never reach our state, findings or logs through this module.
 */
import * as z from 'zod';
import type { CognigyApi } from '../client';

export interface CognigyApiKey {
  readonly id: string;
  readonly name?: string;
  /** Unix seconds. */
  readonly createdAt: number;
  /** Masked preview ('8a4f••••••••7c2e': first 4 + mask + last 4), when the server sends one. */
  readonly keyPreview?: string;
}

const ApiKeySchema = z
  .object({
    _id: z.string().min(1),
    name: z.string().optional(),
    createdAt: z.number().int().nonnegative(),
    keyPreview: z.string().optional(),
  })
  .transform((raw): CognigyApiKey => ({
    id: raw._id,
    name: raw.name,
    createdAt: raw.createdAt,
    keyPreview: raw.keyPreview,
  }));

export const ApiKeyPageSchema = z.union([
  z.object({
    items: z.array(ApiKeySchema),
    total: z.number().optional(),
    nextCursor: z.string().nullish(),
  }),
  // A bare array (as some Cognigy list routes answer) is one complete page.
  z.array(ApiKeySchema).transform((items) => ({ items, total: items.length, nextCursor: undefined })),
]);

/** Cursor pages are followed to the end; this bound only stops a server that never ends them. */
const MAX_PAGES = 50;
const PAGE_SIZE = 100;

export async function listOwnApiKeys(
  client: CognigyApi,
): Promise<{ keys: CognigyApiKey[]; traceId?: string }> {
  const keys: CognigyApiKey[] = [];
  let cursor: string | undefined;
  let traceId: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const response = await client.get({
      operation: 'listOwnApiKeys',
      path: '/v2.1/users/me/apikeys',
      query: { limit: String(PAGE_SIZE), ...(cursor ? { next: cursor } : {}) },
      responseSchema: ApiKeyPageSchema,
    });
    traceId ??= response.traceId;
    keys.push(...response.data.items);
    cursor = response.data.nextCursor ?? undefined;
    if (!cursor || response.data.items.length === 0) return { keys, traceId };
  }
  throw new Error(`Cognigy listOwnApiKeys returned more than ${MAX_PAGES} pages; refusing to continue`);
}
