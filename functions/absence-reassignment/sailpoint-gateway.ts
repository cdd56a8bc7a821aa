/**
 * The SailPoint operations the absence workflow needs, as a port, and its adapter over the shared
 * client (as access provisioning's gateway.ts). The workflow depends on the interface; the adapter
 * turns SailPoint's answers into the workflow's terms:
 *   - a person who does not exist is `exists: false` (search 404), never an error;
 *   - a 404 on an identity's configurations is "none" only for a person who exists; for one who
 *     does not, it is UnknownIdentityError (retrying cannot help);
 *   - SailPoint's loop refusal ("This reassignment would create a loop in the reassignment chain",
 *     400) is ReassignmentLoopError, which the delegate chain takes as a reason to pass the delegate
 *     over — not a dead letter.
 */
import { PermanentMessageError } from '../shared/queue/outcomes';
import {
  SailPointNotFoundError,
  SailPointValidationError,
  createReassignmentConfiguration,
  deleteReassignmentConfiguration,
  evaluateReassignmentConfiguration,
  getIdentityDocument,
  getReassignmentConfiguration,
  updateReassignmentConfiguration,
  type ConfigType,
  type CreateReassignmentConfiguration,
  type ReassignmentConfiguration,
  type SailPointTransport,
} from '../shared/sailpoint';
import type { DirectoryIdentity, Landing } from './delegate-chain';

export type ConfigurationRequest = CreateReassignmentConfiguration;

export interface ReassignmentGateway {
  /** The person as SailPoint's identity search has them. */
  identity(identityId: string): Promise<DirectoryIdentity>;
  /** Their configurations (every work type). Throws UnknownIdentityError for a person who does not exist. */
  configurations(identityId: string): Promise<ReassignmentConfiguration>;
  /** POST. Throws ReassignmentLoopError when SailPoint refuses a loop. */
  create(body: ConfigurationRequest): Promise<ReassignmentConfiguration>;
  /** PUT (replaces the work type's configuration). Throws ReassignmentLoopError when SailPoint refuses a loop. */
  replace(identityId: string, body: ConfigurationRequest): Promise<ReassignmentConfiguration>;
  /** DELETE; 'not-found' when there was none (or a retried DELETE already removed it). */
  remove(identityId: string, configType: ConfigType): Promise<'deleted' | 'not-found'>;
  /** Where work of this type sent to the person lands now (evaluate). */
  landing(identityId: string, configType: ConfigType): Promise<Landing>;
}

/** SailPoint refused a configuration because it would close a loop in the reassignment chain. */
export class ReassignmentLoopError extends Error {
  override readonly name = 'ReassignmentLoopError';
  constructor(
    readonly identityId: string,
    readonly reassignedToId: string,
    readonly configType: ConfigType,
    readonly refusal: SailPointValidationError,
  ) {
    super(refusal.message, { cause: refusal });
  }
}

/** The absent person does not exist in SailPoint. */
export class UnknownIdentityError extends PermanentMessageError {
  constructor(readonly identityId: string) {
    super(`the absent identity ${identityId} does not exist in SailPoint`);
  }
}

/** SailPoint's loop refusal, told apart from its other 400s by its text (ISC has no detail code for it). */
export function isLoopRefusal(error: unknown): error is SailPointValidationError {
  return (
    error instanceof SailPointValidationError &&
    error.status === 400 &&
    [error.message, ...error.messages].some((text) => /\bloop\b/i.test(text))
  );
}

export class SailPointReassignmentGateway implements ReassignmentGateway {
  constructor(private readonly client: SailPointTransport) {}

  async identity(identityId: string): Promise<DirectoryIdentity> {
    try {
      const doc = await getIdentityDocument(this.client, identityId);
      return { exists: true, inactive: doc.inactive === true, managerId: doc.manager?.id ?? null };
    } catch (error) {
      if (error instanceof SailPointNotFoundError) return { exists: false, inactive: false, managerId: null };
      throw error;
    }
  }

  async configurations(identityId: string): Promise<ReassignmentConfiguration> {
    const found = await getReassignmentConfiguration(this.client, identityId);
    if (found) return found;
    // 404: ISC's answer for an unknown identity — and possibly for one without configurations.
    if (!(await this.identity(identityId)).exists) throw new UnknownIdentityError(identityId);
    return { identity: { id: identityId }, configDetails: [] };
  }

  async create(body: ConfigurationRequest): Promise<ReassignmentConfiguration> {
    return this.refusingLoops(body, () => createReassignmentConfiguration(this.client, body));
  }

  async replace(identityId: string, body: ConfigurationRequest): Promise<ReassignmentConfiguration> {
    return this.refusingLoops(body, () => updateReassignmentConfiguration(this.client, identityId, body));
  }

  remove(identityId: string, configType: ConfigType): Promise<'deleted' | 'not-found'> {
    return deleteReassignmentConfiguration(this.client, identityId, configType);
  }

  async landing(identityId: string, configType: ConfigType): Promise<Landing> {
    const evaluated = await evaluateReassignmentConfiguration(this.client, identityId, configType);
    return {
      reassignToId: evaluated.reassignToId,
      via: evaluated.lookupTrail.map((step) => step.reassignedToId),
    };
  }

  private async refusingLoops<T>(body: ConfigurationRequest, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (isLoopRefusal(error)) {
        throw new ReassignmentLoopError(body.reassignedFromId, body.reassignedToId, body.configType, error);
      }
      throw error;
    }
  }
}
