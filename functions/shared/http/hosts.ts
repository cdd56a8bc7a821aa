/**
 * Which hosts a client may send its credentials to: the service's own API domains, hosts the
 * operator listed explicitly (a vanity or on-premises domain), and loopback (the local sandbox).
 * Checked before the first request, so a mistyped or tampered URL never receives a secret.
 */
import { isLoopbackHost } from './loopback';

export interface HostAllowList {
  /** The setting holding the URL, for messages (e.g. SAILPOINT_API_URL). */
  readonly urlSetting: string;
  /** The setting listing extra hosts (e.g. SAILPOINT_EXTRA_API_HOSTS). */
  readonly extraHostsSetting: string;
  /** The service's own API hosts, as patterns over the lower-cased host name. */
  readonly serviceHosts: readonly RegExp[];
  /** How the service's hosts look, for messages (e.g. '{tenant}.api.identitynow.com'). */
  readonly described: string;
}

/** Throws an error naming both settings when `hostname` is neither the service's, listed, nor loopback. */
export function requireAllowedHost(
  hostname: string,
  extraHosts: readonly string[],
  allowList: HostAllowList,
): void {
  const host = hostname.toLowerCase();
  if (isLoopbackHost(host)) return;
  if (allowList.serviceHosts.some((pattern) => pattern.test(host))) return;
  if (extraHosts.some((extra) => extra.trim().toLowerCase() === host)) return;
  throw new Error(
    `${allowList.urlSetting} host ${host.slice(0, 100)} is not an API host of the service ` +
      `(${allowList.described}); if it is yours (a vanity or proxy domain), add it to ${allowList.extraHostsSetting}.`,
  );
}
