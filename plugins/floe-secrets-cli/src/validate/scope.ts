import { CheckContext } from './checks';

/** Backend access broader than the domains need (the access map's backend findings), as problems. */
export function checkBackendScope(context: CheckContext): void {
  for (const finding of context.map.backendFindings) {
    context.problems.push({
      check: 'backend-scope',
      workload: finding.resource,
      reference: `[${finding.flag}] used by ${finding.usedBy.join(', ')}`,
      message: `over-broad backend access: ${finding.reason}`,
      fix: finding.fix,
    });
  }
}
