/**
 * Where the SailPoint tenant API lives, from SAILPOINT_TENANT or SAILPOINT_API_URL.
 *
 * - `tenant: 'acme'` → `https://acme.api.identitynow.com`
 * - `apiUrl` wins over `tenant` when both are set; it is used as is (trailing slashes removed) after
 *   validation: https only, except plain http to a loopback host (127.0.0.0/8, localhost, [::1])
 *   for the local sandbox. No credentials, query or fragment. Its host must be a SailPoint API host
 *   (`{tenant}.api.identitynow.com`, demo and FedRAMP tenants' domains), loopback, or one of
 *   `extraHosts` (SAILPOINT_EXTRA_API_HOSTS): the client secret is sent there.
 *
 * Errors name the environment variable to fix and never echo credentials embedded in a URL.
 */
import { requireAllowedHost, type HostAllowList } from '../http/hosts';
import { isLoopbackHost } from '../http/loopback';

export { isLoopbackHost };

/** SailPoint's API domains: `{tenant}.` followed by one of these (production, demo, FedRAMP tenants). */
export const SAILPOINT_API_DOMAINS = [
  'api.identitynow.com',
  'api.identitynow-demo.com',
  'api.saas.sailpointfedramp.com',
] as const;

const TENANT_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';

export const SAILPOINT_HOSTS: HostAllowList = {
  urlSetting: 'SAILPOINT_API_URL',
  extraHostsSetting: 'SAILPOINT_EXTRA_API_HOSTS',
  serviceHosts: SAILPOINT_API_DOMAINS.map(
    (domain) => new RegExp(`^${TENANT_LABEL}\\.${domain.replace(/\./g, '\\.')}$`),
  ),
  described: SAILPOINT_API_DOMAINS.map((domain) => `{tenant}.${domain}`).join(', '),
};

export function resolveSailPointApiUrl(input: {
  tenant?: string;
  apiUrl?: string;
  /** Hosts besides SailPoint's own that apiUrl may name (SAILPOINT_EXTRA_API_HOSTS). */
  extraHosts?: readonly string[];
}): string {
  const apiUrl = input.apiUrl?.trim();
  if (apiUrl) return validateApiUrl(apiUrl, input.extraHosts ?? []);

  const tenant = input.tenant?.trim();
  if (tenant) {
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(tenant)) {
      throw new Error(
        `SAILPOINT_TENANT must be the tenant name only (letters, digits, '-'), e.g. 'acme' for ` +
          `https://acme.api.identitynow.com; got '${tenant.slice(0, 80)}'. ` +
          'To give a full URL, set SAILPOINT_API_URL instead.',
      );
    }
    return `https://${tenant.toLowerCase()}.api.identitynow.com`;
  }

  throw new Error(
    'SailPoint API location is not configured: set SAILPOINT_TENANT (e.g. acme) or SAILPOINT_API_URL ' +
      '(e.g. https://acme.api.identitynow.com).',
  );
}

function validateApiUrl(raw: string, extraHosts: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(
      'SAILPOINT_API_URL is not a valid absolute URL (expected e.g. https://acme.api.identitynow.com).',
    );
  }
  if (url.username || url.password) {
    throw new Error('SAILPOINT_API_URL must not contain credentials (user:password@); remove them.');
  }
  if (url.search || url.hash) {
    throw new Error(`SAILPOINT_API_URL must not have a query or fragment: ${url.origin}${url.pathname}`);
  }
  if (url.protocol === 'http:') {
    if (!isLoopbackHost(url.hostname)) {
      throw new Error(
        `SAILPOINT_API_URL must use https (plain http is allowed only for loopback hosts 127.0.0.0/8, ` +
          `localhost, [::1]); got ${url.origin}`,
      );
    }
  } else if (url.protocol !== 'https:') {
    throw new Error(`SAILPOINT_API_URL must be an https URL; got protocol '${url.protocol}'.`);
  }
  requireAllowedHost(url.hostname, extraHosts, SAILPOINT_HOSTS);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
