/* The mountInotify watcher on a real temporary tree: what a guest watcher would be told,
 * under the guest's paths, for files and directories made, changed, moved and removed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lima-mount-inotify.h"

#define MP "/mnt/share dir"

typedef struct {
        sd_event *event;
        gchar *dir;
        LimaMountInotify *w;
        guint fold_ms;
        GPtrArray *events;   /* "EVENT guest-path" in the order emitted */
        GPtrArray *warnings; /* gchar* */
} Fixture;

static void
on_emit(LimaGuestInotifyEvent event, const gchar *guest_path, gpointer user_data)
{
        Fixture *f = user_data;

        g_ptr_array_add(
            f->events,
            g_strdup_printf("%s %s", lima_guest_inotify_event_to_string(event), guest_path));
}

static void
on_warn(const gchar *location, const gchar *message, gpointer user_data)
{
        Fixture *f = user_data;

        g_ptr_array_add(f->warnings, g_strdup(message));
}

static void
fixture_start(Fixture *f, guint fold_ms)
{
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(sd_event_new(&f->event), >=, 0);
        f->fold_ms = fold_ms;
        f->dir = g_dir_make_tmp("limad-inotify-XXXXXX", &error);
        g_assert_no_error(error);
        f->events = g_ptr_array_new_with_free_func(g_free);
        f->warnings = g_ptr_array_new_with_free_func(g_free);
        f->w = lima_mount_inotify_new(f->event, fold_ms, on_emit, on_warn, f, &error);
        g_assert_no_error(error);
        g_assert_nonnull(f->w);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        fixture_start(f, LIMA_MOUNT_INOTIFY_FOLD_MS);
}

/* A window long enough for a burst of writes on a loaded machine. */
static void
fixture_setup_slow(Fixture *f, gconstpointer data)
{
        fixture_start(f, 1000);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        g_clear_pointer(&f->w, lima_mount_inotify_free);
        sd_event_unref(f->event);
        /* rm -r, through a shell-free spawn. */
        {
                const gchar *argv[] = { "rm", "-rf", f->dir, NULL };
                g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                             NULL, NULL, &error);
                g_assert_no_error(error);
        }
        g_free(f->dir);
        g_ptr_array_unref(f->events);
        g_ptr_array_unref(f->warnings);
}

/* Runs the loop for ms milliseconds. */
static void
run_for(Fixture *f, guint ms)
{
        gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;

        while (g_get_monotonic_time() < end)
                g_assert_cmpint(sd_event_run(f->event, 10 * 1000), >=, 0);
}

/* Runs the loop until the tree is walked and every folded event is out. */
static void
settle(Fixture *f)
{
        gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

        do
                run_for(f, 50);
        while (lima_mount_inotify_is_scanning(f->w) && g_get_monotonic_time() < end);
        g_assert_false(lima_mount_inotify_is_scanning(f->w));
        run_for(f, f->fold_ms * 4);
}

static guint
count(Fixture *f, const gchar *line)
{
        guint n = 0;

        for (guint i = 0; i < f->events->len; i++)
                if (g_str_equal(g_ptr_array_index(f->events, i), line))
                        n++;
        return n;
}

static void
assert_seen(Fixture *f, const gchar *line)
{
        if (count(f, line) > 0)
                return;
        for (guint i = 0; i < f->events->len; i++)
                g_test_message("seen: %s", (const gchar *)g_ptr_array_index(f->events, i));
        g_error("not seen: %s", line);
}

static gchar *
host_path(Fixture *f, const gchar *rel)
{
        return g_build_filename(f->dir, rel, NULL);
}

static void
write_file(Fixture *f, const gchar *rel, const gchar *text)
{
        g_autofree gchar *path = host_path(f, rel);
        FILE *fp = fopen(path, "a");

        g_assert_nonnull(fp);
        fputs(text, fp);
        fclose(fp);
}

static void
add_tree(Fixture *f)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(lima_mount_inotify_add(f->w, f->dir, MP "/", &error));
        g_assert_no_error(error);
        settle(f);
}

static void
test_files(Fixture *f, gconstpointer data)
{
        g_autofree gchar *a = host_path(f, "a file.txt");

        add_tree(f);
        g_assert_cmpuint(f->events->len, ==, 0);
        write_file(f, "a file.txt", "one");
        settle(f);
        assert_seen(f, "CREATE " MP "/a file.txt");
        assert_seen(f, "MODIFY " MP "/a file.txt");

        g_ptr_array_set_size(f->events, 0);
        g_assert_cmpint(g_unlink(a), ==, 0);
        settle(f);
        assert_seen(f, "DELETE " MP "/a file.txt");
        g_assert_cmpuint(f->events->len, ==, 1);
}

static void
test_new_directories(Fixture *f, gconstpointer data)
{
        g_autofree gchar *deep = host_path(f, "sub/x/y");

        add_tree(f);
        /* Made faster than any watch could be added: found by walking the new directory. */
        g_assert_cmpint(g_mkdir_with_parents(deep, 0755), ==, 0);
        write_file(f, "sub/x/y/early.txt", "early");
        settle(f);
        assert_seen(f, "CREATE " MP "/sub");
        assert_seen(f, "CREATE " MP "/sub/x");
        assert_seen(f, "CREATE " MP "/sub/x/y");
        assert_seen(f, "CREATE " MP "/sub/x/y/early.txt");

        /* And now watched: a later file there is an ordinary event. */
        g_ptr_array_set_size(f->events, 0);
        write_file(f, "sub/x/y/late.txt", "late");
        settle(f);
        assert_seen(f, "CREATE " MP "/sub/x/y/late.txt");
        assert_seen(f, "MODIFY " MP "/sub/x/y/late.txt");
        g_assert_cmpuint(lima_mount_inotify_n_watches(f->w), ==, 4);
}

static void
test_existing_tree(Fixture *f, gconstpointer data)
{
        g_autofree gchar *deep = host_path(f, "old/deeper");
        g_autofree gchar *outside = NULL;
        g_autofree gchar *link = host_path(f, "link-out");
        g_autofree gchar *outside_file = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(g_mkdir_with_parents(deep, 0755), ==, 0);
        outside = g_dir_make_tmp("limad-inotify-out-XXXXXX", &error);
        g_assert_no_error(error);
        g_assert_cmpint(symlink(outside, link), ==, 0);
        add_tree(f);
        /* What was there before is not news. */
        g_assert_cmpuint(f->events->len, ==, 0);
        write_file(f, "old/deeper/n.txt", "n");
        /* A symlink to a directory is not followed out of the location. */
        outside_file = g_build_filename(outside, "x", NULL);
        g_assert_true(g_file_set_contents(outside_file, "x", -1, NULL));
        settle(f);
        assert_seen(f, "CREATE " MP "/old/deeper/n.txt");
        for (guint i = 0; i < f->events->len; i++)
                g_assert_null(strstr(g_ptr_array_index(f->events, i), "link-out"));
        g_assert_cmpint(g_unlink(outside_file), ==, 0);
        g_assert_cmpint(g_rmdir(outside), ==, 0);
}

static void
test_moved_directory(Fixture *f, gconstpointer data)
{
        g_autofree gchar *from = host_path(f, "before");
        g_autofree gchar *to = host_path(f, "after");
        g_autofree gchar *inner = host_path(f, "before/inner");

        g_assert_cmpint(g_mkdir_with_parents(inner, 0755), ==, 0);
        add_tree(f);
        g_assert_cmpint(g_rename(from, to), ==, 0);
        settle(f);
        assert_seen(f, "DELETE " MP "/before");
        assert_seen(f, "CREATE " MP "/after");
        assert_seen(f, "CREATE " MP "/after/inner");
        g_ptr_array_set_size(f->events, 0);
        /* Events under the new name, never the old one. */
        write_file(f, "after/inner/z.txt", "z");
        settle(f);
        assert_seen(f, "CREATE " MP "/after/inner/z.txt");
        g_assert_cmpuint(count(f, "CREATE " MP "/before/inner/z.txt"), ==, 0);
}

static void
test_burst_folded(Fixture *f, gconstpointer data)
{
        add_tree(f);
        write_file(f, "log.txt", "start\n");
        settle(f);
        g_ptr_array_set_size(f->events, 0);
        /* A hundred writes inside one window: one MODIFY. */
        for (guint i = 0; i < 100; i++)
                write_file(f, "log.txt", "line\n");
        settle(f);
        g_assert_cmpuint(count(f, "MODIFY " MP "/log.txt"), ==, 1);
        g_assert_cmpuint(f->events->len, ==, 1);
        /* The next burst, after the window, is a new event. */
        write_file(f, "log.txt", "more\n");
        settle(f);
        g_assert_cmpuint(count(f, "MODIFY " MP "/log.txt"), ==, 2);
}

static void
test_echo_dropped(Fixture *f, gconstpointer data)
{
        g_autofree gchar *a = host_path(f, "a");
        g_autofree gchar *b = host_path(f, "b");
        g_autofree gchar *gone = host_path(f, "gone");

        write_file(f, "b", "b");
        write_file(f, "gone", "x");
        add_tree(f);
        write_file(f, "a", "a");
        settle(f);
        assert_seen(f, "MODIFY " MP "/a");
        g_ptr_array_set_size(f->events, 0);
        /* What the guest agent's touch looks like from here: an ATTRIB of the same file. */
        g_assert_cmpint(utimensat(AT_FDCWD, a, NULL, 0), ==, 0);
        settle(f);
        g_assert_cmpuint(f->events->len, ==, 0);
        /* A real write right after still goes through, and so does another file's ATTRIB. */
        write_file(f, "a", "again");
        g_assert_cmpint(g_chmod(b, 0600), ==, 0);
        settle(f);
        assert_seen(f, "MODIFY " MP "/a");
        assert_seen(f, "ATTRIB " MP "/b");
        /* DELETE is applied to the parent directory: its touch is an echo too. */
        g_assert_cmpint(g_unlink(gone), ==, 0);
        settle(f);
        assert_seen(f, "DELETE " MP "/gone");
        g_ptr_array_set_size(f->events, 0);
        g_assert_cmpint(utimensat(AT_FDCWD, f->dir, NULL, 0), ==, 0);
        settle(f);
        g_assert_cmpuint(f->events->len, ==, 0);
}

/* A mount removed while running: its tree is no longer watched, the others still are. */
static void
test_remove(Fixture *f, gconstpointer data)
{
        g_autofree gchar *one = host_path(f, "one");
        g_autofree gchar *two = host_path(f, "two");
        g_autofree gchar *deep = host_path(f, "one/deep");
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(g_mkdir_with_parents(deep, 0755), ==, 0);
        g_assert_cmpint(g_mkdir(two, 0755), ==, 0);
        g_assert_true(lima_mount_inotify_add(f->w, one, "/mnt/one", &error));
        g_assert_true(lima_mount_inotify_add(f->w, two, "/mnt/two", &error));
        g_assert_no_error(error);
        settle(f);
        g_assert_cmpuint(lima_mount_inotify_n_watches(f->w), ==, 3);
        g_assert_true(lima_mount_inotify_remove(f->w, "/mnt/one/"));
        g_assert_false(lima_mount_inotify_remove(f->w, "/mnt/one"));
        g_assert_cmpuint(lima_mount_inotify_n_watches(f->w), ==, 1);
        write_file(f, "one/deep/x", "x");
        write_file(f, "two/y", "y");
        settle(f);
        assert_seen(f, "CREATE /mnt/two/y");
        for (guint i = 0; i < f->events->len; i++)
                g_assert_null(strstr(g_ptr_array_index(f->events, i), "/mnt/one"));
}

static void
test_bad_location(Fixture *f, gconstpointer data)
{
        g_autofree gchar *missing = host_path(f, "missing");
        g_autofree gchar *file = host_path(f, "file");
        g_autoptr(GError) error = NULL;

        g_assert_false(lima_mount_inotify_add(f->w, missing, MP, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
        g_assert_nonnull(strstr(error->message, missing));
        g_clear_error(&error);
        write_file(f, "file", "x");
        g_assert_false(lima_mount_inotify_add(f->w, file, MP, &error));
        g_assert_nonnull(error);
        g_clear_error(&error);
        g_assert_false(lima_mount_inotify_add(f->w, "relative", MP, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
write_proc(const gchar *path, const gchar *text)
{
        g_autoptr(GError) error = NULL;

        g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_NONE, 0644, &error);
        g_assert_no_error(error);
}

/* A user namespace of our own, where the watch limit can be lowered without touching the
 * host's. Must run in a single-threaded process. */
static gboolean
enter_user_namespace(void)
{
        g_autofree gchar *uid_map = g_strdup_printf("0 %u 1", (guint)getuid());
        g_autofree gchar *gid_map = g_strdup_printf("0 %u 1", (guint)getgid());

        if (unshare(CLONE_NEWUSER) < 0)
                return FALSE;
        write_proc("/proc/self/setgroups", "deny");
        write_proc("/proc/self/uid_map", uid_map);
        write_proc("/proc/self/gid_map", gid_map);
        return TRUE;
}

static void
test_watch_limit(void)
{
        Fixture fixture = { 0 };
        Fixture *f = &fixture;
        g_autoptr(GError) error = NULL;
        g_autofree gchar *deep = NULL;
        g_autofree gchar *other = NULL;
        pid_t probe;
        int status = 0;

        if (!g_test_subprocess()) {
                probe = fork();
                if (probe == 0)
                        _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
                g_assert_cmpint(waitpid(probe, &status, 0), ==, probe);
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        g_test_skip("no user namespaces here, so the watch limit cannot be "
                                    "lowered for this test alone");
                        return;
                }
                g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
                g_test_trap_assert_passed();
                return;
        }
        g_assert_true(enter_user_namespace());
        /* The root and two more directories; the tree has six. */
        write_proc("/proc/sys/user/max_inotify_watches", "3");
        fixture_start(f, LIMA_MOUNT_INOTIFY_FOLD_MS);
        deep = host_path(f, "a/b/c/d/e");
        g_assert_cmpint(g_mkdir_with_parents(deep, 0755), ==, 0);
        g_assert_true(lima_mount_inotify_add(f->w, f->dir, MP, &error));
        g_assert_no_error(error);
        settle(f);
        g_assert_cmpuint(lima_mount_inotify_n_watches(f->w), ==, 3);
        /* One warning that says what to do, however many directories were left out. */
        g_assert_cmpuint(f->warnings->len, ==, 1);
        g_assert_nonnull(strstr(g_ptr_array_index(f->warnings, 0), "max_user_watches is 3"));
        /* What is watched still works. */
        write_file(f, "top.txt", "x");
        settle(f);
        assert_seen(f, "CREATE " MP "/top.txt");
        /* A second mount with no watch left: refused with the reason, nothing breaks. */
        other = g_dir_make_tmp("limad-inotify-other-XXXXXX", &error);
        g_assert_no_error(error);
        g_assert_false(lima_mount_inotify_add(f->w, other, "/mnt/other", &error));
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, "max_user_watches"));
        g_assert_cmpint(g_rmdir(other), ==, 0);
        fixture_teardown(f, NULL);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add("/mount-inotify/files", Fixture, NULL, fixture_setup, test_files,
                   fixture_teardown);
        g_test_add("/mount-inotify/new-directories", Fixture, NULL, fixture_setup,
                   test_new_directories, fixture_teardown);
        g_test_add("/mount-inotify/existing-tree", Fixture, NULL, fixture_setup, test_existing_tree,
                   fixture_teardown);
        g_test_add("/mount-inotify/moved-directory", Fixture, NULL, fixture_setup,
                   test_moved_directory, fixture_teardown);
        g_test_add("/mount-inotify/burst-folded", Fixture, NULL, fixture_setup_slow,
                   test_burst_folded, fixture_teardown);
        g_test_add("/mount-inotify/echo-dropped", Fixture, NULL, fixture_setup, test_echo_dropped,
                   fixture_teardown);
        g_test_add("/mount-inotify/bad-location", Fixture, NULL, fixture_setup, test_bad_location,
                   fixture_teardown);
        g_test_add("/mount-inotify/remove", Fixture, NULL, fixture_setup, test_remove,
                   fixture_teardown);
        g_test_add_func("/mount-inotify/watch-limit", test_watch_limit);
        return g_test_run();
}
