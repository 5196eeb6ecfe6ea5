/*
 * cmd_top.c: `minga top`: the broker's queues, workers and throughput, live in the terminal
 * (DESIGN.md §1, §9). Every interval it asks the broker for STATS and WORKERS (client.h) and
 * redraws one screen that fits the terminal (80x24 and up; longer lists are cut with a count
 * of what is left out). Throughput is the jobs done per second over the samples of the last
 * S_WINDOW_S seconds. 'q' (or Ctrl-C) quits and gives the terminal back as it was. Without a
 * terminal on stdout it prints one snapshot and exits.
 */
#include "cli.h"

#include "minga/client.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define S_WINDOW_S 10
#define S_SAMPLES 64

typedef struct {
    double t;
    long long done;
} s_sample_t;

typedef struct {
    s_sample_t v[S_SAMPLES];
    size_t n;
} s_history_t;

typedef struct {
    int rows, cols, used;
} s_screen_t;

static volatile sig_atomic_t s_quit;

static void s_on_signal(int sig)
{
    (void)sig;
    s_quit = 1;
}

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long s_int(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

/* A number with a decimal comma (Spanish), one decimal. */
static const char *s_dec(char *buf, size_t cap, double v)
{
    snprintf(buf, cap, "%.1f", v);
    char *dot = strchr(buf, '.');
    if (dot)
        *dot = ',';
    return buf;
}

/* Prints one line of the screen, cut to its width; nothing once the screen is full. */
static void s_line(s_screen_t *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_line(s_screen_t *sc, const char *fmt, ...)
{
    if (sc->used >= sc->rows)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* cut at cols characters (UTF-8: count lead bytes only) */
    int chars = 0;
    size_t i = 0;
    for (; buf[i]; i++) {
        if (((unsigned char)buf[i] & 0xC0) != 0x80 && ++chars > sc->cols)
            break;
    }
    buf[i] = '\0';
    fputs(buf, stdout);
    fputs(sc->rows < 10000 ? "\033[K\n" : "\n", stdout);
    sc->used++;
}

static double s_rate(const s_history_t *h)
{
    if (h->n < 2)
        return -1;
    const s_sample_t *last = &h->v[h->n - 1], *first = &h->v[0];
    for (size_t i = 0; i < h->n; i++)
        if (last->t - h->v[i].t <= S_WINDOW_S + 0.5) {
            first = &h->v[i];
            break;
        }
    if (last->t - first->t < 0.2)
        return -1;
    return (double)(last->done - first->done) / (last->t - first->t);
}

static void s_history_add(s_history_t *h, double t, long long done)
{
    if (h->n == S_SAMPLES) {
        memmove(h->v, h->v + 1, (S_SAMPLES - 1) * sizeof *h->v);
        h->n--;
    }
    h->v[h->n++] = (s_sample_t){t, done};
}

static void s_header(s_screen_t *sc, const minga_cli_t *cli, const json_t *stats,
                     const s_history_t *h, bool live)
{
    char clock[16], a[32], b[32], c[32];
    time_t now = time(NULL);
    strftime(clock, sizeof clock, "%H:%M:%S", localtime(&now));
    s_line(sc, "minga top · almacén %s · %s%s", cli->store_dir, clock, live ? " · q: salir" : "");
    long long up = s_int(stats, "uptime_ms") / 1000;
    const json_t *st = json_object_get(stats, "store");
    s_line(sc, "broker en marcha desde hace %lld h %02lld min %02lld s · almacén %s de %s MiB",
           up / 3600, up / 60 % 60, up % 60,
           s_dec(a, sizeof a, (double)s_int(st, "used_bytes") / 1048576.0),
           s_dec(b, sizeof b, (double)s_int(st, "map_size") / 1048576.0));
    const json_t *t = json_object_get(stats, "totals");
    double rate = s_rate(h);
    if (rate < 0)
        snprintf(c, sizeof c, "sin datos aún");
    else
        snprintf(c, sizeof c, "%s trabajos/s", s_dec(a, sizeof a, rate));
    s_line(sc, "rendimiento (últimos %d s): %s · terminados %lld · muertos %lld", S_WINDOW_S, c,
           s_int(t, "done"), s_int(t, "dead"));
    s_line(sc,
           "encolados %lld · cancelados %lld · reintentos %lld · devueltos %lld · vencidos %lld",
           s_int(t, "enqueued"), s_int(t, "cancelled"), s_int(t, "failed"), s_int(t, "released"),
           s_int(t, "expired"));
}

static void s_queues(s_screen_t *sc, const json_t *stats, int room)
{
    const char *type;
    json_t *q;
    s_line(sc, "%s", "");
    s_line(sc, "%-24s %10s %10s %10s %10s", "COLA (tipo)", "EN ESPERA", "EN COLA", "EN CURSO",
           "REINTENTO");
    int shown = 0, total = (int)json_object_size(json_object_get(stats, "queues"));
    json_object_foreach((json_t *)json_object_get(stats, "queues"), type, q)
    {
        if (shown == room - 1 && total > room) {
            s_line(sc, "… y %d tipo(s) más", total - shown);
            break;
        }
        s_line(sc, "%-24s %10lld %10lld %10lld %10lld", type, s_int(q, "waiting"),
               s_int(q, "queued"), s_int(q, "leased"), s_int(q, "failed"));
        shown++;
    }
}

static void s_types(const json_t *w, char *buf, size_t size)
{
    size_t i, used = 0;
    json_t *t;
    buf[0] = 0;
    json_array_foreach(json_object_get(w, "types"), i, t)
    {
        int n = snprintf(buf + used, size - used, "%s%s", i ? "," : "",
                         json_is_string(t) ? json_string_value(t) : "?");
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

static void s_workers(s_screen_t *sc, const json_t *workers)
{
    const json_t *list = json_object_get(workers, "workers");
    size_t n = json_array_size(list), i;
    long long held = 0, cap = 0;
    json_t *w;
    json_array_foreach(list, i, w)
    {
        held += (long long)json_array_size(json_object_get(w, "held"));
        cap += s_int(w, "capacity");
    }
    s_line(sc, "%s", "");
    s_line(sc, "TRABAJADORES: %zu · ocupados %lld de %lld", n, held, cap);
    s_line(sc, "%-30s %-22s %8s %8s %8s", "NOMBRE", "TIPOS", "OCUPADO", "CAPAC.", "VISTO");
    json_array_foreach(list, i, w)
    {
        if (sc->used == sc->rows - 1 && i + 1 < n) {
            s_line(sc, "… y %zu trabajador(es) más", n - i);
            break;
        }
        char types[256], ago[32];
        s_types(w, types, sizeof types);
        const char *name = json_string_value(json_object_get(w, "name"));
        s_dec(ago, sizeof ago, (double)s_int(w, "idle_ms") / 1000.0);
        s_line(sc, "%-30.30s %-22.22s %8zu %8lld %6s s", name && *name ? name : "(sin nombre)",
               types, json_array_size(json_object_get(w, "held")), s_int(w, "capacity"), ago);
    }
}

/* Asks the broker and draws one screen. Returns 0, or -1 when the broker did not answer
 * (the screen then says so). */
static int s_draw(minga_client_t *client, const minga_cli_t *cli, s_history_t *h, s_screen_t *sc,
                  bool live)
{
    json_t *stats = NULL, *workers = NULL;
    int rc = 0;
    sc->used = 0;
    if (live)
        fputs("\033[H", stdout);
    if (minga_client_stats(client, &stats) != 0 || minga_client_workers(client, &workers) != 0) {
        s_line(sc, "minga top · almacén %s%s", cli->store_dir, live ? " · q: salir" : "");
        s_line(sc, "sin respuesta del broker: %s", minga_client_error(client));
        rc = -1;
    } else {
        s_history_add(h, s_now(), s_int(json_object_get(stats, "totals"), "done"));
        s_header(sc, cli, stats, h, live);
        int left = sc->rows - sc->used - 5;
        s_queues(sc, stats, left / 2 > 3 ? left / 2 : 3);
        s_workers(sc, workers);
    }
    if (live)
        fputs("\033[J", stdout);
    fflush(stdout);
    json_decref(stats);
    json_decref(workers);
    return rc;
}

static void s_size(s_screen_t *sc)
{
    struct winsize ws;
    sc->rows = 24;
    sc->cols = 80;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
        sc->rows = ws.ws_row;
        sc->cols = ws.ws_col;
    }
}

/* Waits up to secs for a key; true when it asks to quit. */
static bool s_key_quit(double secs)
{
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    int rc = poll(&p, 1, (int)(secs * 1000));
    if (rc <= 0)
        return false;
    char c;
    ssize_t n = read(STDIN_FILENO, &c, 1);
    return n == 0 || (n == 1 && (c == 'q' || c == 'Q' || c == 3 /* Ctrl-C */));
}

static int s_live(minga_client_t *client, const minga_cli_t *cli, double interval)
{
    struct termios saved, raw;
    bool tty_in = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty_in) {
        raw = saved;
        raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    struct sigaction sa = {.sa_handler = s_on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    fputs("\033[?1049h\033[?25l\033[H\033[2J", stdout); /* own screen, no cursor */
    s_history_t h = {.n = 0};
    s_screen_t sc;
    while (!s_quit) {
        double t0 = s_now();
        s_size(&sc);
        s_draw(client, cli, &h, &sc, true);
        double left = interval - (s_now() - t0);
        if (s_key_quit(left > 0.05 ? left : 0.05))
            break;
    }
    fputs("\033[?25h\033[?1049l", stdout);
    fflush(stdout);
    if (tty_in)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    return MINGA_EXIT_OK;
}

static int s_run_top(minga_cli_t *cli, int argc, char **argv)
{
    double interval = 1.0;
    bool once = false;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r = minga_cli_opt("top", argc, argv, &i, "--interval", &v);
        if (r < 0)
            return MINGA_EXIT_USAGE;
        if (r > 0) {
            char *end;
            errno = 0;
            interval = strtod(v, &end);
            if (errno || *end || end == v || interval < 0.1 || interval > 3600)
                return minga_cli_usage("top", "--interval %s: entre 0,1 y 3600 segundos", v);
        } else if (strcmp(argv[i], "--once") == 0)
            once = true;
        else
            return minga_cli_usage("top", "unexpected '%s'", argv[i]);
    }
    bool live = !once && isatty(STDOUT_FILENO);
    /* live: a short time-out per call so that 'q' answers while the broker is away */
    int timeout_ms = live ? 900 : (int)(cli->timeout_s * 1000);
    minga_client_t *client = NULL;
    if (minga_client_new_store(&client, cli->store_dir, timeout_ms) != 0)
        return MINGA_EXIT_FAIL;
    int rc;
    if (live) {
        rc = s_live(client, cli, interval);
    } else {
        s_history_t h = {.n = 0};
        s_screen_t sc = {.rows = 100000, .cols = 1000};
        rc = s_draw(client, cli, &h, &sc, false) == 0 ? MINGA_EXIT_OK : MINGA_EXIT_FAIL;
        if (rc != MINGA_EXIT_OK)
            fprintf(stderr, "minga top: %s\n", minga_client_error(client));
    }
    minga_client_destroy(&client);
    return rc;
}

MINGA_COMMAND(top, "top", 109, s_run_top, "colas, trabajadores y rendimiento en vivo",
              "Uso: minga top [--interval SEGUNDOS] [--once]\n"
              "\n"
              "Muestra en vivo, en la terminal, las colas del broker por tipo y estado (en\n"
              "espera, en cola, en curso, reintento), los trabajadores (nombre, tipos, trabajos\n"
              "ocupados, capacidad y hace cuánto se supo de él) y el rendimiento: trabajos\n"
              "terminados por segundo en los últimos 10 s. Se actualiza cada segundo; la tecla\n"
              "q sale. Cabe en una terminal de 80x24: las listas largas se cortan indicando\n"
              "cuántas filas faltan.\n"
              "\n"
              "Sin terminal (salida redirigida a un archivo o a otro programa), o con --once,\n"
              "imprime una sola instantánea y termina.\n"
              "\n"
              "Opciones:\n"
              "  --interval S   segundos entre actualizaciones (por omisión 1)\n"
              "  --once         una sola instantánea, aun en una terminal\n"
              "\n"
              "Estado de salida: 0 bien, 1 el broker no respondió (instantánea), 2 error de\n"
              "uso.\n")
