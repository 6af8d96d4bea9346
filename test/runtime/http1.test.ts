// The HTTP/1.1 response parser on its own: well-formed answers in every split, and every malformed one it
// must refuse with a clear HttpProtocolError. (The client on real sockets is in runtime-api-client.test.ts.)
import { describe, expect, it } from 'vitest';
import { ResponseParser, requestHead, checkHeaderValue, type HttpResponse } from '../../src/runtime/http1.ts';
import { HttpProtocolError } from '../../src/runtime/errors.ts';

/** Feeds `raw` in pieces of `step` bytes; returns every completed response. */
function parse(raw: string | Buffer, step = Infinity, parser = new ResponseParser()): HttpResponse[] {
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw;
  const out: HttpResponse[] = [];
  for (let i = 0; i < bytes.length; i += step === Infinity ? bytes.length : step) {
    parser.push(Buffer.from(bytes.subarray(i, Math.min(bytes.length, i + (step === Infinity ? bytes.length : step)))), (r) => out.push(r));
  }
  return out;
}

function refuses(raw: string, pattern: RegExp, parser?: ResponseParser): void {
  let err: unknown;
  try {
    parse(raw, Infinity, parser);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(HttpProtocolError);
  expect((err as Error).message).toMatch(pattern);
}

const NEXT =
  'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: abc\r\n' +
  'Lambda-Runtime-Deadline-Ms: 1700000000000\r\nContent-Length: 7\r\n\r\n{"a":1}';

describe('ResponseParser: well-formed answers', () => {
  it('parses status, headers (lower-cased, trimmed) and a Content-Length body, in any split', () => {
    for (const step of [Infinity, 1, 2, 3, 7, 50]) {
      const [r] = parse(NEXT, step);
      expect(r!.status).toBe(200);
      expect(r!.headers.get('lambda-runtime-aws-request-id')).toBe('abc');
      expect(r!.headers.get('content-type')).toBe('application/json');
      expect(r!.body.toString()).toBe('{"a":1}');
      expect(r!.keepAlive).toBe(true);
    }
  });

  it('parses chunked bodies with extensions and trailers, in any split', () => {
    const raw =
      'HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n';
    for (const step of [Infinity, 1, 4, 9]) {
      const [r] = parse(raw, step);
      expect(r!.status).toBe(202);
      expect(r!.body.toString()).toBe('hello 0123456789');
    }
  });

  it('keeps header values as UTF-8 and the first of repeated headers', () => {
    const [r] = parse(
      Buffer.concat([
        Buffer.from('HTTP/1.1 200 OK\r\nX-Ctx: '),
        Buffer.from('{"é":1}', 'utf8'),
        Buffer.from('\r\nX-Ctx: second\r\nContent-Length: 0\r\n\r\n'),
      ]),
    );
    expect(r!.headers.get('x-ctx')).toBe('{"é":1}');
  });

  it('trims spaces and tabs around values, and lower-cases names of any spelling', () => {
    const [r] = parse(
      'HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: \t id 1 \t\r\nlambda-runtime-trace-id:x\r\nX-Odd_Name:  \r\n' +
        'LAMBDA-RUNTIME-DEADLINE-MS:\t42\r\nContent-Length: 0\r\n\r\n',
    );
    expect(Object.fromEntries(r!.headers)).toEqual({
      'lambda-runtime-aws-request-id': 'id 1',
      'lambda-runtime-trace-id': 'x',
      'x-odd_name': '',
      'lambda-runtime-deadline-ms': '42',
      'content-length': '0',
    });
  });

  it('parses the first n bytes of a read buffer, and says whether it kept views of them (a body)', () => {
    const p = new ResponseParser();
    const out: HttpResponse[] = [];
    const buf = Buffer.from('HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nokGARBAGE');
    p.push(buf, (r) => out.push(r), 46);
    expect(p.keptInput()).toBe(true);
    expect(out[0]!.body.buffer).toBe(buf.buffer);
    p.push(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'), (r) => out.push(r));
    expect(p.keptInput()).toBe(false);
    expect(out.map((r) => r.status)).toEqual([202, 204]);
  });

  it('reads a body without length until the connection closes', () => {
    const p = new ResponseParser();
    expect(parse('HTTP/1.1 200 OK\r\n\r\npart one, ', Infinity, p)).toEqual([]);
    expect(parse('part two', Infinity, p)).toEqual([]);
    const r = p.end()!;
    expect(r.body.toString()).toBe('part one, part two');
    expect(r.keepAlive).toBe(false);
  });

  it('parses one response after another on the same connection', () => {
    const p = new ResponseParser();
    const a = parse('HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok', Infinity, p);
    const b = parse('HTTP/1.1 204 No Content\r\n\r\n', Infinity, p);
    expect(a[0]!.body.toString()).toBe('ok');
    expect(b[0]!.status).toBe(204);
    expect(b[0]!.body.length).toBe(0);
  });

  it('honours Connection: close and HTTP/1.0', () => {
    expect(parse('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')[0]!.keepAlive).toBe(false);
    expect(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')[0]!.keepAlive).toBe(false);
    expect(parse('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n')[0]!.keepAlive).toBe(true);
  });

  it('a large body split across reads arrives whole', () => {
    const body = Buffer.alloc(200_000, 'x');
    const raw = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
    const [r] = parse(raw, 65536);
    expect(r!.body.equals(body)).toBe(true);
    // Kept as the reads it came in (no copy); `body` joins them.
    expect(r!.parts.length).toBeGreaterThan(1);
    expect(Buffer.concat(r!.parts as Buffer[]).equals(body)).toBe(true);
  });
});

describe('ResponseParser: refuses what it does not understand', () => {
  it('bad status lines', () => {
    refuses('HTTP/2 200 OK\r\n\r\n', /bad status line "HTTP\/2 200 OK"/);
    refuses('HTTP/1.1 20 OK\r\n\r\n', /bad status line/);
    refuses('ICY 200 OK\r\n\r\n', /bad status line/);
    refuses('HTTP/1.1 099 Nope\r\n\r\n', /bad status line/);
  });

  it('informational answers', () => {
    refuses('HTTP/1.1 100 Continue\r\n\r\n', /unexpected informational status 100/);
  });

  it('bad, negative or repeated Content-Length', () => {
    refuses('HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n', /bad Content-Length "12x"/);
    refuses('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /bad Content-Length/);
    refuses('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx', /more than one Content-Length/);
  });

  it('transfer-codings other than chunked, and chunked with a length', () => {
    refuses('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', /unsupported Transfer-Encoding "gzip, chunked"/);
    refuses('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n', /both Content-Length and Transfer-Encoding/);
  });

  it('malformed header lines', () => {
    refuses('HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n', /bad header line/);
    refuses('HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n', /bad header name "Bad Name"/);
    refuses('HTTP/1.1 200 OK\r\nA: 1\r\n  folded\r\n\r\n', /folded header line/);
    refuses('HTTP/1.1 200 OK\r\nA: 1\nB: 2\r\n\r\n', /bare CR or LF/);
  });

  it('oversized heads and bodies', () => {
    refuses(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70_000)}\r\n\r\n`, /response head larger than 65536 bytes/);
    refuses(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70_000)}`, /response head larger than 65536 bytes/);
    refuses('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', /response body larger than 10 bytes/, new ResponseParser(10));
    refuses('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\n', /response body larger than 10 bytes/, new ResponseParser(10));
  });

  it('bad chunk framing', () => {
    refuses('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /bad chunk size line "zz"/);
    refuses('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n', /chunk data not followed by CRLF/);
  });

  it('pipelined answers in one read are emitted in order, saying whether more follows', () => {
    const seen: Array<[string, boolean]> = [];
    new ResponseParser().push(
      Buffer.from('HTTP/1.1 202 A\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnxt'),
      (r, more) => seen.push([r.body.toString(), more]),
    );
    expect(seen).toEqual([['ok', true], ['nxt', false]]);
  });

  it('a response cut short by close', () => {
    const p = new ResponseParser();
    parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', Infinity, p);
    expect(() => p.end()).toThrow(/connection closed in the middle of a response/);
    expect(new ResponseParser().end()).toBeUndefined();
  });
});

describe('request writer helpers', () => {
  it('builds a request head with Host and the given lines', () => {
    expect(requestHead('GET', '/x', 'h:1', 'A: b\r\n')).toBe('GET /x HTTP/1.1\r\nHost: h:1\r\nA: b\r\n\r\n');
  });

  it('refuses header values that would break the head', () => {
    expect(() => checkHeaderValue('Content-Type', 'text/plain\r\nX-Evil: 1')).toThrow(/invalid character in the Content-Type header value/);
    expect(checkHeaderValue('Content-Type', 'text/plain; charset=utf-8')).toBe('text/plain; charset=utf-8');
  });
});
