#include "lima-mount-sshfs.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lima-error.h"
#include "lima-safe-path.h"
#include "lima-host.h"

/* After the guest's umount, sshfs, ssh and the server end on their own; wait that long. */
#define LIMA_SSHFS_EXIT_TIMEOUT_USEC (2 * G_USEC_PER_SEC)

struct _LimaSshfsSession {
        gchar *ssh_binary;
        gchar *ssh_config;
        gchar *instance_name;
        gchar *location;
        gchar *mount_point;
        gchar *log_path;
        gboolean needs_umount; /* ssh ran: the guest may have the mount */
        gboolean direct;       /* ssh without the master connection */
        pid_t ssh_pid;
        pid_t server_pid;
        /* builtin driver */
        GThread *server_thread;
        int server_fd;
        gint server_done;
        LimaSftpServeFunc serve;
        gpointer serve_data;
};

gboolean
lima_sshfs_driver(const LimaMount *m, const gchar *sftp_server, gboolean builtin_available,
                  LimaSftpDriver *driver, GError **error)
{
        const gchar *name = m->sshfs_sftp_driver.value;

        if (name == NULL || *name == '\0')
                name = sftp_server != NULL ? "openssh-sftp-server" : "builtin";
        if (g_str_equal(name, "openssh-sftp-server")) {
                if (sftp_server == NULL) {
                        g_set_error_literal(
                            error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("sftpDriver openssh-sftp-server: OpenSSH's sftp-server is not "
                              "installed; install openssh-sftp-server or set sftpDriver: "
                              "builtin"));
                        return FALSE;
                }
                *driver = LIMA_SFTP_DRIVER_OPENSSH;
                return TRUE;
        }
        if (g_str_equal(name, "builtin")) {
                if (!builtin_available) {
                        g_set_error_literal(
                            error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("sftpDriver builtin is not available in this host agent; "
                              "install openssh-sftp-server and set sftpDriver: "
                              "openssh-sftp-server"));
                        return FALSE;
                }
                *driver = LIMA_SFTP_DRIVER_BUILTIN;
                return TRUE;
        }
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                    _("sftpDriver \"%s\" is not one of builtin, openssh-sftp-server"), name);
        return FALSE;
}

static void
lima_sshfs_add(GPtrArray *argv, const gchar *arg)
{
        g_ptr_array_add(argv, g_strdup(arg));
}

GPtrArray *
lima_sshfs_guest_command(const LimaMount *m, GError **error)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        /* The sshfs cache is on unless the config turns it off (Lima's default). */
        gboolean cache = !m->sshfs_cache.set || m->sshfs_cache.value;

        if (!lima_safe_path_check(_("mount location"), m->location.value, error) ||
            !lima_safe_path_check(_("mount point"), m->mount_point.value, error))
                return NULL;
        lima_sshfs_add(argv, "sudo");
        lima_sshfs_add(argv, "sshfs");
        /* Empty host: with -o slave sshfs talks SFTP on stdin/stdout, the path is all. */
        g_ptr_array_add(argv, g_strconcat(":", m->location.value, NULL));
        lima_sshfs_add(argv, m->mount_point.value);
        lima_sshfs_add(argv, "-o");
        lima_sshfs_add(argv, "slave");
        lima_sshfs_add(argv, "-o");
        lima_sshfs_add(argv, "allow_other");
        if (!m->writable.value) {
                lima_sshfs_add(argv, "-o");
                lima_sshfs_add(argv, "ro");
        }
        if (!cache) {
                lima_sshfs_add(argv, "-o");
                lima_sshfs_add(argv, "cache=no");
        }
        if (m->sshfs_follow_symlinks.value) {
                lima_sshfs_add(argv, "-o");
                lima_sshfs_add(argv, "follow_symlinks");
        }
        g_ptr_array_add(argv, NULL);
        return g_steal_pointer(&argv);
}

/* Detaches whatever a dead session left at the mount point (a disconnected FUSE mount
 * answers ENOTCONN to everything, mkdir included), makes the mount point and becomes sshfs:
 * one ssh channel instead of three. The values are positional parameters, never parsed. */
#define LIMA_SSHFS_PREPARE_SCRIPT                                                                  \
        "m=$1; shift; umount -l \"$m\" 2>/dev/null; mkdir -p \"$m\" && exec \"$@\""

GPtrArray *
lima_sshfs_guest_prepare_command(GPtrArray *guest, const gchar *mount_point)
{
        g_autoptr(GPtrArray) sshfs = guest;
        GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

        lima_sshfs_add(argv, "sudo");
        lima_sshfs_add(argv, "sh");
        lima_sshfs_add(argv, "-c");
        lima_sshfs_add(argv, LIMA_SSHFS_PREPARE_SCRIPT);
        lima_sshfs_add(argv, "lima-sshfs");
        lima_sshfs_add(argv, mount_point);
        /* guest is "sudo sshfs …": sh already runs as root. */
        for (guint i = 1; i < sshfs->len; i++)
                g_ptr_array_add(argv, g_strdup(g_ptr_array_index(sshfs, i)));
        return argv;
}

GPtrArray *
lima_sshfs_server_argv(const gchar *sftp_server, const LimaMount *m)
{
        GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
        lima_sshfs_add(argv, sftp_server);
        lima_sshfs_add(argv, "-e");
        lima_sshfs_add(argv, "-d");
        lima_sshfs_add(argv, m->location.value);
        /* writable: false enforced on the host, whatever the guest's sshfs does. */
        if (!m->writable.value)
                lima_sshfs_add(argv, "-R");
        g_ptr_array_add(argv, NULL);
        return argv;
}

/* Host folders the sandbox shows read-only for the binary to run; merged-/usr systems have
 * them as symlinks into /usr, which the sandbox recreates as such. */
static const gchar *const lima_sshfs_system_dirs[] = { "/bin",   "/sbin",   "/lib", "/lib32",
                                                       "/lib64", "/libx32", NULL };
/* World-readable files sftp-server reads: it exits without its own passwd entry. */
static const gchar *const lima_sshfs_system_files[] = { "/etc/passwd", "/etc/group",
                                                        "/etc/ld.so.cache", "/etc/localtime",
                                                        NULL };

GPtrArray *
lima_sshfs_confined_server_argv(const gchar *bwrap, const gchar *sftp_server, const LimaMount *m)
{
        g_autoptr(GPtrArray) server = lima_sshfs_server_argv(sftp_server, m);
        GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
        const gchar *location = m->location.value;

        lima_sshfs_add(argv, bwrap);
        /* Its own user (mapped to the same uid, no capabilities), mount, IPC, network and
         * UTS namespaces; killed with bwrap, which dies with the agent. */
        for (const gchar *const *o =
                 (const gchar *const[]){ "--unshare-user", "--unshare-ipc", "--unshare-net",
                                         "--unshare-uts", "--unshare-cgroup-try",
                                         "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                                         NULL };
             *o != NULL; o++)
                lima_sshfs_add(argv, *o);
        lima_sshfs_add(argv, "--ro-bind");
        lima_sshfs_add(argv, "/usr");
        lima_sshfs_add(argv, "/usr");
        for (guint i = 0; lima_sshfs_system_dirs[i] != NULL; i++) {
                const gchar *dir = lima_sshfs_system_dirs[i];
                g_autofree gchar *target = g_file_read_link(dir, NULL);
                if (target != NULL) {
                        lima_sshfs_add(argv, "--symlink");
                        lima_sshfs_add(argv, target);
                        lima_sshfs_add(argv, dir);
                } else if (g_file_test(dir, G_FILE_TEST_IS_DIR)) {
                        lima_sshfs_add(argv, "--ro-bind");
                        lima_sshfs_add(argv, dir);
                        lima_sshfs_add(argv, dir);
                }
        }
        for (guint i = 0; lima_sshfs_system_files[i] != NULL; i++) {
                lima_sshfs_add(argv, "--ro-bind-try");
                lima_sshfs_add(argv, lima_sshfs_system_files[i]);
                lima_sshfs_add(argv, lima_sshfs_system_files[i]);
        }
        lima_sshfs_add(argv, "--dev");
        lima_sshfs_add(argv, "/dev");
        /* The location, at its own path (the guest asks for host paths), and nothing else of
         * the owner's: "..", absolute paths and symlinks out of it find nothing. */
        lima_sshfs_add(argv, m->writable.value ? "--bind" : "--ro-bind");
        lima_sshfs_add(argv, location);
        lima_sshfs_add(argv, location);
        lima_sshfs_add(argv, "--chdir");
        lima_sshfs_add(argv, location);
        lima_sshfs_add(argv, "--");
        for (guint i = 0; g_ptr_array_index(server, i) != NULL; i++)
                lima_sshfs_add(argv, g_ptr_array_index(server, i));
        g_ptr_array_add(argv, NULL);
        return argv;
}

static const gchar *
lima_sshfs_ssh_binary(const gchar *configured)
{
        const gchar *env = g_getenv("LIMA_SSH");
        if (configured != NULL)
                return configured;
        return env != NULL && *env != '\0' ? env : "ssh";
}

static GPtrArray *
lima_sshfs_ssh_argv_for(const gchar *ssh_binary, const gchar *ssh_config,
                        const gchar *instance_name, gboolean direct,
                        const gchar *const *const *commands)
{
        GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GString) remote = g_string_new(NULL);

        lima_sshfs_add(argv, ssh_binary);
        lima_sshfs_add(argv, "-F");
        lima_sshfs_add(argv, ssh_config);
        lima_sshfs_add(argv, "-T");
        lima_sshfs_add(argv, "-o");
        lima_sshfs_add(argv, "BatchMode=yes");
        lima_sshfs_add(argv, "-o");
        lima_sshfs_add(argv, "ConnectTimeout=5");
        /* A session's ssh must stay our child: never a master that forks into the
         * background (ssh.config may ask for ControlMaster auto). */
        lima_sshfs_add(argv, "-o");
        lima_sshfs_add(argv, "ControlMaster=no");
        /* Its own connection, not a channel on the master (which may refuse: MaxSessions). */
        if (direct) {
                lima_sshfs_add(argv, "-o");
                lima_sshfs_add(argv, "ControlPath=none");
        }
        /* The host name lima-NAME, as lima_ssh_config_host() writes it into ssh.config. */
        g_ptr_array_add(argv, g_strconcat("lima-", instance_name, NULL));
        lima_sshfs_add(argv, "--");
        /* ssh hands the remote shell one string: quote every word. */
        for (guint c = 0; commands[c] != NULL; c++) {
                if (c > 0)
                        g_string_append(remote, " || ");
                for (guint i = 0; commands[c][i] != NULL; i++) {
                        g_autofree gchar *quoted = g_shell_quote(commands[c][i]);
                        g_string_append_printf(remote, "%s%s", i > 0 ? " " : "", quoted);
                }
        }
        g_ptr_array_add(argv, g_string_free(g_steal_pointer(&remote), FALSE));
        g_ptr_array_add(argv, NULL);
        return argv;
}

GPtrArray *
lima_sshfs_ssh_argv(const LimaSshfsOptions *o, const gchar *const *const *commands)
{
        return lima_sshfs_ssh_argv_for(lima_sshfs_ssh_binary(o->ssh_binary), o->ssh_config,
                                       o->instance_name, o->direct, commands);
}

/* The agent blocks SIGCHLD/SIGTERM and ignores SIGPIPE; children start with defaults. */
static void
lima_sshfs_child_setup(gpointer user_data)
{
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
}

static gboolean
lima_sshfs_spawn(GPtrArray *argv, int io_fd, int log_fd, pid_t *pid, GError **error)
{
        return g_spawn_async_with_pipes_and_fds(NULL, (const gchar *const *)argv->pdata, NULL,
                                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
                                                lima_sshfs_child_setup, NULL, io_fd, io_fd, log_fd,
                                                NULL, NULL, 0, pid, NULL, NULL, NULL, error);
}

/* Runs one short command in the guest; TRUE when it exited 0. */
static gboolean
lima_sshfs_run(LimaSshfsSession *s, const gchar *const *const *commands, GError **error)
{
        g_autoptr(GPtrArray) argv = lima_sshfs_ssh_argv_for(s->ssh_binary, s->ssh_config,
                                                            s->instance_name, s->direct, commands);
        g_autofree gchar *err = NULL;
        gint status = 0;

        if (!g_spawn_sync(NULL, (gchar **)argv->pdata, NULL,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL |
                              G_SPAWN_STDOUT_TO_DEV_NULL,
                          lima_sshfs_child_setup, NULL, NULL, &err, &status, error))
                return FALSE;
        if (!g_spawn_check_wait_status(status, error)) {
                g_prefix_error(error, "%s: ", g_strstrip(err));
                return FALSE;
        }
        return TRUE;
}

static gpointer
lima_sshfs_server_thread(gpointer data)
{
        LimaSshfsSession *s = data;
        s->serve(s->server_fd, s->server_fd, s->serve_data);
        /* ssh sees EOF and exits: the agent's child watch on ssh notices the server ended. */
        shutdown(s->server_fd, SHUT_RDWR);
        g_atomic_int_set(&s->server_done, 1);
        return NULL;
}

static gboolean
lima_sshfs_start_server(LimaSshfsSession *s, const LimaSshfsOptions *o, LimaSftpDriver driver,
                        const gchar *sftp_server, int fd, int log_fd, GError **error)
{
        g_autoptr(GPtrArray) argv = NULL;
        g_autofree gchar *bwrap = NULL;

        if (driver == LIMA_SFTP_DRIVER_BUILTIN) {
                s->serve = o->builtin_serve;
                s->serve_data = o->builtin_data;
                s->server_fd = fd;
                s->server_thread = g_thread_new("lima-sftp-server", lima_sshfs_server_thread, s);
                return TRUE;
        }
        bwrap = o->bwrap != NULL ? g_strdup(o->bwrap) : g_find_program_in_path("bwrap");
        if (bwrap != NULL) {
                argv = lima_sshfs_confined_server_argv(bwrap, sftp_server, o->mount);
        } else if (o->require_confinement) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("OpenSSH's sftp-server runs confined to the mount location by "
                              "bwrap, which is not installed; install bubblewrap, or set "
                              "sshfs.sftpDriver: builtin for %s"),
                            o->mount->location.value);
                return FALSE;
        } else {
                g_warning("bwrap is not installed: OpenSSH's sftp-server serves %s unconfined "
                          "(the guest reaches every file you can); install bubblewrap",
                          o->mount->location.value);
                argv = lima_sshfs_server_argv(sftp_server, o->mount);
        }
        if (!lima_sshfs_spawn(argv, fd, log_fd, &s->server_pid, error)) {
                g_prefix_error(error, _("cannot start %s: "), sftp_server);
                return FALSE;
        }
        close(fd);
        return TRUE;
}

LimaSshfsSession *
lima_sshfs_session_start(const LimaSshfsOptions *o, GError **error)
{
        g_autoptr(LimaSshfsSession) s = g_new0(LimaSshfsSession, 1);
        g_autoptr(GPtrArray) guest = NULL;
        g_autoptr(GPtrArray) ssh_argv = NULL;
        const gchar *sftp_server =
            o->sftp_server != NULL ? o->sftp_server : lima_host_find_sftp_server();
        const LimaMount *m = o->mount;
        LimaSftpDriver driver;
        int fds[2];
        int log_fd = -1;
        gboolean ok;

        s->server_fd = -1;
        if (!lima_sshfs_driver(m, sftp_server, o->builtin_serve != NULL, &driver, error))
                return NULL;
        guest = lima_sshfs_guest_command(m, error);
        if (guest == NULL)
                return NULL;
        /* The builtin server is rooted at the location itself: the guest asks for "/". */
        if (driver == LIMA_SFTP_DRIVER_BUILTIN) {
                g_free(guest->pdata[2]);
                guest->pdata[2] = g_strdup(":/");
        }
        guest = lima_sshfs_guest_prepare_command(g_steal_pointer(&guest), m->mount_point.value);
        if (!g_file_test(m->location.value, G_FILE_TEST_IS_DIR)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_NOT_FOUND,
                            _("mount location \"%s\" is not a directory; create it or remove "
                              "the mount"),
                            m->location.value);
                return NULL;
        }
        s->ssh_binary = g_strdup(lima_sshfs_ssh_binary(o->ssh_binary));
        s->ssh_config = g_strdup(o->ssh_config);
        s->instance_name = g_strdup(o->instance_name);
        s->direct = o->direct;
        s->location = g_strdup(m->location.value);
        s->mount_point = g_strdup(m->mount_point.value);
        s->log_path = g_strdup(o->log_path);
        /* One socket both ways: whichever side dies, the other reads EOF. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
                int saved = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                            _("cannot make a socket pair for sshfs: %s"), g_strerror(saved));
                return NULL;
        }
        if (o->log_path != NULL)
                log_fd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        ok = lima_sshfs_start_server(s, o, driver, sftp_server, fds[1], log_fd, error);
        if (!ok) {
                close(fds[1]);
        } else {
                const gchar *const *commands[] = { (const gchar *const *)guest->pdata, NULL };
                ssh_argv = lima_sshfs_ssh_argv(o, commands);
                ok = lima_sshfs_spawn(ssh_argv, fds[0], log_fd, &s->ssh_pid, error);
                if (!ok)
                        g_prefix_error(error, _("cannot start %s: "), s->ssh_binary);
        }
        close(fds[0]);
        if (log_fd >= 0)
                close(log_fd);
        /* A session whose ssh never ran has nothing to umount. */
        if (!ok)
                return NULL;
        s->needs_umount = TRUE;
        g_debug("reverse-sshfs %s -> %s: ssh pid %d, server pid %d", s->location, s->mount_point,
                s->ssh_pid, s->server_pid);
        return g_steal_pointer(&s);
}

gboolean
lima_sshfs_session_wait_mounted(LimaSshfsSession *s, guint timeout_ms, GError **error)
{
        const gchar *check[] = { "sudo", "mountpoint", "-q", s->mount_point, NULL };
        const gchar *const *commands[] = { check, NULL };
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

        while (lima_sshfs_session_is_alive(s)) {
                if (lima_sshfs_run(s, commands, NULL))
                        return TRUE;
                if (g_get_monotonic_time() > deadline) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                                    _("sshfs did not mount %s in the guest within %u ms%s%s"),
                                    s->mount_point, timeout_ms, s->log_path ? "; see " : "",
                                    s->log_path ? s->log_path : "");
                        return FALSE;
                }
                g_usleep(100 * 1000);
        }
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                    _("the reverse-sshfs session for %s ended before the guest mounted it%s%s"),
                    s->mount_point, s->log_path ? "; see " : "", s->log_path ? s->log_path : "");
        return FALSE;
}

pid_t
lima_sshfs_session_check_spawn(LimaSshfsSession *s, GError **error)
{
        /* No sudo: a user may ask, and sudo costs a noticeable while in a slow guest. */
        const gchar *check[] = { "mountpoint", "-q", s->mount_point, NULL };
        const gchar *const *commands[] = { check, NULL };
        g_autoptr(GPtrArray) argv = lima_sshfs_ssh_argv_for(s->ssh_binary, s->ssh_config,
                                                            s->instance_name, s->direct, commands);
        pid_t pid = 0;

        if (!g_spawn_async(NULL, (gchar **)argv->pdata, NULL,
                           G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH |
                               G_SPAWN_STDIN_FROM_DEV_NULL | G_SPAWN_STDOUT_TO_DEV_NULL |
                               G_SPAWN_STDERR_TO_DEV_NULL,
                           lima_sshfs_child_setup, NULL, &pid, error))
                return 0;
        return pid;
}

pid_t
lima_sshfs_session_ssh_pid(const LimaSshfsSession *s)
{
        return s->ssh_pid;
}

pid_t
lima_sshfs_session_server_pid(const LimaSshfsSession *s)
{
        return s->server_pid;
}

void
lima_sshfs_session_child_exited(LimaSshfsSession *s, pid_t pid)
{
        if (pid <= 0)
                return;
        if (s->ssh_pid == pid)
                s->ssh_pid = 0;
        if (s->server_pid == pid)
                s->server_pid = 0;
}

/* WNOWAIT leaves the zombie for whoever reaps it (sd-event, or stop()). */
static gboolean
lima_sshfs_child_running(pid_t *pid)
{
        siginfo_t si;
        if (*pid <= 0)
                return FALSE;
        memset(&si, 0, sizeof(si));
        if (waitid(P_PID, *pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
                /* ECHILD: someone reaped it already. */
                *pid = 0;
                return FALSE;
        }
        return si.si_pid == 0;
}

gboolean
lima_sshfs_session_is_alive(LimaSshfsSession *s)
{
        gboolean server_alive = s->server_thread != NULL ? !g_atomic_int_get(&s->server_done)
                                                         : lima_sshfs_child_running(&s->server_pid);
        return server_alive && lima_sshfs_child_running(&s->ssh_pid);
}

/* Ends a child: the grace period first (it is shutting down by itself), then SIGTERM and
 * SIGKILL; always reaps. */
static void
lima_sshfs_end_child(pid_t *pid, gint64 grace_deadline)
{
        pid_t r;
        if (*pid <= 0)
                return;
        while ((r = waitpid(*pid, NULL, WNOHANG)) == 0 && g_get_monotonic_time() < grace_deadline)
                g_usleep(10 * 1000);
        if (r == 0) {
                gint64 deadline = g_get_monotonic_time() + G_USEC_PER_SEC / 2;
                kill(*pid, SIGTERM);
                while ((r = waitpid(*pid, NULL, WNOHANG)) == 0 && g_get_monotonic_time() < deadline)
                        g_usleep(10 * 1000);
        }
        if (r == 0) {
                kill(*pid, SIGKILL);
                waitpid(*pid, NULL, 0);
        }
        *pid = 0;
}

void
lima_sshfs_session_forget_mount(LimaSshfsSession *s)
{
        s->needs_umount = FALSE;
}

void
lima_sshfs_session_stop(LimaSshfsSession *s)
{
        gint64 grace = g_get_monotonic_time();

        if (s->needs_umount) {
                const gchar *umount_cmd[] = { "sudo", "umount", s->mount_point, NULL };
                /* A dead session leaves a busy, disconnected mount: detach it lazily. */
                const gchar *lazy_cmd[] = { "sudo", "umount", "-l", s->mount_point, NULL };
                const gchar *const *commands[] = { umount_cmd, lazy_cmd, NULL };
                g_autoptr(GError) error = NULL;
                if (!lima_sshfs_run(s, commands, &error))
                        g_debug("umount %s in the guest: %s", s->mount_point, error->message);
                else
                        grace += LIMA_SSHFS_EXIT_TIMEOUT_USEC;
                s->needs_umount = FALSE;
        }
        lima_sshfs_end_child(&s->ssh_pid, grace);
        lima_sshfs_end_child(&s->server_pid, grace);
        if (s->server_thread != NULL) {
                /* EOF for a builtin server still reading. */
                shutdown(s->server_fd, SHUT_RDWR);
                g_thread_join(g_steal_pointer(&s->server_thread));
        }
        if (s->server_fd >= 0) {
                close(s->server_fd);
                s->server_fd = -1;
        }
}

void
lima_sshfs_session_free(LimaSshfsSession *s)
{
        if (s == NULL)
                return;
        lima_sshfs_session_stop(s);
        g_free(s->ssh_binary);
        g_free(s->ssh_config);
        g_free(s->instance_name);
        g_free(s->location);
        g_free(s->mount_point);
        g_free(s->log_path);
        g_free(s);
}
