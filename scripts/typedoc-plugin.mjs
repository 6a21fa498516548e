// The TypeDoc plugin of the API reference (typedoc.json):
// - each entry point (src/index.ts, plugins/*/src/index.ts) becomes a module named after its npm
//   package, `floe-secrets` or `@floe-secrets/<name>`, with that package's description, rather
//   than after its folder;
// - `@schema`, which `cdk8s import` puts on the generated CRD classes in src/imports/ (the type of
//   ExternalSecretSource.resource, for one), is a known tag;
// - `@requirement`, which names the internal requirement ids (`REQ-136`, `CR-003`, `seed 001 ...`)
//   a declaration implements for maintainers, is a known tag left out of the reference, which
//   users read.
// typedoc.json's `blockTags` and `excludeTags` would replace typedoc's default lists rather than
// extend them, so the tags are added to the defaults here.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Application, Comment, Converter, ReflectionKind } from 'typedoc';

/** The package.json that owns `file`: the nearest one in its folder or a folder above. */
function packageJsonOf(file) {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    try {
      return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    } catch (error) {
      if (error.code !== 'ENOENT' || dirname(dir) === dir) throw error;
    }
  }
}

/** @param {Application} app */
export function load(app) {
  app.on(Application.EVENT_BOOTSTRAP_END, () => {
    app.options.setValue('blockTags', [...new Set([...app.options.getValue('blockTags'), '@schema', '@requirement'])]);
    app.options.setValue('excludeTags', [...new Set([...app.options.getValue('excludeTags'), '@requirement'])]);
  });
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module) || reflection.parent !== context.project) return;
    const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile().fileName;
    if (file === undefined) throw new Error(`typedoc-plugin: cannot find the source file of entry point ${reflection.name}`);
    const pkg = packageJsonOf(file);
    reflection.name = pkg.name;
    reflection.comment ??= new Comment([{ kind: 'text', text: pkg.description }]);
  });
}
