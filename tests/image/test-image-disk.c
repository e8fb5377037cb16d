/* lima_image_prepare_disk and lima_image_install_boot_files, with real images made by
 * qemu-img (qemu-utils). */
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>

#include "lima-error.h"
#include "lima-image-disk.h"
#include "test-image-util.h"

#define MiB (1024ull * 1024ull)

typedef struct {
        gchar *dir;
        gchar *diffdisk;
} Fixture;

static void
fixture_setup(Fixture *fx, gconstpointer user_data)
{
        fx->dir = test_image_tmpdir();
        fx->diffdisk = g_build_filename(fx->dir, "diffdisk", NULL);
}

static void
fixture_teardown(Fixture *fx, gconstpointer user_data)
{
        test_image_rm_rf(fx->dir);
        g_free(fx->dir);
        g_free(fx->diffdisk);
}

static gboolean
have_qemu_img(void)
{
        g_autofree gchar *path = g_find_program_in_path("qemu-img");
        if (path == NULL)
                g_test_skip("qemu-img is not installed (apt-get install qemu-utils)");
        return path != NULL;
}

static void
run_qemu_img(const gchar *const *args, gchar **out)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autofree gchar *err = NULL;
        g_autoptr(GError) error = NULL;
        gint status = 0;

        g_ptr_array_add(argv, "qemu-img");
        for (guint i = 0; args[i] != NULL; i++)
                g_ptr_array_add(argv, (gpointer)args[i]);
        g_ptr_array_add(argv, NULL);
        g_spawn_sync(NULL, (gchar **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out, &err,
                     &status, &error);
        g_assert_no_error(error);
        if (!g_spawn_check_wait_status(status, NULL))
                g_error("qemu-img %s failed: %s", args[0], err);
}

static gchar *
make_qcow2(Fixture *fx, const gchar *name, const gchar *size, const gchar *backing)
{
        gchar *path = g_build_filename(fx->dir, name, NULL);
        if (backing == NULL) {
                run_qemu_img((const gchar *[]){ "create", "-q", "-f", "qcow2", path, size, NULL },
                             NULL);
        } else {
                run_qemu_img((const gchar *[]){ "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                                                backing, path, size, NULL },
                             NULL);
        }
        return path;
}

/* qemu-img's own report on path. */
static JsonObject *
qemu_img_info(const gchar *path)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autofree gchar *out = NULL;
        g_autoptr(GError) error = NULL;

        run_qemu_img((const gchar *[]){ "info", "--output=json", "-U", path, NULL }, &out);
        json_parser_load_from_data(parser, out, -1, &error);
        g_assert_no_error(error);
        return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

/* Only the final names: no temp file left behind. */
static void
assert_no_tmp(Fixture *fx)
{
        g_autoptr(GDir) dir = g_dir_open(fx->dir, 0, NULL);
        const gchar *name;

        while ((name = g_dir_read_name(dir)) != NULL)
                g_assert_null(strstr(name, ".tmp."));
}

static void
assert_diffdisk(Fixture *fx, const gchar *backing, const gchar *backing_format, guint64 size)
{
        g_autoptr(JsonObject) info = qemu_img_info(fx->diffdisk);
        GStatBuf st;

        g_assert_cmpstr(json_object_get_string_member(info, "format"), ==, "qcow2");
        g_assert_cmpuint(json_object_get_int_member(info, "virtual-size"), ==, size);
        g_assert_cmpstr(json_object_get_string_member_with_default(info, "backing-filename", NULL),
                        ==, backing);
        g_assert_cmpstr(
            json_object_get_string_member_with_default(info, "backing-filename-format", NULL), ==,
            backing_format);
        g_assert_cmpint(g_stat(fx->diffdisk, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0600);
        assert_no_tmp(fx);
}

static void
test_disk_grow(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *base = NULL;
        g_autoptr(GError) error = NULL;

        if (!have_qemu_img())
                return;
        base = make_qcow2(fx, "base.qcow2", "64M", NULL);
        g_assert_true(lima_image_prepare_disk(base, fx->diffdisk, 128 * MiB, &error));
        g_assert_no_error(error);
        assert_diffdisk(fx, base, "qcow2", 128 * MiB);
}

static void
test_disk_image_larger(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *base = NULL;
        g_autoptr(GError) error = NULL;

        if (!have_qemu_img())
                return;
        base = make_qcow2(fx, "base.qcow2", "64M", NULL);
        g_assert_true(lima_image_prepare_disk(base, fx->diffdisk, 1 * MiB, &error));
        g_assert_no_error(error);
        assert_diffdisk(fx, base, "qcow2", 64 * MiB);
}

static void
test_disk_relative_base(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *cwd = g_get_current_dir();
        g_autofree gchar *base = NULL;
        g_autoptr(GError) error = NULL;
        gboolean ok;

        if (!have_qemu_img())
                return;
        base = make_qcow2(fx, "base.qcow2", "64M", NULL);
        g_assert_cmpint(g_chdir(fx->dir), ==, 0);
        ok = lima_image_prepare_disk("base.qcow2", "diffdisk", 100 * MiB + 1, &error);
        g_assert_cmpint(g_chdir(cwd), ==, 0);
        g_assert_no_error(error);
        g_assert_true(ok);
        /* Absolute, so the disk works from any folder; rounded up to whole sectors. */
        assert_diffdisk(fx, base, "qcow2", 100 * MiB + 512);
}

static void
test_disk_raw(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *zeros = g_malloc0(MiB);
        g_autofree gchar *base = test_image_write(fx->dir, "base.raw", zeros, MiB);
        g_autoptr(GError) error = NULL;

        if (!have_qemu_img())
                return;
        g_assert_true(lima_image_prepare_disk(base, fx->diffdisk, 8 * MiB, &error));
        g_assert_no_error(error);
        assert_diffdisk(fx, base, "raw", 8 * MiB);
}

static void
test_disk_iso(Fixture *fx, gconstpointer user_data)
{
        gsize len = 64 * 1024;
        g_autofree gchar *iso = g_malloc0(len);
        g_autofree gchar *base = NULL;
        g_autoptr(GError) error = NULL;

        if (!have_qemu_img())
                return;
        memcpy(iso + 0x8000, "\001CD001\001", 7);
        base = test_image_write(fx->dir, "live.iso", iso, len);
        g_assert_true(lima_image_is_iso(base));
        g_assert_true(lima_image_prepare_disk(base, fx->diffdisk, 16 * MiB, &error));
        g_assert_no_error(error);
        /* An empty disk of its own; the ISO is booted as a CD-ROM. */
        assert_diffdisk(fx, NULL, NULL, 16 * MiB);
}

static void
test_disk_existing_kept(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *base = NULL;
        g_autofree gchar *contents = NULL;
        g_autoptr(GError) error = NULL;

        if (!have_qemu_img())
                return;
        base = make_qcow2(fx, "base.qcow2", "64M", NULL);
        g_assert_true(g_file_set_contents(fx->diffdisk, "the guest's data", -1, NULL));
        g_assert_true(lima_image_prepare_disk(base, fx->diffdisk, 128 * MiB, &error));
        g_assert_no_error(error);
        g_assert_true(g_file_get_contents(fx->diffdisk, &contents, NULL, NULL));
        g_assert_cmpstr(contents, ==, "the guest's data");
}

/* A bad base: an error naming it, mentioning `needle`, and no disk. */
static void
assert_refused(Fixture *fx, const gchar *base, const gchar *needle)
{
        g_autoptr(GError) error = NULL;

        g_assert_false(lima_image_prepare_disk(base, fx->diffdisk, 128 * MiB, &error));
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
        g_test_message("%s", error->message);
        g_assert_nonnull(strstr(error->message, base));
        g_assert_nonnull(strstr(error->message, needle));
        g_assert_false(g_file_test(fx->diffdisk, G_FILE_TEST_EXISTS));
        assert_no_tmp(fx);
}

static void
test_disk_corrupt_qcow2(Fixture *fx, gconstpointer user_data)
{
        const gchar text[] = "QFI\xfb but really a text file\n";
        g_autofree gchar *base = test_image_write(fx->dir, "base.qcow2", text, strlen(text));

        if (!have_qemu_img())
                return;
        /* qemu-img's own words. */
        assert_refused(fx, base, "Unsupported qcow2 version");
}

static void
test_disk_truncated_qcow2(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *base = NULL;
        g_autofree gchar *contents = NULL;
        gsize len = 0;

        if (!have_qemu_img())
                return;
        base = make_qcow2(fx, "base.qcow2", "64M", NULL);
        g_assert_true(g_file_get_contents(base, &contents, &len, NULL));
        g_free(test_image_write(fx->dir, "base.qcow2", contents, 100));
        assert_refused(fx, base, "qemu-img");
}

static void
test_disk_random_bytes(Fixture *fx, gconstpointer user_data)
{
        gchar bytes[1000];
        g_autofree gchar *base = NULL;

        if (!have_qemu_img())
                return;
        for (guint i = 0; i < sizeof(bytes); i++)
                bytes[i] = (gchar)g_random_int_range(1, 256);
        base = test_image_write(fx->dir, "random.img", bytes, sizeof(bytes));
        assert_refused(fx, base, "not a disk image");
}

static void
test_disk_compressed(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *xz = g_malloc0(4096);
        g_autofree gchar *base = NULL;

        if (!have_qemu_img())
                return;
        memcpy(xz, "\xfd\x37\x7a\x58\x5a\x00", 6);
        base = test_image_write(fx->dir, "image.qcow2.xz", xz, 4096);
        assert_refused(fx, base, "xz");
}

static void
test_disk_backing_refused(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *under = NULL;
        g_autofree gchar *base = NULL;

        if (!have_qemu_img())
                return;
        under = make_qcow2(fx, "under.qcow2", "64M", NULL);
        base = make_qcow2(fx, "base.qcow2", "64M", under);
        assert_refused(fx, base, "backing file");
}

static void
test_disk_missing_base(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *base = g_build_filename(fx->dir, "missing.qcow2", NULL);
        g_autoptr(GError) error = NULL;

        g_assert_false(lima_image_prepare_disk(base, fx->diffdisk, 128 * MiB, &error));
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_NOT_FOUND);
        g_assert_nonnull(strstr(error->message, base));
        g_assert_false(g_file_test(fx->diffdisk, G_FILE_TEST_EXISTS));
}

static void
test_boot_files(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *src = test_image_tmpdir();
        g_autofree gchar *kernel = test_image_write(src, "vmlinuz", "KERNEL", 6);
        g_autofree gchar *initrd = test_image_write(src, "initrd.img", "INITRD", 6);
        g_autofree gchar *kernel_dest = g_build_filename(fx->dir, "kernel", NULL);
        g_autofree gchar *initrd_dest = g_build_filename(fx->dir, "initrd", NULL);
        g_autofree gchar *contents = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_true(lima_image_install_boot_files(fx->dir, kernel, NULL, &error));
        g_assert_no_error(error);
        g_assert_true(g_file_get_contents(kernel_dest, &contents, NULL, NULL));
        g_assert_cmpstr(contents, ==, "KERNEL");
        g_assert_false(g_file_test(initrd_dest, G_FILE_TEST_EXISTS));
        g_clear_pointer(&contents, g_free);

        /* The instance keeps the kernel its disk was built with. */
        g_assert_true(g_file_set_contents(kernel, "NEWER", -1, NULL));
        g_assert_true(lima_image_install_boot_files(fx->dir, kernel, initrd, &error));
        g_assert_no_error(error);
        g_assert_true(g_file_get_contents(kernel_dest, &contents, NULL, NULL));
        g_assert_cmpstr(contents, ==, "KERNEL");
        g_clear_pointer(&contents, g_free);
        g_assert_true(g_file_get_contents(initrd_dest, &contents, NULL, NULL));
        g_assert_cmpstr(contents, ==, "INITRD");
        assert_no_tmp(fx);

        g_assert_cmpint(g_unlink(initrd_dest), ==, 0);
        g_assert_false(lima_image_install_boot_files(fx->dir, NULL, "/nonexistent/initrd", &error));
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, "/nonexistent/initrd"));
        assert_no_tmp(fx);
        test_image_rm_rf(src);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
        ADD("/image/disk/grow", test_disk_grow);
        ADD("/image/disk/image-larger", test_disk_image_larger);
        ADD("/image/disk/relative-base", test_disk_relative_base);
        ADD("/image/disk/raw", test_disk_raw);
        ADD("/image/disk/iso", test_disk_iso);
        ADD("/image/disk/existing-kept", test_disk_existing_kept);
        ADD("/image/disk/corrupt-qcow2", test_disk_corrupt_qcow2);
        ADD("/image/disk/truncated-qcow2", test_disk_truncated_qcow2);
        ADD("/image/disk/random-bytes", test_disk_random_bytes);
        ADD("/image/disk/compressed", test_disk_compressed);
        ADD("/image/disk/backing-refused", test_disk_backing_refused);
        ADD("/image/disk/missing-base", test_disk_missing_base);
        ADD("/image/boot-files", test_boot_files);
#undef ADD
        return g_test_run();
}
