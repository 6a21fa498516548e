import type { InfisicalAuthentication } from '../infisical-secret-source';
import { describeValue, isRecord, optionalString, requireString } from './runtime-props';
import { constructError, quote } from './validation';

/** Checks of {@link InfisicalSecretSource} props that need nothing of the construct's module at run time. */

/** An Infisical slug, as the platform manifest checks it. */
export const SLUG = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Hosts plain http may reach: the loopback addresses (127.0.0.0/8, ::1) and localhost. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * Checks a service address as the platform manifest does: https, or http to a loopback host only;
 * no user name or password (it would be written into the synthesized YAML), no query or fragment.
 * A URL that could hold a password (any "@") is never quoted.
 */
export function checkServiceUrl(path: string, field: string, value: string, example: string): void {
  // A user name, password, query or fragment may hold a credential: such a URL is never quoted.
  const shown = /[@?#]/.test(value) ? `${field} (not shown: it may hold a credential)` : `${field} ${quote(value)}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw constructError(path, `${shown} is not a URL`, example);
  }
  if (url.username !== '' || url.password !== '' || value.includes('@')) {
    throw constructError(path, `${shown} holds a user name or password, which would be written into the synthesized YAML`, 'remove them: the operator authenticates with the credentials its authentication names');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw constructError(path, `${shown} is not an https URL`, example);
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw constructError(path, `${shown} uses plain http to a host other than localhost`, 'use https (plain http is only allowed for localhost, 127.0.0.0/8 and [::1])');
  }
  if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) {
    throw constructError(path, `${shown} has a query or fragment`, example);
  }
  if (!/^https?:\/\/[^/]+(\/[^?#]*)?$/.test(value) || value.endsWith('/')) throw constructError(path, `${shown} is not a service address`, example);
}

/** Checks the Infisical site URL: {@link checkServiceUrl}, and without "/api" (the operator adds it). */
export function checkSiteUrl(path: string, siteUrl: string): void {
  const example = 'give the instance URL without a trailing "/" or "/api", e.g. "https://infisical.example.com"';
  checkServiceUrl(path, 'siteUrl', siteUrl, example);
  if (siteUrl.endsWith('/api')) throw constructError(path, `siteUrl ${quote(siteUrl)} is not a site URL`, example);
}

/** Checks the shape of an authentication built without the factories (untyped input). */
export function checkAuthentication(path: string, auth: unknown): void {
  const fix = 'create it with InfisicalAuthentication.universalAuth({ name, namespace }) or InfisicalAuthentication.kubernetesAuth(...)';
  const a = auth as Partial<InfisicalAuthentication> | undefined;
  if (!isRecord(a) || (a.method !== 'universal' && a.method !== 'kubernetes') || !isRecord(a.ref)) {
    throw constructError(path, auth === undefined ? 'authentication is missing' : `authentication is not an InfisicalAuthentication, got ${describeValue(auth)}`, fix);
  }
  requireString(path, 'authentication name', a.ref.name, 'reference the Secret or ServiceAccount by its Kubernetes name');
  requireString(path, 'authentication namespace', a.ref.namespace, 'reference the Secret or ServiceAccount by its Kubernetes namespace');
  optionalString(path, 'kubernetesAuth identityId', a.identityId, 'give the machine identity id');
}


/** Checks a folder path: from the project root, without empty, "." or ".." folders. */
export function checkSecretsPath(path: string, secretsPath: string): void {
  if (!secretsPath.startsWith('/')) {
    throw constructError(path, `secretsPath ${quote(secretsPath)} does not start with "/"`, `write it from the project root, e.g. "/${secretsPath}"`);
  }
  const segments = secretsPath === '/' ? [] : secretsPath.slice(1).replace(/\/$/, '').split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw constructError(path, `secretsPath ${quote(secretsPath)} has an empty, "." or ".." folder`, 'write the folder as a plain path from the project root, e.g. "/compute/snowflake"');
  }
}
