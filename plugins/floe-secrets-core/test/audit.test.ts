import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditEvent, AuditLogger, FileAuditSink, JsonLinesAuditSink } from '../src';

const event = { requester: 'sa', action: 'get', plugin: 'k8s', key: 'db/password', outcome: 'success' } as const;

describe('audit log (REQ-140)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'floe-audit-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('stdout sink writes one JSON object per line with timestamp, requester, action, key and outcome', () => {
    const lines: string[] = [];
    new AuditLogger([new JsonLinesAuditSink({ write: (line) => lines.push(line) })]).record(event);
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    const parsed = JSON.parse(lines[0]) as AuditEvent;
    expect(parsed).toEqual({ ...event, timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) });
  });

  test('a logger made for a person adds onBehalfOf to every event', () => {
    const lines: string[] = [];
    new AuditLogger([new JsonLinesAuditSink({ write: (line) => lines.push(line) })], 'u-1234').record(event);
    expect(JSON.parse(lines[0])).toEqual({ ...event, onBehalfOf: 'u-1234', timestamp: expect.any(String) });
  });

  test('file sink appends to a private daily file and prunes files past the retention (default 90 days)', () => {
    // GIVEN files from 91 and 89 days ago, and a foreign file
    let now = new Date('2026-11-22T10:00:00Z');
    const day = (offset: number) => new Date(now.getTime() - offset * 86_400_000).toISOString().slice(0, 10);
    writeFileSync(join(dir, `audit-${day(91)}.jsonl`), '{}\n');
    writeFileSync(join(dir, `audit-${day(89)}.jsonl`), '{}\n');
    writeFileSync(join(dir, 'notes.txt'), 'keep');

    // WHEN the sink opens and records
    const sink = new FileAuditSink({ directory: dir, now: () => now });
    new AuditLogger([sink]).record(event);

    // THEN
    expect(sink.retentionDays).toBe(90);
    expect(readdirSync(dir).sort()).toEqual([`audit-${day(0)}.jsonl`, `audit-${day(89)}.jsonl`, 'notes.txt'].sort());
    expect(JSON.parse(readFileSync(join(dir, 'audit-2026-11-22.jsonl'), 'utf8'))).toMatchObject(event);
    expect(statSync(join(dir, 'audit-2026-11-22.jsonl')).mode & 0o777).toBe(0o600);

    // AND a new day rolls over and prunes again
    now = new Date('2026-11-24T00:00:01Z');
    sink.write({ ...event, timestamp: now.toISOString() });
    expect(readdirSync(dir)).toContain('audit-2026-11-24.jsonl');
    expect(readdirSync(dir)).not.toContain(`audit-${new Date('2026-08-25').toISOString().slice(0, 10)}.jsonl`);
  });

  test('retention is configurable and validated', () => {
    expect(new FileAuditSink({ directory: dir, retentionDays: 7 }).retentionDays).toBe(7);
    expect(() => new FileAuditSink({ directory: dir, retentionDays: 0 })).toThrow('retentionDays 0 is not a whole number of days of at least 1; pass e.g. 90');
  });

  test('a failing sink never fails the caller', () => {
    const lines: string[] = [];
    const logger = new AuditLogger([{ write: () => { throw new Error('disk full'); } }, new JsonLinesAuditSink({ write: (l) => lines.push(l) })]);
    expect(() => logger.record(event)).not.toThrow();
    expect(lines).toHaveLength(1);
  });
});
