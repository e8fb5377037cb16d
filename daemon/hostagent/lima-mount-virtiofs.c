/* unshare(), pipe2(), setresuid(), open_tree() */
#define _GNU_SOURCE

#include "lima-mount-virtiofs.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lima-error.h"
#include "lima-safe-path.h"
#include "lima-userns.h"

/* An early death (a location the owner may not read) shows within this. */
#define LIMA_VIRTIOFSD_SETTLE_USEC       (200 * 1000)
#define LIMA_VIRTIOFSD_STOP_TIMEOUT_USEC (2 * G_USEC_PER_SEC)
/* In the daemon's private mount namespace, on its own tmpfs. */
#define LIMA_VIRTIOFSD_RUN    "/run/virtiofsd"
#define LIMA_VIRTIOFSD_SOURCE "/run/virtiofsd/source"

struct _LimaVirtiofsd {
        pid_t pid;
        int listen_fd; /* until the daemon has it */
        gchar *socket_path;
        gchar *log_path;
};

/* What the forked child reports on its status pipe before exec; EOF means exec worked. */
typedef enum {
        LIMA_VIRTIOFSD_STAGE_CLOSE = 1,
        LIMA_VIRTIOFSD_STAGE_USERNS,
        LIMA_VIRTIOFSD_STAGE_MAPS,
        LIMA_VIRTIOFSD_STAGE_SETID,
        LIMA_VIRTIOFSD_STAGE_SETGROUPS,
        LIMA_VIRTIOFSD_STAGE_UNSHARE,
        LIMA_VIRTIOFSD_STAGE_PRIVATE,
        LIMA_VIRTIOFSD_STAGE_OPEN_TREE,
        LIMA_VIRTIOFSD_STAGE_TMPFS,
        LIMA_VIRTIOFSD_STAGE_BIND,
        LIMA_VIRTIOFSD_STAGE_READONLY,
        LIMA_VIRTIOFSD_STAGE_PARENT,
        LIMA_VIRTIOFSD_STAGE_EXEC,
} LimaVirtiofsdStage;

gchar *
lima_virtiofsd_fuse_opt_escape(const gchar *value)
{
        GString *out = g_string_sized_new(strlen(value) + 8);
        for (const gchar *c = value; *c != '\0'; c++) {
                if (*c == ',' || *c == '\\')
                        g_string_append_c(out, '\\');
                g_string_append_c(out, *c);
        }
        return g_string_free(out, FALSE);
}

static void
lima_virtiofsd_set_root_error(GError **error)
{
        g_set_error_literal(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("the C virtiofsd from qemu-system-common serves only as root of "
                              "its own user namespace (lima_virtiofsd_start makes one)"));
}

static void
lima_virtiofsd_add(GPtrArray *argv, const gchar *arg)
{
        g_ptr_array_add(argv, g_strdup(arg));
}

static void
lima_virtiofsd_add_rust(GPtrArray *argv, const LimaVirtiofsdBinary *bin,
                        const LimaVirtiofsdArgs *args)
{
        const LimaVirtiofsdIds *ids = args->ids;

        g_ptr_array_add(argv, g_strconcat("--shared-dir=", args->source, NULL));
        lima_virtiofsd_add(argv, "--cache=auto");
        /* Unprivileged, the namespace sandbox would need uid maps; none runs as the user. */
        lima_virtiofsd_add(argv, args->privileged ? "--sandbox=namespace" : "--sandbox=none");
        if (!args->mount->writable.value && bin->has_readonly)
                lima_virtiofsd_add(argv, "--readonly");
        if (args->privileged || !bin->has_translate || ids == NULL)
                return;
        if (ids->guest_uid >= 0 && ids->guest_uid != args->host_uid)
                g_ptr_array_add(argv,
                                g_strdup_printf("--translate-uid=map:%" G_GINT64_FORMAT ":%u:1",
                                                ids->guest_uid, args->host_uid));
        if (ids->guest_gid >= 0 && ids->guest_gid != args->host_gid)
                g_ptr_array_add(argv,
                                g_strdup_printf("--translate-gid=map:%" G_GINT64_FORMAT ":%u:1",
                                                ids->guest_gid, args->host_gid));
}

GPtrArray *
lima_virtiofsd_argv(const LimaVirtiofsdBinary *bin, const LimaVirtiofsdArgs *args, GError **error)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        gboolean writable = args->mount->writable.value;

        if (!lima_safe_path_check(_("mount location"), args->mount->location.value, error) ||
            !lima_safe_path_check(_("virtiofsd source"), args->source, error) ||
            !lima_safe_path_check(_("virtiofsd socket"), args->socket_path, error))
                return NULL;
        if (bin->flavour == LIMA_VIRTIOFSD_C && !args->privileged) {
                lima_virtiofsd_set_root_error(error);
                return NULL;
        }
        if (!writable && !args->ro_by_binding &&
            !(bin->flavour == LIMA_VIRTIOFSD_RUST && bin->has_readonly)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("%s has no read-only option, so \"%s\" needs a read-only bind "
                              "mount, which only root can make; install a virtiofsd with "
                              "--readonly, run limad --system, or make the mount writable"),
                            bin->path, args->mount->location.value);
                return NULL;
        }
        lima_virtiofsd_add(argv, bin->path);
        /* The "--opt=value" form, so a path starting with '-' is never taken for a flag. */
        if (args->listen_fd > 0)
                g_ptr_array_add(argv, g_strdup_printf("--fd=%d", args->listen_fd));
        else
                g_ptr_array_add(argv, g_strconcat("--socket-path=", args->socket_path, NULL));
        if (bin->flavour == LIMA_VIRTIOFSD_RUST) {
                lima_virtiofsd_add_rust(argv, bin, args);
        } else {
                g_autofree gchar *escaped = lima_virtiofsd_fuse_opt_escape(args->source);
                lima_virtiofsd_add(argv, "-o");
                g_ptr_array_add(argv, g_strconcat("source=", escaped, NULL));
                lima_virtiofsd_add(argv, "-o");
                lima_virtiofsd_add(argv, "cache=auto");
                /* chroot, not namespace: our own user, mount and net namespaces are the
                 * sandbox, and a user namespace cannot mount the /proc a pid namespace needs
                 * where /proc has masked parts (ProtectKernelTunables= in lima@.service). */
                lima_virtiofsd_add(argv, "-o");
                lima_virtiofsd_add(argv, "sandbox=chroot");
        }
        g_ptr_array_add(argv, NULL);
        return g_steal_pointer(&argv);
}

/* Tags name files in the instance directory: keep them to a safe alphabet. */
static gboolean
lima_virtiofsd_check_tag(const gchar *tag, GError **error)
{
        if (tag != NULL && *tag != '\0' && tag[0] != '.' &&
            strspn(tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
                strlen(tag))
                return TRUE;
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                    _("mount tag \"%s\" is not usable in a file name; fill the config first"),
                    tag != NULL ? tag : "");
        return FALSE;
}

/* The last lines of the daemon's log, for an error a person can act on. */
static gchar *
lima_virtiofsd_log_tail(const gchar *path)
{
        g_autofree gchar *text = NULL;
        g_auto(GStrv) lines = NULL;
        guint n, first;
        if (!g_file_get_contents(path, &text, NULL, NULL))
                return g_strdup("");
        lines = g_strsplit(g_strstrip(text), "\n", -1);
        n = g_strv_length(lines);
        first = n > 3 ? n - 3 : 0;
        return g_strjoinv(" / ", lines + first);
}

static const gchar *
lima_virtiofsd_stage_name(LimaVirtiofsdStage stage)
{
        switch (stage) {
        case LIMA_VIRTIOFSD_STAGE_CLOSE:
                return "closing the agent's descriptors";
        case LIMA_VIRTIOFSD_STAGE_USERNS:
                return "unshare(CLONE_NEWUSER)";
        case LIMA_VIRTIOFSD_STAGE_MAPS:
                return "waiting for the uid and gid maps";
        case LIMA_VIRTIOFSD_STAGE_SETID:
                return "setresuid/setresgid to the namespace's root";
        case LIMA_VIRTIOFSD_STAGE_SETGROUPS:
                return "setgroups";
        case LIMA_VIRTIOFSD_STAGE_UNSHARE:
                return "unshare(CLONE_NEWNS|CLONE_NEWNET)";
        case LIMA_VIRTIOFSD_STAGE_PRIVATE:
                return "mount --make-rprivate /";
        case LIMA_VIRTIOFSD_STAGE_OPEN_TREE:
                return "open_tree (as the owner) of the location";
        case LIMA_VIRTIOFSD_STAGE_TMPFS:
                return "mount tmpfs on /run";
        case LIMA_VIRTIOFSD_STAGE_BIND:
                return "move_mount to " LIMA_VIRTIOFSD_SOURCE;
        case LIMA_VIRTIOFSD_STAGE_READONLY:
                return "mount_setattr read-only";
        case LIMA_VIRTIOFSD_STAGE_PARENT:
                return "PR_SET_PDEATHSIG (the agent is gone)";
        case LIMA_VIRTIOFSD_STAGE_EXEC:
        default:
                return "exec";
        }
}

static void G_GNUC_NORETURN
lima_virtiofsd_child_fail(int status_fd, LimaVirtiofsdStage stage)
{
        int report[2] = { stage, errno };
        if (write(status_fd, report, sizeof(report)) < 0)
                _exit(126);
        _exit(127);
}

/* What the forked child needs, all prepared before fork. */
typedef struct {
        char **argv;
        const gchar *location;
        gboolean read_only;
        pid_t parent;
        int listen_fd;
        int log_fd;
        int status_fd;
        int ready_fd; /* the child writes a byte once it is in its user namespace */
        int go_fd;    /* and reads one once the maps are written */
} LimaVirtiofsdChild;

/* Closes every descriptor above stderr but the n in keep (n small): async-signal-safe. */
static int
lima_virtiofsd_close_all_but(int *keep, int n)
{
        int low = 3;
        for (int i = 1; i < n; i++)
                for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
                        int t = keep[j];
                        keep[j] = keep[j - 1];
                        keep[j - 1] = t;
                }
        for (int i = 0; i < n; i++) {
                if (keep[i] < low)
                        continue;
                if (keep[i] > low && close_range((unsigned)low, (unsigned)keep[i] - 1, 0) != 0)
                        return -1;
                low = keep[i] + 1;
        }
        return close_range((unsigned)low, ~0U, 0);
}

/* In the forked child: async-signal-safe calls only. */
static void G_GNUC_NORETURN
lima_virtiofsd_child(const LimaVirtiofsdChild *c)
{
        struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
        sigset_t none;
        char byte = 'u';
        int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        int keep[] = { c->listen_fd, c->status_fd, c->ready_fd, c->go_fd };
        int tree;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        if (null_fd >= 0)
                dup2(null_fd, STDIN_FILENO);
        if (c->log_fd >= 0) {
                dup2(c->log_fd, STDOUT_FILENO);
                dup2(c->log_fd, STDERR_FILENO);
        }
        /* Dumpable, the child is open to the owner (ptrace, pidfd_getfd) until exec: first
         * close all the agent holds (some opened as root before it dropped) but our pipes. */
        if (lima_virtiofsd_close_all_but(keep, G_N_ELEMENTS(keep)) != 0)
                lima_virtiofsd_child_fail(c->status_fd, LIMA_VIRTIOFSD_STAGE_CLOSE);
        /* newuidmap only maps a process whose /proc entry is the caller's: an agent that
         * dropped from root is not dumpable, and its child would not be. */
        prctl(PR_SET_DUMPABLE, 1);
        if (unshare(CLONE_NEWUSER) != 0)
                lima_virtiofsd_child_fail(c->status_fd, LIMA_VIRTIOFSD_STAGE_USERNS);
        if (write(c->ready_fd, &byte, 1) != 1 || read(c->go_fd, &byte, 1) != 1)
                lima_virtiofsd_child_fail(c->status_fd, LIMA_VIRTIOFSD_STAGE_MAPS);
        if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0)
                lima_virtiofsd_child_fail(c->status_fd, LIMA_VIRTIOFSD_STAGE_SETID);
        /* The owner's other groups would still count on the host: none at all. */
        if (setgroups(0, NULL) != 0)
                lima_virtiofsd_child_fail(c->status_fd, LIMA_VIRTIOFSD_STAGE_SETGROUPS);
        /* A mount namespace keeps the bind mount out of the host's view; a net namespace
         * with nothing in it, since a file server needs no network. */
        if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0)
                lima_virtiofsd_child_fail(c->status_fd, LIMA_VIRTIOFSD_STAGE_UNSHARE);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
                lima_virtiofsd_child_fail(c->status_fd, LIMA_VIRTIOFSD_STAGE_PRIVATE);
        /* Resolved here, with the namespace's rights: only what the owner may reach. The
         * whole tree (AT_RECURSIVE): submounts inherited from the host are locked to it. */
        tree = open_tree(AT_FDCWD, c->location, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (tree < 0)
                lima_virtiofsd_child_fail(c->status_fd, LIMA_VIRTIOFSD_STAGE_OPEN_TREE);
        /* A private tmpfs: the bind point and the daemon's pid file, out of everyone's reach. */
        if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") != 0 ||
            mkdir(LIMA_VIRTIOFSD_RUN, 0700) != 0 || mkdir(LIMA_VIRTIOFSD_SOURCE, 0700) != 0)
                lima_virtiofsd_child_fail(c->status_fd, LIMA_VIRTIOFSD_STAGE_TMPFS);
        if (move_mount(tree, "", AT_FDCWD, LIMA_VIRTIOFSD_SOURCE, MOVE_MOUNT_F_EMPTY_PATH) != 0)
                lima_virtiofsd_child_fail(c->status_fd, LIMA_VIRTIOFSD_STAGE_BIND);
        close(tree);
        if (c->read_only &&
            mount_setattr(AT_FDCWD, LIMA_VIRTIOFSD_SOURCE, AT_RECURSIVE, &ro, sizeof(ro)) != 0)
                lima_virtiofsd_child_fail(c->status_fd, LIMA_VIRTIOFSD_STAGE_READONLY);
        /* After the last change of credentials (each clears it), then make sure the agent did
         * not die before it was set: a daemon without its agent serves nobody. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != c->parent) {
                errno = ESRCH;
                lima_virtiofsd_child_fail(c->status_fd, LIMA_VIRTIOFSD_STAGE_PARENT);
        }
        /* Nothing of the agent's reaches the daemon but the listening socket it made, which
         * is the daemon's --fd. */
        if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0 || fcntl(c->listen_fd, F_SETFD, 0) != 0)
                lima_virtiofsd_child_fail(c->status_fd, LIMA_VIRTIOFSD_STAGE_EXEC);
        execv(c->argv[0], c->argv);
        lima_virtiofsd_child_fail(c->status_fd, LIMA_VIRTIOFSD_STAGE_EXEC);
}

/* Reads the child's pre-exec report: TRUE on EOF (exec worked). */
static gboolean
lima_virtiofsd_read_status(LimaVirtiofsd *d, int status_fd, const gchar *path, GError **error)
{
        int report[2] = { 0, 0 };
        ssize_t n;
        do
                n = read(status_fd, report, sizeof(report));
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                return TRUE;
        waitpid(d->pid, NULL, 0);
        d->pid = 0;
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED, _("cannot start %s: %s failed: %s"), path,
                    lima_virtiofsd_stage_name(report[0]), g_strerror(report[1]));
        return FALSE;
}

/* The daemon's log, opened by the agent as the owner: no link followed, no FIFO to block
 * on, only a regular file of ours with one name. */
static int
lima_virtiofsd_open_log(const gchar *path, GError **error)
{
        int fd =
            open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0600);
        struct stat st;
        int saved;

        if (fd < 0) {
                saved = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                            _("cannot open %s: %s; remove it if it is not a regular file"), path,
                            g_strerror(saved));
                return -1;
        }
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
            st.st_nlink != 1) {
                close(fd);
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_PERMISSION_DENIED,
                            _("%s is not a regular file of uid %u with one link; remove it and "
                              "start again"),
                            path, (guint)geteuid());
                return -1;
        }
        if (ftruncate(fd, 0) != 0) {
                saved = errno;
                close(fd);
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                            _("cannot truncate %s: %s"), path, g_strerror(saved));
                return -1;
        }
        return fd;
}

/* The vhost-user socket, made by the agent (so it is the owner's and QEMU, running as the
 * owner, may connect) and handed to the daemon, which never sees its path. */
static int
lima_virtiofsd_listen(const gchar *path, GError **error)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int fd = -1;
        int saved;

        if (strlen(path) >= sizeof(addr.sun_path)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("virtiofsd socket path %s is too long for a unix socket; use a "
                              "shorter LIMA_HOME"),
                            path);
                return -1;
        }
        strcpy(addr.sun_path, path);
        /* A stale socket would refuse the bind. */
        g_unlink(path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
            chmod(path, 0600) != 0 || listen(fd, 1) != 0) {
                saved = errno;
                if (fd >= 0)
                        close(fd);
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                            _("cannot listen on %s: %s"), path, g_strerror(saved));
                return -1;
        }
        return fd;
}

static void
lima_virtiofsd_close_pair(int fds[2])
{
        for (int i = 0; i < 2; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        fds[0] = fds[1] = -1;
}

/* The parent's half of the handshake: the child is in its namespace, write its maps, let it
 * go on. FALSE with error (and the child killed and reaped) on any failure. */
static gboolean
lima_virtiofsd_map_child(LimaVirtiofsd *d, const LimaUsernsMap *map, int ready_fd, int go_fd,
                         GError **error)
{
        char byte = 0;
        ssize_t n;
        do
                n = read(ready_fd, &byte, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                return TRUE; /* it failed before; its status pipe says why */
        if (!lima_userns_write_maps(d->pid, map, error)) {
                kill(d->pid, SIGKILL);
                waitpid(d->pid, NULL, 0);
                d->pid = 0;
                return FALSE;
        }
        if (write(go_fd, &byte, 1) != 1) {
                int saved = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                            _("cannot start virtiofsd: %s"), g_strerror(saved));
                return FALSE;
        }
        return TRUE;
}

/* A daemon that cannot serve (say, the owner may not read the location) dies at once: tell
 * it here, with its last words, rather than as a QEMU that cannot connect. */
static gboolean
lima_virtiofsd_settle(LimaVirtiofsd *d, GError **error)
{
        gint64 deadline = g_get_monotonic_time() + LIMA_VIRTIOFSD_SETTLE_USEC;
        int status = 0;
        while (g_get_monotonic_time() < deadline) {
                if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
                        g_autofree gchar *tail = lima_virtiofsd_log_tail(d->log_path);
                        d->pid = 0;
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                                    _("virtiofsd exited at once (%s %d)%s%s; see %s"),
                                    WIFEXITED(status) ? "exit status" : "signal",
                                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                                    *tail != '\0' ? ": " : "", tail, d->log_path);
                        return FALSE;
                }
                g_usleep(20 * 1000);
        }
        return TRUE;
}

static gboolean
lima_virtiofsd_spawn(LimaVirtiofsd *d, GPtrArray *argv, const LimaMount *m,
                     const LimaUsernsMap *map, GError **error)
{
        LimaVirtiofsdChild c = { .argv = (char **)argv->pdata,
                                 .location = m->location.value,
                                 .read_only = !m->writable.value,
                                 .parent = getpid(),
                                 .listen_fd = d->listen_fd };
        int status_pipe[2] = { -1, -1 };
        int ready_pipe[2] = { -1, -1 };
        int go_pipe[2] = { -1, -1 };
        int log_fd = lima_virtiofsd_open_log(d->log_path, error);
        gboolean ok;
        int saved;

        if (log_fd < 0)
                return FALSE;
        if (pipe2(status_pipe, O_CLOEXEC) != 0 || pipe2(ready_pipe, O_CLOEXEC) != 0 ||
            pipe2(go_pipe, O_CLOEXEC) != 0) {
                saved = errno;
                close(log_fd);
                lima_virtiofsd_close_pair(status_pipe);
                lima_virtiofsd_close_pair(ready_pipe);
                lima_virtiofsd_close_pair(go_pipe);
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                            _("cannot start virtiofsd: pipe: %s"), g_strerror(saved));
                return FALSE;
        }
        c.log_fd = log_fd;
        c.status_fd = status_pipe[1];
        c.ready_fd = ready_pipe[1];
        c.go_fd = go_pipe[0];
        d->pid = fork();
        if (d->pid == 0)
                lima_virtiofsd_child(&c);
        saved = errno;
        close(log_fd);
        close(status_pipe[1]);
        close(ready_pipe[1]);
        close(go_pipe[0]);
        if (d->pid < 0) {
                d->pid = 0;
                close(status_pipe[0]);
                close(ready_pipe[0]);
                close(go_pipe[1]);
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                            _("cannot fork virtiofsd: %s"), g_strerror(saved));
                return FALSE;
        }
        ok = lima_virtiofsd_map_child(d, map, ready_pipe[0], go_pipe[1], error);
        close(ready_pipe[0]);
        close(go_pipe[1]);
        if (ok)
                ok = lima_virtiofsd_read_status(d, status_pipe[0], g_ptr_array_index(argv, 0),
                                                error);
        close(status_pipe[0]);
        return ok && lima_virtiofsd_settle(d, error);
}

LimaVirtiofsd *
lima_virtiofsd_start(const LimaVirtiofsdBinary *bin, const LimaMount *m, const gchar *socket_path,
                     const gchar *instance_dir, const LimaVirtiofsdIds *ids, GError **error)
{
        g_autoptr(LimaVirtiofsdBinary) found = NULL;
        g_autoptr(LimaVirtiofsd) d = NULL;
        g_autoptr(GPtrArray) argv = NULL;
        g_autofree gchar *log_name = NULL;
        LimaVirtiofsdArgs args = { 0 };
        LimaUsernsMap map = { 0 };
        struct stat st = { 0 };
        const gchar *location = m->location.value;
        /* Lima's guest user gets a group of its own, with its uid as gid where free. No
         * guest user given: the owner is themself inside, so their files stay reachable. */
        guint32 guest_uid =
            ids != NULL && ids->guest_uid > 0 ? (guint32)ids->guest_uid : (guint32)geteuid();
        guint32 guest_gid = ids != NULL && ids->guest_gid > 0 ? (guint32)ids->guest_gid : guest_uid;

        if (bin == NULL && (bin = found = lima_virtiofsd_find(error)) == NULL)
                return NULL;
        if (!lima_virtiofsd_check_tag(m->tag, error) ||
            !lima_safe_path_check(_("mount location"), location, error))
                return NULL;
        /* user.uid comes from the owner's lima.yaml: a value cut to 32 bits would map some
         * other inner id to her (or none, the map being refused): say so instead. */
        if (ids != NULL && (ids->guest_uid > G_MAXUINT32 - 1 || ids->guest_gid > G_MAXUINT32 - 1)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("user.uid %lld is not an id a guest user can have (at most %u); "
                              "fix user.uid in lima.yaml"),
                            (long long)MAX(ids->guest_uid, ids->guest_gid),
                            (guint)(G_MAXUINT32 - 1));
                return NULL;
        }
        /* Asked as the owner (the agent's uid): what they may not reach, no daemon serves. */
        if (stat(location, &st) != 0 && (errno == EACCES || errno == EPERM)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_PERMISSION_DENIED,
                            _("uid %u may not reach mount location \"%s\" (%s); virtiofsd "
                              "serves only what the instance's owner may reach"),
                            (guint)geteuid(), location, g_strerror(errno));
                return NULL;
        }
        if (!S_ISDIR(st.st_mode) || !g_file_test(location, G_FILE_TEST_IS_DIR)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_NOT_FOUND,
                            _("mount location \"%s\" is not a directory; create it or remove "
                              "the mount"),
                            location);
                return NULL;
        }
        if (bin->flavour != LIMA_VIRTIOFSD_C) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("%s is the Rust virtiofsd; limad runs the C virtiofsd of "
                              "qemu-system-common (set LIMA_VIRTIOFSD=/usr/lib/qemu/virtiofsd)"),
                            bin->path);
                return NULL;
        }
        /* The named error for a user without a range comes before anything is made. */
        if (!lima_userns_map_for_self(guest_uid, guest_gid, &map, error))
                return NULL;
        args.mount = m;
        args.socket_path = socket_path;
        args.source = LIMA_VIRTIOFSD_SOURCE;
        args.privileged = TRUE; /* root of its own user namespace, nowhere else */
        args.ro_by_binding = TRUE;
        args.ids = ids;
        args.host_uid = geteuid();
        args.host_gid = getegid();
        d = g_new0(LimaVirtiofsd, 1);
        d->listen_fd = -1;
        d->socket_path = g_strdup(socket_path);
        log_name = g_strdup_printf("virtiofsd-%s.stderr.log", m->tag);
        d->log_path = g_build_filename(instance_dir, log_name, NULL);
        if ((d->listen_fd = lima_virtiofsd_listen(socket_path, error)) < 0)
                return NULL;
        args.listen_fd = d->listen_fd;
        argv = lima_virtiofsd_argv(bin, &args, error);
        if (argv == NULL || !lima_virtiofsd_spawn(d, argv, m, &map, error)) {
                g_prefix_error(error, _("mount %s: "), location);
                return NULL;
        }
        /* The daemon holds it now; ours would keep QEMU's connection queued for nobody. */
        close(d->listen_fd);
        d->listen_fd = -1;
        g_debug("virtiofsd for %s: pid %d, socket %s", location, d->pid, socket_path);
        return g_steal_pointer(&d);
}

pid_t
lima_virtiofsd_pid(const LimaVirtiofsd *d)
{
        return d->pid;
}

void
lima_virtiofsd_exited(LimaVirtiofsd *d)
{
        d->pid = 0;
}

void
lima_virtiofsd_stop(LimaVirtiofsd *d)
{
        if (d->pid > 0) {
                gint64 deadline = g_get_monotonic_time() + LIMA_VIRTIOFSD_STOP_TIMEOUT_USEC;
                /* -1 (ECHILD): reaped by someone else; the pid may be reused, never kill it. */
                pid_t r = waitpid(d->pid, NULL, WNOHANG);
                if (r == 0) {
                        kill(d->pid, SIGTERM);
                        while ((r = waitpid(d->pid, NULL, WNOHANG)) == 0 &&
                               g_get_monotonic_time() < deadline)
                                g_usleep(10 * 1000);
                }
                if (r == 0) {
                        kill(d->pid, SIGKILL);
                        waitpid(d->pid, NULL, 0);
                }
                d->pid = 0;
        }
        if (d->socket_path != NULL)
                g_unlink(d->socket_path);
        if (d->listen_fd >= 0) {
                close(d->listen_fd);
                d->listen_fd = -1;
        }
}

void
lima_virtiofsd_free(LimaVirtiofsd *d)
{
        if (d == NULL)
                return;
        lima_virtiofsd_stop(d);
        g_free(d->socket_path);
        g_free(d->log_path);
        g_free(d);
}
