/** Constants the event-trigger tests share with the code they test. */
export { FINDINGS_SOURCE as STALE_TOKEN_FINDINGS_SOURCE } from '../../../functions/stale-token-sweep/sweep';
