import { createHash } from 'node:crypto';
import * as nodePath from 'node:path';
import { QUIET_YAML_OPTIONS } from '@floe-secrets/core';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import {
  EntropyThresholds,
  isCredentialKey,
  isHighEntropySecret,
  isPlaceholderToken,
  isReferenceOrPlaceholder,
  redact,
  SCAN_RULE_FIXES,
  ScanRuleId,
  shannonEntropy,
  TOKEN_RULES,
} from './rules';

/** One plaintext credential found by `floe-secrets scan`. It never holds the credential itself. */
export interface ScanFinding {
  /** The file, relative to the working directory when inside it (with `/`), else absolute. */
  readonly path: string;
  /** 1-based line. */
  readonly line: number;
  readonly rule: ScanRuleId;
  /** What was found, without the value. */
  readonly description: string;
  /** At most the token format's prefix, an ellipsis and the length: never the value. */
  readonly redacted: string;
  /** The first 12 hex digits of sha256(rule, path, line, matched text): put it in the allowlist to accept this finding. */
  readonly fingerprint: string;
  /** How to fix findings of this rule. */
  readonly fix: string;
}

/**
 * Accepted findings, from `.floe-secrets-allowlist`: fingerprints, files or directories, and
 * `path:line` entries. Paths are absolute (resolved against the working directory).
 */
export interface Allowlist {
  readonly fingerprints: ReadonlySet<string>;
  readonly paths: ReadonlySet<string>;
  readonly lines: ReadonlyMap<string, ReadonlySet<number>>;
}

/** Options of {@link scanText}. */
export interface ScanTextOptions extends EntropyThresholds {
  /** Parse the text as YAML/JSON (Kubernetes manifests). Default: by extension (.yaml, .yml, .json) or content. */
  readonly yaml?: boolean;
  /**
   * Source code: only quoted literals count as assignments (an unquoted right-hand side is an
   * expression). Default: by extension (.ts, .js, .py, .go, ...).
   */
  readonly code?: boolean;
  /** Findings to leave out. */
  readonly allowlist?: Allowlist;
  /** The directory `path` and the allowlist's paths are relative to. Default: the process's working directory. */
  readonly cwd?: string;
}

/** The findings of one text, and how many the allowlist accepted. */
export interface TextScanResult {
  readonly findings: ScanFinding[];
  readonly allowlisted: number;
}

/** Where a candidate finding is, and what matched; `matched` never leaves this module. */
interface Candidate {
  readonly line: number;
  readonly rule: ScanRuleId;
  readonly description: string;
  readonly matched: string;
  readonly redacted: string;
}

/** The fingerprint of a finding: a short sha256 of its rule, path, line and matched text. */
export function fingerprintOf(rule: ScanRuleId, path: string, line: number, matched: string): string {
  return createHash('sha256').update(`${rule}\0${path}\0${line}\0${matched}`).digest('hex').slice(0, 12);
}

/**
 * Finds plaintext credentials in one file's text (pure: no I/O). `path` is the path shown in
 * findings and used in fingerprints and for the allowlist. Findings are sorted by line; on one line,
 * a Secret's literal hides token matches, and a token match hides the generic high-entropy rules.
 */
export function scanText(text: string, path: string, options: ScanTextOptions = {}): ScanFinding[] {
  return scanTextWithStats(text, path, options).findings;
}

/** {@link scanText}, also counting the findings the allowlist accepted. */
export function scanTextWithStats(text: string, path: string, options: ScanTextOptions = {}): TextScanResult {
  const lines = new LineIndex(text);
  const candidates: Candidate[] = [...tokenCandidates(text, lines), ...assignmentCandidates(text, options.code ?? CODE_FILE.test(path), options)];
  const parseYaml = options.yaml ?? (/\.(ya?ml|json)$/i.test(path) || /^\s*(?:-\s+)?(?:apiVersion|kind)\s*:/m.test(text));
  if (parseYaml) candidates.push(...yamlCandidates(text, options));

  const cwd = options.cwd ?? process.cwd();
  let allowlisted = 0;
  const kept: ScanFinding[] = [];
  const seen = new Set<string>();
  for (const candidate of candidates) {
    const fingerprint = fingerprintOf(candidate.rule, path, candidate.line, candidate.matched);
    if (seen.has(fingerprint)) continue;
    seen.add(fingerprint);
    const finding: ScanFinding = {
      path,
      line: candidate.line,
      rule: candidate.rule,
      description: candidate.description,
      redacted: candidate.redacted,
      fingerprint,
      fix: SCAN_RULE_FIXES[candidate.rule],
    };
    if (options.allowlist && isAllowlisted(finding, options.allowlist, cwd)) {
      allowlisted++;
    } else {
      kept.push(finding);
    }
  }
  return { findings: collapse(kept), allowlisted };
}

const GENERIC_RULES: ReadonlySet<ScanRuleId> = new Set<ScanRuleId>(['high-entropy-env-value', 'credential-assignment']);

/** One finding per cause and line: a Secret literal hides token matches on its line, a token match hides generic ones. */
function collapse(findings: ScanFinding[]): ScanFinding[] {
  const byLine = new Map<number, ScanFinding[]>();
  for (const finding of findings) byLine.set(finding.line, [...(byLine.get(finding.line) ?? []), finding]);
  const result: ScanFinding[] = [];
  for (const onLine of byLine.values()) {
    const secret = onLine.filter((f) => f.rule === 'k8s-secret-data');
    const tokens = onLine.filter((f) => f.rule !== 'k8s-secret-data' && !GENERIC_RULES.has(f.rule));
    if (secret.length > 0) result.push(...secret);
    else if (tokens.length > 0) result.push(...tokens);
    else result.push(...onLine.filter((f) => f.rule === 'high-entropy-env-value').slice(0, 1), ...onLine.filter((f) => f.rule === 'credential-assignment').slice(0, 1));
  }
  return result.sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));
}

/** Parses allowlist text: one entry a line (`fingerprint`, `path`, `path:line`), `#` starts a comment. */
export function parseAllowlist(text: string, cwd: string): Allowlist {
  const fingerprints = new Set<string>();
  const paths = new Set<string>();
  const lines = new Map<string, Set<number>>();
  for (const raw of text.split(/\r?\n/)) {
    const entry = raw.replace(/(?:^|\s)#.*$/, '').trim();
    if (entry === '') continue;
    if (/^[0-9a-f]{12}$/i.test(entry)) fingerprints.add(entry.toLowerCase());
    const withLine = /^(.+):(\d+)$/.exec(entry);
    if (withLine) {
      const file = nodePath.resolve(cwd, withLine[1]);
      lines.set(file, (lines.get(file) ?? new Set<number>()).add(Number(withLine[2])));
    } else {
      paths.add(nodePath.resolve(cwd, entry).replace(/[\\/]+$/, '') || nodePath.sep);
    }
  }
  return { fingerprints, paths, lines };
}

/** Whether the allowlist accepts a finding: by fingerprint, by its file or a directory above it, or by `path:line`. */
export function isAllowlisted(finding: ScanFinding, allowlist: Allowlist, cwd: string): boolean {
  if (allowlist.fingerprints.has(finding.fingerprint)) return true;
  const file = nodePath.resolve(cwd, finding.path);
  if (allowlist.lines.get(file)?.has(finding.line)) return true;
  for (let dir = file; ; dir = nodePath.dirname(dir)) {
    if (allowlist.paths.has(dir)) return true;
    if (nodePath.dirname(dir) === dir) return false;
  }
}

/** Maps offsets to 1-based lines. */
class LineIndex {
  private readonly starts: number[] = [0];

  public constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  public lineOf(offset: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid] <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  }
}

function tokenCandidates(text: string, lines: LineIndex): Candidate[] {
  const result: Candidate[] = [];
  for (const rule of TOKEN_RULES) {
    const pattern = new RegExp(rule.pattern.source, rule.pattern.flags);
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      const matched = match[0];
      if (rule.id !== 'private-key' && isPlaceholderToken(matched)) continue;
      if (rule.accept && !rule.accept(matched)) continue;
      result.push({
        line: lines.lineOf(match.index),
        rule: rule.id,
        description: rule.describe(match),
        matched,
        redacted: redact(matched, rule.reveal),
      });
    }
  }
  return result;
}

/**
 * `KEY=value`, `key: value`, `"key": "value"`, `const apiKey = '…'`: one line each. In code `==` compares; elsewhere
 * `KEY==x` assigns `=x` (as dotenv reads it), so a value that starts with `=` is still seen.
 */
const ASSIGNMENT_PREFIX = /^\s*(?:-\s+)?(?:(?:export|const|let|var|readonly|public|private|protected|static|set)\s+)*(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\1\s*/.source;
const CODE_ASSIGNMENT = new RegExp(`${ASSIGNMENT_PREFIX}(?::=|=(?![=>~])|:(?![:=]))\\s*(.*)$`);
const TEXT_ASSIGNMENT = new RegExp(`${ASSIGNMENT_PREFIX}(?::=|=(?![>~])|:(?![:=]))\\s*(.*)$`);

const CODE_FILE = /\.(?:[cm]?[jt]sx?|py|go|java|kts?|scala|groovy|rb|php|cs|rs|swift|c|cc|cpp|h|hpp|dart|lua|pl)$/i;

function assignmentCandidates(text: string, code: boolean, thresholds: EntropyThresholds): Candidate[] {
  const result: Candidate[] = [];
  text.split('\n').forEach((lineText, i) => {
    if (lineText.length > 4096) return; // minified or data lines: the token rules still see them
    const match = (code ? CODE_ASSIGNMENT : TEXT_ASSIGNMENT).exec(lineText);
    if (!match || !isCredentialKey(match[2])) return;
    const value = literalValue(match[3], code);
    if (value === undefined || !isHighEntropySecret(value, false, thresholds)) return;
    result.push({
      line: i + 1,
      rule: 'credential-assignment',
      description: `"${match[2]}" is assigned a literal that looks like a credential (${shannonEntropy(value).toFixed(1)} bits/char)`,
      matched: value,
      redacted: redact(value),
    });
  });
  return result;
}

/** The literal on the right of an assignment, or undefined when it is an expression (code, a reference, a YAML node). */
function literalValue(rest: string, code: boolean): string | undefined {
  const quote = rest[0];
  if (quote === '"' || quote === "'" || quote === '`') {
    let value = '';
    for (let i = 1; i < rest.length; i++) {
      const ch = rest[i];
      if (ch === '\\' && quote !== "'" && i + 1 < rest.length) {
        value += rest[++i];
      } else if (ch === quote) {
        return value;
      } else {
        value += ch;
      }
    }
    return undefined;
  }
  if (code) return undefined;
  const bare = /^[^\s,;#]+/.exec(rest)?.[0];
  if (bare === undefined || /^[{[!&*|>(]/.test(bare)) return undefined;
  // A regular expression literal, such as /^[a-z]+$/ or /token|secret/i.
  if (/^\/.*[\\^$|()[\]]/.test(bare)) return undefined;
  // Code: a member access or a call, such as process.env.TOKEN or readToken().
  if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$]|\(|\[|\?\.)/.test(bare)) return undefined;
  return bare;
}

/** Kubernetes manifests: Secrets with literal data, pod env vars with literal secret-looking values. */
function yamlCandidates(text: string, thresholds: EntropyThresholds): Candidate[] {
  const lineCounter = new LineCounter();
  let documents;
  try {
    documents = parseAllDocuments(text, { ...QUIET_YAML_OPTIONS, lineCounter, uniqueKeys: false });
  } catch {
    return [];
  }
  if (!Array.isArray(documents)) return [];
  const result: Candidate[] = [];
  const lineOf = (node: unknown): number => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? lineCounter.linePos(range[0]).line : 1;
  };
  const visit = (node: unknown, depth: number): void => {
    if (depth > 200) return;
    if (isSeq(node)) {
      for (const item of node.items) visit(item, depth + 1);
      return;
    }
    if (!isMap(node)) return;
    const get = (key: string): unknown => node.items.find((pair) => isScalar(pair.key) && pair.key.value === key)?.value;
    const scalarString = (value: unknown): string | undefined =>
      (isScalar(value) && typeof value.value === 'string' ? value.value : undefined);

    const kind = get('kind');
    if (isScalar(kind) && kind.value === 'Secret') {
      const metadata = get('metadata');
      const metaGet = (key: string): string | undefined =>
        (isMap(metadata) ? scalarString(metadata.items.find((pair) => isScalar(pair.key) && pair.key.value === key)?.value) : undefined);
      const name = metaGet('name') ?? '(unnamed)';
      const namespace = metaGet('namespace');
      for (const field of ['data', 'stringData']) {
        const data = get(field);
        if (!isMap(data)) continue;
        for (const pair of data.items) {
          if (!isPair(pair) || !isScalar(pair.key)) continue;
          const key = String(pair.key.value);
          const value = isScalar(pair.value) && pair.value.value !== null ? String(pair.value.value) : '';
          if (value.trim() === '' || isTemplateOnly(value)) continue;
          result.push({
            line: lineOf(pair.key),
            rule: 'k8s-secret-data',
            description: `Secret "${name}"${namespace ? ` in namespace "${namespace}"` : ''} has a plaintext value for key "${key}" in ${field}`
              + (field === 'data' ? ' (base64 is not encryption)' : ''),
            matched: `${name}/${field}/${key}`, // the key, not the value: a weak password must not be guessable from a fingerprint
            redacted: redact(value),
          });
        }
      }
    }

    for (const pair of node.items) {
      if (isScalar(pair.key) && pair.key.value === 'env' && isSeq(pair.value)) {
        for (const item of pair.value.items) {
          if (!isMap(item)) continue;
          const envName = scalarString(item.items.find((p) => isScalar(p.key) && p.key.value === 'name')?.value);
          const valueNode = item.items.find((p) => isScalar(p.key) && p.key.value === 'value')?.value;
          const value = scalarString(valueNode);
          if (envName === undefined || value === undefined) continue;
          if (!isHighEntropySecret(value, !isCredentialKey(envName), thresholds)) continue;
          result.push({
            line: lineOf(valueNode),
            rule: 'high-entropy-env-value',
            description: `env var "${envName}" has a literal value that looks like a credential (${shannonEntropy(value.trim()).toFixed(1)} bits/char)`,
            matched: value,
            redacted: redact(value),
          });
        }
      }
      visit(pair.value, depth + 1);
    }
  };
  for (const document of documents) {
    if (document.errors.length > 0) continue; // not YAML (a template, say): the line rules still apply
    visit(document.contents, 0);
  }
  return result;
}

/** A stringData value that is only a template reference (envsubst, Helm, Kustomize), not a literal. */
function isTemplateOnly(value: string): boolean {
  return /^\s*(?:\$\{[^}]+\}|\{\{[\s\S]*\}\}|\$\([^)]+\)|<[^<>]+>)\s*$/.test(value) || (isReferenceOrPlaceholder(value) && /[${}<>]/.test(value));
}
