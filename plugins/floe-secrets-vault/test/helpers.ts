import { randomBytes } from 'node:crypto';
import { PluginOptions } from '@floe-secrets/core';

/** A random value (token, secret) that tests check never leaks. */
export const random = (): string => `r-${randomBytes(12).toString('hex')}`;

/** Retries fast enough for tests, still bounded like production. */
export const fast: PluginOptions = { retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20, totalTimeoutMs: 4_000, attemptTimeoutMs: 2_000 } };

/** The error `promise` rejects with; fails the test when it resolves. */
export const failure = async (promise: Promise<unknown>): Promise<Error> => promise.then(() => {
  throw new Error('expected a failure');
}, (error: Error) => error);
