// Lays out, in a temp folder, the file tree a Dockerfile's final stage would produce: each COPY from the
// build context is copied from the repository through the .dockerignore filter (so the test also proves
// the context holds what the image needs), each COPY from a build stage is mapped to the local output of
// that stage, and the stage's ENV is rewritten so absolute image paths point into the temp root.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import type { DockerIgnore } from './dockerignore.ts';
import type { Stage } from './dockerfile-model.ts';

/** What a `COPY --from=<stage> <src>` of the final stage stands for, here. */
export type StageOutput =
  /** A local folder or file with the same contents (e.g. the repo's dist/ after `npm run build`). */
  | { kind: 'local'; path: string }
  /** An interpreter the test replaces through an ENV mapping (TANDEM_PYTHON, TANDEM_NODE). */
  | { kind: 'toolchain'; env: string };

export interface LayoutOptions {
  /** The build context (the repository root). */
  context: string;
  ignore: DockerIgnore;
  /** The temp folder standing for the image's `/`. */
  root: string;
  /** Keyed `<stage>:<source as written>`. A COPY --from missing here fails the layout. */
  stageOutputs: Record<string, StageOutput>;
}

export interface Layout {
  /** Image paths written, e.g. `/var/runtime/bootstrap`. */
  written: string[];
  /** ENV names whose value is an interpreter the test must supply. */
  toolchainEnv: string[];
}

/** The path inside the temp root standing for an absolute image path. */
export function inRoot(root: string, imagePath: string): string {
  if (!posix.isAbsolute(imagePath)) throw new Error(`not an absolute image path: ${imagePath}`);
  return join(root, ...imagePath.split('/').filter(Boolean));
}

function copyTree(src: string, dest: string, written: string[], imageDest: string, filter: (path: string) => boolean): void {
  const s = statSync(src);
  if (s.isDirectory()) {
    mkdirSync(dest, { recursive: true });
    for (const name of readdirSync(src)) {
      const from = join(src, name);
      if (!filter(from)) continue;
      copyTree(from, join(dest, name), written, posix.join(imageDest, name), filter);
    }
    return;
  }
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(src, dest);
  chmodSync(dest, s.mode & 0o777);
  written.push(imageDest);
}

/** Applies the COPY lines of `stage` (the final one) under `options.root`. */
export function layOut(stage: Stage, options: LayoutOptions): Layout {
  const written: string[] = [];
  const toolchainEnv: string[] = [];
  const workdir = stage.workdir ?? '/';
  for (const copy of stage.copies) {
    const where = `COPY on line ${copy.line}`;
    const destIsDir = copy.dest.endsWith('/') || copy.sources.length > 1;
    const imageDest = posix.isAbsolute(copy.dest) ? copy.dest : posix.join(workdir, copy.dest);
    for (const source of copy.sources) {
      let localSource: string;
      let filter: (path: string) => boolean = () => true;
      if (copy.from !== undefined) {
        const output = options.stageOutputs[`${copy.from}:${source}`];
        if (!output) throw new Error(`${where}: no local stand-in for --from=${copy.from} ${source}`);
        if (output.kind === 'toolchain') {
          toolchainEnv.push(output.env);
          continue;
        }
        localSource = output.path;
        if (!existsSync(localSource)) throw new Error(`${where}: ${localSource} (stand-in for ${copy.from}:${source}) does not exist`);
      } else {
        if (/[*?[]/.test(source)) throw new Error(`${where}: wildcards are not supported by this layout test: ${source}`);
        const rel = posix.normalize(source).replace(/\/$/, '');
        localSource = join(options.context, rel);
        if (!existsSync(localSource)) throw new Error(`${where}: ${source} is not in the build context`);
        if (options.ignore.excludes(rel)) throw new Error(`${where}: ${source} is excluded by .dockerignore`);
        filter = (path) => !options.ignore.excludes(relative(options.context, path).split('\\').join('/'));
      }
      const isDir = statSync(localSource).isDirectory();
      // COPY semantics: a folder's contents go into the destination folder; a file goes to the destination
      // path, or into it when it ends with `/`.
      const target = isDir || !destIsDir ? imageDest : posix.join(imageDest, posix.basename(localSource));
      copyTree(localSource, inRoot(options.root, target), written, target, filter);
      if (copy.flags.chmod && !isDir) chmodSync(inRoot(options.root, target), parseInt(copy.flags.chmod, 8));
    }
  }
  return { written, toolchainEnv };
}

/**
 * The final stage's ENV with absolute image paths that exist in the layout moved under the temp root,
 * and the values in `replace` (interpreters, PATH) substituted.
 */
export function layoutEnv(stage: Stage, root: string, replace: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of stage.env) {
    if (name in replace) {
      env[name] = replace[name]!;
    } else if (posix.isAbsolute(value) && existsSync(inRoot(root, value))) {
      env[name] = inRoot(root, value);
    } else {
      env[name] = value;
    }
  }
  for (const [name, value] of Object.entries(replace)) env[name] ??= value;
  return env;
}
