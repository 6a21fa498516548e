import { parseDuration } from '@floe-secrets/core';
import { checkSecretKeys, constructError, dnsSubdomainProblem, quote } from './validation';

/** The props every secret source shares, as checked by {@link checkSourceCommon}. */
export interface SourceCommonProps {
  readonly secretName: string;
  readonly keys: string[];
  readonly refreshInterval?: string;
  /** The prop name of the refresh interval in this source, for messages. */
  readonly refreshField: string;
  readonly minRefreshSeconds: number;
  /** The refresh interval the operator uses when none is given. */
  readonly defaultRefreshSeconds: number;
  readonly rotationPeriod?: string;
}

/**
 * Checks the managed Secret's name and keys, the refresh interval and the rotation period of a
 * source before the construct exists.
 *
 * @throws naming `path`, the value and the fix
 */
export function checkSourceCommon(path: string, props: SourceCommonProps): void {
  const nameProblem = dnsSubdomainProblem(props.secretName);
  if (nameProblem) throw constructError(path, `secretName ${quote(props.secretName)} ${nameProblem}`, 'use a name such as "snowflake-credentials"');
  checkSecretKeys(path, props.keys, 'list the keys the managed Secret will hold', 'use the key as it will appear in the managed Secret');
  if (props.refreshInterval !== undefined) {
    const seconds = parseDuration(props.refreshInterval);
    if (seconds === undefined) {
      throw constructError(path, `${props.refreshField} ${quote(props.refreshInterval)} is not a duration`, 'write it like "60s", "5m" or "1h30m"');
    }
    if (seconds < props.minRefreshSeconds) {
      throw constructError(
        path,
        `${props.refreshField} ${quote(props.refreshInterval)} is under ${props.minRefreshSeconds}s, the operator's minimum`,
        `use at least "${props.minRefreshSeconds}s"`,
      );
    }
  }
  if (props.rotationPeriod !== undefined) {
    const seconds = parseDuration(props.rotationPeriod);
    if (seconds === undefined || seconds <= 0) {
      throw constructError(path, `rotationPeriod ${quote(props.rotationPeriod)} is not a positive duration`, 'write it like "24h" or "30m"');
    }
    const refresh = props.refreshInterval === undefined ? props.defaultRefreshSeconds : parseDuration(props.refreshInterval)!;
    if (refresh >= seconds) {
      throw constructError(
        path,
        `${props.refreshField} ${quote(props.refreshInterval ?? `${props.defaultRefreshSeconds}s`)} is not shorter than rotationPeriod ${quote(props.rotationPeriod)}, so the Secret could hold an expired credential`,
        'refresh more often than the credential rotates',
      );
    }
  }
}
