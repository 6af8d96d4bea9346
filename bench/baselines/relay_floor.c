// The floor of tandem's design, for the Lambda CPU-share bench (bench/lambda.mjs, side `relay-floor`): the
// cheapest possible relay between the Runtime API and tandem's Python worker, in place of Node. Blocking
// I/O on one connection, no event loop, fixed buffers, GET /next pipelined behind each POST as tandem does;
// small events only (hello). What it costs, with the worker, is what the two-process design costs before
// any JavaScript runs: the kernel's work for the socket and the two pipes, and the context switches
// between three processes. Not a runtime: a measuring stick. Built by the bench with `cc -O2` when a C
// compiler is present. `bootstrap` starts it as it would start Node (TANDEM_NODE), worker pipes handed over.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char in[1 << 16];
static int inlen = 0;
static int sock, wfd, rfd;

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k <= 0) die("write");
    p += k;
    n -= (size_t)k;
  }
}

static void read_exact(int fd, char *p, size_t n) {
  while (n > 0) {
    ssize_t k = read(fd, p, n);
    if (k <= 0) die("read");
    p += k;
    n -= (size_t)k;
  }
}

static void fill(void) {
  ssize_t k = read(sock, in + inlen, sizeof in - (size_t)inlen);
  if (k <= 0) die("read socket");
  inlen += (int)k;
}

/* One whole response in `in`: returns the head's length, sets the body. */
static int response(char **body, int *bodylen) {
  for (;;) {
    char *end = memmem(in, (size_t)inlen, "\r\n\r\n", 4);
    if (end != NULL) {
      int head = (int)(end - in) + 4;
      char *cl = memmem(in, (size_t)head, "\r\nContent-Length:", 17);
      int n = cl != NULL ? atoi(cl + 17) : 0;
      while (inlen < head + n) fill();
      *body = in + head;
      *bodylen = n;
      return head;
    }
    fill();
  }
}

static void consume(int n) {
  memmove(in, in + n, (size_t)(inlen - n));
  inlen -= n;
}

static int header(const char *name, char *out, int max) {
  char *p = strcasestr(in, name);
  int i = 0;
  if (p == NULL) return -1;
  p += strlen(name);
  while (*p == ' ') p++;
  while (p[i] != '\r' && i < max - 1) {
    out[i] = p[i];
    i++;
  }
  out[i] = 0;
  return i;
}

static char *mp_str(char *p, const char *s, size_t n) {
  if (n < 32) {
    *p++ = (char)(0xa0 | n);
  } else {
    *p++ = (char)0xd9;
    *p++ = (char)n;
  }
  memcpy(p, s, n);
  return p + n;
}

static char *mp_key(char *p, const char *k) { return mp_str(p, k, strlen(k)); }

static void read_frame(char *buf, uint32_t *len) {
  uint32_t n;
  read_exact(rfd, (char *)&n, 4);
  *len = ntohl(n);
  if (*len > (1 << 16)) die("frame too large for the floor relay");
  read_exact(rfd, buf, *len);
}

int main(void) {
  const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
  const char *w = getenv("TANDEM_WORKER_WRITE_FD");
  const char *r = getenv("TANDEM_WORKER_READ_FD");
  if (api == NULL || w == NULL || r == NULL) {
    fprintf(stderr, "relay_floor: needs AWS_LAMBDA_RUNTIME_API and a worker handed over by bootstrap\n");
    return 2;
  }
  wfd = atoi(w);
  rfd = atoi(r);
  char host[256];
  snprintf(host, sizeof host, "%s", api);
  char *colon = strrchr(host, ':');
  if (colon == NULL) return 2;
  *colon = 0;
  int port = atoi(colon + 1);

  // Handshake: our hello, then the worker's hello and ready.
  static const char hello[] = {0, 0, 0, 12, (char)0x82, (char)0xa1, 't', (char)0xa5, 'h', 'e', 'l', 'l', 'o', (char)0xa1, 'v', 1};
  write_all(wfd, hello, sizeof hello);
  static char frame[1 << 16];
  uint32_t flen;
  read_frame(frame, &flen);
  read_frame(frame, &flen);

  sock = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, host, &addr.sin_addr);
  if (connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) die("connect");
  char next[512];
  int nextlen = snprintf(next, sizeof next,
                         "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\nUser-Agent: tandem/0.1.0\r\n\r\n", api);
  write_all(sock, next, (size_t)nextlen);

  static char out[1 << 17];
  for (;;) {
    char *body;
    int bodylen;
    int head = response(&body, &bodylen);
    if (strncmp(in, "HTTP/1.1 202", 12) == 0) {
      consume(head + bodylen);
      continue;
    }
    char id[128], deadline[32], arn[256], trace[256];
    in[head - 2] = 0;
    header("\nLambda-Runtime-Aws-Request-Id:", id, sizeof id);
    if (header("\nLambda-Runtime-Deadline-Ms:", deadline, sizeof deadline) < 0) strcpy(deadline, "0");
    if (header("\nLambda-Runtime-Invoked-Function-Arn:", arn, sizeof arn) < 0) arn[0] = 0;
    int traced = header("\nLambda-Runtime-Trace-Id:", trace, sizeof trace) > 0;
    if (bodylen > 255) die("event too large for the floor relay");

    // The invoke frame, as tandem's Node side writes it (docs/protocol.md).
    char *p = frame + 4;
    *p++ = (char)0x8b;
    p = mp_key(p, "t");
    p = mp_str(p, "invoke", 6);
    p = mp_key(p, "id");
    p = mp_str(p, id, strlen(id));
    p = mp_key(p, "deadlineMs");
    *p++ = (char)0xcf;
    uint64_t d = strtoull(deadline, NULL, 10);
    for (int i = 7; i >= 0; i--) *p++ = (char)((d >> (8 * i)) & 0xff);
    p = mp_key(p, "functionArn");
    p = mp_str(p, arn, strlen(arn));
    p = mp_key(p, "traceId");
    if (traced) p = mp_str(p, trace, strlen(trace));
    else *p++ = (char)0xc0;
    p = mp_key(p, "clientContext");
    *p++ = (char)0xc0;
    p = mp_key(p, "cognitoIdentity");
    *p++ = (char)0xc0;
    p = mp_key(p, "tenantId");
    *p++ = (char)0xc0;
    p = mp_key(p, "invocationId");
    *p++ = (char)0xc0;
    p = mp_key(p, "contentType");
    p = mp_str(p, "application/json", 16);
    p = mp_key(p, "body");
    *p++ = (char)0xc4;
    *p++ = (char)bodylen;
    memcpy(p, body, (size_t)bodylen);
    p += bodylen;
    uint32_t n = htonl((uint32_t)(p - frame - 4));
    memcpy(frame, &n, 4);
    write_all(wfd, frame, (size_t)(p - frame));
    consume(head + bodylen);

    // The result frame: find its body bin and post it, GET /next behind it in the same write.
    read_frame(frame, &flen);
    unsigned char *b = memmem(frame, flen, "\xa4"
                                           "body",
                              5);
    if (b == NULL) die("no body in the worker's answer");
    b += 5;
    int rl;
    if (*b == 0xc4) {
      rl = b[1];
      b += 2;
    } else if (*b == 0xc5) {
      rl = (b[1] << 8) | b[2];
      b += 3;
    } else {
      die("result too large for the floor relay");
      return 1;
    }
    int ol = snprintf(out, sizeof out,
                      "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\nContent-Type: "
                      "application/json\r\nUser-Agent: tandem/0.1.0\r\nContent-Length: %d\r\n\r\n",
                      id, api, rl);
    memcpy(out + ol, b, (size_t)rl);
    ol += rl;
    memcpy(out + ol, next, (size_t)nextlen);
    ol += nextlen;
    write_all(sock, out, (size_t)ol);
  }
}
