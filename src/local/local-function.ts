// Builds the local function's configuration from the command line, checking everything a user can get
// wrong before any process starts: the handler string, the handler's file, the env file, the bootstrap.
import { existsSync } from 'node:fs';
import { join, resolve, relative } from 'node:path';
import { UsageError, type CommonOptions } from './cli-args.ts';
import { DEFAULTS, defaultBootstrap, packageRoot, type FunctionConfig } from './function-config.ts';
import { findHandlerFile } from './handler-file.ts';
import { EnvFileError, readEnvFile } from './env-file.ts';

/** The tool itself is not usable (e.g. not built): exit status 4. */
export class ToolError extends Error {}

export function buildConfig(opts: CommonOptions, env: NodeJS.ProcessEnv = process.env): FunctionConfig {
  const shown = relative(process.cwd(), opts.dir) || '.';
  let fileEnv: Record<string, string> = {};
  if (opts.envFile !== undefined) {
    try {
      fileEnv = readEnvFile(opts.envFile, opts.functionName);
    } catch (e) {
      if (e instanceof EnvFileError) throw new UsageError(e.message);
      throw e;
    }
  }
  let bootstrap: string[];
  if (opts.bootstrap !== undefined) {
    const path = resolve(opts.bootstrap);
    if (!existsSync(path)) throw new UsageError(`--bootstrap ${opts.bootstrap}: no such file`);
    bootstrap = [path];
  } else {
    let found: ReturnType<typeof findHandlerFile>;
    try {
      found = findHandlerFile(opts.dir, opts.handler, fileEnv.TANDEM_RUNTIME ?? env.TANDEM_RUNTIME);
    } catch (e) {
      throw new UsageError((e as Error).message.replace(/^tandem: /, ''));
    }
    if (!found) {
      throw new UsageError(`handler "${opts.handler}" is not of the form module.function (e.g. ${'lambda_function.lambda_handler'})`);
    }
    if (!found.file) {
      throw new UsageError(
        `handler "${opts.handler}": no ${found.candidates.join(' or ')} in ${shown}` +
          ' (pass the handler as module.function and the folder with --dir)',
      );
    }
    bootstrap = defaultBootstrap();
    if (!existsSync(bootstrap[0]!)) throw new ToolError(`tandem's bootstrap is missing (${bootstrap[0]})`);
    if (!existsSync(join(packageRoot(), 'dist', 'runtime.mjs'))) {
      throw new ToolError(`dist/runtime.mjs is missing: run "npm run build" in ${packageRoot()}`);
    }
  }
  return {
    handler: opts.handler,
    taskRoot: opts.dir,
    functionName: opts.functionName,
    version: DEFAULTS.version,
    timeoutSec: opts.timeoutSec,
    memoryMb: opts.memoryMb,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || DEFAULTS.region,
    bootstrap,
    runtimeDir: packageRoot(),
    env: fileEnv,
  };
}
