import { ValidateResult } from './checks';
import { PLAIN, Style } from '../style';

/**
 * The readable report: problems grouped by workload, each with its fix, then notes and a summary.
 * No values, ever. With a colour `style` (a terminal), workloads are bold, problems red and the
 * verdict red or green.
 */
export function renderReport(result: ValidateResult, style: Style = PLAIN): string {
  const lines: string[] = [];
  const byWorkload = new Map<string, typeof result.problems>();
  for (const p of result.problems) {
    const group = byWorkload.get(p.workload);
    if (group) group.push(p);
    else byWorkload.set(p.workload, [p]);
  }
  for (const workload of [...byWorkload.keys()].sort()) {
    lines.push(style.bold(workload));
    for (const p of byWorkload.get(workload)!) {
      lines.push(`  ${style.red('✗')} [${p.check}] ${p.reference}`, `      ${p.message}`, `      fix: ${p.fix}`);
    }
    lines.push('');
  }
  if (result.notes.length > 0) lines.push('notes:', ...result.notes.map((n) => `  - ${n}`), '');
  if (result.errors.length > 0) lines.push('could not check:', ...result.errors.map((e) => `  - ${e}`), '');
  const { secrets, references, backendReads } = result.checked;
  const verdict = result.errors.length > 0
    ? `could not check everything (${result.errors.length} error(s))`
    : result.problems.length === 0 ? 'all good' : `${result.problems.length} problem(s) in ${byWorkload.size} workload(s)/resource(s)`;
  const colored = result.errors.length === 0 && result.problems.length === 0 ? style.green(verdict) : style.red(verdict);
  lines.push(`summary: ${colored}; ${references} reference(s), ${secrets} secret(s) checked against a backend, ${backendReads} backend read(s)`);
  return `${lines.join('\n')}\n`;
}
