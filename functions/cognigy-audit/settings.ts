/**
 * Settings of the Cognigy.AI credential audit: the single place its environment variables are
 * declared (docs/cognigy-audit.md lists them with their defaults).
 */
import * as z from 'zod';
import { parseSettings, setting, type Env } from '../shared/config';
import { COGNIGY_HOSTS, parseCognigyApiUrl } from '../shared/cognigy/client';
import { cognigySettings } from '../shared/cognigy/from-settings';
import { requireAllowedHost } from '../shared/http/hosts';
import { TABLES } from '../shared/tables';
import { DEFAULT_API_KEY_POLICY, type ApiKeyPolicy } from './api-key-policy';
import { DEFAULT_RIGHTS_MANIFEST, RightsManifestSchema } from './manifest';

const CredentialOwnerSchema = z.strictObject({
  id: z.string({ error: 'id is required' }).trim().min(1, { error: 'id is required' }),
  displayName: z.string().trim().min(1).optional(),
  email: z.email({ error: 'email must be an e-mail address' }).optional(),
});

export const cognigyAuditSettings = cognigySettings
  .extend({
    [TABLES.findings.envVar]: z.string({ error: 'is required (the findings table name)' }).min(1),
    /** SNS topic for notifications; unset locally (the demo prints them). */
    NOTIFICATIONS_TOPIC_ARN: z.string().optional(),
    /** JSON rights manifest (see manifest.ts). */
    COGNIGY_RIGHTS_MANIFEST: setting.json(RightsManifestSchema, DEFAULT_RIGHTS_MANIFEST),
    COGNIGY_KEY_WARN_AFTER_DAYS: setting.integer(DEFAULT_API_KEY_POLICY.warnAfterDays, { min: 1, max: 3650 }),
    COGNIGY_KEY_FLAG_AFTER_DAYS: setting.integer(DEFAULT_API_KEY_POLICY.flagAfterDays, { min: 1, max: 3650 }),
    COGNIGY_MAX_ACTIVE_KEYS: setting.integer(DEFAULT_API_KEY_POLICY.maxActiveKeys, { min: 1, max: 100 }),
    /**
     * Who answers for the automation's Cognigy user (JSON {"id", "displayName"?, "email"?}; the id is
     * e.g. their SailPoint identity id): named in every Cognigy finding, its notifications carry
     * ownerId/ownerEmail attributes. Unset: the findings have no owner.
     */
    COGNIGY_CREDENTIAL_OWNER: setting.json(CredentialOwnerSchema.nullable(), null),
  })
  .superRefine((s, ctx) => {
    // The key is sent to this host: refuse one that is not Cognigy's (or listed) at start.
    try {
      requireAllowedHost(
        parseCognigyApiUrl(s.COGNIGY_API_URL).hostname,
        s.COGNIGY_EXTRA_API_HOSTS,
        COGNIGY_HOSTS,
      );
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['COGNIGY_API_URL'], message: (error as Error).message });
    }
    if (s.COGNIGY_KEY_WARN_AFTER_DAYS >= s.COGNIGY_KEY_FLAG_AFTER_DAYS) {
      ctx.addIssue({
        code: 'custom',
        path: ['COGNIGY_KEY_WARN_AFTER_DAYS'],
        message: `must be less than COGNIGY_KEY_FLAG_AFTER_DAYS (${s.COGNIGY_KEY_FLAG_AFTER_DAYS})`,
      });
    }
  });

export type CognigyAuditSettings = z.infer<typeof cognigyAuditSettings>;

export function parseCognigyAuditSettings(env: Env = process.env): CognigyAuditSettings {
  return parseSettings(cognigyAuditSettings, env);
}

export function keyPolicyOf(settings: CognigyAuditSettings): ApiKeyPolicy {
  return {
    warnAfterDays: settings.COGNIGY_KEY_WARN_AFTER_DAYS,
    flagAfterDays: settings.COGNIGY_KEY_FLAG_AFTER_DAYS,
    maxActiveKeys: settings.COGNIGY_MAX_ACTIVE_KEYS,
  };
}
