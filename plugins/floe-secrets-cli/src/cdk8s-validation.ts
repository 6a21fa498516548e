import { readFileSync } from 'node:fs';
import { CliIO } from './io';
import { expandHome } from './paths';
import { runValidation } from './validate/run';

/** The parts of cdk8s-cli's ValidationContext this plugin uses. */
export interface Cdk8sValidationContext {
  /** The synthesized manifest files. */
  readonly manifests: readonly string[];
  /** The report cdk8s prints and fails the synth on. */
  readonly report: {
    addViolation(violation: {
      readonly ruleName: string;
      readonly recommendation: string;
      readonly fix: string;
      readonly violatingResources: ReadonlyArray<{
        readonly resourceName: string;
        readonly locations: readonly string[];
        readonly manifestPath: string;
      }>;
    }): void;
    submit(status: 'success' | 'failure', metadata?: { readonly [key: string]: string }): void;
  };
}

/** Properties of {@link FloeSecretsValidation}, from `properties:` in cdk8s.yaml. */
export interface FloeSecretsValidationProps {
  /**
   * The platform manifest, relative to the directory `cdk8s synth` runs in. A leading `~/` is
   * the home directory ($HOME).
   *
   * @default 'manifest.yaml'
   */
  readonly manifest?: string;
  /**
   * A kubeconfig file, e.g. `~/.kube/config` (a leading `~/` is the home directory, $HOME).
   *
   * @default - the default kubeconfig: $KUBECONFIG, else ~/.kube/config
   */
  readonly kubeconfig?: string;
  /**
   * The kubeconfig context whose cluster is checked, as kubectl's `--context` (e.g. `staging`). A
   * context the kubeconfig does not have fails the validation with the list of those it has.
   *
   * @default - the kubeconfig's current context
   */
  readonly context?: string;
}

/**
 * `floe-secrets validate` as a cdk8s synth validation plugin, so that `cdk8s synth` fails when the
 * synthesized YAML references a Secret, key, operator CRD or Infisical scope the live cluster and
 * backend do not have, or RBAC that is missing or too broad:
 *
 * ```yaml
 * validations:
 *   - package: ./node_modules/@floe-secrets/cli
 *     class: FloeSecretsValidation
 *     version: 0.1.0
 *     properties: { manifest: manifest.yaml, kubeconfig: ~/.kube/config, context: staging }
 * ```
 */
export class FloeSecretsValidation {
  public constructor(private readonly props: FloeSecretsValidationProps = {}) {}

  /** Called by cdk8s-cli after synth. */
  public async validate(context: Cdk8sValidationContext): Promise<void> {
    const io: CliIO = {
      stdout: process.stdout,
      stderr: process.stderr,
      stdoutIsTTY: false,
      stderrIsTTY: false,
      env: process.env,
      cwd: process.cwd(),
      readStdin: async () => '',
    };
    try {
      const result = await runValidation({
        paths: context.manifests,
        manifestPath: expandHome(this.props.manifest ?? 'manifest.yaml', io.env),
        kubeconfig: expandHome(this.props.kubeconfig, io.env),
        context: this.props.context,
        io,
      });
      for (const problem of result.problems) {
        context.report.addViolation({
          ruleName: `floe-secrets/${problem.check}`,
          recommendation: `${problem.reference}: ${problem.message}`,
          fix: problem.fix,
          violatingResources: [{
            resourceName: problem.workload,
            locations: [problem.reference],
            manifestPath: fileOf(context.manifests, problem.workload),
          }],
        });
      }
      for (const error of result.errors) {
        context.report.addViolation({ ruleName: 'floe-secrets/could-not-check', recommendation: error, fix: 'make the backend reachable and run cdk8s synth again', violatingResources: [] });
      }
      context.report.submit(result.problems.length + result.errors.length > 0 ? 'failure' : 'success');
    } catch (error) {
      context.report.addViolation({
        ruleName: 'floe-secrets/could-not-check',
        recommendation: (error as Error).message,
        fix: 'make the cluster reachable (kubeconfig) and the manifest readable, then run cdk8s synth again',
        violatingResources: [],
      });
      context.report.submit('failure');
    }
  }
}

/** The manifest file that holds `namespace/Kind/name`, for the report. */
function fileOf(manifests: readonly string[], workload: string): string {
  const name = workload.split('/').pop() ?? workload;
  return manifests.find((file) => readFileSync(file, 'utf8').includes(`name: ${name}`)) ?? manifests[0] ?? '';
}
