// Finds and loads a Node handler as AWS's Node client does. `_HANDLER` is `[dir/]module.path.to.fn`: the
// directory is everything before the last `/`, the module name runs to the first `.` after it, the rest is a
// property path. The module is looked for under the task root, in this order: the name as is (require), `.js`
// (require; import() when the nearest package.json says "type": "module"), `.mjs` (import()), `.cjs`
// (require), then Node's own resolution from the task root and the directory (a package in node_modules).
// Each way of failing becomes the `Runtime.*` init error AWS's client posts.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { HandlerNotFound, ImportModuleError, MalformedHandlerName, UserCodeSyntaxError } from './errors.ts';

export type HandlerFunction = (...args: unknown[]) => unknown;

/** Requires as the runtime (the require stack of a missing module names a file outside the task root). */
const runtimeRequire = createRequire(import.meta.url);

export interface HandlerName {
  /** The directory part, with its trailing `/` (or ''). */
  dir: string;
  module: string;
  /** The property path inside the module, e.g. `nested.handler`. */
  path: string;
}

/** Splits a handler string. Throws MalformedHandlerName for `..` anywhere or a name without a `.`. */
export function parseHandler(full: string): HandlerName {
  if (full.includes('..')) {
    throw new MalformedHandlerName(
      `'${full}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const name = basename(full);
  const dir = full.substring(0, full.indexOf(name));
  const dot = name.indexOf('.');
  if (dot < 0) throw new MalformedHandlerName('Bad handler');
  return { dir, module: name.slice(0, dot), path: name.slice(dot + 1) };
}

/** Whether the package.json nearest to `folder` (not looking past node_modules or /) says "type": "module". */
function inTypeModulePackage(folder: string): boolean {
  for (let dir = folder; ; dir = resolve(dir, '..')) {
    if (dir.endsWith('/node_modules')) return false;
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      let pkg: { type?: unknown } | null;
      try {
        pkg = JSON.parse(readFileSync(file, 'utf8')) as { type?: unknown } | null;
      } catch (e) {
        console.warn(`${file} cannot be read, it will be ignored for ES module detection purposes.`, e);
        return false;
      }
      // A package.json holding `null` is no answer: keep looking up.
      if (pkg) return pkg.type === 'module';
    }
    if (dir === '/') return false;
  }
}

function requireIfExists(file: string): unknown {
  return existsSync(file) ? runtimeRequire(file) : undefined;
}

async function importIfExists(file: string): Promise<unknown> {
  return existsSync(file) ? await import(file) : undefined;
}

/** The module's exports, by the lookup order above (a file that loads as something falsy counts as absent). */
async function loadModule(taskRoot: string, { dir, module }: HandlerName): Promise<unknown> {
  const base = resolve(taskRoot, dir, module);
  const asIs = requireIfExists(base);
  if (asIs) return asIs;
  const esm = existsSync(base + '.js') && inTypeModulePackage(dirname(base + '.js'));
  if (!esm) {
    const js = requireIfExists(base + '.js');
    if (js) return js;
  }
  const found = (esm && (await importIfExists(base + '.js'))) || (await importIfExists(base + '.mjs')) || requireIfExists(base + '.cjs');
  if (found) return found;
  return runtimeRequire(runtimeRequire.resolve(module, { paths: [taskRoot, dir] }));
}

/** Walks a property path; a missing step gives that step's falsy value. */
function property(moduleExports: unknown, path: string): unknown {
  let value = moduleExports;
  for (const key of path.split('.')) value = value && (value as Record<string, unknown>)[key];
  return value;
}

/**
 * Loads the user's module and returns the handler function. `beforeLoad` runs once the name is known to be
 * well-formed, right before the module loads (the `awslambda` global goes in there).
 */
export async function loadHandler(taskRoot: string, full: string, beforeLoad?: () => void): Promise<HandlerFunction> {
  const name = parseHandler(full);
  beforeLoad?.();
  let moduleExports: unknown;
  try {
    moduleExports = await loadModule(taskRoot, name);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e as unknown as string);
    // As AWS's client: reading `code` of a thrown null or undefined fails, and that TypeError is what surfaces.
    if ((e as { code?: unknown }).code === 'MODULE_NOT_FOUND') throw new ImportModuleError(e as unknown as string);
    throw e;
  }
  const fn = property(moduleExports, name.path);
  if (!fn) throw new HandlerNotFound(`${full} is undefined or not exported`);
  if (typeof fn !== 'function') throw new HandlerNotFound(`${full} is not a function`);
  return fn as HandlerFunction;
}
