// Reads a Dockerfile into build stages with dockerfile-ast (the parser under dockerfile-utils), and resolves
// the ARG/ENV variables each instruction sees, so the image tests can reason about what a stage copies,
// sets and runs without a Docker engine.
import { DockerfileParser, type Instruction, type Copy, type Env, type Arg, type Cmd, type From } from 'dockerfile-ast';

export interface CopyStep {
  /** `--from=` stage name (or image), undefined for the build context. */
  from: string | undefined;
  /** Flag names given, e.g. `chmod`, `chown`, `link`. */
  flags: Record<string, string | null>;
  /** Sources as written after variable expansion. */
  sources: string[];
  /** Destination after variable expansion. */
  dest: string;
  line: number;
}

export interface Stage {
  /** `AS name`, if any. */
  name: string | undefined;
  /** The base image after expanding global ARGs. */
  image: string;
  /** `--platform=` value as written. */
  platform: string | undefined;
  /** Every instruction of the stage after FROM, in order. */
  instructions: Instruction[];
  copies: CopyStep[];
  /** ENV as the stage ends (only the stage's own ENV lines, later ones win). */
  env: Map<string, string>;
  /** ARG names declared in the stage, with their defaults (undefined: no default). */
  args: Map<string, string | undefined>;
  /** RUN bodies after the keyword, raw (variables unexpanded, as the shell would see them). */
  runs: string[];
  /** CMD in exec form, or undefined. */
  cmd: string[] | undefined;
  workdir: string | undefined;
}

export interface DockerfileModel {
  text: string;
  globalArgs: Map<string, string | undefined>;
  stages: Stage[];
  /** Leading comment block (the file header). */
  header: string;
}

/** Expands `$NAME` and `${NAME}` (and `${NAME:-default}`) from `vars`; unknown names expand to ''. */
export function expand(value: string, vars: Map<string, string | undefined>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced, dflt, bare) => {
    const name = (braced ?? bare) as string;
    const v = vars.get(name);
    if (v === undefined || v === '') return (dflt as string | undefined) ?? '';
    return v;
  });
}

function argOf(a: Arg): [string, string | undefined] | undefined {
  const p = a.getProperty();
  if (!p) return undefined;
  return [p.getName(), p.getValue() ?? undefined];
}

/** `buildArgs` are `--build-arg` values: they replace the defaults of the ARGs that declare them. */
export function parseDockerfile(text: string, buildArgs: Record<string, string> = {}): DockerfileModel {
  const df = DockerfileParser.parse(text);
  const globalArgs = new Map<string, string | undefined>();
  for (const a of df.getInitialARGs()) {
    const kv = argOf(a);
    if (kv) globalArgs.set(kv[0], buildArgs[kv[0]] ?? kv[1]);
  }
  const stages: Stage[] = [];
  let current: Stage | undefined;
  // Variables visible to the current stage: its ARGs (a global ARG redeclared without a value takes the
  // global default), then its ENV lines, in order.
  let vars = new Map<string, string | undefined>();
  for (const ins of df.getInstructions()) {
    const keyword = ins.getKeyword();
    if (keyword === 'FROM') {
      const from = ins as From;
      const rawImage = from.getImage() ?? '';
      current = {
        name: from.getBuildStage() ?? undefined,
        image: expand(rawImage, globalArgs),
        platform: from.getPlatformFlag()?.getValue() ?? undefined,
        instructions: [],
        copies: [],
        env: new Map(),
        args: new Map(),
        runs: [],
        cmd: undefined,
        workdir: undefined,
      };
      stages.push(current);
      vars = new Map();
      continue;
    }
    if (!current) continue; // global ARGs, handled above
    current.instructions.push(ins);
    switch (keyword) {
      case 'ARG': {
        const kv = argOf(ins as Arg);
        if (kv) {
          const value =
            buildArgs[kv[0]] ?? (kv[1] !== undefined ? expand(kv[1], vars) : globalArgs.get(kv[0]));
          current.args.set(kv[0], kv[1]);
          vars.set(kv[0], value);
        }
        break;
      }
      case 'ENV': {
        // All properties of one ENV line see the variables as they were before the line.
        const before = new Map(vars);
        for (const p of (ins as Env).getProperties()) {
          const value = expand(p.getValue() ?? '', before);
          current.env.set(p.getName(), value);
          vars.set(p.getName(), value);
        }
        break;
      }
      case 'COPY': {
        const copy = ins as Copy;
        const flags: Record<string, string | null> = {};
        for (const f of copy.getFlags()) flags[f.getName()] = f.getValue();
        const jsonForm = copy.getJSONStrings();
        const args =
          jsonForm.length > 0 ? jsonForm.map((s) => s.getJSONValue()) : copy.getArguments().map((a) => a.getValue());
        const expanded = args.map((a) => expand(a, vars));
        current.copies.push({
          from: flags.from ?? undefined,
          flags,
          sources: expanded.slice(0, -1),
          dest: expanded[expanded.length - 1] ?? '',
          line: ins.getRange().start.line + 1,
        });
        break;
      }
      case 'RUN':
        current.runs.push(ins.getRawArgumentsContent() ?? '');
        break;
      case 'CMD': {
        const strings = (ins as Cmd).getJSONStrings();
        current.cmd = strings.length > 0 ? strings.map((s) => s.getJSONValue()) : undefined;
        break;
      }
      case 'WORKDIR':
        current.workdir = expand(ins.getArgumentsContent() ?? '', vars);
        break;
      default:
        break;
    }
  }
  const header = text.split('\n').filter((_, i, lines) => lines.slice(0, i + 1).every((l) => l.startsWith('#'))).join('\n');
  return { text, globalArgs, stages, header };
}

/** The stage an image is built from at the end: the last one. */
export function finalStage(model: DockerfileModel): Stage {
  const last = model.stages[model.stages.length - 1];
  if (!last) throw new Error('Dockerfile has no FROM');
  return last;
}

export function stageNamed(model: DockerfileModel, name: string): Stage | undefined {
  return model.stages.find((s) => s.name === name);
}
