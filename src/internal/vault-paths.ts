import { constructError, quote } from './validation';

/**
 * Checks a KV path: non-empty, relative (no leading "/"), no trailing "/" (Vault answers 500 or 400
 * to a data path ending in "/"), and no empty, "." or ".." segment.
 */
export function checkKvPath(path: string, field: string, value: string, fix: string): void {
  const segments = value.split('/');
  if (value.trim() === '' || segments.some((segment) => segment === '' || segment === '.' || segment === '..' || segment.trim() !== segment)) {
    const why = value.trim() === '' ? 'is empty'
      : value.startsWith('/') ? 'starts with "/"'
        : value.endsWith('/') ? 'ends with "/"'
          : 'has an empty, ".", ".." or space-padded segment';
    throw constructError(path, `${field} ${quote(value)} ${why}`, fix);
  }
}
