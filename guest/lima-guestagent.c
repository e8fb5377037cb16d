/*
 * lima-guestagent: runs inside the guest. Tells the host agent it is up (READY), answers PING,
 * and applies mountInotify events by touching files. The wire format is lima-guest-protocol.h.
 * Started as "boot --seed DIR" (the native route), it first provisions the guest from the
 * seed (lima-guest-boot.c) and reports each step and sshd's start to the host.
 *
 * Plain libc and statically linked: it is copied onto whatever guest image the user runs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "lima-guest-boot.h"
#include "lima-guest-protocol.h"

/* Seconds between attempts to open a missing port, and between log lines about it. */
#define PORT_RETRY_SECONDS     1
#define PORT_LOG_EVERY_SECONDS 30
/* How long a reply may wait for room in the port before the session counts as dead. */
#define WRITE_TIMEOUT_MS 5000
/* Warnings the host can cause (bad lines, failed touches) are logged at most this many times
 * per PORT_LOG_EVERY_SECONDS: a read-only mount fails every event, a confused host may send
 * nothing but junk, and the log should still show the rest. */
#define WARNING_BURST 10
/* How often the native boot looks whether sshd listens yet. */
#define SSHD_POLL_MS 200
/* BOOT and MOUNT lines kept for replay to every new session. */
#define REPORTS_MAX (LIMA_GUEST_BOOT_PLAN_MAX * 2 + 64)

static int verbose;
/* journald reads "<N>" at the start of a line as the priority; a terminal would show it. */
static int log_to_journal;

static void agent_log(int priority, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void
agent_log(int priority, const char *format, ...)
{
        va_list args;

        if (priority == LOG_DEBUG && !verbose)
                return;
        if (log_to_journal)
                fprintf(stderr, "<%d>", priority);
        else
                fputs("lima-guestagent: ", stderr);
        va_start(args, format);
        vfprintf(stderr, format, args);
        va_end(args);
        fputc('\n', stderr);
}

/* systemd sets JOURNAL_STREAM to the device:inode of the stream it connected stderr to. */
static int
stderr_is_journal(void)
{
        const char *env = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (env == NULL || sscanf(env, "%llu:%llu", &dev, &ino) != 2 ||
            fstat(STDERR_FILENO, &st) < 0)
                return 0;
        return st.st_dev == dev && st.st_ino == ino;
}

static double
monotonic_seconds(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* QEMU's side of the port is a socket; tests, and a port forwarded some other way, can hand
 * the agent a unix socket path instead of the device. */
static int
port_connect_socket(const char *path)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof(addr.sun_path)) {
                errno = ENAMETOOLONG;
                return -1;
        }
        strcpy(addr.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                int saved = errno;
                close(fd);
                errno = saved;
                return -1;
        }
        return fd;
}

/* Returns the open port, or -1 with errno set. Blocking I/O: on virtio-serial, a write blocks
 * until the host side is connected, which is exactly when READY is worth sending. */
static int
port_open(const char *path)
{
        struct stat st;
        int fd;

        if (stat(path, &st) < 0)
                return -1;
        if (S_ISSOCK(st.st_mode))
                return port_connect_socket(path);
        fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        /* A serial console (or a pty in a test) would echo and rewrite newlines. */
        if (isatty(fd)) {
                struct termios tio;
                if (tcgetattr(fd, &tio) == 0) {
                        cfmakeraw(&tio);
                        tcsetattr(fd, TCSANOW, &tio);
                }
        }
        return fd;
}

/* Waits as long as it takes: the port appears when the host hot-plugs it or QEMU starts. */
static int
port_open_wait(const char *path)
{
        double last_log = 0;
        int waited = 0;

        for (;;) {
                int fd = port_open(path);
                double now;

                if (fd >= 0) {
                        if (waited)
                                agent_log(LOG_INFO, "opened %s", path);
                        return fd;
                }
                now = monotonic_seconds();
                if (!waited || now - last_log >= PORT_LOG_EVERY_SECONDS) {
                        agent_log(LOG_INFO, "waiting for %s: %s (retrying every %d s)", path,
                                  strerror(errno), PORT_RETRY_SECONDS);
                        last_log = now;
                }
                waited = 1;
                sleep(PORT_RETRY_SECONDS);
        }
}

static int
write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -1;
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

/* A reply must not wait for a host that left: the blocked write would finish on the host's
 * next connection, before the READY that connection is owed. POLLHUP is how virtio-serial
 * says the host is gone. */
static int
write_reply(int fd, const char *buf, size_t len)
{
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        int n;

        do
                n = poll(&pfd, 1, WRITE_TIMEOUT_MS);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -1;
        if (n == 0) {
                errno = ETIMEDOUT;
                return -1;
        }
        if ((pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0 || !(pfd.revents & POLLOUT)) {
                errno = EPIPE;
                return -1;
        }
        return write_all(fd, buf, len);
}

static void
read_boot_id(char *boot_id, size_t size)
{
        FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
        char line[128];
        size_t len;

        snprintf(boot_id, size, "unknown");
        if (f == NULL)
                return;
        if (fgets(line, sizeof(line), f) != NULL) {
                len = strcspn(line, "\n");
                if (lima_guest_token_is_valid(line, len) && len < size) {
                        memcpy(boot_id, line, len);
                        boot_id[len] = '\0';
                }
        }
        fclose(f);
}

typedef struct {
        int fd;
        int failed; /* the port broke while replying: end the session */
} Session;

/* The native boot's state: its reports so far, in order, replayed after every READY. */
static char *reports[REPORTS_MAX];
static size_t n_reports;
static int boot_fd = -1;
static pid_t boot_pid;
static int sshd_pending;
static LimaGuestLineBuffer boot_lines;
static Session *current_session;

static double warning_window;
static unsigned int warning_count;

/* 1 when another host-caused warning may be logged now. */
static int
warning_allowed(void)
{
        double now = monotonic_seconds();

        if (now - warning_window >= PORT_LOG_EVERY_SECONDS) {
                if (warning_count > WARNING_BURST)
                        agent_log(LOG_WARNING, "%u more warnings were not logged",
                                  warning_count - WARNING_BURST);
                warning_window = now;
                warning_count = 0;
        }
        return warning_count++ < WARNING_BURST;
}

/* The directory a DELETE touches: path without its last component ("/" stays "/"). */
static void
parent_directory(const char *path, char *parent, size_t size)
{
        size_t len = lima_guest_bounded_strlen(path, size - 1);

        while (len > 1 && path[len - 1] == '/')
                len--;
        while (len > 0 && path[len - 1] != '/')
                len--;
        while (len > 1 && path[len - 1] == '/')
                len--;
        memcpy(parent, path, len);
        parent[len] = '\0';
}

/* Watchers of finished writes wait for IN_CLOSE_WRITE (inotifywait -e close_write), which
 * a touch does not raise. Opening a regular file for writing and closing it, without writing
 * a byte, does, and changes nothing on the host: no data, no times (the open does not
 * truncate; the host sees an open and a close, which its watch ignores). IN_MODIFY cannot be
 * raised this cleanly: an mtime-only utimensat raises it, but comes back to the host as a
 * MODIFY indistinguishable from a real write. Best effort: a file the host user may not
 * write is left with its IN_ATTRIB. */
static void
raise_close_write(const char *path, const char *shown)
{
        struct stat st;
        int fd;

        if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                return;
        fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                agent_log(LOG_DEBUG, "no IN_CLOSE_WRITE for %s: %s", shown, strerror(errno));
                return;
        }
        close(fd);
}

static void
apply_inotify(const LimaGuestMessage *msg)
{
        char parent[LIMA_GUEST_LINE_MAX];
        char shown[LIMA_GUEST_LINE_MAX * 3];
        const char *target = msg->path;

        if (msg->event == LIMA_GUEST_INOTIFY_DELETE) {
                parent_directory(msg->path, parent, sizeof(parent));
                target = parent;
        }
        /* Logged encoded: a path may hold newlines, which would forge log lines. */
        if (lima_guest_percent_encode(target, strlen(target), shown, sizeof(shown)) < 0)
                snprintf(shown, sizeof(shown), "(unprintable)");

        if (utimensat(AT_FDCWD, target, NULL, AT_SYMLINK_NOFOLLOW) == 0) {
                agent_log(LOG_DEBUG, "touched %s for %s", shown,
                          lima_guest_inotify_event_to_string(msg->event));
                if (msg->event == LIMA_GUEST_INOTIFY_MODIFY ||
                    msg->event == LIMA_GUEST_INOTIFY_CREATE)
                        raise_close_write(target, shown);
                return;
        }
        /* Gone again by the time the event arrived: nothing left to notify about. */
        if (errno == ENOENT || errno == ENOTDIR) {
                agent_log(LOG_DEBUG, "skipped %s: %s", shown, strerror(errno));
                return;
        }
        if (warning_allowed())
                agent_log(LOG_WARNING, "cannot touch %s for %s: %s", shown,
                          lima_guest_inotify_event_to_string(msg->event), strerror(errno));
}

/* Keeps a report line (with its '\n') and sends it to the host when one is connected. */
static void
report_add(const char *line, size_t len)
{
        char *copy;

        if (n_reports == REPORTS_MAX) {
                agent_log(LOG_WARNING, "too many boot reports; dropping one");
                return;
        }
        copy = malloc(len + 2);
        if (copy == NULL)
                return;
        memcpy(copy, line, len);
        copy[len] = '\n';
        copy[len + 1] = '\0';
        reports[n_reports++] = copy;
        if (current_session != NULL && !current_session->failed &&
            write_reply(current_session->fd, copy, len + 1) < 0) {
                agent_log(LOG_INFO, "cannot send a boot report: %s", strerror(errno));
                current_session->failed = 1;
        }
}

/* A line from the boot child: only well-formed reports go on. */
static void
boot_handle_line(const char *line, size_t len, void *user_data)
{
        LimaGuestMessage msg;

        if (len == 0)
                return;
        if (lima_guest_message_parse_n(line, len, &msg) < 0 ||
            (msg.type != LIMA_GUEST_MESSAGE_BOOT && msg.type != LIMA_GUEST_MESSAGE_MOUNT)) {
                agent_log(LOG_WARNING, "ignoring a malformed report from the boot child");
                return;
        }
        report_add(line, len);
}

static void
boot_read(void)
{
        char buf[LIMA_GUEST_LINE_MAX];
        ssize_t n = read(boot_fd, buf, sizeof(buf));
        int status;

        if (n < 0 && errno == EINTR)
                return;
        if (n > 0) {
                lima_guest_line_buffer_feed(&boot_lines, buf, (size_t)n, boot_handle_line, NULL);
                return;
        }
        close(boot_fd);
        boot_fd = -1;
        while (waitpid(boot_pid, &status, 0) < 0 && errno == EINTR)
                ;
        agent_log(LOG_INFO, "native boot finished");
}

static void
sshd_check(void)
{
        static const char line[] = "BOOT sshd ok";

        if (!sshd_pending || !lima_guest_sshd_listens())
                return;
        sshd_pending = 0;
        agent_log(LOG_INFO, "sshd listens");
        report_add(line, strlen(line));
}

static void
session_handle_line(const char *line, size_t len, void *user_data)
{
        Session *session = user_data;
        LimaGuestMessage msg;
        char reply[LIMA_GUEST_LINE_MAX + 1];
        int reply_len;

        /* A bare newline is how a host ends whatever partial line an earlier session left. */
        if (session->failed || len == 0)
                return;
        if (lima_guest_message_parse_n(line, len, &msg) < 0) {
                /* Not echoed: the bytes are the other side's and may be anything. */
                if (warning_allowed())
                        agent_log(LOG_WARNING, "ignoring a malformed line of %zu bytes", len);
                return;
        }
        switch (msg.type) {
        case LIMA_GUEST_MESSAGE_PING:
                msg.type = LIMA_GUEST_MESSAGE_PONG;
                reply_len = lima_guest_message_format(&msg, reply, sizeof(reply));
                if (reply_len < 0 || write_reply(session->fd, reply, (size_t)reply_len) < 0) {
                        agent_log(LOG_INFO, "cannot answer PING: %s", strerror(errno));
                        session->failed = 1;
                }
                break;
        case LIMA_GUEST_MESSAGE_INOTIFY:
                apply_inotify(&msg);
                break;
        case LIMA_GUEST_MESSAGE_READY:
        case LIMA_GUEST_MESSAGE_PONG:
        case LIMA_GUEST_MESSAGE_BOOT:
        case LIMA_GUEST_MESSAGE_MOUNT:
                if (warning_allowed())
                        agent_log(LOG_WARNING, "ignoring a guest-to-host message sent by the host");
                break;
        }
}

/* One host connection: READY, then messages until the host goes away. */
static void
session_run(int fd, const char *boot_id)
{
        LimaGuestMessage ready = { .type = LIMA_GUEST_MESSAGE_READY,
                                   .version = LIMA_GUEST_PROTOCOL_VERSION };
        LimaGuestLineBuffer lines;
        Session session = { .fd = fd };
        char buf[LIMA_GUEST_LINE_MAX];
        int len;

        snprintf(ready.boot_id, sizeof(ready.boot_id), "%s", boot_id);
        len = lima_guest_message_format(&ready, buf, sizeof(buf));
        if (len < 0 || write_all(fd, buf, (size_t)len) < 0) {
                agent_log(LOG_INFO, "cannot send READY: %s", strerror(errno));
                return;
        }
        agent_log(LOG_INFO, "sent READY, protocol %d", LIMA_GUEST_PROTOCOL_VERSION);
        for (size_t i = 0; i < n_reports; i++) {
                if (write_all(fd, reports[i], strlen(reports[i])) < 0) {
                        agent_log(LOG_INFO, "cannot replay the boot reports: %s", strerror(errno));
                        return;
                }
        }

        memset(&lines, 0, sizeof(lines));
        current_session = &session;
        for (;;) {
                struct pollfd pfds[2] = { { .fd = fd, .events = POLLIN },
                                          { .fd = boot_fd, .events = POLLIN } };
                ssize_t n;
                size_t n_discarded;
                int n_ready;

                sshd_check();
                if (session.failed)
                        break;
                n_ready = poll(pfds, boot_fd >= 0 ? 2 : 1, sshd_pending ? SSHD_POLL_MS : -1);
                if (n_ready < 0 && errno != EINTR) {
                        agent_log(LOG_INFO, "poll: %s", strerror(errno));
                        break;
                }
                if (n_ready <= 0)
                        continue;
                if (boot_fd >= 0 && pfds[1].revents != 0) {
                        boot_read();
                        if (session.failed)
                                break;
                }
                if (pfds[0].revents == 0)
                        continue;
                n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                /* virtio-serial reads EOF (or EAGAIN) while no host is connected. */
                if (n == 0) {
                        agent_log(LOG_INFO, "host disconnected");
                        break;
                }
                if (n < 0) {
                        agent_log(LOG_INFO, "host connection lost: %s", strerror(errno));
                        break;
                }
                n_discarded = lima_guest_line_buffer_feed(&lines, buf, (size_t)n,
                                                          session_handle_line, &session);
                if (n_discarded > 0 && warning_allowed())
                        agent_log(LOG_WARNING, "discarded %zu line(s) longer than %d bytes",
                                  n_discarded, LIMA_GUEST_LINE_MAX);
                if (session.failed)
                        break;
        }
        current_session = NULL;
}

static void
print_usage(FILE *out)
{
        fprintf(out,
                "Usage: lima-guestagent [daemon] [--port PATH] [--verbose]\n"
                "       lima-guestagent boot --seed DIR [--port PATH] [--verbose]\n"
                "\n"
                "The agent inside a limad guest. It opens the virtio-serial port PATH, says\n"
                "READY to the host agent, answers its PINGs and applies its mountInotify\n"
                "events by setting the named file's modification time to now, so that\n"
                "programs in the guest get an inotify event. It waits for the port to appear\n"
                "and reconnects whenever the host goes away; it runs until killed. Logs go to\n"
                "stderr. The wire format is described in lima-guest-protocol.h.\n"
                "\n"
                "  daemon               accepted and ignored (the command line Lima uses)\n"
                "  boot --seed DIR      first provision this guest from the limad seed\n"
                "                       mounted at DIR (its " LIMA_GUEST_BOOT_PLAN_FILE " file:\n"
                "                       user, key, sudo, host name, mounts, then boot.sh)\n"
                "                       and report each step to the host (native route)\n"
                "  --port PATH          the port to use (default " LIMA_GUEST_PORT_DEVICE ");\n"
                "                       a unix socket path is connected to instead of opened\n"
                "  --virtio-port PATH   same as --port\n"
                "  -v, --verbose        also log every touched file\n"
                "  -h, --help           show this help and exit\n"
                "  --version            show the version and exit\n");
}

int
main(int argc, char **argv)
{
        enum { OPT_PORT = 256, OPT_VERSION, OPT_SEED };
        static const struct option options[] = {
                { "port", required_argument, NULL, OPT_PORT },
                { "virtio-port", required_argument, NULL, OPT_PORT },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                { "seed", required_argument, NULL, OPT_SEED },
                { NULL, 0, NULL, 0 },
        };
        const char *port = LIMA_GUEST_PORT_DEVICE;
        const char *seed = NULL;
        int boot = 0;
        char boot_id[LIMA_GUEST_TOKEN_MAX + 1];
        int opt;

        while ((opt = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
                switch (opt) {
                case OPT_PORT:
                        port = optarg;
                        break;
                case OPT_SEED:
                        seed = optarg;
                        break;
                case 'v':
                        verbose = 1;
                        break;
                case 'h':
                        print_usage(stdout);
                        return EXIT_SUCCESS;
                case OPT_VERSION:
                        printf("lima-guestagent %s (protocol %d)\n", LIMAD_VERSION,
                               LIMA_GUEST_PROTOCOL_VERSION);
                        return EXIT_SUCCESS;
                default:
                        fprintf(stderr, "Try 'lima-guestagent --help'.\n");
                        return 2;
                }
        }
        if (optind < argc && strcmp(argv[optind], "daemon") == 0) {
                optind++;
        } else if (optind < argc && strcmp(argv[optind], "boot") == 0) {
                boot = 1;
                optind++;
        }
        if (optind < argc) {
                fprintf(stderr, "lima-guestagent: unexpected argument '%s'; see --help\n",
                        argv[optind]);
                return 2;
        }
        if (boot != (seed != NULL) || (seed != NULL && seed[0] == '\0')) {
                fprintf(stderr, "lima-guestagent: boot needs --seed DIR, and --seed needs "
                                "boot; see --help\n");
                return 2;
        }
        if (port[0] == '\0') {
                fprintf(stderr, "lima-guestagent: --port needs a path; see --help\n");
                return 2;
        }

        log_to_journal = stderr_is_journal();
        /* A host that closes a socket mid-reply is an ordinary disconnect, not a reason to die. */
        signal(SIGPIPE, SIG_IGN);
        read_boot_id(boot_id, sizeof(boot_id));
        agent_log(LOG_INFO, "lima-guestagent %s starting on %s, boot id %s", LIMAD_VERSION, port,
                  boot_id);
        if (boot) {
                boot_fd = lima_guest_boot_start(seed, &boot_pid);
                if (boot_fd < 0) {
                        agent_log(LOG_ERR, "cannot start the native boot: %s", strerror(errno));
                        return EXIT_FAILURE;
                }
                sshd_pending = 1;
        }

        for (;;) {
                int fd = port_open_wait(port);
                session_run(fd, boot_id);
                close(fd);
                /* After a disconnect virtio-serial reads EOF at once until the host is back;
                 * the pause keeps a misbehaving port from making this a busy loop. */
                sleep(PORT_RETRY_SECONDS);
        }
}
