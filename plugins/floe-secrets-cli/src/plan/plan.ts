import { diffSnapshots } from './diff';
import { Plan } from './model';
import { SideResult } from './read';

/**
 * What changes in access from `base` to `head`, from the access model of each (the access map, the
 * sources, their refresh and rotation): names, keys and metadata, never a value.
 */
export function computePlan(base: SideResult, head: SideResult): Plan {
  const changes = diffSnapshots(base.snapshot, head.snapshot);
  return {
    base: { paths: [base.path], files: base.files.length, objects: base.snapshot.objects },
    head: { paths: [head.path], files: head.files.length, objects: head.snapshot.objects },
    broadens: changes.some((c) => c.broadens),
    changes,
    warnings: [...base.snapshot.warnings.map((w) => `base: ${w}`), ...head.snapshot.warnings.map((w) => `head: ${w}`)],
  };
}
