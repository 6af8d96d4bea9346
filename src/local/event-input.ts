// Turns `--event` into the event's bytes: `-` reads stdin, a sample name gives that sample, an existing file
// is read as is, and anything else must be inline JSON. The event must be valid JSON (Lambda's Invoke API
// refuses anything else); the bytes are passed on unchanged.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { UsageError } from './cli-args.ts';
import { SAMPLE_EVENTS, sampleEvent } from './sample-events.ts';

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(parts);
}

function checkJson(bytes: Buffer, where: string): Buffer {
  try {
    JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new UsageError(`${where} is not valid JSON: ${(e as Error).message}`);
  }
  return bytes;
}

export async function readEvent(arg: string | undefined, stdin: NodeJS.ReadableStream = process.stdin): Promise<Buffer> {
  if (arg === undefined) return Buffer.from('{}');
  if (arg === '-') {
    if ((stdin as { isTTY?: boolean }).isTTY) process.stderr.write('tandem: reading the event from the terminal (end with Ctrl-D)\n');
    return checkJson(await readAll(stdin), 'the event on stdin');
  }
  const sample = sampleEvent(arg);
  if (sample && !existsSync(arg)) return Buffer.from(JSON.stringify(sample.event));
  if (existsSync(arg)) {
    if (statSync(arg).isDirectory()) throw new UsageError(`--event ${arg}: is a directory, expected a JSON file`);
    return checkJson(readFileSync(arg), `the event file ${arg}`);
  }
  if (/^\s*([{["]|-?\d|true\b|false\b|null\b)/.test(arg)) return checkJson(Buffer.from(arg), 'the inline event');
  const names = SAMPLE_EVENTS.map((e) => e.name).join(', ');
  throw new UsageError(`--event ${arg}: no such file, not a sample event (${names}) and not inline JSON`);
}
