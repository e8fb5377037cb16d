/* A real seed ISO built with xorriso and read back: label, files, modes, atomic replacement. */
#include <sys/stat.h>

#include "cidata-test-util.h"
#include "lima-iso9660.h"

static const gchar *const test_keys[] = { TEST_KEY, NULL };

static gboolean
test_skip_without_xorriso(void)
{
        g_autofree gchar *path = g_find_program_in_path("xorriso");
        if (path == NULL) {
                g_test_skip("xorriso is not installed (apt-get install xorriso); the ISO is "
                            "not built or read back");
                return TRUE;
        }
        return FALSE;
}

/* The volume identifier of the primary volume descriptor (sector 16, bytes 40..71). */
static gchar *
test_iso_label(const gchar *iso)
{
        g_autoptr(GError) error = NULL;
        g_autofree gchar *data = NULL;
        gsize len = 0;
        gchar *label;

        g_file_get_contents(iso, &data, &len, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(len, >, 16 * 2048 + 72);
        g_assert_cmpint(data[16 * 2048], ==, 1); /* type: primary */
        g_assert_true(memcmp(data + 16 * 2048 + 1, "CD001", 5) == 0);
        label = g_strndup(data + 16 * 2048 + 40, 32);
        return g_strchomp(label);
}

static void
test_iso_extract(const gchar *iso, const gchar *dest)
{
        const gchar *argv[] = { "xorriso",  "-indev", iso,  "-osirrox", "on",
                                "-extract", "/",      dest, NULL };
        g_autoptr(GError) error = NULL;
        g_autofree gchar *err = NULL;
        gint status = 0;

        g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, &error);
        g_assert_no_error(error);
        if (!g_spawn_check_wait_status(status, NULL))
                g_error("xorriso -extract failed: %s", err);
}

static LimaConfig *
test_iso_config(const gchar *root)
{
        g_autofree gchar *share = test_mkdir(root, "share");
        g_autofree gchar *yaml =
            g_strdup_printf(TEST_IMAGES "mountType: 9p\n"
                                        "mounts:\n"
                                        "- location: %s\n"
                                        "  mountPoint: /mnt/dir with space/données\n"
                                        "provision:\n"
                                        "- mode: system\n  script: |\n    #!/bin/sh\n    true\n",
                            share);
        return test_config_new(yaml, root);
}

static void
test_cidata_iso_read_back(void)
{
        g_autoptr(TestTmpdir) root = NULL;
        g_autoptr(LimaConfig) cfg = NULL;
        g_autofree gchar *agent = NULL;
        g_autofree gchar *iso = NULL;
        g_autofree gchar *out = NULL;
        g_autofree gchar *label = NULL;
        g_autoptr(GPtrArray) files = NULL;
        g_autoptr(GError) error = NULL;
        LimaCidataPlan plan;
        GStatBuf st;

        if (test_skip_without_xorriso())
                return;
        root = test_tmpdir_new();
        cfg = test_iso_config(root);
        agent = g_build_filename(root, "lima-guestagent", NULL);
        g_file_set_contents(agent, "\177ELF not really\0binary", 22, &error);
        g_assert_no_error(error);
        plan = test_plan(cfg, "dev", test_keys);
        plan.guestagent_path = agent;
        iso = g_build_filename(root, "cidata.iso", NULL);

        g_assert_true(lima_cidata_write(&plan, iso, &error));
        g_assert_no_error(error);
        g_assert_cmpint(g_stat(iso, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 077, ==, 0);
        label = test_iso_label(iso);
        g_assert_cmpstr(label, ==, "cidata");

        out = g_build_filename(root, "extracted", NULL);
        test_iso_extract(iso, out);
        files = lima_cidata_files(&plan, &error);
        g_assert_no_error(error);
        for (guint i = 0; i < files->len; i++) {
                LimaIsoFile *f = g_ptr_array_index(files, i);
                g_autofree gchar *path = g_build_filename(out, f->path, NULL);
                g_autofree gchar *got = NULL;
                gsize len = 0;
                gsize want_len = 0;
                const gchar *want = g_bytes_get_data(f->contents, &want_len);

                g_test_message("checking %s", f->path);
                g_file_get_contents(path, &got, &len, &error);
                g_assert_no_error(error);
                g_assert_cmpmem(got, len, want, want_len);
                g_assert_cmpint(g_stat(path, &st), ==, 0);
                g_assert_cmpint(st.st_mode & 0777, ==, f->mode);
        }
        {
                g_autofree gchar *meta = g_build_filename(out, "meta-data", NULL);
                g_autofree gchar *script =
                    g_build_filename(out, "provision.system", "00000000", NULL);
                g_assert_true(g_file_test(meta, G_FILE_TEST_EXISTS));
                g_assert_true(g_file_test(script, G_FILE_TEST_IS_EXECUTABLE));
        }
}

/* Writing again replaces the image; no temp file is left in the instance dir; a failure
 * leaves the previous image alone. */
static void
test_cidata_iso_replace_is_atomic(void)
{
        g_autoptr(TestTmpdir) root = NULL;
        g_autoptr(TestTmpdir) inst = NULL;
        g_autoptr(LimaConfig) cfg = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree gchar *iso = NULL;
        g_autofree gchar *before = NULL;
        g_autofree gchar *after = NULL;
        g_autoptr(GDir) dir = NULL;
        const gchar *name;
        LimaCidataPlan plan;

        if (test_skip_without_xorriso())
                return;
        root = test_tmpdir_new();
        inst = test_tmpdir_new();
        cfg = test_iso_config(root);
        plan = test_plan(cfg, "dev", test_keys);
        iso = g_build_filename(inst, "cidata.iso", NULL);

        g_assert_true(lima_cidata_write(&plan, iso, &error));
        g_assert_no_error(error);
        g_assert_true(lima_cidata_write(&plan, iso, &error));
        g_assert_no_error(error);
        g_file_get_contents(iso, &before, NULL, &error);
        g_assert_no_error(error);

        plan.guestagent_path = "/nonexistent/lima-guestagent";
        g_assert_false(lima_cidata_write(&plan, iso, &error));
        g_assert_nonnull(error);
        g_test_message("%s", error->message);
        g_file_get_contents(iso, &after, NULL, NULL);
        g_assert_cmpstr(before, ==, after);

        dir = g_dir_open(inst, 0, NULL);
        while ((name = g_dir_read_name(dir)) != NULL)
                g_assert_cmpstr(name, ==, "cidata.iso");
}

static void
test_iso9660_rejects_escaping_paths(void)
{
        g_autoptr(TestTmpdir) root = NULL;
        g_autoptr(GPtrArray) files = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree gchar *iso = NULL;

        if (test_skip_without_xorriso())
                return;
        root = test_tmpdir_new();
        iso = g_build_filename(root, "x.iso", NULL);
        files = g_ptr_array_new_with_free_func((GDestroyNotify)lima_iso_file_free);
        g_ptr_array_add(files, lima_iso_file_new_text("../evil", "x", 0644));
        g_assert_false(lima_iso9660_write(files, "cidata", iso, &error));
        g_assert_nonnull(error);
        g_assert_false(g_file_test(iso, G_FILE_TEST_EXISTS));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/cidata-iso/read-back", test_cidata_iso_read_back);
        g_test_add_func("/cidata-iso/replace-is-atomic", test_cidata_iso_replace_is_atomic);
        g_test_add_func("/cidata-iso/rejects-escaping-paths", test_iso9660_rejects_escaping_paths);
        return g_test_run();
}
