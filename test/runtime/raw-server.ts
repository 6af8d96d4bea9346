// A scripted TCP server for client tests: it splits the bytes of each connection into HTTP requests (head,
// then a Content-Length or chunked body with trailers) and hands each to the test, which writes whatever
// bytes it likes back, well-formed or not.
import { createServer, type Server, type Socket } from 'node:net';

export interface RawRequest {
  head: string;
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body: Buffer;
  trailers: Array<[string, string]>;
  /** Index of the connection it came on (0, 1, ...). */
  connection: number;
}

export interface RawServer {
  port: number;
  address: string;
  requests: RawRequest[];
  connections: number;
  close(): Promise<void>;
}

function tryParse(buf: Buffer): { req: Omit<RawRequest, 'connection'>; used: number } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buf.toString('utf8', 0, end);
  const [line, ...rest] = head.split('\r\n');
  const [method, path] = line!.split(' ');
  const headers = rest.map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1).trim()] as [string, string];
  });
  const get = (n: string) => headers.find(([k]) => k.toLowerCase() === n)?.[1];
  let pos = end + 4;
  const trailers: Array<[string, string]> = [];
  let body: Buffer;
  if (/chunked/i.test(get('transfer-encoding') ?? '')) {
    const parts: Buffer[] = [];
    for (;;) {
      const le = buf.indexOf('\r\n', pos);
      if (le < 0) return undefined;
      const size = parseInt(buf.toString('latin1', pos, le), 16);
      pos = le + 2;
      if (size === 0) {
        for (;;) {
          const te = buf.indexOf('\r\n', pos);
          if (te < 0) return undefined;
          const t = buf.toString('utf8', pos, te);
          pos = te + 2;
          if (t === '') break;
          const i = t.indexOf(':');
          trailers.push([t.slice(0, i), t.slice(i + 1).trim()]);
        }
        break;
      }
      if (buf.length < pos + size + 2) return undefined;
      parts.push(buf.subarray(pos, pos + size));
      pos += size + 2;
    }
    body = Buffer.concat(parts);
  } else {
    const n = Number(get('content-length') ?? 0);
    if (buf.length < pos + n) return undefined;
    body = Buffer.from(buf.subarray(pos, pos + n));
    pos += n;
  }
  return { req: { head, method: method!, path: path!, headers, body, trailers }, used: pos };
}

/** Starts a server; `onRequest` answers each request by writing to the socket (or not). */
export async function startRawServer(
  onRequest: (req: RawRequest, socket: Socket, index: number) => void,
): Promise<RawServer> {
  const requests: RawRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    const connection = connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const r = tryParse(buf);
        if (!r) break;
        buf = buf.subarray(r.used);
        const req = { ...r.req, connection };
        requests.push(req);
        onRequest(req, socket, requests.length - 1);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    requests,
    get connections() {
      return connections;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A complete response with a Content-Length body. */
export function response(status: number, body = '', headers: Record<string, string> = {}): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `HTTP/1.1 ${status} X\r\n${lines}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
