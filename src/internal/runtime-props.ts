import type { IConstruct } from 'constructs';
import type { IFloeSecret } from '../floe-secret';
import { constructError, quote } from './validation';

/**
 * Runtime checks of props for callers without a type checker (plain JavaScript, JSON turned into
 * props). Each throws the library's construct error, naming the path, the field, what it received
 * and the fix. A received string is described as "a string", never quoted: these checks run before
 * the library knows whether the field could hold a secret.
 */

/** What a value is, for "must be X, got Y" messages: its content only for numbers and booleans. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${quote(value)}`;
  if (typeof value === 'string') return 'a string';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** Whether `value` is a non-null object that is not a list. */
export function isRecord(value: unknown): value is { [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks that the props argument is an object.
 *
 * @throws naming `path` and an example of the props
 */
export function requireProps(path: string, props: unknown, example: string): void {
  if (!isRecord(props)) throw constructError(path, `props must be an object, got ${describeValue(props)}`, `pass the props, e.g. ${example}`);
}

/** Checks a required string field. */
export function requireString(path: string, field: string, value: unknown, fix: string): void {
  if (typeof value !== 'string') throw constructError(path, mustBe(field, 'a string', value), fix);
}

/** Checks an optional string field. */
export function optionalString(path: string, field: string, value: unknown, fix: string): void {
  if (value !== undefined) requireString(path, field, value, fix);
}

/** Checks an optional number field (its range is checked by the construct). */
export function optionalNumber(path: string, field: string, value: unknown, fix: string): void {
  if (value !== undefined && typeof value !== 'number') throw constructError(path, mustBe(field, 'a number', value), fix);
}

/** Checks an optional boolean field. */
export function optionalBoolean(path: string, field: string, value: unknown, fix: string): void {
  if (value !== undefined && typeof value !== 'boolean') throw constructError(path, mustBe(field, 'true or false', value), fix);
}

/** Checks a required list field; returns it. */
export function requireList(path: string, field: string, value: unknown, fix: string): unknown[] {
  if (!Array.isArray(value)) throw constructError(path, mustBe(field, 'a list', value), fix);
  return value;
}

/** Checks a required list of strings. */
export function requireStringList(path: string, field: string, value: unknown, fix: string): void {
  requireList(path, field, value, fix).forEach((item, index) => requireString(path, `${field}[${index}]`, item, fix));
}

/** Checks an optional list of strings. */
export function optionalStringList(path: string, field: string, value: unknown, fix: string): void {
  if (value !== undefined) requireStringList(path, field, value, fix);
}

/** Checks an optional map from strings to strings. */
export function optionalStringMap(path: string, field: string, value: unknown, fix: string): void {
  if (value === undefined) return;
  if (!isRecord(value)) throw constructError(path, mustBe(field, 'a map of strings', value), fix);
  for (const [key, item] of Object.entries(value)) requireString(path, `${field}[${quote(key)}]`, item, fix);
}

/** Checks a required object field. */
export function requireRecord(path: string, field: string, value: unknown, fix: string): void {
  if (!isRecord(value)) throw constructError(path, mustBe(field, 'an object', value), fix);
}

/**
 * Checks that an enum field holds one of its values, so that an unknown value is refused rather
 * than silently read as another one.
 */
export function optionalOneOf(path: string, field: string, value: unknown, allowed: readonly string[], fix: string): void {
  if (value === undefined || (typeof value === 'string' && allowed.includes(value))) return;
  const got = typeof value === 'string' ? quote(value) : describeValue(value);
  throw constructError(path, `${field} ${got} is not one of ${allowed.join(', ')}`, fix);
}

function mustBe(field: string, what: string, value: unknown): string {
  return value === undefined ? `${field} is missing (expected ${what})` : `${field} must be ${what}, got ${describeValue(value)}`;
}

/** Checks that `value` is an {@link IFloeSecret} (for untyped callers). */
export function requireFloeSecret(owner: IConstruct | string, what: string, value: unknown): void {
  const secret = value as Partial<IFloeSecret> | undefined;
  if (!isRecord(secret) || typeof secret.secretName !== 'string' || typeof secret.grantRead !== 'function') {
    throw constructError(owner, `${what} must be a declared secret (an IFloeSecret), got ${describeValue(value)}`, 'declare it with FloeSecret.fromSecretName(scope, id, name, { keys }) or take it from a source\'s .secret');
  }
}
