import { ApiObject } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';

/** Construct id of the check, a direct child of the app. */
export const SYNTH_CHECK_ID = 'FloeSecretsSynthCheck';

/**
 * Makes `App.synth()` all or nothing for an app that holds a floe domain.
 *
 * cdk8s writes one file per chart as it renders them, after one validation of the whole app. An
 * object that fails to render (a JSON patch of an escape hatch at a path that does not exist, a
 * lazy value that throws) therefore used to fail the synth after the files of earlier charts were
 * written, leaving a partial app in the output directory for a GitOps tool to pick up. This
 * construct, added once under the app, renders every API object of every chart during that
 * validation, so that any such failure stops the synth before the first file is written.
 *
 * The cost is one extra rendering of each object per `App.synth()`; `Testing.synth(domain)` and
 * a domain's own `toJson()` do not run it.
 */
export function ensureSynthCheck(scope: IConstruct): void {
  const root = scope.node.root;
  if (root.node.tryFindChild(SYNTH_CHECK_ID)) return;
  const check = new Construct(root, SYNTH_CHECK_ID);
  check.node.addValidation({ validate: () => renderProblems(root) });
}

function renderProblems(root: IConstruct): string[] {
  const problems: string[] = [];
  for (const construct of root.node.findAll()) {
    if (!(construct instanceof ApiObject)) continue;
    try {
      construct.toJson();
    } catch (error) {
      // Only the first line: a JSON patch error goes on with the whole document.
      const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
      problems.push(
        `${construct.node.path}: ${construct.kind} ${JSON.stringify(construct.name)} cannot be rendered (${message}); ` +
          'fix the escape hatch (ApiObject.of(...).addJsonPatch) or value that fails; no file of this app was written',
      );
    }
  }
  return problems;
}
