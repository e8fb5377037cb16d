#include "lima-agent-prepare.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n.h>

#include "lima-cidata.h"
#include "lima-image-cache.h"
#include "lima-image-disk.h"
#include "lima-paths.h"
#include "lima-size.h"
#include "lima-ssh-keys.h"

void
lima_agent_prepare_clear(LimaAgentPrepare *prep)
{
        g_clear_pointer(&prep->kernel, g_free);
        g_clear_pointer(&prep->initrd, g_free);
        g_clear_pointer(&prep->kernel_cmdline, g_free);
}

gchar *
lima_agent_find_guestagent(void)
{
        const gchar *env = g_getenv("LIMA_GUESTAGENT");
        g_autofree gchar *self = g_file_read_link("/proc/self/exe", NULL);
        g_autofree gchar *dir = self != NULL ? g_path_get_dirname(self) : NULL;
        g_autofree gchar *beside = NULL;
        g_autofree gchar *build_tree = NULL;

        if (env != NULL && *env != '\0')
                return g_strdup(env);
        if (dir == NULL)
                return NULL;
        beside = g_build_filename(dir, "lima-guestagent", NULL);
        if (g_file_test(beside, G_FILE_TEST_IS_EXECUTABLE))
                return g_steal_pointer(&beside);
        /* In the build tree: build/daemon/hostagent/ and build/guest/. */
        build_tree = g_build_filename(dir, "..", "..", "guest", "lima-guestagent", NULL);
        if (g_file_test(build_tree, G_FILE_TEST_IS_EXECUTABLE))
                return g_canonicalize_filename(build_tree, NULL);
        return NULL;
}

static gboolean
lima_prepare_cmdline_chooses_cloud_init(const gchar *cmdline)
{
        g_auto(GStrv) words = NULL;

        if (cmdline == NULL)
                return FALSE;
        words = g_strsplit_set(cmdline, " \t", -1);
        for (guint i = 0; words[i] != NULL; i++) {
                if (g_str_has_prefix(words[i], "cloud-init="))
                        return TRUE;
        }
        return FALSE;
}

gboolean
lima_agent_native_boot_supported(const LimaImage *image, const gchar *guestagent)
{
        const gchar *location = image->file.location.value;
        g_autofree gchar *dir = NULL;
        g_autofree gchar *marker = NULL;

        if (!image->has_kernel || guestagent == NULL || location == NULL ||
            lima_prepare_cmdline_chooses_cloud_init(image->kernel_cmdline.value))
                return FALSE;
        if (g_str_has_prefix(location, "file://"))
                location += strlen("file://");
        if (!g_path_is_absolute(location))
                return FALSE;
        dir = g_path_get_dirname(location);
        marker = g_build_filename(dir, LIMA_NATIVE_BOOT_MARKER, NULL);
        return g_file_test(marker, G_FILE_TEST_IS_REGULAR);
}

typedef struct {
        LimaWorker *worker;
        const gchar *what;
        gint64 last_report;
} LimaPrepareProgress;

static void
lima_prepare_on_download(guint64 done, guint64 total, const gchar *message, gpointer user_data)
{
        LimaPrepareProgress *p = user_data;
        gint64 now = g_get_monotonic_time();
        if (now - p->last_report < G_USEC_PER_SEC / 2 && done != total)
                return;
        p->last_report = now;
        lima_worker_progress(p->worker, "download", total > 0 ? (gdouble)done / total : 0.0,
                             "%s: %s", p->what, message != NULL ? message : "");
}

static gchar *
lima_prepare_fetch(LimaWorker *worker, const gchar *cache, const LimaFile *file, const gchar *what,
                   GError **error)
{
        LimaPrepareProgress progress = { .worker = worker, .what = what };
        gchar *path;
        lima_worker_progress(worker, "download", 0.0, _("%s from %s"), what, file->location.value);
        path = lima_image_fetch(cache, file, lima_prepare_on_download, &progress,
                                lima_worker_get_cancellable(worker), error);
        if (path == NULL)
                g_prefix_error(error, _("cannot get the %s: "), what);
        return path;
}

gboolean
lima_agent_prepare_run(LimaWorker *worker, gpointer data, GError **error)
{
        LimaAgentPrepare *prep = data;
        g_autofree gchar *cache = lima_paths_cache_home();
        g_autofree gchar *base = NULL;
        g_autofree gchar *diffdisk = g_build_filename(prep->dir, LIMA_FILE_DIFFDISK, NULL);
        g_autofree gchar *iso = g_build_filename(prep->dir, LIMA_FILE_CIDATA, NULL);
        g_autofree gchar *pubkey = NULL;
        g_autofree gchar *guestagent = NULL;
        const LimaImage *image;
        guint64 disk_bytes = 0;

        lima_worker_progress(worker, "keys", 0.02, _("checking the SSH key pair"));
        pubkey = lima_ssh_keys_ensure(prep->keys_home, error);
        if (pubkey == NULL)
                return FALSE;
        image = lima_image_select(prep->cfg->images, prep->cfg->arch.value, error);
        if (image == NULL)
                return FALSE;
        base = lima_prepare_fetch(worker, cache, &image->file, _("image"), error);
        if (base == NULL)
                return FALSE;
        if (image->has_kernel) {
                prep->kernel =
                    lima_prepare_fetch(worker, cache, &image->kernel, _("kernel"), error);
                if (prep->kernel == NULL)
                        return FALSE;
                prep->kernel_cmdline = g_strdup(image->kernel_cmdline.value);
        }
        guestagent = lima_agent_find_guestagent();
        prep->native_boot = lima_agent_native_boot_supported(image, guestagent);
        if (prep->native_boot) {
                /* cloud-init's generator reads this before any unit runs: it stays out, and
                 * the image's lima-native-boot.service runs the agent from the seed. */
                g_autofree gchar *old = g_steal_pointer(&prep->kernel_cmdline);
                prep->kernel_cmdline = old != NULL && *old != '\0'
                                           ? g_strconcat(old, " cloud-init=disabled", NULL)
                                           : g_strdup("cloud-init=disabled");
        }
        lima_worker_progress(worker, "keys", 0.04,
                             prep->native_boot ? _("boot route: native (lima-guestagent)")
                                               : _("boot route: cloud-init"));
        if (image->has_initrd) {
                prep->initrd =
                    lima_prepare_fetch(worker, cache, &image->initrd, _("initrd"), error);
                if (prep->initrd == NULL)
                        return FALSE;
        }
        if (lima_worker_cancelled(worker))
                return FALSE;
        lima_size_parse(prep->cfg->disk.value, &disk_bytes);
        if (!g_file_test(diffdisk, G_FILE_TEST_EXISTS)) {
                g_autofree gchar *format = NULL;
                guint64 virtual_size = 0;
                /* Checked before copying, so the error names the user's file. */
                if (!lima_image_is_iso(base) &&
                    !lima_image_disk_query(base, &format, &virtual_size, error))
                        return FALSE;
                /* The instance gets its own copy of the image (Lima's basedisk), so a cache
                 * that is pruned or rebuilt never pulls the disk out from under it. */
                g_autofree gchar *basedisk = g_build_filename(prep->dir, "basedisk", NULL);
                lima_worker_progress(worker, "disk", 0.25, _("copying the image into %s"),
                                     basedisk);
                if (!lima_image_install_file(base, basedisk, error))
                        return FALSE;
                g_free(base);
                base = g_steal_pointer(&basedisk);
        }
        lima_worker_progress(worker, "disk", 0.3, _("preparing the disk"));
        if (!lima_image_prepare_disk(base, diffdisk, disk_bytes, error))
                return FALSE;
        /* The kernel must match the modules on the disk: keep the instance's own copy. */
        if (prep->kernel != NULL || prep->initrd != NULL) {
                if (!lima_image_install_boot_files(prep->dir, prep->kernel, prep->initrd, error))
                        return FALSE;
                if (prep->kernel != NULL) {
                        g_free(prep->kernel);
                        prep->kernel = g_build_filename(prep->dir, LIMA_FILE_KERNEL, NULL);
                }
                if (prep->initrd != NULL) {
                        g_free(prep->initrd);
                        prep->initrd = g_build_filename(prep->dir, LIMA_FILE_INITRD, NULL);
                }
        }
        /* A mount location that does not exist yet is made now, as Lima does. */
        for (guint i = 0; i < prep->cfg->mounts->len; i++) {
                const LimaMount *m = g_ptr_array_index(prep->cfg->mounts, i);
                if (g_file_test(m->location.value, G_FILE_TEST_EXISTS))
                        continue;
                if (g_mkdir_with_parents(m->location.value, 0755) != 0) {
                        int saved = errno;
                        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                                    _("cannot create mount location %s: %s"), m->location.value,
                                    g_strerror(saved));
                        return FALSE;
                }
                lima_worker_progress(worker, "mounts", 0.32, _("created %s"), m->location.value);
        }
        lima_worker_progress(worker, "cidata", 0.35, _("writing the cloud-init seed"));
        {
                const gchar *keys[] = { pubkey, NULL };
                LimaCidataPlan plan = {
                        .config = prep->cfg,
                        .instance_name = prep->name,
                        .ssh_public_keys = keys,
                        .guestagent_path = guestagent,
                        .host_home = prep->host_home,
                };
                if (!lima_cidata_write(&plan, iso, error))
                        return FALSE;
        }
        return TRUE;
}
