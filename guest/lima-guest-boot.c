/*
 * The native first boot: see lima-guest-boot.h. Runs as root in a child of the agent, so a
 * slow step (a provisioning script) never delays the agent's answers to the host; its reports
 * go up a pipe and the agent forwards them. Every command is an argv array, never a shell
 * string built from the plan.
 */
#define _GNU_SOURCE
#include "config.h"

#include "lima-guest-boot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lima-guest-protocol.h"

#define PLAN_MAX_BYTES  (1024 * 1024)
#define SUDOERS_FILE    "/etc/sudoers.d/90-lima-users"
#define HOSTS_MARK      "# limad"
#define GUEST_PATH      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define OUTPUT_LINE_MAX 400

static int report_fd = -1;

static void say(char *buf, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* snprintf() for messages, where cutting a long path short is fine. */
static void
say(char *buf, size_t size, const char *format, ...)
{
        va_list args;

        va_start(args, format);
        vsnprintf(buf, size, format, args);
        va_end(args);
}

static void boot_log(const char *format, ...) __attribute__((format(printf, 1, 2)));

static void
boot_log(const char *format, ...)
{
        va_list args;

        fputs("lima-guestagent boot: ", stderr);
        va_start(args, format);
        vfprintf(stderr, format, args);
        va_end(args);
        fputc('\n', stderr);
}

static void
report(const LimaGuestMessage *msg)
{
        char line[LIMA_GUEST_LINE_MAX + 1];
        int len = lima_guest_message_format(msg, line, sizeof(line));
        size_t done = 0;

        if (len < 0) {
                boot_log("cannot format a report (too long?)");
                return;
        }
        while (done < (size_t)len) {
                ssize_t n = write(report_fd, line + done, (size_t)len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return;
                done += (size_t)n;
        }
}

static void report_boot(LimaGuestBootPhase phase, const char *reason_format, ...)
    __attribute__((format(printf, 2, 3)));

/* reason_format NULL: the phase went fine. */
static void
report_boot(LimaGuestBootPhase phase, const char *reason_format, ...)
{
        LimaGuestMessage msg = { .type = LIMA_GUEST_MESSAGE_BOOT, .phase = phase, .ok = 1 };
        va_list args;

        if (reason_format != NULL) {
                msg.ok = 0;
                va_start(args, reason_format);
                vsnprintf(msg.reason, sizeof(msg.reason), reason_format, args);
                va_end(args);
                if (msg.reason[0] == '\0')
                        snprintf(msg.reason, sizeof(msg.reason), "failed");
                boot_log("%s failed: %s", lima_guest_boot_phase_to_string(phase), msg.reason);
        } else {
                boot_log("%s done", lima_guest_boot_phase_to_string(phase));
        }
        report(&msg);
}

static void
report_mount(const char *mount_point, const char *reason)
{
        LimaGuestMessage msg = { .type = LIMA_GUEST_MESSAGE_MOUNT, .ok = reason == NULL };

        snprintf(msg.path, sizeof(msg.path), "%s", mount_point);
        if (reason != NULL)
                snprintf(msg.reason, sizeof(msg.reason), "%s", reason[0] ? reason : "failed");
        boot_log("mount %s: %s", mount_point, reason != NULL ? msg.reason : "mounted");
        report(&msg);
}

/* Runs argv (argv[0] looked up in PATH). With out, its output is captured and out gets the
 * last non-empty line of it; without, it goes to the agent's stderr (the journal). Returns
 * the exit status, 128 + a signal, or -1 when it could not run. */
static int
run(char *const argv[], char *out, size_t out_size)
{
        int pipefd[2] = { -1, -1 };
        pid_t pid;
        int status;

        if (out != NULL) {
                out[0] = '\0';
                if (pipe2(pipefd, O_CLOEXEC) < 0)
                        return -1;
        }
        pid = fork();
        if (pid < 0) {
                if (out != NULL) {
                        close(pipefd[0]);
                        close(pipefd[1]);
                }
                return -1;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null >= 0)
                        dup2(null, STDIN_FILENO);
                if (out != NULL) {
                        dup2(pipefd[1], STDOUT_FILENO);
                        dup2(pipefd[1], STDERR_FILENO);
                } else {
                        dup2(STDERR_FILENO, STDOUT_FILENO);
                }
                execvp(argv[0], argv);
                fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        if (out != NULL) {
                char buf[1024];
                char line[OUTPUT_LINE_MAX];
                size_t len = 0;
                ssize_t n;

                close(pipefd[1]);
                while ((n = read(pipefd[0], buf, sizeof(buf))) != 0) {
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                break;
                        for (ssize_t i = 0; i < n; i++) {
                                if (buf[i] == '\n') {
                                        if (len > 0) {
                                                line[len] = '\0';
                                                snprintf(out, out_size, "%s", line);
                                        }
                                        len = 0;
                                } else if (len < sizeof(line) - 1) {
                                        line[len++] = buf[i];
                                }
                        }
                }
                if (len > 0) {
                        line[len] = '\0';
                        snprintf(out, out_size, "%s", line);
                }
                close(pipefd[0]);
        }
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR)
                        return -1;
        }
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}

/* The whole file, NUL-terminated, or NULL (errno set); at most max bytes. */
static char *
read_file(const char *path, size_t max)
{
        FILE *f = fopen(path, "re");
        char *text;
        size_t n;

        if (f == NULL)
                return NULL;
        text = malloc(max + 1);
        if (text == NULL) {
                fclose(f);
                return NULL;
        }
        n = fread(text, 1, max + 1, f);
        fclose(f);
        if (n > max) {
                free(text);
                errno = EFBIG;
                return NULL;
        }
        text[n] = '\0';
        return text;
}

/* Writes text to path through a temporary file and a rename. */
static int
write_file(const char *path, const char *text, mode_t mode, uid_t uid, gid_t gid)
{
        char tmp[4096];
        size_t len = strlen(text);
        int fd;

        if (snprintf(tmp, sizeof(tmp), "%s.limad-tmp", path) >= (int)sizeof(tmp)) {
                errno = ENAMETOOLONG;
                return -1;
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -1;
        if (write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) < 0 ||
            fchown(fd, uid, gid) < 0 || fsync(fd) < 0) {
                int saved = errno;
                close(fd);
                unlink(tmp);
                errno = saved;
                return -1;
        }
        close(fd);
        if (rename(tmp, path) < 0) {
                int saved = errno;
                unlink(tmp);
                errno = saved;
                return -1;
        }
        return 0;
}

/* --- the plan ------------------------------------------------------------------------------ */

static char *
decode_field(const char *field, size_t len)
{
        char *out = malloc(len + 1);

        if (out == NULL)
                return NULL;
        if (lima_guest_percent_decode(field, len, out, len + 1) < 0) {
                free(out);
                return NULL;
        }
        return out;
}

void
lima_guest_boot_plan_clear(LimaGuestBootPlan *plan)
{
        free(plan->hostname);
        free(plan->user);
        free(plan->home);
        free(plan->shell);
        free(plan->gecos);
        for (unsigned int i = 0; i < plan->n_keys; i++)
                free(plan->keys[i]);
        for (unsigned int i = 0; i < plan->n_mounts; i++) {
                free(plan->mounts[i].type);
                free(plan->mounts[i].tag);
                free(plan->mounts[i].options);
                free(plan->mounts[i].mount_point);
        }
        memset(plan, 0, sizeof(*plan));
}

#define FIELDS_MAX 7

/* Decodes the space-separated fields of line into f (the caller frees them, also on failure). */
static int
split_fields(const char *line, size_t len, char **f, size_t *n, unsigned int lineno, char *error,
             size_t error_size)
{
        size_t start = 0;

        for (size_t i = 0; i <= len; i++) {
                if (i < len && line[i] != ' ')
                        continue;
                if (i == start || *n == FIELDS_MAX) {
                        say(error, error_size, "line %u: bad field separators or too many fields",
                            lineno);
                        return -1;
                }
                f[*n] = decode_field(line + start, i - start);
                if (f[*n] == NULL) {
                        say(error, error_size, "line %u: bad percent-encoding", lineno);
                        return -1;
                }
                (*n)++;
                start = i + 1;
        }
        return 0;
}

/* Takes the fields a valid directive keeps (setting them to NULL in f); 1 if valid. */
static int
apply_directive(LimaGuestBootPlan *plan, char **f, size_t n)
{
        int ok = 0;

        if (strcmp(f[0], "HOSTNAME") == 0 && n == 2 && plan->hostname == NULL) {
                plan->hostname = f[1];
                f[1] = NULL;
                ok = 1;
        } else if (strcmp(f[0], "USER") == 0 && (n == 5 || n == 6) && plan->user == NULL) {
                char *end = NULL;
                errno = 0;
                plan->uid = strtoul(f[2], &end, 10);
                if (errno == 0 && end != f[2] && *end == '\0' && f[2][0] != '-' &&
                    plan->uid < 4294967295UL && f[3][0] == '/' && f[4][0] == '/' &&
                    f[1][0] != '\0' && strpbrk(f[1], ":/ \n") == NULL) {
                        plan->user = f[1];
                        plan->home = f[3];
                        plan->shell = f[4];
                        plan->gecos = n == 6 ? f[5] : NULL;
                        f[1] = f[3] = f[4] = f[5] = NULL;
                        ok = 1;
                }
        } else if (strcmp(f[0], "KEY") == 0 && n == 2 &&
                   plan->n_keys < LIMA_GUEST_BOOT_PLAN_MAX_KEYS && strchr(f[1], '\n') == NULL) {
                plan->keys[plan->n_keys++] = f[1];
                f[1] = NULL;
                ok = 1;
        } else if (strcmp(f[0], "MOUNT") == 0 && n == 5 &&
                   plan->n_mounts < LIMA_GUEST_BOOT_PLAN_MAX &&
                   (strcmp(f[1], "9p") == 0 || strcmp(f[1], "virtiofs") == 0) && f[4][0] == '/') {
                LimaGuestBootMount *m = &plan->mounts[plan->n_mounts++];
                m->type = f[1];
                m->tag = f[2];
                m->options = f[3];
                m->mount_point = f[4];
                f[1] = f[2] = f[3] = f[4] = NULL;
                ok = 1;
        }
        return ok;
}

static int
plan_line(LimaGuestBootPlan *plan, const char *line, size_t len, unsigned int lineno, char *error,
          size_t error_size)
{
        char *f[FIELDS_MAX] = { NULL };
        size_t n = 0;
        int rc = -1;

        if (split_fields(line, len, f, &n, lineno, error, error_size) == 0) {
                if (apply_directive(plan, f, n))
                        rc = 0;
                else
                        say(error, error_size, "line %u: unknown, repeated or malformed directive",
                            lineno);
        }
        for (size_t i = 0; i < FIELDS_MAX; i++)
                free(f[i]);
        return rc;
}

static int
plan_parse_lines(const char *text, LimaGuestBootPlan *plan, char *error, size_t error_size)
{
        static const char header[] = "LIMAD-BOOT-PLAN 1";
        unsigned int lineno = 0;
        const char *p = text;
        int seen_header = 0;

        while (*p != '\0') {
                const char *nl = strchr(p, '\n');
                size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

                lineno++;
                if (len >= LIMA_GUEST_LINE_MAX) {
                        say(error, error_size, "line %u: longer than %d bytes", lineno,
                            LIMA_GUEST_LINE_MAX);
                        return -1;
                }
                if (!seen_header) {
                        if (len != strlen(header) || memcmp(p, header, len) != 0) {
                                say(error, error_size,
                                    "not a limad boot plan of version %d (first line)",
                                    LIMA_GUEST_BOOT_PLAN_VERSION);
                                return -1;
                        }
                        seen_header = 1;
                } else if (len > 0 && p[0] != '#') {
                        if (plan_line(plan, p, len, lineno, error, error_size) < 0)
                                return -1;
                }
                p += len;
                if (*p == '\n')
                        p++;
        }
        if (!seen_header || plan->user == NULL || plan->hostname == NULL || plan->n_keys == 0) {
                say(error, error_size, "the plan has no %s",
                    !seen_header             ? "header"
                    : plan->user == NULL     ? "USER line"
                    : plan->hostname == NULL ? "HOSTNAME line"
                                             : "KEY line");
                return -1;
        }
        return 0;
}

int
lima_guest_boot_plan_parse(const char *text, LimaGuestBootPlan *plan, char *error,
                           size_t error_size)
{
        memset(plan, 0, sizeof(*plan));
        if (plan_parse_lines(text, plan, error, error_size) < 0) {
                lima_guest_boot_plan_clear(plan);
                return -1;
        }
        return 0;
}

/* --- the steps ----------------------------------------------------------------------------- */

/* uid, gid and home of name from /etc/passwd (the agent is static: no NSS). 0 if found. */
static int
passwd_lookup(const char *name, uid_t *uid, gid_t *gid)
{
        FILE *f = fopen("/etc/passwd", "re");
        char line[4096];
        size_t name_len = strlen(name);
        int found = -1;

        if (f == NULL)
                return -1;
        while (fgets(line, sizeof(line), f) != NULL) {
                unsigned long u, g;
                if (strncmp(line, name, name_len) != 0 || line[name_len] != ':')
                        continue;
                if (sscanf(line + name_len, ":%*[^:]:%lu:%lu:", &u, &g) == 2) {
                        *uid = (uid_t)u;
                        *gid = (gid_t)g;
                        found = 0;
                }
                break;
        }
        fclose(f);
        return found;
}

static int
step_hostname(const LimaGuestBootPlan *plan, char *why, size_t why_size)
{
        char *hosts = read_file("/etc/hosts", PLAN_MAX_BYTES);
        char *out;
        size_t out_size;
        size_t n = 0;
        char line_add[512];

        if (sethostname(plan->hostname, strlen(plan->hostname)) < 0)
                boot_log("sethostname %s: %s", plan->hostname, strerror(errno));
        {
                char text[300];
                snprintf(text, sizeof(text), "%s\n", plan->hostname);
                if (write_file("/etc/hostname", text, 0644, 0, 0) < 0) {
                        say(why, why_size, "cannot write /etc/hostname: %s", strerror(errno));
                        free(hosts);
                        return -1;
                }
        }
        /* sudo resolves the host's own name: keep one line for it, marked as ours. */
        snprintf(line_add, sizeof(line_add), "127.0.1.1\t%s %s\n", plan->hostname, HOSTS_MARK);
        out_size = (hosts != NULL ? strlen(hosts) : 0) + strlen(line_add) + 2;
        out = malloc(out_size);
        if (out == NULL) {
                free(hosts);
                say(why, why_size, "out of memory");
                return -1;
        }
        for (char *p = hosts; p != NULL && *p != '\0';) {
                char *nl = strchr(p, '\n');
                size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
                size_t mark = strlen(HOSTS_MARK);
                if (!(len >= mark && memcmp(p + len - mark, HOSTS_MARK, mark) == 0)) {
                        memcpy(out + n, p, len);
                        n += len;
                        out[n++] = '\n';
                }
                p += len;
                if (*p == '\n')
                        p++;
        }
        memcpy(out + n, line_add, strlen(line_add) + 1);
        free(hosts);
        if (write_file("/etc/hosts", out, 0644, 0, 0) < 0) {
                say(why, why_size, "cannot write /etc/hosts: %s", strerror(errno));
                free(out);
                return -1;
        }
        free(out);
        return 0;
}

static int
step_user(const LimaGuestBootPlan *plan, uid_t *uid, gid_t *gid, char *why, size_t why_size)
{
        char path[4096];
        char *keys;
        size_t keys_size = 1;
        int rc;

        if (passwd_lookup(plan->user, uid, gid) < 0) {
                char uid_text[32];
                char out[OUTPUT_LINE_MAX];
                char *argv[16];
                int a = 0;

                snprintf(uid_text, sizeof(uid_text), "%lu", plan->uid);
                argv[a++] = "useradd";
                argv[a++] = "--create-home";
                argv[a++] = "--user-group";
                argv[a++] = "--uid";
                argv[a++] = uid_text;
                argv[a++] = "--home-dir";
                argv[a++] = plan->home;
                argv[a++] = "--shell";
                argv[a++] = plan->shell;
                if (plan->gecos != NULL) {
                        argv[a++] = "--comment";
                        argv[a++] = plan->gecos;
                }
                argv[a++] = "--";
                argv[a++] = plan->user;
                argv[a] = NULL;
                rc = run(argv, out, sizeof(out));
                if (rc != 0 || passwd_lookup(plan->user, uid, gid) < 0) {
                        say(why, why_size, "useradd %s exited with %d: %s", plan->user, rc, out);
                        return -1;
                }
        }
        /* A home that existed before (a re-used disk) still gets its .ssh. */
        if (mkdir(plan->home, 0755) < 0 && errno != EEXIST) {
                say(why, why_size, "cannot create %s: %s", plan->home, strerror(errno));
                return -1;
        }
        snprintf(path, sizeof(path), "%s/.ssh", plan->home);
        if ((mkdir(path, 0700) < 0 && errno != EEXIST) || chown(path, *uid, *gid) < 0) {
                say(why, why_size, "cannot create %s: %s", path, strerror(errno));
                return -1;
        }
        for (unsigned int i = 0; i < plan->n_keys; i++)
                keys_size += strlen(plan->keys[i]) + 1;
        keys = calloc(1, keys_size);
        if (keys == NULL) {
                say(why, why_size, "out of memory");
                return -1;
        }
        for (unsigned int i = 0; i < plan->n_keys; i++) {
                strcat(keys, plan->keys[i]);
                strcat(keys, "\n");
        }
        snprintf(path, sizeof(path), "%s/.ssh/authorized_keys", plan->home);
        rc = write_file(path, keys, 0600, *uid, *gid);
        free(keys);
        if (rc < 0) {
                say(why, why_size, "cannot write %s: %s", path, strerror(errno));
                return -1;
        }
        {
                char rule[512];
                snprintf(rule, sizeof(rule), "%s ALL=(ALL) NOPASSWD:ALL\n", plan->user);
                mkdir("/etc/sudoers.d", 0750);
                if (write_file(SUDOERS_FILE, rule, 0440, 0, 0) < 0) {
                        say(why, why_size, "cannot write " SUDOERS_FILE ": %s", strerror(errno));
                        return -1;
                }
        }
        return 0;
}

/* What mountpoint(1) checks: a different device, or the same inode as "..". */
static int
is_mount_point(const char *path)
{
        char parent[4096];
        struct stat st, pst;

        if (snprintf(parent, sizeof(parent), "%s/..", path) >= (int)sizeof(parent) ||
            stat(path, &st) < 0 || stat(parent, &pst) < 0)
                return 0;
        return st.st_dev != pst.st_dev || st.st_ino == pst.st_ino;
}

static int
mkdir_parents(const char *path, uid_t uid, gid_t gid)
{
        char buf[4096];
        size_t len = strlen(path);

        if (len >= sizeof(buf)) {
                errno = ENAMETOOLONG;
                return -1;
        }
        memcpy(buf, path, len + 1);
        for (size_t i = 1; i <= len; i++) {
                if (buf[i] != '/' && buf[i] != '\0')
                        continue;
                buf[i] = '\0';
                if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                        return -1;
                buf[i] = path[i];
        }
        /* Only the mount point itself is the user's, as the cloud-init route does it. */
        return chown(path, uid, gid);
}

static void
mount_one(const char *type, const char *tag, const char *options, const char *mount_point,
          uid_t uid, gid_t gid, unsigned int *n_failed)
{
        char *argv[] = { "mount", "-t",        (char *)type,        "-o", (char *)options,
                         "--",    (char *)tag, (char *)mount_point, NULL };
        char out[OUTPUT_LINE_MAX];
        char reason[OUTPUT_LINE_MAX + 64];
        struct stat st;
        int rc;

        if (is_mount_point(mount_point)) {
                report_mount(mount_point, NULL);
                return;
        }
        /* An existing mount point stays as it is: under a read-only parent mount it cannot be
         * changed, and needs not be. */
        if (stat(mount_point, &st) < 0 && mkdir_parents(mount_point, uid, gid) < 0) {
                say(reason, sizeof(reason), "cannot create the mount point: %s", strerror(errno));
                report_mount(mount_point, reason);
                (*n_failed)++;
                return;
        }
        rc = run(argv, out, sizeof(out));
        if (rc != 0) {
                say(reason, sizeof(reason), "mount -t %s %s exited with %d: %s", type, tag, rc,
                    out);
                report_mount(mount_point, reason);
                (*n_failed)++;
                return;
        }
        report_mount(mount_point, NULL);
}

/* The runtime list: tag, options, mount point, tab-separated, one mount a line. */
static void
mount_runtime(uid_t uid, gid_t gid, unsigned int *n_failed)
{
        char *text = read_file(LIMA_GUEST_RUNTIME_MOUNTS, PLAN_MAX_BYTES);

        if (text == NULL)
                return;
        for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
                char *tab1 = strchr(line, '\t');
                char *tab2 = tab1 != NULL ? strchr(tab1 + 1, '\t') : NULL;
                if (tab2 == NULL || tab1 == line || tab2[1] != '/')
                        continue;
                *tab1 = '\0';
                *tab2 = '\0';
                mount_one("virtiofs", line, tab1 + 1, tab2 + 1, uid, gid, n_failed);
        }
        free(text);
}

static void
step_mounts(const LimaGuestBootPlan *plan, uid_t uid, gid_t gid)
{
        unsigned int n_failed = 0;
        int have_9p = 0, have_virtiofs = 0;
        struct stat st;

        for (unsigned int i = 0; i < plan->n_mounts; i++) {
                have_9p |= strcmp(plan->mounts[i].type, "9p") == 0;
                have_virtiofs |= strcmp(plan->mounts[i].type, "virtiofs") == 0;
        }
        have_virtiofs |= stat(LIMA_GUEST_RUNTIME_MOUNTS, &st) == 0;
        /* Some kernels do not load the 9p transport or virtiofs on demand. */
        if (have_9p) {
                char *argv[] = { "modprobe", "9pnet_virtio", NULL };
                run(argv, NULL, 0);
        }
        if (have_virtiofs) {
                char *argv[] = { "modprobe", "virtiofs", NULL };
                run(argv, NULL, 0);
        }
        for (unsigned int i = 0; i < plan->n_mounts; i++) {
                const LimaGuestBootMount *m = &plan->mounts[i];
                mount_one(m->type, m->tag, m->options, m->mount_point, uid, gid, &n_failed);
        }
        mount_runtime(uid, gid, &n_failed);
        if (n_failed > 0)
                report_boot(LIMA_GUEST_BOOT_MOUNTS, "%u mount(s) failed", n_failed);
        else
                report_boot(LIMA_GUEST_BOOT_MOUNTS, NULL);
}

static int
select_regular(const struct dirent *d)
{
        return d->d_name[0] != '.';
}

/* KEY=VALUE lines of param.env into the environment: boot-mode scripts see their params. */
static void
load_env_file(const char *path)
{
        char *text = read_file(path, PLAN_MAX_BYTES);

        if (text == NULL)
                return;
        for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
                char *eq = strchr(line, '=');
                if (eq == NULL || eq == line || line[0] == '#')
                        continue;
                *eq = '\0';
                setenv(line, eq + 1, 1);
        }
        free(text);
}

/* provision mode "boot": before the user exists, as cloud-init's bootcmd. Failures are
 * logged and counted, not fatal, as there. */
static unsigned int
step_boot_scripts(const char *seed)
{
        char dir[4096];
        struct dirent **names = NULL;
        unsigned int failed = 0;
        int n;

        snprintf(dir, sizeof(dir), "%s/provision.boot", seed);
        n = scandir(dir, &names, select_regular, alphasort);
        for (int i = 0; i < n; i++) {
                char path[4096 + 256];
                char *argv[] = { path, NULL };
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
                boot_log("running boot script %s", path);
                if (run(argv, NULL, 0) != 0)
                        failed++;
                free(names[i]);
        }
        free(names);
        return failed;
}

static void
boot_child(const char *seed)
{
        LimaGuestBootPlan plan;
        char path[4096];
        char why[LIMA_GUEST_REASON_MAX];
        char *text;
        uid_t uid = 0;
        gid_t gid = 0;
        unsigned int boot_failed;
        int rc;

        setenv("PATH", GUEST_PATH, 1);
        setenv("HOME", "/root", 1);
        setenv("LIMA_CIDATA_MNT", seed, 1);
        snprintf(path, sizeof(path), "%s/%s", seed, LIMA_GUEST_BOOT_PLAN_FILE);
        text = read_file(path, PLAN_MAX_BYTES);
        if (text == NULL) {
                report_boot(LIMA_GUEST_BOOT_PLAN, "cannot read %s: %s", path, strerror(errno));
                return;
        }
        rc = lima_guest_boot_plan_parse(text, &plan, why, sizeof(why));
        free(text);
        if (rc < 0) {
                report_boot(LIMA_GUEST_BOOT_PLAN, "%s: %s", path, why);
                return;
        }
        report_boot(LIMA_GUEST_BOOT_PLAN, NULL);

        snprintf(path, sizeof(path), "%s/param.env", seed);
        load_env_file(path);
        boot_failed = step_boot_scripts(seed);

        if (step_hostname(&plan, why, sizeof(why)) < 0 ||
            step_user(&plan, &uid, &gid, why, sizeof(why)) < 0) {
                report_boot(LIMA_GUEST_BOOT_USER, "%s", why);
                lima_guest_boot_plan_clear(&plan);
                return;
        }
        report_boot(LIMA_GUEST_BOOT_USER, NULL);

        step_mounts(&plan, uid, gid);

        /* The seed's boot.sh, as the cloud-init route runs it: environment, lima.env, the
         * mount points of reverse-sshfs, provisioning in Lima's order. LIMA_CIDATA_NATIVE
         * tells it that this agent is already running (it installs it otherwise). */
        snprintf(path, sizeof(path), "%s/boot.sh", seed);
        setenv("LIMA_CIDATA_NATIVE", "1", 1);
        {
                char *argv[] = { path, NULL };
                rc = run(argv, NULL, 0);
        }
        if (rc != 0 || boot_failed > 0)
                report_boot(LIMA_GUEST_BOOT_PROVISION,
                            "boot.sh exited with %d, %u boot-mode script(s) failed; see "
                            "journalctl -u lima-native-boot in the guest",
                            rc, boot_failed);
        else
                report_boot(LIMA_GUEST_BOOT_PROVISION, NULL);
        report_boot(LIMA_GUEST_BOOT_DONE, NULL);
        lima_guest_boot_plan_clear(&plan);
}

int
lima_guest_boot_start(const char *seed_dir, pid_t *pid)
{
        int pipefd[2];

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -1;
        *pid = fork();
        if (*pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return -1;
        }
        if (*pid == 0) {
                close(pipefd[0]);
                report_fd = pipefd[1];
                boot_child(seed_dir);
                _exit(0);
        }
        close(pipefd[1]);
        return pipefd[0];
}

static int
listens_in(const char *path)
{
        FILE *f = fopen(path, "re");
        char line[512];
        int found = 0;

        if (f == NULL)
                return 0;
        /* "  0: 00000000:0016 00000000:0000 0A ...": local port 22, state LISTEN. */
        while (!found && fgets(line, sizeof(line), f) != NULL) {
                char local[128];
                unsigned int state;
                char *colon;
                if (sscanf(line, " %*s %127s %*s %x", local, &state) != 2)
                        continue;
                colon = strrchr(local, ':');
                found = colon != NULL && strcmp(colon, ":0016") == 0 && state == 0x0A;
        }
        fclose(f);
        return found;
}

int
lima_guest_sshd_listens(void)
{
        return listens_in("/proc/net/tcp") || listens_in("/proc/net/tcp6");
}
