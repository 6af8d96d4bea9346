// Resolves and loads a Node handler the way aws-lambda-ric 3.3.0 does: `[dir/]module.path.to.fn`; lookup order
// extensionless (require), `.js` (require, or import() under a `"type": "module"` package.json), `.mjs`
// (import()), `.cjs` (require), then `require.resolve(module, {paths: [taskRoot, moduleRoot]})` (node_modules);
// the property path is walked with `.`. Failures become the Runtime.* init errors AWS posts.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { HandlerNotFound, ImportModuleError, MalformedHandlerName, UserCodeSyntaxError } from './errors.ts';

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;

export type HandlerFunction = (...args: unknown[]) => unknown;

/** A require() that belongs to the runtime (its require stack names a file outside the task root). */
const runtimeRequire = createRequire(import.meta.url);

function splitModuleRoot(full: string): [string, string] {
  const handlerString = basename(full);
  return [full.substring(0, full.indexOf(handlerString)), handlerString];
}

function splitHandler(handler: string): [string, string] {
  const m = handler.match(FUNCTION_EXPR);
  if (!m || m.length !== 3) throw new MalformedHandlerName('Bad handler');
  return [m[1]!, m[2]!];
}

function resolveProperty(object: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((nested, key) => nested && (nested as Record<string, unknown>)[key], object);
}

function tryRequire(file: string): unknown {
  return existsSync(file) ? runtimeRequire(file) : undefined;
}

async function tryImport(file: string): Promise<unknown> {
  return existsSync(file) ? await import(file) : undefined;
}

function hasTypeModule(folder: string): boolean {
  if (folder.endsWith('/node_modules')) return false;
  const pj = join(folder, '/package.json');
  if (existsSync(pj)) {
    try {
      const pkg = JSON.parse(readFileSync(pj, 'utf8')) as { type?: unknown } | null;
      if (pkg) return pkg.type === 'module';
    } catch (e) {
      console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  if (folder === '/') return false;
  return hasTypeModule(resolve(folder, '..'));
}

async function loadModule(taskRoot: string, moduleRoot: string, module: string): Promise<unknown> {
  const p = resolve(taskRoot, moduleRoot, module);
  const extensionless = tryRequire(p);
  if (extensionless) return extensionless;
  const typeModule = hasTypeModule(resolve(dirname(p)));
  if (!typeModule) {
    const js = tryRequire(p + '.js');
    if (js) return js;
  }
  const loaded =
    (typeModule && (await tryImport(p + '.js'))) || (await tryImport(p + '.mjs')) || tryRequire(p + '.cjs');
  if (loaded) return loaded;
  return runtimeRequire(runtimeRequire.resolve(module, { paths: [taskRoot, moduleRoot] }));
}

/** What a handler string names, before loading. Throws MalformedHandlerName. */
export function parseHandler(full: string): { moduleRoot: string; module: string; path: string } {
  if (full.includes('..')) {
    throw new MalformedHandlerName(
      `'${full}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const [moduleRoot, moduleAndHandler] = splitModuleRoot(full);
  const [module, path] = splitHandler(moduleAndHandler);
  return { moduleRoot, module, path };
}

/** Loads the user's module and returns the handler function; throws the Runtime.* errors of AWS's client. */
export async function loadHandler(taskRoot: string, full: string, beforeLoad?: () => void): Promise<HandlerFunction> {
  const { moduleRoot, module, path } = parseHandler(full);
  beforeLoad?.();
  let app: unknown;
  try {
    app = await loadModule(taskRoot, moduleRoot, module);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e as unknown as string);
    if ((e as { code?: unknown } | null)?.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(e as unknown as string);
    throw e;
  }
  const fn = resolveProperty(app, path);
  if (!fn) throw new HandlerNotFound(`${full} is undefined or not exported`);
  if (typeof fn !== 'function') throw new HandlerNotFound(`${full} is not a function`);
  return fn as HandlerFunction;
}
