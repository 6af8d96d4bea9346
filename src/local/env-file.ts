// Reads `--env-file`: a JSON object of variables ({"KEY": "value"}, or SAM's {"Parameters": {...}} /
// {"<FunctionName>": {...}} shapes), or a dotenv file (KEY=value, `export KEY=value`, # comments,
// single/double quotes, \n escapes inside double quotes). Values that are not strings are stringified.
import { readFileSync } from 'node:fs';

export class EnvFileError extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function fromJson(doc: unknown, file: string, functionName: string): Record<string, string> {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new EnvFileError(`${file}: a JSON env file must hold an object of variables`);
  }
  let vars = doc as Record<string, unknown>;
  // SAM's env.json shapes: {"Parameters": {...}} applies to every function, {"Fn": {...}} to one.
  const nested = (v: unknown) => v && typeof v === 'object' && !Array.isArray(v);
  if (Object.values(vars).length > 0 && Object.values(vars).every(nested)) {
    vars = { ...((vars.Parameters as Record<string, unknown>) ?? {}), ...((vars[functionName] as Record<string, unknown>) ?? {}) };
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) {
    if (!NAME.test(k)) throw new EnvFileError(`${file}: "${k}" is not a valid variable name`);
    if (v === null || v === undefined) continue;
    out[k] = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

function fromDotenv(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new EnvFileError(`${file}:${i + 1}: expected KEY=value, got: ${line}`);
    const key = m[1]!;
    if (!NAME.test(key)) throw new EnvFileError(`${file}:${i + 1}: "${key}" is not a valid variable name`);
    let value = m[2]!;
    const q = value[0];
    if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    out[key] = value;
  });
  return out;
}

export function readEnvFile(file: string, functionName: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new EnvFileError(`cannot read env file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (/^\s*[{[]/.test(text)) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new EnvFileError(`${file}: invalid JSON: ${(e as Error).message}`);
    }
    return fromJson(doc, file, functionName);
  }
  return fromDotenv(text, file);
}
