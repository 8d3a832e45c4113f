/* The executable a runtime execs as bridge, loopback or host-local (the name
 * it is called by picks the plugin). It forwards the call to the tscni agent
 * over a unix socket and prints the agent's answer; all CNI and netlink work
 * is the agent's, in TypeScript. Without an agent, or when the agent says
 * "fallback", it execs the Node plugin (node run.cjs <plugin>) with the same
 * environment and stdin.
 *
 * Request:  "tscni/1\0" <plugin> "\0" { "<CNI_*|TSCNI_*|TRACE*>=<value>\0" } "\0" <stdin>, then EOF.
 * Reply:    "tscni/1\0" 'R' <exit code: 1 byte> <stdout length: u32 LE> <stdout> <stderr>, then EOF;
 *           or "tscni/1\0" 'F' <why>: run the Node plugin instead.
 * libc only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAGIC "tscni/1"
#define MAX_STDIN (1 << 20)

/* Marks this file as one of ours: the CNI layer then runs the named plugin in process. */
__attribute__((used)) static const char marker[] = "\n# tscni-plugin: *\n";
extern char **environ;

struct buf { char *p; size_t n, cap; };

static void put(struct buf *b, const void *p, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 4096;
    if (!(b->p = realloc(b->p, b->cap))) _exit(70);
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
}

static int slurp(int fd, struct buf *b) { /* 0 at EOF, -1 on error */
  for (;;) {
    char chunk[65536];
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r == 0) return 0;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    put(b, chunk, r);
  }
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    p += w, n -= w;
  }
  return 0;
}

/* Runs the Node plugin: <dir of this file>/.tscni/fallback holds the node binary and run.cjs (relative:
 * to that .tscni directory), one a line. Stdin already read goes to it through a memfd. */
static void fallback(const char *plugin, struct buf *in) {
  char exe[4096], conf[4200], text[8192], rel[8400];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) goto fail;
  exe[n] = 0;
  *strrchr(exe, '/') = 0;
  snprintf(conf, sizeof conf, "%s/.tscni/fallback", exe);
  int fd = open(conf, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || (n = read(fd, text, sizeof text - 1)) <= 0) goto fail;
  text[n] = 0;
  char *node = text, *run = strchr(text, '\n');
  if (!run) goto fail;
  *run++ = 0;
  run[strcspn(run, "\n")] = 0;
  if (*run != '/') snprintf(rel, sizeof rel, "%s/.tscni/%s", exe, run), run = rel;
  if (in) {
    int m = memfd_create("stdin", 0);
    if (m < 0 || write_all(m, in->p, in->n) || lseek(m, 0, SEEK_SET) || dup2(m, 0) < 0) goto fail;
  }
  unsetenv("NODE_EXTRA_CA_CERTS"); /* ~40 ms more per node start */
  execl(node, node, run, plugin, (char *)NULL);
fail:
  fprintf(stderr, "tscni: cannot run the node plugin %s (%s): %s\n", plugin, conf, strerror(errno));
  _exit(1);
}

/* The config's "cniVersion" for our own error JSON ("" when not found). */
static void version_of(struct buf *in, char *out, size_t max) {
  char *p = in->n ? memmem(in->p, in->n, "\"cniVersion\"", 12) : NULL, *end = in->p + in->n;
  out[0] = 0;
  if (!p) return;
  for (p += 12; p < end && strchr(" \t\r\n:", *p); p++) {}
  if (p >= end || *p != '"') return;
  size_t i = 0;
  for (p++; p < end && *p != '"' && *p != '\\' && i + 1 < max; p++) out[i++] = *p;
  out[i] = 0;
}

int main(int argc, char **argv) {
  (void)argc;
  const char *plugin = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
  const char *path = getenv("TSCNI_AGENT_SOCKET");
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path && *path ? path : "/run/tscni/agent.sock");
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) fallback(plugin, NULL);

  struct buf in = {0}, req = {0}, rep = {0};
  if (slurp(0, &in) || in.n > MAX_STDIN) fallback(plugin, &in); /* more than the agent takes: Node's path takes any size */
  put(&req, MAGIC, sizeof MAGIC);
  put(&req, plugin, strlen(plugin) + 1);
  for (char **e = environ; *e; e++)
    if (!strncmp(*e, "CNI_", 4) || !strncmp(*e, "TSCNI_", 6) || !strncmp(*e, "TRACE", 5)) put(&req, *e, strlen(*e) + 1);
  put(&req, "", 1);
  put(&req, in.p, in.n);
  signal(SIGPIPE, SIG_IGN);
  write_all(s, req.p, req.n); /* a failed write shows as a short reply below */
  shutdown(s, SHUT_WR);
  slurp(s, &rep);

  if (rep.n >= sizeof MAGIC + 1 && !memcmp(rep.p, MAGIC, sizeof MAGIC)) {
    char kind = rep.p[sizeof MAGIC];
    if (kind == 'F') fallback(plugin, &in);
    size_t h = sizeof MAGIC + 6;
    if (kind == 'R' && rep.n >= h) {
      unsigned char *x = (unsigned char *)rep.p + sizeof MAGIC + 2;
      size_t len = x[0] | x[1] << 8 | x[2] << 16 | (size_t)x[3] << 24;
      if (len <= rep.n - h) {
        write_all(1, rep.p + h, len);
        write_all(2, rep.p + h + len, rep.n - h - len);
        return (unsigned char)rep.p[sizeof MAGIC + 1];
      }
    }
  } else if (rep.n >= sizeof MAGIC && memcmp(rep.p, "tscni/", 6) == 0) {
    fallback(plugin, &in); /* an agent of another protocol version */
  }
  /* Connected, but no whole answer: the agent died or dropped us mid-request. */
  char v[64];
  version_of(&in, v, sizeof v);
  printf("{\n    %s%s%s\"code\": 11,\n    \"msg\": \"the tscni agent ended the connection before answering\",\n"
         "    \"details\": \"the %s request may have been partly done; a DEL undoes it (agent socket %s)\"\n}",
         *v ? "\"cniVersion\": \"" : "", v, *v ? "\",\n    " : "", plugin, sa.sun_path);
  return 1;
}
