/*
 * zccache: the command a build starts for every compile, in front of the daemon.
 *
 * Its one job is the hit path: find the daemon of this cache exactly as
 * zccache_client.py does, send the same request frame, write what comes back and
 * exit with its code. Every decision stays in Python: on anything but a
 * CompileResult (a sub-command, no daemon, an Error, Backpressure past its retries,
 * a malformed answer) it execs the Python client, zccache-py, from its own
 * directory, with the same arguments. A passthrough answer execs the tool itself.
 *
 * A daemon that says nothing (no answer and no KeepAlive frame) for
 * ZCCACHE_DAEMON_TIMEOUT seconds (10) is given up: one line on stderr, and the
 * compiler runs plainly. C11 and POSIX, nothing beyond libc.
 *
 * What it shares with the Python client (the version, the command words, what each
 * setting means, the socket's name, the request's fields) comes from zccache_wire.h,
 * generated from zccache_wire.py when the package is built.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "zccache_wire.h"

extern char **environ;

/* Found by the Python side's is_self(): a compiler that is a zccache launcher is refused. */
const char zccache_native_marker[] = "zccache-native-launcher " ZCCACHE_VERSION;

enum { BACKPRESSURE_RETRIES = ZC_BACKPRESSURE_RETRIES, MAX_FRAME = ZC_MAX_FRAME };

static char **g_argv;
static int join(char *out, size_t size, const char *a, const char *b);

/* -- handing over ----------------------------------------------------------------- */

static void exec_python(void) {
    char self[PATH_MAX], client[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) *slash = '\0';
        if (join(client, sizeof client, self, "zccache-py") != 0) _exit(127);
        setenv("ZCCACHE_LAUNCHER", "native", 1);
        g_argv[0] = client;
        execv(client, g_argv);
    }
    fprintf(stderr, "zccache: cannot run the Python client zccache-py beside this launcher: %s\n", strerror(errno));
    _exit(127);
}

static void exec_tool(const char *tool) {
    g_argv[1] = (char *)tool;
    execv(tool, g_argv + 1);
    exec_python(); /* the Python side says what is wrong */
}

/* `zccache start --background [--warm TOOL...]`: the Python client detaches before
 * anything else (control.start_in_background); so does this, so that a
 * configure step waiting for it waits for one fork, not for an interpreter. Any
 * other form is left to the Python client, which says in the foreground what is
 * wrong with it. The child hands the same words over. */
static void detach_if_background(int argc, char **argv) {
    if (argc < 3 || strcmp(argv[1], "start") != 0) return;
    int background = 0, words = 0, tools = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--background") == 0) {
            background = 1;
            continue;
        }
        if (words++ == 0) {
            if (strcmp(argv[i], "--warm") != 0) return;
        } else if (argv[i][0] == '-') {
            return;
        } else {
            tools++;
        }
    }
    if (!background || (words > 0 && tools == 0)) return;
    pid_t pid = fork();
    if (pid < 0) return; /* the Python client tries in its turn */
    if (pid > 0) _exit(0);
    setsid();
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
}

/* -- paths, as zccache_client.py computes them ------------------------------------------ */

/* "a/b" into out; -1 when it does not fit (a cut path would name another file). */
static int join(char *out, size_t size, const char *a, const char *b) {
    int n = snprintf(out, size, "%s/%s", a, b);
    return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

static int copy(char *out, size_t size, const char *a) {
    int n = snprintf(out, size, "%s", a);
    return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

/* os.path.normpath for an absolute path: one leading slash (two kept, as POSIX allows),
   no empty or "." parts, ".." removes the part before it. */
static void normpath(char *path) {
    int leading = path[0] == '/' ? (path[1] == '/' && path[2] != '/' ? 2 : 1) : 0;
    char *parts[PATH_MAX / 2];
    int count = 0;
    char *save = NULL;
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    for (char *p = strtok_r(copy, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
        if (strcmp(p, ".") == 0 || *p == '\0') continue;
        if (strcmp(p, "..") == 0) {
            if (count > 0 && strcmp(parts[count - 1], "..") != 0) count--;
            else if (!leading) parts[count++] = p;
            continue;
        }
        if (count < PATH_MAX / 2) parts[count++] = p;
    }
    char out[PATH_MAX];
    size_t len = 0;
    for (int i = 0; i < leading; i++) out[len++] = '/';
    for (int i = 0; i < count; i++) {
        size_t n = strlen(parts[i]);
        if (len + n + 2 >= sizeof out) break;
        if (i > 0) out[len++] = '/';
        memcpy(out + len, parts[i], n);
        len += n;
    }
    if (len == 0) out[len++] = '.';
    out[len] = '\0';
    strcpy(path, out);
}

static int absolute(const char *path, char *out, size_t size) {
    if (path[0] == '/') {
        if (copy(out, size, path) != 0) return -1;
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd) || join(out, size, cwd, path) != 0) return -1;
    }
    normpath(out);
    return 0;
}

/* os.path.join(base, name) for a base that may end in a slash */
static int join_dir(char *out, size_t size, const char *base, const char *name) {
    size_t n = strlen(base);
    if (n > 0 && base[n - 1] == '/') {
        int w = snprintf(out, size, "%s%s", base, name);
        return (w < 0 || (size_t)w >= size) ? -1 : 0;
    }
    return join(out, size, base, name);
}

static int cache_dir(char *out, size_t size) {
    const char *chosen = getenv("ZCCACHE_CACHE_DIR");
    if (!chosen || !*chosen) chosen = getenv("ZCCACHE_DIR");
    char buf[PATH_MAX];
    if (chosen && *chosen) {
        if (chosen[0] == '~') {
            const char *home = getenv("HOME");
            if (!home || (chosen[1] != '/' && chosen[1] != '\0')) return -1; /* ~user: the Python client's */
            int w = snprintf(buf, sizeof buf, "%s%s", home, chosen + 1);
            if (w < 0 || (size_t)w >= sizeof buf) return -1;
        } else if (copy(buf, sizeof buf, chosen) != 0) {
            return -1;
        }
        return absolute(buf, out, size);
    }
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && *xdg) return join_dir(out, size, xdg, ZC_DIR_NAME);
    const char *home = getenv("HOME");
    char base[PATH_MAX];
    if (!home || join_dir(base, sizeof base, home, ".cache") != 0) return -1;
    return join(out, size, base, ZC_DIR_NAME);
}

static int runtime_dir(char *out, size_t size) {
    const char *chosen = getenv("ZCCACHE_RUNTIME_DIR");
    if (chosen && *chosen) return absolute(chosen, out, size);
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    if (xdg && *xdg && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode)) return join_dir(out, size, xdg, ZC_DIR_NAME);
    snprintf(out, size, "/tmp/" ZC_DIR_NAME "-%u", (unsigned)getuid());
    return 0;
}

static uint64_t fnv64(const char *a, size_t na, const char *b, size_t nb) {
    uint64_t h = 0xCBF29CE484222325ULL;
    for (size_t i = 0; i < na + nb; i++) {
        unsigned char c = (unsigned char)(i < na ? a[i] : b[i - na]);
        h = (h ^ c) * 0x100000001B3ULL;
    }
    return h;
}

static int private_dir_ok(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid() && (st.st_mode & 077) == 0;
}

static int executable_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* This launcher itself: the same file (a symlink to it), or a copy of its bytes. */
static int is_launcher(const char *path) {
    struct stat a, b;
    if (stat("/proc/self/exe", &a) != 0 || stat(path, &b) != 0) return 0;
    if (a.st_ino == b.st_ino && a.st_dev == b.st_dev) return 1;
    if (a.st_size != b.st_size) return 0;
    FILE *x = fopen("/proc/self/exe", "rb"), *y = fopen(path, "rb");
    int same = x && y;
    char bx[4096], by[4096];
    while (same) {
        size_t nx = fread(bx, 1, sizeof bx, x), ny = fread(by, 1, sizeof by, y);
        if (nx != ny || memcmp(bx, by, nx) != 0) same = 0;
        if (nx == 0) break;
    }
    if (x) fclose(x);
    if (y) fclose(y);
    return same;
}

/* zccache_wire.next_compiler: invoked under a compiler's name (masquerade), the
   program of that name on PATH that is not this launcher. */
static int next_compiler(const char *name, char *out, size_t size) {
    const char *path = getenv("PATH");
    if (!path) path = "/bin:/usr/bin";
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return -1;
    for (const char *p = path;; ) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char dir[PATH_MAX], candidate[PATH_MAX];
        if (n > 0 && n < sizeof dir) {
            memcpy(dir, p, n);
            dir[n] = '\0';
            if (join(candidate, sizeof candidate, dir, name) == 0 && executable_file(candidate) &&
                !is_launcher(candidate)) {
                if ((candidate[0] == '/' ? copy(out, size, candidate) : join(out, size, cwd, candidate)) != 0)
                    return -1;
                normpath(out);
                return 0;
            }
        }
        if (!end) return -1;
        p = end + 1;
    }
}

/* zccache_client._which: a name with a slash is taken from the cwd, others from PATH. */
static int which(const char *name, char *out, size_t size) {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return -1;
    if (strchr(name, '/')) {
        if ((name[0] == '/' ? copy(out, size, name) : join(out, size, cwd, name)) != 0) return -1;
        return executable_file(out) ? 0 : -1;
    }
    const char *path = getenv("PATH");
    if (!path) path = "/bin:/usr/bin";
    for (const char *p = path;; ) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char dir[PATH_MAX], candidate[PATH_MAX];
        if (n >= sizeof dir) return -1;
        memcpy(dir, n ? p : ".", n ? n : 1);
        dir[n ? n : 1] = '\0';
        if (join(candidate, sizeof candidate, dir, name) == 0 && executable_file(candidate)) {
            if ((candidate[0] == '/' ? copy(out, size, candidate) : join(out, size, cwd, candidate)) != 0) return -1;
            normpath(out);
            return 0;
        }
        if (!end) return -1;
        p = end + 1;
    }
}

/* -- msgpack: the encoder writes what the Python client writes -------------------------- */

typedef struct {
    unsigned char *data;
    size_t len, cap;
} Buf;

static void put(Buf *b, const void *data, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        unsigned char *grown = realloc(b->data, cap);
        if (!grown) exec_python();
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
}

static void put_be(Buf *b, unsigned char type, uint64_t v, int bytes) {
    unsigned char out[9];
    out[0] = type;
    for (int i = 0; i < bytes; i++) out[1 + i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    put(b, out, (size_t)bytes + 1);
}

static void put_str(Buf *b, const char *s, size_t n) {
    if (n < 32) {
        unsigned char t = (unsigned char)(0xA0 | n);
        put(b, &t, 1);
    } else {
        put_be(b, 0xDB, n, 4);
    }
    put(b, s, n);
}

static void put_cstr(Buf *b, const char *s) { put_str(b, s, strlen(s)); }

static void put_int(Buf *b, int64_t v) {
    if (v >= 0 && v < 0x80) {
        unsigned char t = (unsigned char)v;
        put(b, &t, 1);
    } else if (v >= 0) {
        put_be(b, 0xCF, (uint64_t)v, 8);
    } else {
        put_be(b, 0xD3, (uint64_t)v, 8);
    }
}

/* -- msgpack: a reader for the answers (any type msgpack-python writes) ----------------- */

typedef struct {
    const unsigned char *p, *end;
    int bad;
} Reader;

static uint64_t take_be(Reader *r, int n) {
    if (r->end - r->p < n) {
        r->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | r->p[i];
    r->p += n;
    return v;
}

enum Kind { K_NIL, K_BOOL, K_INT, K_FLOAT, K_STR, K_BIN, K_ARRAY, K_MAP, K_BAD };

typedef struct {
    enum Kind kind;
    int64_t i;
    const unsigned char *s;
    size_t n; /* string/bin length, or element count */
} Value;

static Value next(Reader *r) {
    Value v = {K_BAD, 0, NULL, 0};
    if (r->p >= r->end) {
        r->bad = 1;
        return v;
    }
    unsigned t = *r->p++;
    if (t < 0x80) { v.kind = K_INT; v.i = t; return v; }
    if (t >= 0xE0) { v.kind = K_INT; v.i = (int64_t)t - 0x100; return v; }
    if (t >= 0xA0 && t <= 0xBF) { v.kind = K_STR; v.n = t & 0x1F; }
    else if (t >= 0x90 && t <= 0x9F) { v.kind = K_ARRAY; v.n = t & 0x0F; return v; }
    else if (t >= 0x80 && t <= 0x8F) { v.kind = K_MAP; v.n = t & 0x0F; return v; }
    else switch (t) {
        case 0xC0: v.kind = K_NIL; return v;
        case 0xC2: v.kind = K_BOOL; v.i = 0; return v;
        case 0xC3: v.kind = K_BOOL; v.i = 1; return v;
        case 0xCC: v.kind = K_INT; v.i = (int64_t)take_be(r, 1); return v;
        case 0xCD: v.kind = K_INT; v.i = (int64_t)take_be(r, 2); return v;
        case 0xCE: v.kind = K_INT; v.i = (int64_t)take_be(r, 4); return v;
        case 0xCF: v.kind = K_INT; v.i = (int64_t)take_be(r, 8); return v;
        case 0xD0: v.kind = K_INT; v.i = (int8_t)take_be(r, 1); return v;
        case 0xD1: v.kind = K_INT; v.i = (int16_t)take_be(r, 2); return v;
        case 0xD2: v.kind = K_INT; v.i = (int32_t)take_be(r, 4); return v;
        case 0xD3: v.kind = K_INT; v.i = (int64_t)take_be(r, 8); return v;
        case 0xCA: v.kind = K_FLOAT; take_be(r, 4); return v;
        case 0xCB: v.kind = K_FLOAT; take_be(r, 8); return v;
        case 0xD9: v.kind = K_STR; v.n = take_be(r, 1); break;
        case 0xDA: v.kind = K_STR; v.n = take_be(r, 2); break;
        case 0xDB: v.kind = K_STR; v.n = take_be(r, 4); break;
        case 0xC4: v.kind = K_BIN; v.n = take_be(r, 1); break;
        case 0xC5: v.kind = K_BIN; v.n = take_be(r, 2); break;
        case 0xC6: v.kind = K_BIN; v.n = take_be(r, 4); break;
        case 0xDC: v.kind = K_ARRAY; v.n = take_be(r, 2); return v;
        case 0xDD: v.kind = K_ARRAY; v.n = take_be(r, 4); return v;
        case 0xDE: v.kind = K_MAP; v.n = take_be(r, 2); return v;
        case 0xDF: v.kind = K_MAP; v.n = take_be(r, 4); return v;
        default: r->bad = 1; return v;
    }
    if ((size_t)(r->end - r->p) < v.n) {
        r->bad = 1;
        v.kind = K_BAD;
        return v;
    }
    v.s = r->p;
    r->p += v.n;
    return v;
}

static void skip(Reader *r, int depth) {
    Value v = next(r);
    if (r->bad || depth > 32) {
        r->bad = 1;
        return;
    }
    if (v.kind == K_ARRAY)
        for (size_t i = 0; i < v.n && !r->bad; i++) skip(r, depth + 1);
    if (v.kind == K_MAP)
        for (size_t i = 0; i < 2 * v.n && !r->bad; i++) skip(r, depth + 1);
}

static int is(Value v, const char *s) {
    return (v.kind == K_STR || v.kind == K_BIN) && v.n == strlen(s) && memcmp(v.s, s, v.n) == 0;
}

typedef struct {
    Value type, out, err;
    int64_t exit_code, retry_after_ms;
    int passthrough, have_exit;
} Answer;

static int parse_answer(const unsigned char *data, size_t n, Answer *a) {
    Reader r = {data, data + n, 0};
    memset(a, 0, sizeof *a);
    a->retry_after_ms = 10;
    Value map = next(&r);
    if (r.bad || map.kind != K_MAP) return -1;
    for (size_t i = 0; i < map.n && !r.bad; i++) {
        Value key = next(&r);
        if (r.bad || key.kind != K_STR) return -1;
        const unsigned char *at = r.p;
        Value v = next(&r);
        if (r.bad) return -1;
        if (v.kind == K_ARRAY || v.kind == K_MAP) {
            r.p = at;
            skip(&r, 0);
        } else if (is(key, "t")) {
            a->type = v;
        } else if (is(key, "stdout") && v.kind == K_BIN) {
            a->out = v;
        } else if (is(key, "stderr") && v.kind == K_BIN) {
            a->err = v;
        } else if (is(key, "exit_code") && v.kind == K_INT) {
            a->exit_code = v.i;
            a->have_exit = 1;
        } else if (is(key, "passthrough") && v.kind == K_BOOL) {
            a->passthrough = (int)v.i;
        } else if (is(key, "retry_after_ms") && v.kind == K_INT) {
            a->retry_after_ms = v.i;
        }
    }
    return (r.bad || r.p != r.end) ? -1 : 0;
}

/* -- the socket ---------------------------------------------------------------------- */

static int write_all(int fd, const unsigned char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The length and the request in one write: written apart, the daemon's thread woke
 * for the four bytes and went back to sleep for the rest, and each wake-up of an
 * idle CPU (a virtual machine's most of all) is time the hit waits. */
static int write_frame(int fd, const unsigned char len4[4], const Buf *req) {
    struct iovec parts[2] = {{(void *)len4, 4}, {req->data, req->len}};
    size_t total = 4 + req->len, sent = 0;
    ssize_t w;
    do w = writev(fd, parts, 2); while (w < 0 && errno == EINTR);
    if (w < 0) return -1;
    sent = (size_t)w;
    if (sent >= total) return 0;
    if (sent < 4 && write_all(fd, len4 + sent, 4 - sent) != 0) return -1;
    size_t done = sent < 4 ? 0 : sent - 4;
    return write_all(fd, req->data + done, req->len - done);
}

/* 1: got n bytes; 0: the peer closed; -1: error; -2: silent for timeout_ms */
static int read_exact(int fd, unsigned char *p, size_t n, int timeout_ms) {
    while (n) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int ready = poll(&pfd, 1, timeout_ms);
        if (ready < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (ready == 0) return -2;
        ssize_t got = read(fd, p, n);
        if (got < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (got == 0) return 0;
        p += got;
        n -= (size_t)got;
    }
    return 1;
}

/* zccache_wire.switch: unset or blank is the default, an OFF word (any case, blanks
   around ignored) is off, anything else on */
static int setting_switch(const char *name, int dflt) {
    const char *v = getenv(name);
    if (!v) return dflt;
    while (*v == ' ' || *v == '\t' || *v == '\n') v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\n')) n--;
    if (n == 0) return dflt;
    for (const char *const *o = ZC_OFF; *o; o++)
        if (strlen(*o) == n && strncasecmp(v, *o, n) == 0) return 0;
    return 1;
}

/* zccache_wire.seconds: a positive number, fractions allowed; anything else the default */
static double setting_seconds(const char *name, double dflt) {
    const char *v = getenv(name);
    if (!v) return dflt;
    while (*v == ' ' || *v == '\t' || *v == '\n') v++;
    if (!*v) return dflt;
    for (const char *c = v; *c && !(*c == ' ' || *c == '\t' || *c == '\n'); c++)
        if (!strchr("0123456789.eE+-", *c)) return dflt; /* decimal only, as the Python side */
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v) return dflt;
    while (end && (*end == ' ' || *end == '\t' || *end == '\n')) end++;
    if (errno != 0 || !end || *end != '\0' || !(d > 0) || d > 1e9) return dflt;
    return d;
}

static void gave_up(const char *tool, double seconds) {
    fprintf(stderr, "zccache: the daemon sent nothing for %g s; compiling without it\n", seconds);
    exec_tool(tool);
}

int main(int argc, char **argv) {
    g_argv = argv;
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    if (strcmp(base, "zccache") != 0 && strcmp(base, "zccache-py") != 0) {
        /* masquerade: `gcc` is a link to zccache; this is `zccache <the next gcc on PATH>` */
        static char real[PATH_MAX];
        if (next_compiler(base, real, sizeof real) != 0) {
            fprintf(stderr, "zccache: no %s on PATH but zccache itself\n", base);
            return 127;
        }
        char **masked = malloc(((size_t)argc + 2) * sizeof *masked);
        if (!masked) return 127;
        masked[0] = (char *)"zccache";
        masked[1] = real;
        for (int i = 1; i <= argc; i++) masked[i + 1] = argv[i];
        argv = masked;
        argc += 1;
        g_argv = argv;
    }
    if (argc < 2 || argv[1][0] == '-') exec_python();
    detach_if_background(argc, argv);
    for (const char *const *c = ZC_COMMANDS; *c; c++)
        if (strcmp(argv[1], *c) == 0) exec_python();
    /* zccache_wire.client_wants_daemon */
    if (!setting_switch("ZCCACHE_DAEMON", 1) || setting_switch("ZCCACHE_DISABLE", 0)) exec_python();
    char cwd[PATH_MAX], tool[PATH_MAX], cache[PATH_MAX], runtime[PATH_MAX], sock_path[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd) || which(argv[1], tool, sizeof tool) != 0) exec_python();
    if (cache_dir(cache, sizeof cache) != 0 || runtime_dir(runtime, sizeof runtime) != 0) exec_python();
    const char *dump_to = getenv(ZC_DUMP_VAR);
    int dumping = dump_to && *dump_to;
    if (!dumping && !private_dir_ok(runtime)) exec_python(); /* the Python client starts the daemon */
    const char *version = ZCCACHE_VERSION;
    char key_head[64];
    snprintf(key_head, sizeof key_head, "%s", version);
    size_t head_len = strlen(key_head) + 1; /* the version, then a NUL, then the cache dir */
    /* the cache dir, then each remote-tier setting that is set: a daemon per remote
       configuration (zccache_client.daemon_paths says the same) */
    const char *const *remote_vars = ZC_REMOTE_VARS;
    char tail[3 * PATH_MAX];
    size_t tail_len = strlen(cache);
    memcpy(tail, cache, tail_len);
    for (int v = 0; remote_vars[v]; v++) {
        const char *value = getenv(remote_vars[v]);
        if (!value || !*value) continue;
        size_t nn = strlen(remote_vars[v]), nv = strlen(value);
        if (tail_len + nn + nv + 2 > sizeof tail) exec_python();
        tail[tail_len++] = '\0';
        memcpy(tail + tail_len, remote_vars[v], nn);
        tail_len += nn;
        tail[tail_len++] = '=';
        memcpy(tail + tail_len, value, nv);
        tail_len += nv;
    }
    char sock_name[32];
    snprintf(sock_name, sizeof sock_name, "d-%016llx.sock", (unsigned long long)fnv64(key_head, head_len, tail, tail_len));
    if (join(sock_path, sizeof sock_path, runtime, sock_name) != 0) exec_python();
    /* a compiler that is a zccache launcher (this one) is for the Python client to refuse */
    char self[PATH_MAX];
    ssize_t sn = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sn > 0 && !dumping) {
        self[sn] = '\0';
        struct stat a, b;
        if (stat(self, &a) == 0 && stat(tool, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) exec_python();
    }

    mode_t mask = umask(022);
    umask(mask);
    Buf req = {0};
    const char *session = getenv("ZCCACHE_SESSION_ID");
    /* zccache_wire.compile_request: its fields in its order, then "t" (and the session) */
    unsigned char map_head[5] = {0xDF, 0, 0, 0, (unsigned char)(ZC_COMPILE_FIELDS + (session && *session ? 2 : 1))};
    put(&req, map_head, 5);
    put_cstr(&req, ZC_FIELD_CLIENT_PID); put_int(&req, dumping ? 0 : getpid());
    put_cstr(&req, ZC_FIELD_WORKING_DIR); put_cstr(&req, cwd);
    put_cstr(&req, ZC_FIELD_COMPILER); put_cstr(&req, tool);
    put_cstr(&req, ZC_FIELD_ARGS); put_be(&req, 0xDD, (uint64_t)(argc - 2), 4);
    for (int i = 2; i < argc; i++) put_cstr(&req, argv[i]);
    put_cstr(&req, ZC_FIELD_CWD); put_cstr(&req, cwd);
    put_cstr(&req, ZC_FIELD_ENV);
    size_t count_at = req.len;
    put_be(&req, 0xDD, 0, 4);
    size_t sent_env = 0;
    for (char **e = environ; *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq) continue;
        put_be(&req, 0xDD, 2, 4);
        put_str(&req, *e, (size_t)(eq - *e));
        put_cstr(&req, eq + 1);
        sent_env++;
    }
    for (int i = 0; i < 4; i++) req.data[count_at + 1 + i] = (unsigned char)(sent_env >> (8 * (3 - i)));
    put_cstr(&req, ZC_FIELD_STDIN); put_be(&req, 0xC6, 0, 4);
    put_cstr(&req, ZC_FIELD_UMASK); put_int(&req, mask);
    if (session && *session) {
        put_cstr(&req, "t"); put_cstr(&req, "Compile");
        put_cstr(&req, "session_id"); put_cstr(&req, session);
    } else {
        put_cstr(&req, "t"); put_cstr(&req, "CompileEphemeral");
    }
    unsigned char len4[4] = {(unsigned char)(req.len >> 24), (unsigned char)(req.len >> 16),
                             (unsigned char)(req.len >> 8), (unsigned char)req.len};

    /* zccache_wire.timeout_ms */
    double timeout_s = setting_seconds("ZCCACHE_DAEMON_TIMEOUT", ZC_DAEMON_TIMEOUT);
    int timeout_ms = timeout_s * 1000 > 2e9 ? 2000000000 : (int)(timeout_s * 1000);
    if (timeout_ms < 1) timeout_ms = 1;
    timeout_s = timeout_ms / 1000.0;
    if (dumping) { /* zccache_wire.dump: the socket path, the silence it would wait, the frame */
        FILE *f = fopen(dump_to, "wb");
        if (!f) return 1;
        fprintf(f, "%s\ntimeout_ms=%d\n", sock_path, timeout_ms);
        fwrite(len4, 1, 4, f);
        fwrite(req.data, 1, req.len, f);
        return fclose(f) == 0 ? 0 : 1;
    }
    struct sockaddr_un addr = {0};
    addr.sun_family = AF_UNIX;
    if (strlen(sock_path) >= sizeof addr.sun_path) exec_python();
    strcpy(addr.sun_path, sock_path);

    for (int attempt = 0; attempt < BACKPRESSURE_RETRIES; attempt++) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) exec_python();
        if (write_frame(fd, len4, &req) != 0) exec_python();
        unsigned char head[4];
        unsigned char *payload = NULL;
        size_t n = 0;
        Answer a;
        for (;;) { /* KeepAlive frames come while the daemon compiles; the answer ends it */
            int got = read_exact(fd, head, 4, timeout_ms);
            if (got == -2) gave_up(tool, timeout_s);
            if (got != 1) exec_python();
            n = ((size_t)head[0] << 24) | ((size_t)head[1] << 16) | ((size_t)head[2] << 8) | head[3];
            if (n > MAX_FRAME) exec_python();
            free(payload);
            payload = malloc(n ? n : 1);
            if (!payload) exec_python();
            got = read_exact(fd, payload, n, timeout_ms);
            if (got == -2) gave_up(tool, timeout_s);
            if (got != 1 || parse_answer(payload, n, &a) != 0) exec_python();
            if (!is(a.type, "KeepAlive")) break;
        }
        close(fd);
        if (is(a.type, "Backpressure")) {
            int64_t ms = a.retry_after_ms < 1 ? 1 : a.retry_after_ms > 1000 ? 1000 : a.retry_after_ms;
            struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            free(payload);
            continue;
        }
        if (!is(a.type, "CompileResult") || !a.have_exit) exec_python();
        if (a.passthrough) { /* what the daemon has to say (a bad setting), then the tool itself */
            if (a.err.n) write_all(2, a.err.s, a.err.n);
            exec_tool(tool);
        }
        if (a.out.n) write_all(1, a.out.s, a.out.n);
        if (a.err.n) write_all(2, a.err.s, a.err.n);
        return (int)(a.exit_code & 0xFF);
    }
    exec_python();
    return 127;
}
