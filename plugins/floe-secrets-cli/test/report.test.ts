import { COLOR, PLAIN } from '../src/style';
import { Problem, ValidateResult } from '../src/validate/checks';
import { renderReport } from '../src/validate/report';

const PROBLEM: Problem = { workload: 'floe-sales/Job/load', check: 'secret', reference: 'env secret db-creds key password', message: 'Secret floe-sales/db-creds does not exist', fix: 'create it' };

function result(problems: Problem[]): ValidateResult {
  return { problems, notes: [], errors: [], checked: { secrets: 1, references: 1, backendReads: 1 } };
}

describe('renderReport', () => {
  test('plain: no escape sequence at all', () => {
    const text = renderReport(result([PROBLEM]), PLAIN);
    expect(text).toContain('floe-sales/Job/load\n  ✗ [secret] env secret db-creds key password\n');
    expect(text).toContain('summary: 1 problem(s) in 1 workload(s)/resource(s); ');
    expect(text).not.toContain('\u001b');
    expect(renderReport(result([PROBLEM]))).toBe(text);
  });

  test('in colour: the workload bold, each problem\'s mark and a failing verdict red, a passing one green', () => {
    const text = renderReport(result([PROBLEM]), COLOR);
    expect(text).toContain('\u001b[1mfloe-sales/Job/load\u001b[22m\n  \u001b[31m✗\u001b[39m [secret]');
    expect(text).toContain('summary: \u001b[31m1 problem(s) in 1 workload(s)/resource(s)\u001b[39m; ');
    expect(renderReport(result([]), COLOR)).toContain('summary: \u001b[32mall good\u001b[39m; ');
  });
});
