import { IConstruct } from 'constructs';
import type { FloeDomain } from '../floe-domain';
import { assertSameDomain, IFloeSecret } from '../floe-secret';
import { constructError } from './validation';

/**
 * The secret a reference names, checked to be declared and of `userDomain`, for a workload to read.
 *
 * @throws when the reference names no declared secret, or one of another domain
 */
export function requireReadableSecret(user: IConstruct, userDomain: FloeDomain, secret: IFloeSecret | undefined, what: string): IFloeSecret {
  if (!secret) {
    throw constructError(
      user,
      `${what} names no declared secret`,
      'make the reference with SecretReference.fromSecret(secret, key) so the workload can check the key and grant access',
    );
  }
  assertSameDomain(user, userDomain, secret);
  return secret;
}
