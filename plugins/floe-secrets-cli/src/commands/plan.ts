import { Command as Commander } from 'commander';
import { CliCommand, outputOption, PathArgument } from '../command';
import { ExitCode } from '../io';
import { computePlan } from '../plan/plan';
import { readSides } from '../plan/read';
import { PLAN_FORMATS, PlanFormat, renderPlan } from '../plan/render';

/** What `floe-secrets plan` compares: its help text. */
const DESCRIPTION = `What changes in secret access between two synthesized outputs, for a pull
request: BASE (say main's dist/) and HEAD (the pull request's). Each is a file
or a directory of manifests (.yaml, .yml, .json; directories are read
recursively, without cdk8s's construct-metadata.json), read as access-map
reads them.

It lists
  - which ServiceAccount (or User or Group), in which workload, gains or loses
    which Secret and how (env, envFrom, file, RBAC), which keys and mount
    paths, and which Vault paths and files the Vault Agent writes;
  - Secrets and their sources (InfisicalSecret, InfisicalStaticSecret,
    ExternalSecret, ClusterExternalSecret, Vault Secrets Operator, SealedSecret)
    added, removed or changed: keys, backend paths, the Secrets they fill;
  - grants that broaden: list, watch or *, resourceNames dropped, a
    ClusterRoleBinding or a ClusterRole, wildcard resources, a grant to
    everyone, a namespace the subject could not read before;
  - refresh intervals and rotation periods that change (InfisicalSecret
    resyncInterval, ExternalSecret refreshInterval, the floe.dev/rotation-period
    annotation, and the floe.dev/secret-sources annotation on workloads).

Markdown by default, for a pull-request comment (the grants that broaden
first; at most 100 rows a table); -o json lists every change, for bots. When
nothing changes: "no access changes", or an empty change list. It reads names,
keys and metadata only: secret values are never printed.

Exit codes: 0 compared (whatever changed), 1 a grant broadens and
--fail-on-broaden is given, 2 bad arguments or a path that cannot be read.`;

interface PlanOptions {
  readonly output: PlanFormat;
  readonly failOnBroaden: boolean;
}

/** `floe-secrets plan BASE HEAD [-o markdown|json] [--fail-on-broaden]`: what changes in access. */
export const plan: CliCommand = {
  name: 'plan',
  examples: [
    ['floe-secrets plan main/dist dist > plan.md', 'a markdown comment of what the pull request changes in access'],
    ['floe-secrets plan main/dist dist -o json', 'every change as JSON, for a bot'],
    ['floe-secrets plan main/dist dist --fail-on-broaden', 'exit 1 when a grant broadens (CI gate)'],
  ],
  define: () => new Commander('plan')
    .summary('what changes in secret access between two synthesized outputs (for a pull request)')
    .description(DESCRIPTION)
    .addArgument(new PathArgument('<base>', 'the output to compare from: a file or directory of manifests (e.g. main\'s dist)'))
    .addArgument(new PathArgument('<head>', 'the output to compare to (e.g. the pull request\'s dist)'))
    .addOption(outputOption(PLAN_FORMATS, 'markdown'))
    .option('--fail-on-broaden', 'exit 1 when any grant broadens', false),
  run: async ([basePath, headPath], options, io) => {
    const { output, failOnBroaden } = options as PlanOptions;
    const sides = readSides(basePath, headPath, io.cwd);
    for (const side of sides) {
      for (const warning of side.yamlWarnings) io.stderr.write(`floe-secrets plan: warning: ${side.side}: doubtful YAML, read anyway: ${warning}\n`);
      if (side.snapshot.objects === 0) {
        io.stderr.write(`floe-secrets plan: warning: ${side.side}: no Kubernetes objects found in ${side.path} (looked for .yaml, .yml and .json files): `
          + `everything of the other side counts as ${side.side === 'base' ? 'added' : 'removed'}\n`);
      }
    }
    const result = computePlan(...sides);
    io.stdout.write(renderPlan(result, output));
    for (const warning of result.warnings) io.stderr.write(`floe-secrets plan: warning: ${warning}\n`);
    const broadening = result.changes.filter((c) => c.broadens).length;
    if (broadening > 0 && failOnBroaden) {
      io.stderr.write(`floe-secrets plan: ${broadening} change${broadening === 1 ? '' : 's'} broaden${broadening === 1 ? 's' : ''} a grant (--fail-on-broaden)\n`);
      return ExitCode.PROBLEMS;
    }
    return ExitCode.OK;
  },
};
