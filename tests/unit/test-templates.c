/* Every shipped template validates, and resolves to the defaults its images call for. */
#include <string.h>

#include "lima-config-base.h"
#include "test-util.h"

static LimaConfig *
resolve_template(const gchar *name, LimaDiagnostics **diags)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = lima_template_locate(name, &error);
        g_autofree gchar *text = NULL;
        gsize len;
        LimaConfig *cfg;
        g_assert_no_error(error);
        g_assert_true(g_file_get_contents(path, &text, &len, NULL));
        *diags = lima_diagnostics_new(path);
        cfg = lima_config_resolve(text, len, path, host, NULL, *diags, &error);
        g_assert_no_error(error);
        return cfg;
}

static void
test_templates_all_validate(void)
{
        g_autoptr(GPtrArray) names = lima_templates_list();
        const gchar *expected[] = { "default", "debian-12", "ubuntu-24.04",   "fedora",
                                    "alpine",  "archlinux", "debian-12-local" };
        for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
                gboolean found = FALSE;
                for (guint j = 0; j < names->len; j++)
                        found |= g_str_equal(g_ptr_array_index(names, j), expected[i]);
                if (!found)
                        g_error("template %s is missing", expected[i]);
        }
        for (guint i = 0; i < names->len; i++) {
                g_autoptr(LimaDiagnostics) diags = NULL;
                g_autoptr(LimaConfig) cfg = resolve_template(g_ptr_array_index(names, i), &diags);
                g_test_message("template %s", (gchar *)g_ptr_array_index(names, i));
                test_assert_no_errors(diags);
                /* Real images, pinned by digest where Lima pins them; a local image is
                 * built here, so there is no digest to pin. */
                g_assert_cmpuint(cfg->images->len, >, 0);
                {
                        LimaImage *img = g_ptr_array_index(cfg->images, 0);
                        if (!g_path_is_absolute(img->file.location.value))
                                g_assert_nonnull(img->file.digest.value);
                }
                /* The default home mount, read-only, from template:_default/mounts. */
                g_assert_cmpuint(cfg->mounts->len, >=, 1);
                g_assert_cmpstr(((LimaMount *)g_ptr_array_index(cfg->mounts, 0))->location.value,
                                ==, "/home/alice");
                g_assert_false(((LimaMount *)g_ptr_array_index(cfg->mounts, 0))->writable.value);
        }
}

static void
test_templates_debian_cloud_image_cannot_do_9p(void)
{
        /* Debian's genericcloud kernel has no 9p, so its image says so and the default
         * mount type falls back to reverse-sshfs. */
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(LimaConfig) cfg = resolve_template("debian-12", &diags);
        g_assert_cmpstr(cfg->mount_type.value, ==, "reverse-sshfs");
}

static void
test_templates_local_debian_boots_its_own_kernel_with_9p(void)
{
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(LimaConfig) cfg = resolve_template("debian-12-local", &diags);
        LimaImage *img = g_ptr_array_index(cfg->images, 0);
        g_assert_cmpstr(cfg->mount_type.value, ==, "9p");
        g_assert_true(img->has_kernel);
        g_assert_true(img->has_initrd);
        g_assert_nonnull(strstr(img->kernel_cmdline.value, "root=LABEL=lima-root"));
}

static void
test_templates_ubuntu_defaults_to_9p(void)
{
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(LimaConfig) cfg = resolve_template("ubuntu-24.04", &diags);
        g_assert_cmpstr(cfg->mount_type.value, ==, "9p");
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/templates/all-validate", test_templates_all_validate);
        g_test_add_func("/templates/debian-cloud-image-cannot-do-9p",
                        test_templates_debian_cloud_image_cannot_do_9p);
        g_test_add_func("/templates/ubuntu-defaults-to-9p", test_templates_ubuntu_defaults_to_9p);
        g_test_add_func("/templates/local-debian-boots-its-own-kernel-with-9p",
                        test_templates_local_debian_boots_its_own_kernel_with_9p);
        return g_test_run();
}
