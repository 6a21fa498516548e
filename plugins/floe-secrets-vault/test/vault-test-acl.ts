/**
 * Vault ACL policies for the VaultTestServer: the HCL subset Vault policies are written in, parsed
 * as Vault's `ParseACLPolicy` does (its keys, capabilities and error texts), and path matching with
 * Vault's rules: an exact path wins; otherwise a trailing `*` is a prefix glob and a `+` segment
 * matches any one segment, and of the matching paths the one with the highest priority decides
 * (Vault's documented order: the first `+` or `*` later, not a glob, fewer `+` segments, longer,
 * then greater). Capabilities of the same path in several policies add up; `deny` wins there.
 */

/** A Vault ACL capability. */
export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'deny' | 'sudo';
/** A policy: ACL path (a trailing `*` is a prefix glob, a `+` segment a wildcard) to capabilities. */
export interface PolicyRules { readonly [path: string]: readonly Capability[] }

const CAPABILITIES: readonly Capability[] = ['create', 'read', 'update', 'patch', 'delete', 'list', 'deny', 'sudo'];
/** Old-style `policy = "..."` and the capabilities Vault maps it to. */
const OLD_POLICIES: { readonly [policy: string]: readonly Capability[] } = {
  deny: ['deny'],
  read: ['read', 'list'],
  write: ['create', 'read', 'update', 'delete', 'list'],
  sudo: ['create', 'read', 'update', 'delete', 'list', 'sudo'],
};
const PATH_KEYS = ['comment', 'policy', 'capabilities', 'allowed_parameters', 'denied_parameters', 'required_parameters',
  'min_wrapping_ttl', 'max_wrapping_ttl', 'mfa_methods', 'control_group'];

/** A policy Vault refuses, with Vault's message (`failed to parse policy: ...`). */
export class PolicyParseError extends Error {}

type Value = string | number | boolean | Value[] | { [key: string]: Value };
/** A `key = value` or `key "label" { ... }` item of a body. */
interface Item { readonly key: string; readonly label?: string; readonly line: number; readonly value: Value }
interface Token { readonly kind: 'string' | 'ident' | 'number' | 'punct'; readonly text: string; readonly line: number; readonly column: number }

/**
 * Parses an ACL policy as Vault does: top-level `name` and `path "<path>" { ... }` blocks, each
 * with `capabilities = [...]` or an old-style `policy = "read"` (and the other keys Vault allows,
 * read and ignored). Several blocks of one path add up.
 *
 * @throws PolicyParseError with Vault's message
 */
export function parsePolicy(text: string): PolicyRules {
  const tokens = tokenize(text);
  let at = 0;
  const fail = (token: Token | undefined, message: string): never => {
    const where = token ? `At ${token.line}:${token.column}` : 'At EOF';
    throw new PolicyParseError(`failed to parse policy: ${where}: ${message}`);
  };
  const next = (): Token | undefined => tokens[at++];
  const value = (): Value => {
    const token = next();
    if (!token) return fail(token, 'expected a value');
    if (token.kind === 'string') return token.text;
    if (token.kind === 'number') return Number(token.text);
    if (token.kind === 'ident' && (token.text === 'true' || token.text === 'false')) return token.text === 'true';
    if (token.text === '[') {
      const list: Value[] = [];
      while (tokens[at]?.text !== ']') {
        list.push(value());
        if (tokens[at]?.text === ',') at++;
        else if (tokens[at]?.text !== ']') fail(tokens[at], 'expected "," or "]"');
      }
      at++;
      return list;
    }
    if (token.text === '{') return object('}').values;
    return fail(token, `unexpected ${token.kind === 'punct' ? `"${token.text}"` : token.kind}`);
  };
  /** `key = value` and `key "label" { ... }` items up to `close` (or the end). */
  const object = (close: string | undefined): { values: { [key: string]: Value }; items: Item[] } => {
    const values: { [key: string]: Value } = {};
    const items: Item[] = [];
    for (;;) {
      const token = tokens[at];
      if (close === undefined ? token === undefined : token?.text === close) {
        at++;
        return { values, items };
      }
      const key = next();
      if (!key || (key.kind !== 'ident' && key.kind !== 'string')) return fail(key, 'expected a key');
      let label: string | undefined;
      if (tokens[at]?.kind === 'string') label = next()!.text;
      if (tokens[at]?.text === '=') {
        at++;
        const v = value();
        values[key.text] = v;
        items.push({ key: key.text, line: key.line, value: v });
      } else if (tokens[at]?.text === '{') {
        at++;
        const inner = object('}').values;
        values[key.text] = label === undefined ? inner : { [label]: inner };
        items.push({ key: key.text, label, line: key.line, value: inner });
      } else {
        fail(tokens[at], 'expected "=" or "{"');
      }
      if (tokens[at]?.text === ',') at++;
    }
  };

  const root = object(undefined);
  const rules: { [path: string]: Set<Capability> } = {};
  for (const item of root.items) {
    if (item.key !== 'name' && item.key !== 'path') throw new PolicyParseError(`failed to parse policy: invalid key "${item.key}" on line ${item.line}`);
    if (item.key !== 'path') continue;
    const blocks: Array<[string, Value]> = item.label !== undefined ? [[item.label, item.value]]
      : typeof item.value === 'object' && !Array.isArray(item.value) ? Object.entries(item.value) : [];
    for (const [written, body] of blocks) {
      const fields = typeof body === 'object' && !Array.isArray(body) ? body : {};
      for (const key of Object.keys(fields)) {
        if (!PATH_KEYS.includes(key)) throw new PolicyParseError(`failed to parse policy: path "${written}": invalid key "${key}" on line ${item.line}`);
      }
      const path = written.startsWith('/') ? written.slice(1) : written;
      if (path.includes('+*')) throw new PolicyParseError(`failed to parse policy: path "${path}": invalid use of wildcards ('+*' is forbidden)`);
      const capabilities = new Set<Capability>();
      const policy = fields.policy;
      if (policy !== undefined) {
        const mapped = typeof policy === 'string' ? OLD_POLICIES[policy] : undefined;
        if (!mapped) throw new PolicyParseError(`failed to parse policy: path "${written}": invalid policy "${String(policy)}"`);
        mapped.forEach((c) => capabilities.add(c));
      }
      const listed = fields.capabilities;
      for (const capability of Array.isArray(listed) ? listed : listed === undefined ? [] : [listed]) {
        if (typeof capability !== 'string' || !CAPABILITIES.includes(capability as Capability)) {
          throw new PolicyParseError(`failed to parse policy: path "${written}": invalid capability "${String(capability)}"`);
        }
        capabilities.add(capability as Capability);
      }
      const merged = rules[path] ?? new Set<Capability>();
      capabilities.forEach((c) => merged.add(c));
      rules[path] = merged;
    }
  }
  return Object.fromEntries(Object.entries(rules).map(([path, caps]) => [path, caps.has('deny') ? ['deny'] : [...caps]]));
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  const fail = (message: string): never => {
    throw new PolicyParseError(`failed to parse policy: At ${line}:${i - lineStart + 1}: ${message}`);
  };
  while (i < text.length) {
    const c = text[i];
    const column = i - lineStart + 1;
    if (c === '\n') {
      line++;
      lineStart = ++i;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) fail('comment not terminated');
      for (; i < end + 2; i++) if (text[i] === '\n') (line++, lineStart = i + 1);
    } else if (c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length || text[i] === '\n') fail('literal not terminated');
        if (text[i] === '"') break;
        if (text[i] === '\\') {
          const escaped = text[i + 1];
          value += escaped === 'n' ? '\n' : escaped === 't' ? '\t' : escaped;
          i += 2;
        } else {
          value += text[i++];
        }
      }
      i++;
      tokens.push({ kind: 'string', text: value, line, column });
    } else if ('{}[]=,'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, line, column });
      i++;
    } else if (/[0-9-]/.test(c)) {
      const match = /^-?[0-9]+(\.[0-9]+)?/.exec(text.slice(i));
      if (!match) fail(`illegal char "${c}"`);
      tokens.push({ kind: 'number', text: match![0], line, column });
      i += match![0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const match = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(text.slice(i))!;
      tokens.push({ kind: 'ident', text: match[0], line, column });
      i += match[0].length;
    } else {
      fail(`illegal char "${c}"`);
    }
  }
  return tokens;
}

interface Candidate {
  readonly firstWildcard: number;
  readonly isPrefix: boolean;
  readonly wildcards: number;
  readonly wcPath: string;
  readonly capabilities: ReadonlySet<Capability>;
}

/**
 * The capabilities a set of policies gives on `path` for an operation (`list` also tries the path
 * without its trailing `/`, as Vault does), by Vault's matching rules; empty when no path matches.
 */
export function capabilitiesOn(policies: readonly PolicyRules[], path: string, list: boolean): ReadonlySet<Capability> {
  const merged = new Map<string, Set<Capability>>();
  for (const rules of policies) {
    for (const [pattern, capabilities] of Object.entries(rules)) {
      const set = merged.get(pattern) ?? new Set<Capability>();
      capabilities.forEach((c) => set.add(c));
      merged.set(pattern, set);
    }
  }
  const finish = (caps: Set<Capability>): ReadonlySet<Capability> => (caps.has('deny') ? new Set<Capability>(['deny']) : caps);
  const isSegmentPattern = (p: string) => p === '+' || p.includes('/+') || p.startsWith('+/');
  // 1. an exact path
  for (const candidate of list ? [path, path.replace(/\/$/, '')] : [path]) {
    const exact = merged.get(candidate);
    if (exact && !candidate.endsWith('*') && !isSegmentPattern(candidate)) return finish(exact);
  }
  const candidates: Candidate[] = [];
  // 2. the longest prefix glob without + segments
  let longest: string | undefined;
  for (const pattern of merged.keys()) {
    if (!pattern.endsWith('*') || isSegmentPattern(pattern)) continue;
    const stem = pattern.slice(0, -1);
    if (path.startsWith(stem) && (longest === undefined || stem.length > longest.length - 1)) longest = pattern;
  }
  if (longest !== undefined) {
    const stem = longest.slice(0, -1);
    candidates.push({ firstWildcard: stem.length, isPrefix: true, wildcards: 0, wcPath: stem, capabilities: merged.get(longest)! });
  }
  // 3. paths with + segments
  const parts = path.split('/');
  for (const [pattern, capabilities] of merged) {
    if (!isSegmentPattern(pattern)) continue;
    const isPrefix = pattern.endsWith('*');
    const wcPath = isPrefix ? pattern.slice(0, -1) : pattern;
    const segments = wcPath.split('/');
    if ((!isPrefix && segments.length !== parts.length) || parts.length < segments.length) continue;
    let wildcards = 0;
    const matches = segments.every((segment, i) => {
      if (segment === '+') return ++wildcards > 0;
      return segment === parts[i] || (isPrefix && i === segments.length - 1 && parts[i].startsWith(segment));
    });
    if (matches) candidates.push({ firstWildcard: pattern.indexOf('+'), isPrefix, wildcards, wcPath, capabilities });
  }
  if (candidates.length === 0) return new Set();
  candidates.sort(lowerFirst);
  return finish(new Set(candidates[candidates.length - 1].capabilities));
}

/** Vault's priority order, lowest first. */
function lowerFirst(a: Candidate, b: Candidate): number {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard - b.firstWildcard;
  if (a.isPrefix !== b.isPrefix) return a.isPrefix ? -1 : 1;
  if (a.wildcards !== b.wildcards) return b.wildcards - a.wildcards;
  if (a.wcPath.length !== b.wcPath.length) return a.wcPath.length - b.wcPath.length;
  return a.wcPath < b.wcPath ? -1 : a.wcPath > b.wcPath ? 1 : 0;
}
