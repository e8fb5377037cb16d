#include "lima-iso9660.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lima-error.h"

LimaIsoFile *
lima_iso_file_new(const gchar *path, GBytes *contents, guint mode)
{
        LimaIsoFile *file = g_new0(LimaIsoFile, 1);
        file->path = g_strdup(path);
        file->contents = g_bytes_ref(contents);
        file->mode = mode;
        return file;
}

LimaIsoFile *
lima_iso_file_new_text(const gchar *path, const gchar *text, guint mode)
{
        /* The copy keeps its NUL (outside the size), so readers may treat it as a string. */
        gsize len = strlen(text);
        g_autoptr(GBytes) bytes = g_bytes_new_take(g_strndup(text, len), len);
        return lima_iso_file_new(path, bytes, mode);
}

void
lima_iso_file_free(LimaIsoFile *file)
{
        if (file == NULL)
                return;
        g_free(file->path);
        g_bytes_unref(file->contents);
        g_free(file);
}

gchar *
lima_iso9660_find_tool(GError **error)
{
        /* genisoimage and mkisofs take the same options as xorriso's mkisofs emulation. */
        static const gchar *const tools[] = { "xorriso", "genisoimage", "mkisofs", NULL };
        for (guint i = 0; tools[i] != NULL; i++) {
                gchar *path = g_find_program_in_path(tools[i]);
                if (path != NULL)
                        return path;
        }
        g_set_error_literal(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("no ISO 9660 image writer is installed; install xorriso "
                              "(apt-get install xorriso)"));
        return NULL;
}

static gboolean
lima_iso9660_set_errno(GError **error, gint saved_errno, const gchar *what, const gchar *path)
{
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved_errno), "%s %s: %s", what,
                    path, g_strerror(saved_errno));
        return FALSE;
}

/* Best effort: only our own staging directory is ever passed here. */
static void
lima_iso9660_remove_tree(const gchar *path)
{
        GStatBuf st;
        if (g_lstat(path, &st) != 0)
                return;
        if (S_ISDIR(st.st_mode)) {
                g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
                const gchar *name;
                while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
                        g_autofree gchar *child = g_build_filename(path, name, NULL);
                        lima_iso9660_remove_tree(child);
                }
                g_rmdir(path);
        } else {
                g_unlink(path);
        }
}

static gboolean
lima_iso9660_path_is_safe(const gchar *path)
{
        g_auto(GStrv) parts = NULL;
        if (path == NULL || *path == '\0' || g_path_is_absolute(path))
                return FALSE;
        parts = g_strsplit(path, "/", -1);
        for (guint i = 0; parts[i] != NULL; i++) {
                if (*parts[i] == '\0' || g_str_equal(parts[i], ".") || g_str_equal(parts[i], ".."))
                        return FALSE;
        }
        return TRUE;
}

static gboolean
lima_iso9660_stage(GPtrArray *files, const gchar *root, GError **error)
{
        for (guint i = 0; i < files->len; i++) {
                LimaIsoFile *file = g_ptr_array_index(files, i);
                g_autofree gchar *full = NULL;
                g_autofree gchar *parent = NULL;
                gsize len = 0;
                const gchar *data;

                if (!lima_iso9660_path_is_safe(file->path)) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED,
                                    "invalid path in ISO image: \"%s\"", file->path);
                        return FALSE;
                }
                full = g_build_filename(root, file->path, NULL);
                parent = g_path_get_dirname(full);
                if (g_mkdir_with_parents(parent, 0755) != 0)
                        return lima_iso9660_set_errno(error, errno, _("cannot create"), parent);
                data = g_bytes_get_data(file->contents, &len);
                if (!g_file_set_contents_full(full, data != NULL ? data : "", (gssize)len,
                                              G_FILE_SET_CONTENTS_NONE, (gint)file->mode, error))
                        return FALSE;
                /* Exactly the mode asked for, whatever the umask. */
                if (g_chmod(full, (gint)file->mode) != 0)
                        return lima_iso9660_set_errno(error, errno, _("cannot change the mode of"),
                                                      full);
        }
        return TRUE;
}

static gboolean
lima_iso9660_run(const gchar *tool, const gchar *label, const gchar *out, const gchar *dir,
                 GError **error)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autofree gchar *tool_name = g_path_get_basename(tool);
        g_autofree gchar *stderr_buf = NULL;
        g_autoptr(GError) local = NULL;
        gint status = 0;

        g_ptr_array_add(argv, (gpointer)tool);
        if (g_str_equal(tool_name, "xorriso")) {
                g_ptr_array_add(argv, "-as");
                g_ptr_array_add(argv, "mkisofs");
        }
        g_ptr_array_add(argv, "-o");
        g_ptr_array_add(argv, (gpointer)out);
        g_ptr_array_add(argv, "-V");
        g_ptr_array_add(argv, (gpointer)label);
        g_ptr_array_add(argv, "-J");
        g_ptr_array_add(argv, "-R");
        g_ptr_array_add(argv, (gpointer)dir);
        g_ptr_array_add(argv, NULL);

        if (!g_spawn_sync(NULL, (gchar **)argv->pdata, NULL, G_SPAWN_STDIN_FROM_DEV_NULL, NULL,
                          NULL, NULL, &stderr_buf, &status, &local)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED, _("cannot run %s: %s"), tool,
                            local->message);
                return FALSE;
        }
        if (!g_spawn_check_wait_status(status, &local)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_FAILED, _("%s failed (%s): %s"),
                            tool_name, local->message,
                            stderr_buf != NULL ? g_strstrip(stderr_buf) : "");
                return FALSE;
        }
        return TRUE;
}

static gboolean
lima_iso9660_fsync(const gchar *path, GError **error)
{
        gint fd = open(path, O_RDONLY | O_CLOEXEC);
        gint saved_errno;

        if (fd < 0)
                return lima_iso9660_set_errno(error, errno, _("cannot open"), path);
        if (fsync(fd) == 0) {
                close(fd);
                return TRUE;
        }
        saved_errno = errno;
        close(fd);
        return lima_iso9660_set_errno(error, saved_errno, _("cannot sync"), path);
}

gboolean
lima_iso9660_write(GPtrArray *files, const gchar *label, const gchar *iso_path, GError **error)
{
        g_autofree gchar *tool = lima_iso9660_find_tool(error);
        g_autofree gchar *stage = NULL;
        g_autofree gchar *tmp_out = NULL;
        g_autofree gchar *iso_dir = g_path_get_dirname(iso_path);
        gboolean ok;
        gint fd;

        if (tool == NULL)
                return FALSE;
        stage = g_dir_make_tmp("limad-iso-XXXXXX", error);
        if (stage == NULL)
                return FALSE;
        /* The seed carries env: values and provisioning scripts, which may hold secrets; only
         * the owner (who runs QEMU) reads it. */
        tmp_out = g_strdup_printf("%s.XXXXXX", iso_path);
        fd = g_mkstemp_full(tmp_out, O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0) {
                lima_iso9660_set_errno(error, errno, _("cannot create"), tmp_out);
                lima_iso9660_remove_tree(stage);
                return FALSE;
        }
        close(fd);

        ok = lima_iso9660_stage(files, stage, error) &&
             lima_iso9660_run(tool, label, tmp_out, stage, error) &&
             lima_iso9660_fsync(tmp_out, error);
        if (ok && g_rename(tmp_out, iso_path) != 0)
                ok = lima_iso9660_set_errno(error, errno, _("cannot rename to"), iso_path);
        ok = ok && lima_iso9660_fsync(iso_dir, error);
        if (!ok) {
                g_unlink(tmp_out);
                g_prefix_error(error, _("cannot write %s: "), iso_path);
        }
        lima_iso9660_remove_tree(stage);
        return ok;
}
