// Turns `--event` into the event's bytes: `-` reads stdin, a sample name gives that sample, an existing file
// is read as is, and anything else must be inline JSON. The event must be valid JSON and within Lambda's
// 6 MB request limit (Lambda's Invoke API refuses anything else, the same way `serve` does); the bytes are
// passed on unchanged.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { UsageError } from './cli-args.ts';
import { MAX_SYNC_REQUEST_BYTES, REQUEST_TOO_LARGE, requestTooLargeMessage } from './invoke-limits.ts';
import { SAMPLE_EVENTS, sampleEvent } from './sample-events.ts';

/** All of `stream`, or (past the limit) only how long it was: an oversized event is never held. */
async function readAll(stream: NodeJS.ReadableStream): Promise<{ bytes: Buffer; size: number }> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c as string);
    size += b.length;
    if (size <= MAX_SYNC_REQUEST_BYTES) parts.push(b);
    else parts.length = 0;
  }
  return { bytes: Buffer.concat(parts), size };
}

function checkSize(size: number, where: string): void {
  if (size > MAX_SYNC_REQUEST_BYTES) {
    throw new UsageError(
      `${where} is ${size} bytes; Lambda refuses it: ${REQUEST_TOO_LARGE}: ${requestTooLargeMessage(MAX_SYNC_REQUEST_BYTES, 'InvokeFunction')}`,
    );
  }
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
    const { bytes, size } = await readAll(stdin);
    checkSize(size, 'the event on stdin');
    return checkJson(bytes, 'the event on stdin');
  }
  const sample = sampleEvent(arg);
  if (sample && !existsSync(arg)) return Buffer.from(JSON.stringify(sample.event));
  if (existsSync(arg)) {
    const st = statSync(arg);
    if (st.isDirectory()) throw new UsageError(`--event ${arg}: is a directory, expected a JSON file`);
    if (st.isFile()) checkSize(st.size, `the event file ${arg}`);
    const bytes = readFileSync(arg);
    checkSize(bytes.length, `the event file ${arg}`);
    return checkJson(bytes, `the event file ${arg}`);
  }
  if (/^\s*([{["]|-?\d|true\b|false\b|null\b)/.test(arg)) {
    const bytes = Buffer.from(arg);
    checkSize(bytes.length, 'the inline event');
    return checkJson(bytes, 'the inline event');
  }
  const names = SAMPLE_EVENTS.map((e) => e.name).join(', ');
  throw new UsageError(`--event ${arg}: no such file, not a sample event (${names}) and not inline JSON`);
}
