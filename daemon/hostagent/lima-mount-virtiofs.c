/* unshare(), pipe2(), ST_NODEV/ST_NOEXEC */
#define _GNU_SOURCE

#include "lima-mount-virtiofs.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lima-error.h"
#include "lima-safe-path.h"

/* The daemon makes its socket within a few ms; a slow disk or a loaded host gets slack. */
#define LIMA_VIRTIOFSD_SOCKET_TIMEOUT_USEC (10 * G_USEC_PER_SEC)
#define LIMA_VIRTIOFSD_STOP_TIMEOUT_USEC   (2 * G_USEC_PER_SEC)

struct _LimaVirtiofsd {
        pid_t pid;
        gchar *socket_path;
        gchar *ro_dir; /* the (host-side empty) bind mount point, or NULL */
        gchar *log_path;
        uid_t real_uid; /* 0, or the owner the daemon's real uid is set to */
};

/* What the forked child reports on its status pipe before exec; EOF means exec worked. */
typedef enum {
        LIMA_VIRTIOFSD_STAGE_UNSHARE = 1,
        LIMA_VIRTIOFSD_STAGE_PRIVATE,
        LIMA_VIRTIOFSD_STAGE_BIND,
        LIMA_VIRTIOFSD_STAGE_REMOUNT,
        LIMA_VIRTIOFSD_STAGE_SETUID,
        LIMA_VIRTIOFSD_STAGE_EXEC,
} LimaVirtiofsdStage;

void
lima_virtiofsd_binary_free(LimaVirtiofsdBinary *bin)
{
        if (bin == NULL)
                return;
        g_free(bin->path);
        g_free(bin);
}

gboolean
lima_virtiofsd_parse_help(const gchar *help, LimaVirtiofsdBinary *bin)
{
        if (strstr(help, "--shared-dir") != NULL) {
                bin->flavour = LIMA_VIRTIOFSD_RUST;
                bin->has_readonly = strstr(help, "--readonly") != NULL;
                bin->has_translate = strstr(help, "--translate-uid") != NULL &&
                                     strstr(help, "--translate-gid") != NULL;
                return TRUE;
        }
        if (strstr(help, "source=") != NULL && strstr(help, "--socket-path") != NULL) {
                bin->flavour = LIMA_VIRTIOFSD_C;
                bin->has_readonly = FALSE;
                bin->has_translate = FALSE;
                return TRUE;
        }
        return FALSE;
}

LimaVirtiofsdBinary *
lima_virtiofsd_probe(const gchar *path, GError **error)
{
        const gchar *argv[] = { path, "--help", NULL };
        g_autofree gchar *out = NULL;
        g_autofree gchar *err = NULL;
        g_autofree gchar *help = NULL;
        g_autoptr(LimaVirtiofsdBinary) bin = g_new0(LimaVirtiofsdBinary, 1);

        /* Exit status is ignored: some builds exit 1 after printing usage. */
        if (!g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, &out,
                          &err, NULL, error)) {
                g_prefix_error(error, _("cannot run %s --help: "), path);
                return NULL;
        }
        help = g_strconcat(out, err, NULL);
        if (!lima_virtiofsd_parse_help(help, bin)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("%s does not look like virtiofsd (its --help lists neither "
                              "--shared-dir nor -o source=); set LIMA_VIRTIOFSD to the Rust "
                              "virtiofsd"),
                            path);
                return NULL;
        }
        bin->path = g_strdup(path);
        return g_steal_pointer(&bin);
}

/* The "binary" of a vhost-user descriptor of "type": "fs", or NULL. */
static gchar *
lima_virtiofsd_descriptor_binary(const gchar *file)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonObject *obj;
        if (!json_parser_load_from_file(parser, file, NULL) ||
            !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
                return NULL;
        obj = json_node_get_object(json_parser_get_root(parser));
        if (g_strcmp0(json_object_get_string_member_with_default(obj, "type", ""), "fs") != 0)
                return NULL;
        return g_strdup(json_object_get_string_member_with_default(obj, "binary", NULL));
}

static gint
lima_virtiofsd_compare_basename(gconstpointer a, gconstpointer b)
{
        g_autofree gchar *base_a = g_path_get_basename(*(const gchar *const *)a);
        g_autofree gchar *base_b = g_path_get_basename(*(const gchar *const *)b);
        return strcmp(base_a, base_b);
}

/* Every descriptor, in QEMU's order: sorted by file name, an earlier dir's file hiding a
 * later dir's file of the same name (docs/interop/vhost-user.json). */
static GPtrArray *
lima_virtiofsd_descriptors(const gchar *const *dirs)
{
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        GPtrArray *files = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; dirs != NULL && dirs[i] != NULL; i++) {
                g_autoptr(GDir) dir = g_dir_open(dirs[i], 0, NULL);
                const gchar *name;
                while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
                        if (!g_str_has_suffix(name, ".json") || g_hash_table_contains(seen, name))
                                continue;
                        g_hash_table_add(seen, g_strdup(name));
                        g_ptr_array_add(files, g_build_filename(dirs[i], name, NULL));
                }
        }
        g_ptr_array_sort(files, lima_virtiofsd_compare_basename);
        return files;
}

static void
lima_virtiofsd_add_candidate(GPtrArray *candidates, const gchar *path)
{
        if (path != NULL && g_path_is_absolute(path) &&
            g_file_test(path, G_FILE_TEST_IS_EXECUTABLE) && !g_file_test(path, G_FILE_TEST_IS_DIR))
                g_ptr_array_add(candidates, g_strdup(path));
}

LimaVirtiofsdBinary *
lima_virtiofsd_find_in(const LimaVirtiofsdSearch *search, GError **error)
{
        g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GString) rejected = g_string_new(NULL);

        if (search->env_override != NULL && *search->env_override != '\0') {
                /* The user named one: use it or say why not, never a different one. */
                LimaVirtiofsdBinary *bin = lima_virtiofsd_probe(search->env_override, error);
                if (bin == NULL)
                        g_prefix_error(error, _("LIMA_VIRTIOFSD: "));
                return bin;
        }
        if (search->search_path != NULL) {
                g_auto(GStrv) dirs = g_strsplit(search->search_path, ":", -1);
                for (guint i = 0; dirs[i] != NULL; i++) {
                        g_autofree gchar *path = NULL;
                        if (*dirs[i] == '\0')
                                continue;
                        path = g_build_filename(dirs[i], "virtiofsd", NULL);
                        lima_virtiofsd_add_candidate(candidates, path);
                }
        }
        {
                g_autoptr(GPtrArray) files = lima_virtiofsd_descriptors(search->descriptor_dirs);
                for (guint i = 0; i < files->len; i++) {
                        g_autofree gchar *binary =
                            lima_virtiofsd_descriptor_binary(g_ptr_array_index(files, i));
                        lima_virtiofsd_add_candidate(candidates, binary);
                }
        }
        for (guint i = 0; search->fallback_binaries != NULL && search->fallback_binaries[i]; i++)
                lima_virtiofsd_add_candidate(candidates, search->fallback_binaries[i]);

        for (guint i = 0; i < candidates->len; i++) {
                g_autoptr(GError) probe_error = NULL;
                LimaVirtiofsdBinary *bin =
                    lima_virtiofsd_probe(g_ptr_array_index(candidates, i), &probe_error);
                if (bin != NULL)
                        return bin;
                g_string_append_printf(rejected, " (%s)", probe_error->message);
        }
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                    _("no usable virtiofsd found%s; install virtiofsd (or qemu-system-common) "
                      "or set LIMA_VIRTIOFSD to its path, or use mountType 9p or "
                      "reverse-sshfs"),
                    rejected->str);
        return NULL;
}

LimaVirtiofsdBinary *
lima_virtiofsd_find(GError **error)
{
        const gchar *const descriptor_dirs[] = { "/etc/qemu/vhost-user",
                                                 "/usr/share/qemu/vhost-user", NULL };
        const gchar *const fallbacks[] = { "/usr/lib/qemu/virtiofsd", "/usr/libexec/virtiofsd",
                                           NULL };
        LimaVirtiofsdSearch search = {
                .env_override = g_getenv("LIMA_VIRTIOFSD"),
                .search_path = g_getenv("PATH"),
                .descriptor_dirs = descriptor_dirs,
                .fallback_binaries = fallbacks,
        };
        return lima_virtiofsd_find_in(&search, error);
}

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
                            _("the C virtiofsd from qemu-system-common needs root; install the "
                              "Rust virtiofsd or run limad --system"));
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
        g_ptr_array_add(argv, g_strconcat("--socket-path=", args->socket_path, NULL));
        if (bin->flavour == LIMA_VIRTIOFSD_RUST) {
                lima_virtiofsd_add_rust(argv, bin, args);
        } else {
                g_autofree gchar *escaped = lima_virtiofsd_fuse_opt_escape(args->source);
                lima_virtiofsd_add(argv, "-o");
                g_ptr_array_add(argv, g_strconcat("source=", escaped, NULL));
                lima_virtiofsd_add(argv, "-o");
                lima_virtiofsd_add(argv, "cache=auto");
                lima_virtiofsd_add(argv, "-o");
                lima_virtiofsd_add(argv, "sandbox=namespace");
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
        case LIMA_VIRTIOFSD_STAGE_UNSHARE:
                return "unshare(CLONE_NEWNS)";
        case LIMA_VIRTIOFSD_STAGE_PRIVATE:
                return "mount --make-rprivate /";
        case LIMA_VIRTIOFSD_STAGE_BIND:
                return "mount --bind";
        case LIMA_VIRTIOFSD_STAGE_REMOUNT:
                return "mount -o remount,bind,ro";
        case LIMA_VIRTIOFSD_STAGE_SETUID:
                return "setresuid";
        case LIMA_VIRTIOFSD_STAGE_EXEC:
        default:
                return "exec";
        }
}

/* The location's nosuid/nodev/noexec, kept on the read-only bind: a remount drops
 * whatever flags it does not repeat. */
static unsigned long
lima_virtiofsd_inherited_flags(const gchar *location)
{
        struct statvfs st;
        unsigned long flags = 0;
        if (statvfs(location, &st) != 0)
                return 0;
        if (st.f_flag & ST_NOSUID)
                flags |= MS_NOSUID;
        if (st.f_flag & ST_NODEV)
                flags |= MS_NODEV;
        if (st.f_flag & ST_NOEXEC)
                flags |= MS_NOEXEC;
        return flags;
}

static void G_GNUC_NORETURN
lima_virtiofsd_child_fail(int status_fd, LimaVirtiofsdStage stage)
{
        int report[2] = { stage, errno };
        if (write(status_fd, report, sizeof(report)) < 0)
                _exit(126);
        _exit(127);
}

/* In the forked child: async-signal-safe calls only, everything was prepared before fork. */
static void G_GNUC_NORETURN
lima_virtiofsd_child(char **argv, const gchar *location, const gchar *ro_dir,
                     unsigned long ro_flags, uid_t real_uid, int log_fd, int status_fd)
{
        sigset_t none;
        int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);

        /* A daemon without its agent serves nobody: it dies with the agent. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        if (null_fd >= 0)
                dup2(null_fd, STDIN_FILENO);
        if (log_fd >= 0) {
                dup2(log_fd, STDOUT_FILENO);
                dup2(log_fd, STDERR_FILENO);
        }
        if (ro_dir != NULL) {
                /* A namespace of its own keeps the bind mount out of the host's view, and
                 * it goes away with the daemon. */
                if (unshare(CLONE_NEWNS) != 0)
                        lima_virtiofsd_child_fail(status_fd, LIMA_VIRTIOFSD_STAGE_UNSHARE);
                if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
                        lima_virtiofsd_child_fail(status_fd, LIMA_VIRTIOFSD_STAGE_PRIVATE);
                /* Not MS_REC: a remount makes only the top mount read-only, and a writable
                 * submount must not show through. */
                if (mount(location, ro_dir, NULL, MS_BIND, NULL) != 0)
                        lima_virtiofsd_child_fail(status_fd, LIMA_VIRTIOFSD_STAGE_BIND);
                if (mount(NULL, ro_dir, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | ro_flags, NULL) !=
                    0)
                        lima_virtiofsd_child_fail(status_fd, LIMA_VIRTIOFSD_STAGE_REMOUNT);
        }
        /* Still root (effective and saved: every capability), but with the owner as real
         * uid, so an agent that dropped to the owner may still signal it to stop. */
        if (real_uid != 0 && setresuid(real_uid, -1, -1) != 0)
                lima_virtiofsd_child_fail(status_fd, LIMA_VIRTIOFSD_STAGE_SETUID);
        execv(argv[0], argv);
        lima_virtiofsd_child_fail(status_fd, LIMA_VIRTIOFSD_STAGE_EXEC);
}

static gboolean
lima_virtiofsd_is_socket(const gchar *path)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Until the socket exists; FALSE with error when the daemon died or took too long. */
static gboolean
lima_virtiofsd_wait_socket(LimaVirtiofsd *d, GError **error)
{
        gint64 deadline = g_get_monotonic_time() + LIMA_VIRTIOFSD_SOCKET_TIMEOUT_USEC;
        int status = 0;

        while (!lima_virtiofsd_is_socket(d->socket_path)) {
                if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
                        g_autofree gchar *tail = lima_virtiofsd_log_tail(d->log_path);
                        d->pid = 0;
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                                    _("virtiofsd exited before making its socket (%s %d)%s%s; "
                                      "see %s"),
                                    WIFEXITED(status) ? "exit status" : "signal",
                                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                                    *tail != '\0' ? ": " : "", tail, d->log_path);
                        return FALSE;
                }
                if (g_get_monotonic_time() > deadline) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                                    _("virtiofsd made no socket at %s within %d s; see %s"),
                                    d->socket_path,
                                    (int)(LIMA_VIRTIOFSD_SOCKET_TIMEOUT_USEC / G_USEC_PER_SEC),
                                    d->log_path);
                        return FALSE;
                }
                g_usleep(10 * 1000);
        }
        return TRUE;
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

static gboolean
lima_virtiofsd_spawn(LimaVirtiofsd *d, GPtrArray *argv, const gchar *location, GError **error)
{
        unsigned long ro_flags = d->ro_dir != NULL ? lima_virtiofsd_inherited_flags(location) : 0;
        int status_pipe[2];
        int log_fd;
        int saved;

        if (pipe2(status_pipe, O_CLOEXEC) != 0) {
                saved = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                            _("cannot start virtiofsd: pipe: %s"), g_strerror(saved));
                return FALSE;
        }
        log_fd = open(d->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        d->pid = fork();
        if (d->pid == 0)
                lima_virtiofsd_child((char **)argv->pdata, location, d->ro_dir, ro_flags,
                                     d->real_uid, log_fd, status_pipe[1]);
        saved = errno;
        close(status_pipe[1]);
        if (log_fd >= 0)
                close(log_fd);
        if (d->pid < 0) {
                d->pid = 0;
                close(status_pipe[0]);
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                            _("cannot fork virtiofsd: %s"), g_strerror(saved));
                return FALSE;
        }
        if (!lima_virtiofsd_read_status(d, status_pipe[0], g_ptr_array_index(argv, 0), error)) {
                close(status_pipe[0]);
                return FALSE;
        }
        close(status_pipe[0]);
        return lima_virtiofsd_wait_socket(d, error);
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
        const gchar *location = m->location.value;

        if (bin == NULL && (bin = found = lima_virtiofsd_find(error)) == NULL)
                return NULL;
        if (!lima_virtiofsd_check_tag(m->tag, error) ||
            !lima_safe_path_check(_("mount location"), location, error))
                return NULL;
        if (!g_file_test(location, G_FILE_TEST_IS_DIR)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_NOT_FOUND,
                            _("mount location \"%s\" is not a directory; create it or remove "
                              "the mount"),
                            location);
                return NULL;
        }
        args.mount = m;
        args.socket_path = socket_path;
        args.privileged = geteuid() == 0;
        args.ids = ids;
        args.host_uid = geteuid();
        args.host_gid = getegid();
        if (bin->flavour == LIMA_VIRTIOFSD_C && !args.privileged) {
                lima_virtiofsd_set_root_error(error);
                return NULL;
        }
        d = g_new0(LimaVirtiofsd, 1);
        d->socket_path = g_strdup(socket_path);
        if (args.privileged && ids != NULL)
                d->real_uid = ids->owner_uid;
        log_name = g_strdup_printf("virtiofsd-%s.stderr.log", m->tag);
        d->log_path = g_build_filename(instance_dir, log_name, NULL);
        /* Root can enforce read-only for any daemon that lacks the flag. */
        if (!m->writable.value && args.privileged &&
            !(bin->flavour == LIMA_VIRTIOFSD_RUST && bin->has_readonly)) {
                g_autofree gchar *dir_name = g_strdup_printf("virtiofs-ro-%s", m->tag);
                d->ro_dir = g_build_filename(instance_dir, dir_name, NULL);
                if (g_mkdir_with_parents(d->ro_dir, 0700) != 0) {
                        int saved = errno;
                        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                                    _("cannot create %s: %s"), d->ro_dir, g_strerror(saved));
                        return NULL;
                }
                args.ro_by_binding = TRUE;
        }
        args.source = d->ro_dir != NULL ? d->ro_dir : location;
        argv = lima_virtiofsd_argv(bin, &args, error);
        if (argv == NULL)
                return NULL;
        /* A stale socket would pass for the new daemon's. */
        g_unlink(socket_path);
        if (!lima_virtiofsd_spawn(d, argv, location, error)) {
                g_prefix_error(error, _("mount %s: "), location);
                return NULL;
        }
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
        /* Empty on the host: the bind mount lived only in the daemon's namespace. */
        if (d->ro_dir != NULL)
                g_rmdir(d->ro_dir);
}

void
lima_virtiofsd_free(LimaVirtiofsd *d)
{
        if (d == NULL)
                return;
        lima_virtiofsd_stop(d);
        g_free(d->socket_path);
        g_free(d->ro_dir);
        g_free(d->log_path);
        g_free(d);
}
