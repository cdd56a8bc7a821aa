/**
 * Trigger subscriptions (beta). Spec: official/triggers/paths-trigger-subscriptions.yaml,
 * subscription.yaml, subscriptionpostrequest.yaml, eventbridgeconfig.yaml. Scope
 * sp:trigger-service-subscriptions:manage (ORG_ADMIN); user or application auth.
 */
import * as z from 'zod';
import type { SailPointTransport } from '../client';

export const SubscriptionSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: z.string().nullish(),
  triggerId: z.string(),
  triggerName: z.string().nullish(),
  type: z.string(),
  eventBridgeConfig: z.looseObject({ awsAccount: z.string(), awsRegion: z.string() }).nullish(),
  enabled: z.boolean().optional(),
  filter: z.string().nullish(),
});
export type Subscription = z.infer<typeof SubscriptionSchema>;

export interface EventBridgeSubscriptionRequest {
  readonly name: string;
  readonly description?: string;
  readonly triggerId: string;
  readonly awsAccount: string;
  readonly awsRegion: string;
  readonly filter?: string;
}

const PAGE = 250;

/** GET /beta/trigger-subscriptions, every page; `filters` in the standard syntax (id, triggerId, type: eq). */
export async function listTriggerSubscriptions(
  client: SailPointTransport,
  filters?: string,
): Promise<Subscription[]> {
  const all: Subscription[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await client.send({
      operation: 'listTriggerSubscriptions',
      method: 'GET',
      path: '/beta/trigger-subscriptions',
      query: { limit: PAGE, offset, filters },
      responseSchema: z.array(SubscriptionSchema),
    });
    all.push(...page);
    if (page.length < PAGE) return all;
  }
}

/** POST /beta/trigger-subscriptions with type EVENTBRIDGE (enabled). */
export async function createEventBridgeSubscription(
  client: SailPointTransport,
  request: EventBridgeSubscriptionRequest,
): Promise<Subscription> {
  return client.send({
    operation: 'createTriggerSubscription',
    method: 'POST',
    path: '/beta/trigger-subscriptions',
    body: {
      name: request.name,
      ...(request.description ? { description: request.description } : {}),
      triggerId: request.triggerId,
      type: 'EVENTBRIDGE',
      eventBridgeConfig: { awsAccount: request.awsAccount, awsRegion: request.awsRegion },
      enabled: true,
      ...(request.filter ? { filter: request.filter } : {}),
    },
    responseSchema: SubscriptionSchema,
  });
}
