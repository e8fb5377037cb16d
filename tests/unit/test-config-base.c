/* base: composition: own values win, lists grow, mounts merge by mount point. */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lima-config-base.h"
#include "lima-config-resolve.h"
#include "lima-error.h"
#include "test-util.h"

static LimaConfig *
resolve_file(const gchar *name, LimaDiagnostics **diags, GError **error)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autofree gchar *path = g_build_filename(g_getenv("TEST_DATA_DIR"), "base", name, NULL);
        g_autofree gchar *text = NULL;
        gsize len;
        g_assert_true(g_file_get_contents(path, &text, &len, NULL));
        *diags = lima_diagnostics_new(path);
        return lima_config_resolve(text, len, path, host, NULL, *diags, error);
}

static void
test_base_own_values_win_and_lists_grow(void)
{
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaConfig) cfg = resolve_file("child.yaml", &diags, &error);
        LimaMount *shared;
        LimaYamlNode *first;

        g_assert_no_error(error);
        g_assert_cmpint(cfg->cpus.value, ==, 3);
        g_assert_cmpstr(cfg->memory.value, ==, "2GiB");
        g_assert_cmpuint(cfg->images->len, ==, 1);
        g_assert_cmpstr(lima_key_values_lookup(cfg->env, "FROM"), ==, "parent");
        g_assert_cmpstr(cfg->minimum_lima_version.value, ==, "1.0.0");
        /* The child's mount keeps its location; the parent fills what it left unset. */
        shared = g_ptr_array_index(cfg->mounts, 0);
        g_assert_cmpstr(shared->location.value, ==, "/srv/child");
        g_assert_true(shared->writable.value);
        g_assert_cmpstr(shared->ninep_msize.value, ==, "256KiB");
        /* …and template:_default/mounts adds the home mount. */
        g_assert_cmpuint(cfg->mounts->len, ==, 2);
        g_assert_cmpstr(((LimaMount *)g_ptr_array_index(cfg->mounts, 1))->location.value, ==,
                        "/home/alice");
        /* A base's provisioning runs first. */
        g_assert_cmpuint(cfg->provision->len, ==, 2);
        first = g_ptr_array_index(cfg->provision, 0);
        g_assert_cmpstr(lima_yaml_mapping_get(first, "script")->scalar, ==, "echo parent");
        /* Keys the model does not type come along, and base is gone after composition. */
        g_assert_nonnull(lima_yaml_mapping_get(cfg->doc, "video"));
        g_assert_cmpuint(cfg->base->len, ==, 0);
}

static void
test_base_loop_is_detected(void)
{
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaConfig) cfg = resolve_file("loop-a.yaml", &diags, &error);
        g_assert_null(cfg);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
        g_assert_nonnull(strstr(error->message, "base template loop detected"));
}

static void
test_base_missing_template_is_named(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaConfig) cfg =
            test_resolve(TEST_IMAGES "base: template:no-such-thing\n", host, NULL, &diags, &error);
        g_assert_nonnull(cfg);
        test_assert_error(diags, "dev.yaml:4:7: base: template \"no-such-thing\" not found");
}

static void
test_base_template_names_cannot_escape(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = lima_template_locate("../../etc/passwd", &error);
        g_assert_null(path);
        g_assert_nonnull(strstr(error->message, "is invalid"));
}

static void
test_base_remote_locations_are_refused_with_a_reason(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(LimaConfig) cfg = test_resolve(TEST_IMAGES "base: https://example.org/x.yaml\n",
                                                 host, NULL, &diags, NULL);
        g_assert_nonnull(cfg);
        test_assert_error(diags, "only template:NAME and local files can be bases");
}

/* What root does for a user under --system: a stored config names no base at all, a
 * caller's text only template:NAME ones; nothing named is read. */
static void
test_base_system_rules(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) diags = lima_diagnostics_new("stored.yaml");
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaConfig) cfg = NULL;
        const gchar *stored = "base: /etc/shadow\ncpus: 1\n";
        const gchar *sent = "base: file:///etc/shadow\ncpus: 1\n";

        cfg = lima_config_resolve_full(stored, strlen(stored), "stored.yaml", host, NULL,
                                       LIMA_RESOLVE_SYSTEM, diags, &error);
        g_assert_null(cfg);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
        g_assert_nonnull(strstr(error->message, "does not read bases named in a stored"));
        g_clear_error(&error);
        cfg = lima_config_load_data(sent, strlen(sent), "sent.yaml", diags, &error);
        g_assert_nonnull(cfg);
        g_assert_false(lima_config_resolve_base_full(cfg, LIMA_BASE_TEMPLATES_ONLY, diags, &error));
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
        g_assert_nonnull(strstr(error->message, "template:NAME"));
}

/* A FIFO or a huge file as a base is an error at once, never a hang (any mode). */
static void
test_base_fifo_does_not_block(void)
{
        g_autofree gchar *dir = g_dir_make_tmp("limad-base-fifo-XXXXXX", NULL);
        g_autofree gchar *fifo = g_build_filename(dir, "fifo.yaml", NULL);
        g_autofree gchar *text = g_strdup_printf("base: %s\ncpus: 1\n", fifo);
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) diags = lima_diagnostics_new("user.yaml");
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaConfig) cfg = NULL;

        g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
        cfg = lima_config_resolve(text, strlen(text), "user.yaml", host, NULL, diags, &error);
        g_assert_null(cfg);
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, "not a regular file"));
        g_unlink(fifo);
        g_rmdir(dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/base/own-values-win-and-lists-grow",
                        test_base_own_values_win_and_lists_grow);
        g_test_add_func("/base/loop-is-detected", test_base_loop_is_detected);
        g_test_add_func("/base/system-rules", test_base_system_rules);
        g_test_add_func("/base/fifo-does-not-block", test_base_fifo_does_not_block);
        g_test_add_func("/base/missing-template-is-named", test_base_missing_template_is_named);
        g_test_add_func("/base/template-names-cannot-escape",
                        test_base_template_names_cannot_escape);
        g_test_add_func("/base/remote-locations-are-refused-with-a-reason",
                        test_base_remote_locations_are_refused_with_a_reason);
        return g_test_run();
}
