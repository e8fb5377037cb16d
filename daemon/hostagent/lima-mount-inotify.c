/* mountInotify, host side. 9p, virtiofs and sshfs carry no change notifications, so the host
 * agent watches each location with inotify, one watch per directory (inotify is not
 * recursive): directories that appear are watched as they appear, and what they already hold
 * is reported, since it may have been written before their watch existed. Events are folded
 * for a short window, so a burst of writes to one file is one message.
 *
 * The guest agent applies an event by touching the file through the mount, which the host
 * sees as an ATTRIB of the same file (of the parent directory for DELETE). Such echoes are
 * dropped for LIMA_MOUNT_INOTIFY_ECHO_MS after an event is sent, or host and guest would
 * bounce one event between them forever. A real write is a MODIFY and always goes through;
 * only an ATTRIB (chmod, touch) within that window of an earlier event is lost. */
#include "lima-mount-inotify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define LIMA_INOTIFY_MASK                                                                          \
        (IN_CREATE | IN_MODIFY | IN_ATTRIB | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |             \
         IN_EXCL_UNLINK)
/* Directories walked per loop turn. */
#define LIMA_INOTIFY_SCAN_BATCH 32

typedef struct {
        gchar *location;    /* host, absolute, no trailing '/' */
        gchar *mount_point; /* guest, absolute, no trailing '/' unless "/" */
        gboolean limit_warned;
} LimaInotifyRoot;

typedef struct {
        LimaInotifyRoot *root;
        gchar *rel; /* below the root: "" for the root itself, else "a/b" */
} LimaInotifyDir;

typedef struct {
        LimaInotifyRoot *root;
        gchar *rel;
        gboolean report; /* a new directory: its contents become CREATE events */
} LimaInotifyScan;

typedef struct {
        LimaGuestInotifyEvent event;
        gchar *guest_path;
} LimaInotifyPending;

struct _LimaMountInotify {
        sd_event *event;
        guint fold_ms;
        LimaMountInotifyEmitFunc emit;
        LimaMountInotifyWarnFunc warn;
        gpointer user_data;
        int fd;
        sd_event_source *io;
        sd_event_source *scan_source;
        sd_event_source *fold_timer;
        GPtrArray *roots;    /* LimaInotifyRoot* */
        GHashTable *watches; /* wd → LimaInotifyDir* */
        GQueue scans;        /* LimaInotifyScan* */
        GPtrArray *pending;  /* LimaInotifyPending*, in order of arrival */
        GHashTable *folded;  /* "EVENT path" of what pending holds */
        GHashTable *echoes;  /* guest path → gint64* deadline (monotonic µs) */
        gint64 overflow_warned;
};

static void
lima_inotify_root_free(LimaInotifyRoot *root)
{
        g_free(root->location);
        g_free(root->mount_point);
        g_free(root);
}

static void
lima_inotify_dir_free(LimaInotifyDir *dir)
{
        g_free(dir->rel);
        g_free(dir);
}

static void
lima_inotify_scan_free(LimaInotifyScan *scan)
{
        g_free(scan->rel);
        g_free(scan);
}

static void
lima_inotify_pending_free(LimaInotifyPending *p)
{
        g_free(p->guest_path);
        g_free(p);
}

static gchar *
lima_inotify_join(const gchar *base, const gchar *rel)
{
        if (*rel == '\0')
                return g_strdup(base);
        if (g_str_equal(base, "/"))
                return g_strconcat("/", rel, NULL);
        return g_strconcat(base, "/", rel, NULL);
}

static gchar *
lima_inotify_strip(const gchar *path)
{
        gsize len = strlen(path);

        while (len > 1 && path[len - 1] == '/')
                len--;
        return g_strndup(path, len);
}

/* The path the guest agent touches for an event: the parent directory for DELETE. */
static gchar *
lima_inotify_touched(LimaGuestInotifyEvent event, const gchar *guest_path)
{
        if (event == LIMA_GUEST_INOTIFY_DELETE)
                return g_path_get_dirname(guest_path);
        return g_strdup(guest_path);
}

static gboolean
lima_inotify_is_echo(LimaMountInotify *w, const gchar *guest_path)
{
        gint64 *deadline = g_hash_table_lookup(w->echoes, guest_path);

        if (deadline == NULL)
                return FALSE;
        if (g_get_monotonic_time() < *deadline)
                return TRUE;
        g_hash_table_remove(w->echoes, guest_path);
        return FALSE;
}

static void
lima_inotify_expect_echo(LimaMountInotify *w, LimaGuestInotifyEvent event, const gchar *guest_path)
{
        gint64 *deadline = g_new(gint64, 1);

        *deadline = g_get_monotonic_time() + LIMA_MOUNT_INOTIFY_ECHO_MS * 1000;
        g_hash_table_replace(w->echoes, lima_inotify_touched(event, guest_path), deadline);
}

static gboolean
lima_inotify_echo_expired(gpointer key, gpointer value, gpointer user_data)
{
        return *(gint64 *)value <= *(gint64 *)user_data;
}

static int
lima_inotify_on_fold(sd_event_source *s, uint64_t usec, void *userdata)
{
        LimaMountInotify *w = userdata;
        g_autoptr(GPtrArray) batch = g_steal_pointer(&w->pending);
        gint64 now = g_get_monotonic_time();

        w->fold_timer = sd_event_source_disable_unref(w->fold_timer);
        w->pending = g_ptr_array_new_with_free_func((GDestroyNotify)lima_inotify_pending_free);
        g_hash_table_remove_all(w->folded);
        g_hash_table_foreach_remove(w->echoes, lima_inotify_echo_expired, &now);
        for (guint i = 0; i < batch->len; i++) {
                LimaInotifyPending *p = g_ptr_array_index(batch, i);
                lima_inotify_expect_echo(w, p->event, p->guest_path);
                w->emit(p->event, p->guest_path, w->user_data);
        }
        return 0;
}

static void
lima_inotify_queue_event(LimaMountInotify *w, LimaGuestInotifyEvent event, const gchar *guest_path)
{
        gchar *key = g_strconcat(lima_guest_inotify_event_to_string(event), " ", guest_path, NULL);
        LimaInotifyPending *p;

        if (!g_hash_table_add(w->folded, key))
                return;
        p = g_new0(LimaInotifyPending, 1);
        p->event = event;
        p->guest_path = g_strdup(guest_path);
        g_ptr_array_add(w->pending, p);
        if (w->fold_timer == NULL)
                sd_event_add_time_relative(w->event, &w->fold_timer, CLOCK_MONOTONIC,
                                           (uint64_t)w->fold_ms * 1000, 0, lima_inotify_on_fold, w);
}

static void
lima_inotify_queue_scan(LimaMountInotify *w, LimaInotifyRoot *root, const gchar *rel,
                        gboolean report)
{
        LimaInotifyScan *scan = g_new0(LimaInotifyScan, 1);

        scan->root = root;
        scan->rel = g_strdup(rel);
        scan->report = report;
        g_queue_push_tail(&w->scans, scan);
        sd_event_source_set_enabled(w->scan_source, SD_EVENT_ON);
}

static void
lima_inotify_warn_limit(LimaMountInotify *w, LimaInotifyRoot *root, const gchar *path, int err)
{
        g_autofree gchar *limit = NULL;
        g_autofree gchar *msg = NULL;

        if (root->limit_warned)
                return;
        root->limit_warned = TRUE;
        /* The limit of our user namespace (the same as fs.inotify's outside containers). */
        if (!g_file_get_contents("/proc/sys/user/max_inotify_watches", &limit, NULL, NULL) &&
            !g_file_get_contents("/proc/sys/fs/inotify/max_user_watches", &limit, NULL, NULL))
                limit = g_strdup("?");
        g_strstrip(limit);
        msg = g_strdup_printf(_("cannot watch %s and maybe other directories for mountInotify "
                                "(%s; fs.inotify.max_user_watches is %s): changes there do not "
                                "reach the guest's inotify; raise the limit with sysctl and "
                                "restart the instance"),
                              path, g_strerror(err), limit);
        w->warn(root->location, msg, w->user_data);
}

/* Watches one directory, queues its subdirectories, and reports its entries when new. */
static void
lima_inotify_scan_one(LimaMountInotify *w, LimaInotifyScan *scan)
{
        LimaInotifyRoot *root = scan->root;
        g_autofree gchar *path = lima_inotify_join(root->location, scan->rel);
        guint32 mask = LIMA_INOTIFY_MASK | IN_ONLYDIR | (*scan->rel != '\0' ? IN_DONT_FOLLOW : 0);
        LimaInotifyDir *dir;
        DIR *d;
        struct dirent *de;
        int wd, dfd;

        wd = inotify_add_watch(w->fd, path, mask);
        if (wd < 0) {
                if (errno == ENOSPC || errno == ENOMEM)
                        lima_inotify_warn_limit(w, root, path, errno);
                else
                        g_debug("not watching %s: %s", path, g_strerror(errno));
                return;
        }
        dir = g_new0(LimaInotifyDir, 1);
        dir->root = root;
        dir->rel = g_strdup(scan->rel);
        g_hash_table_replace(w->watches, GINT_TO_POINTER(wd), dir);

        dfd =
            open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (*scan->rel != '\0' ? O_NOFOLLOW : 0));
        if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
                if (dfd >= 0)
                        close(dfd);
                return;
        }
        while ((de = readdir(d)) != NULL) {
                g_autofree gchar *rel = NULL;
                gboolean is_dir = de->d_type == DT_DIR;
                struct stat st;

                if (g_str_equal(de->d_name, ".") || g_str_equal(de->d_name, ".."))
                        continue;
                if (de->d_type == DT_UNKNOWN &&
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        is_dir = S_ISDIR(st.st_mode);
                rel = *scan->rel != '\0' ? g_strconcat(scan->rel, "/", de->d_name, NULL)
                                         : g_strdup(de->d_name);
                if (scan->report) {
                        g_autofree gchar *guest = lima_inotify_join(root->mount_point, rel);
                        lima_inotify_queue_event(w, LIMA_GUEST_INOTIFY_CREATE, guest);
                }
                if (is_dir)
                        lima_inotify_queue_scan(w, root, rel, scan->report);
        }
        closedir(d);
}

static int
lima_inotify_on_scan(sd_event_source *s, void *userdata)
{
        LimaMountInotify *w = userdata;

        for (guint i = 0; i < LIMA_INOTIFY_SCAN_BATCH && !g_queue_is_empty(&w->scans); i++) {
                LimaInotifyScan *scan = g_queue_pop_head(&w->scans);
                lima_inotify_scan_one(w, scan);
                lima_inotify_scan_free(scan);
        }
        if (g_queue_is_empty(&w->scans))
                sd_event_source_set_enabled(s, SD_EVENT_OFF);
        return 0;
}

/* A directory moved away: its watches would report under its old name, so they go; where
 * it moved to (if inside a watched tree) is walked afresh. */
static void
lima_inotify_unwatch_tree(LimaMountInotify *w, LimaInotifyRoot *root, const gchar *rel)
{
        g_autofree gchar *prefix = g_strconcat(rel, "/", NULL);
        GHashTableIter iter;
        gpointer key, value;

        g_hash_table_iter_init(&iter, w->watches);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                LimaInotifyDir *dir = value;
                if (dir->root != root ||
                    (!g_str_equal(dir->rel, rel) && !g_str_has_prefix(dir->rel, prefix)))
                        continue;
                inotify_rm_watch(w->fd, GPOINTER_TO_INT(key));
                g_hash_table_iter_remove(&iter);
        }
}

/* Events were lost: catch up on directories we missed, and tell the guest that each mount
 * root changed, since which files did is unknown. */
static void
lima_inotify_overflow(LimaMountInotify *w)
{
        gint64 now = g_get_monotonic_time();

        if (now - w->overflow_warned > 60 * G_USEC_PER_SEC) {
                w->overflow_warned = now;
                for (guint i = 0; i < w->roots->len; i++) {
                        LimaInotifyRoot *root = g_ptr_array_index(w->roots, i);
                        w->warn(root->location,
                                _("too many changes at once: the kernel's inotify queue "
                                  "overflowed and some events did not reach the guest"),
                                w->user_data);
                }
        }
        for (guint i = 0; i < w->roots->len; i++) {
                LimaInotifyRoot *root = g_ptr_array_index(w->roots, i);
                lima_inotify_queue_scan(w, root, "", FALSE);
                lima_inotify_queue_event(w, LIMA_GUEST_INOTIFY_ATTRIB, root->mount_point);
        }
}

static void
lima_inotify_handle(LimaMountInotify *w, const struct inotify_event *ev)
{
        LimaInotifyDir *dir;
        LimaInotifyRoot *root;
        g_autofree gchar *rel = NULL;
        g_autofree gchar *guest = NULL;

        if (ev->mask & IN_Q_OVERFLOW) {
                lima_inotify_overflow(w);
                return;
        }
        if (ev->mask & IN_IGNORED) {
                g_hash_table_remove(w->watches, GINT_TO_POINTER(ev->wd));
                return;
        }
        dir = g_hash_table_lookup(w->watches, GINT_TO_POINTER(ev->wd));
        if (dir == NULL)
                return;
        root = dir->root;
        if (ev->len > 0 && ev->name[0] != '\0')
                rel = *dir->rel != '\0' ? g_strconcat(dir->rel, "/", ev->name, NULL)
                                        : g_strdup(ev->name);
        else
                rel = g_strdup(dir->rel);
        guest = lima_inotify_join(root->mount_point, rel);

        if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
                lima_inotify_queue_event(w, LIMA_GUEST_INOTIFY_CREATE, guest);
                if (ev->mask & IN_ISDIR)
                        lima_inotify_queue_scan(w, root, rel, TRUE);
        }
        if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
                lima_inotify_queue_event(w, LIMA_GUEST_INOTIFY_DELETE, guest);
                if ((ev->mask & IN_ISDIR) && (ev->mask & IN_MOVED_FROM))
                        lima_inotify_unwatch_tree(w, root, rel);
        }
        if (ev->mask & IN_MODIFY)
                lima_inotify_queue_event(w, LIMA_GUEST_INOTIFY_MODIFY, guest);
        if ((ev->mask & IN_ATTRIB) && !lima_inotify_is_echo(w, guest))
                lima_inotify_queue_event(w, LIMA_GUEST_INOTIFY_ATTRIB, guest);
}

static int
lima_inotify_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        LimaMountInotify *w = userdata;
        /* Aligned as the kernel writes struct inotify_event records. */
        gchar buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

        for (guint round = 0; round < 8; round++) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                for (gchar *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;
                        lima_inotify_handle(w, ev);
                        p += sizeof(struct inotify_event) + ev->len;
                }
        }
        return 0;
}

LimaMountInotify *
lima_mount_inotify_new(sd_event *event, guint fold_ms, LimaMountInotifyEmitFunc emit,
                       LimaMountInotifyWarnFunc warn, gpointer user_data, GError **error)
{
        g_autoptr(LimaMountInotify) w = g_new0(LimaMountInotify, 1);
        int r;

        w->fd = -1;
        w->event = sd_event_ref(event);
        w->fold_ms = fold_ms;
        w->emit = emit;
        w->warn = warn;
        w->user_data = user_data;
        w->roots = g_ptr_array_new_with_free_func((GDestroyNotify)lima_inotify_root_free);
        w->watches = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)lima_inotify_dir_free);
        g_queue_init(&w->scans);
        w->pending = g_ptr_array_new_with_free_func((GDestroyNotify)lima_inotify_pending_free);
        w->folded = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        w->echoes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->fd < 0) {
                int saved = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                            _("cannot start an inotify watch: %s (the per-user limit is "
                              "fs.inotify.max_user_instances)"),
                            g_strerror(saved));
                return NULL;
        }
        r = sd_event_add_io(event, &w->io, w->fd, EPOLLIN, lima_inotify_on_io, w);
        if (r >= 0)
                r = sd_event_add_defer(event, &w->scan_source, lima_inotify_on_scan, w);
        if (r < 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "sd-event: %s", g_strerror(-r));
                return NULL;
        }
        sd_event_source_set_enabled(w->scan_source, SD_EVENT_OFF);
        return g_steal_pointer(&w);
}

void
lima_mount_inotify_free(LimaMountInotify *w)
{
        if (w == NULL)
                return;
        w->io = sd_event_source_disable_unref(w->io);
        w->scan_source = sd_event_source_disable_unref(w->scan_source);
        w->fold_timer = sd_event_source_disable_unref(w->fold_timer);
        if (w->fd >= 0)
                close(w->fd);
        g_queue_clear_full(&w->scans, (GDestroyNotify)lima_inotify_scan_free);
        g_clear_pointer(&w->watches, g_hash_table_unref);
        g_clear_pointer(&w->roots, g_ptr_array_unref);
        g_clear_pointer(&w->pending, g_ptr_array_unref);
        g_clear_pointer(&w->folded, g_hash_table_unref);
        g_clear_pointer(&w->echoes, g_hash_table_unref);
        if (w->event != NULL)
                sd_event_unref(w->event);
        g_free(w);
}

gboolean
lima_mount_inotify_add(LimaMountInotify *w, const gchar *location, const gchar *mount_point,
                       GError **error)
{
        LimaInotifyRoot *root;
        LimaInotifyDir *dir;
        int wd;

        if (!g_path_is_absolute(location) || !g_path_is_absolute(mount_point)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            _("mountInotify needs absolute paths, not %s → %s"), location,
                            mount_point);
                return FALSE;
        }
        /* Checked here, so a missing location is an error and not a silent no-op. */
        wd = inotify_add_watch(w->fd, location, LIMA_INOTIFY_MASK | IN_ONLYDIR);
        if (wd < 0) {
                int saved = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                            _("cannot watch %s for mountInotify: %s"), location, g_strerror(saved));
                if (saved == ENOSPC)
                        g_prefix_error(error, "%s",
                                       _("inotify watch limit reached "
                                         "(fs.inotify.max_user_watches): "));
                return FALSE;
        }
        root = g_new0(LimaInotifyRoot, 1);
        root->location = lima_inotify_strip(location);
        root->mount_point = lima_inotify_strip(mount_point);
        g_ptr_array_add(w->roots, root);
        /* In the table now, so events that come before the walk are not lost. */
        dir = g_new0(LimaInotifyDir, 1);
        dir->root = root;
        dir->rel = g_strdup("");
        g_hash_table_replace(w->watches, GINT_TO_POINTER(wd), dir);
        lima_inotify_queue_scan(w, root, "", FALSE);
        return TRUE;
}

gboolean
lima_mount_inotify_remove(LimaMountInotify *w, const gchar *mount_point)
{
        g_autofree gchar *stripped = lima_inotify_strip(mount_point);
        LimaInotifyRoot *root = NULL;
        GHashTableIter iter;
        gpointer key, value;

        for (guint i = 0; i < w->roots->len && root == NULL; i++) {
                LimaInotifyRoot *r = g_ptr_array_index(w->roots, i);
                if (g_str_equal(r->mount_point, stripped))
                        root = r;
        }
        if (root == NULL)
                return FALSE;
        for (GList *l = w->scans.head; l != NULL;) {
                GList *next = l->next;
                LimaInotifyScan *scan = l->data;
                if (scan->root == root) {
                        lima_inotify_scan_free(scan);
                        g_queue_delete_link(&w->scans, l);
                }
                l = next;
        }
        g_hash_table_iter_init(&iter, w->watches);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                if (((LimaInotifyDir *)value)->root != root)
                        continue;
                inotify_rm_watch(w->fd, GPOINTER_TO_INT(key));
                g_hash_table_iter_remove(&iter);
        }
        g_ptr_array_remove(w->roots, root);
        return TRUE;
}

gboolean
lima_mount_inotify_is_scanning(LimaMountInotify *w)
{
        return !g_queue_is_empty(&w->scans);
}

guint
lima_mount_inotify_n_watches(LimaMountInotify *w)
{
        return g_hash_table_size(w->watches);
}
