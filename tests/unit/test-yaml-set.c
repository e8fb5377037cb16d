/* --set EXPR: Lima's documented yq forms on a YAML tree, comments kept where the edit allows,
 * and everything else refused with the supported forms named. */
#include <string.h>

#include "lima-error.h"
#include "lima-yaml-set.h"

static gchar *
apply(const gchar *text, const gchar *expr, GError **error)
{
        const gchar *exprs[] = { expr, NULL };
        return lima_yaml_set_apply_text(text, "dev.yaml", exprs, error);
}

static void
test_set_scalar_keeps_comments(void)
{
        const gchar *text = "# my VM\ncpus: 2 # two for now\nmountType: reverse-sshfs\n";
        g_autoptr(GError) error = NULL;
        g_autofree gchar *out = apply(text, ".cpus = 4 | .mountType = \"9p\"", &error);

        g_assert_no_error(error);
        g_assert_cmpstr(out, ==, "# my VM\ncpus: 4 # two for now\nmountType: \"9p\"\n");
}

static void
test_set_nested_index_keeps_comments(void)
{
        const gchar *text = "mounts:\n# home\n- location: \"~\"\n  writable: false\n";
        g_autoptr(GError) error = NULL;
        g_autofree gchar *out = apply(text, ".mounts[0].writable = true", &error);

        g_assert_no_error(error);
        g_assert_cmpstr(out, ==, "mounts:\n# home\n- location: \"~\"\n  writable: true\n");
}

static void
test_set_append_to_list(void)
{
        const gchar *text = "mounts:\n- location: \"~\"\n";
        g_autoptr(GError) error = NULL;
        g_autofree gchar *out =
            apply(text, ".mounts += [{\"location\": \"~/src\", \"writable\": true}]", &error);
        g_autoptr(LimaYamlNode) doc = NULL;
        LimaYamlNode *mounts, *second;

        g_assert_no_error(error);
        doc = lima_yaml_parse(out, strlen(out), "out.yaml", &error);
        g_assert_no_error(error);
        mounts = lima_yaml_mapping_get(doc, "mounts");
        g_assert_cmpuint(mounts->items->len, ==, 2);
        second = g_ptr_array_index(mounts->items, 1);
        g_assert_cmpstr(lima_yaml_mapping_get(second, "location")->scalar, ==, "~/src");
        g_assert_cmpstr(lima_yaml_mapping_get(second, "writable")->scalar, ==, "true");
}

static void
test_set_creates_missing_keys(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree gchar *out = apply("cpus: 2\n",
                                      ".mounts += [{\"location\": \"/srv\"}] | "
                                      ".containerd.user = false",
                                      &error);
        g_assert_no_error(error);
        g_assert_nonnull(strstr(out, "\"/srv\""));
        g_assert_nonnull(strstr(out, "user: false"));
        g_clear_pointer(&out, g_free);
        out = apply("", ".cpus = 4", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(g_strstrip(out), ==, "cpus: 4");
}

static void
test_set_refuses_other_forms(void)
{
        const gchar *bad[] = { "cpus = 4",       ".cpus == 4", ".cpus = foo", ".cpus",
                               ".mounts[x] = 1", "del(.cpus)", ".a = [1, 2",  ".cpus |= . + 1" };
        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree gchar *out = apply("cpus: 2\n", bad[i], &error);
                g_assert_null(out);
                g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
                g_test_message("%s → %s", bad[i], error->message);
                if (strstr(error->message, "not valid YAML") == NULL)
                        g_assert_nonnull(strstr(error->message, "supported forms"));
        }
}

static void
test_set_error_names_file_line_column(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree gchar *out =
            apply("cpus: 2\nmounts: none\n", ".mounts[0].writable = true", &error);
        g_assert_null(out);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
        g_assert_true(g_str_has_prefix(error->message, "dev.yaml:2:9: "));
        g_clear_error(&error);
        out = apply("mounts: [a]\n", ".mounts += {\"x\": 1}", &error);
        g_assert_null(out);
        g_assert_true(g_str_has_prefix(error->message, "dev.yaml:1:9: "));
        g_clear_error(&error);
        out = apply("mounts: [a]\n", ".mounts[3] = 1", &error);
        g_assert_null(out);
        g_assert_nonnull(strstr(error->message, "past the end"));
}

static void
test_set_tree(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaYamlNode) doc = lima_yaml_parse("a: {b: 1}\n", 10, "x.yaml", &error);
        g_assert_true(lima_yaml_set_apply(doc, ".a.b = 'two' | .\"odd key\" = null", &error));
        g_assert_no_error(error);
        g_assert_cmpstr(lima_yaml_mapping_get(lima_yaml_mapping_get(doc, "a"), "b")->scalar, ==,
                        "two");
        g_assert_true(lima_yaml_node_is_null(lima_yaml_mapping_get(doc, "odd key")));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/yaml-set/scalar-keeps-comments", test_set_scalar_keeps_comments);
        g_test_add_func("/yaml-set/nested-index-keeps-comments",
                        test_set_nested_index_keeps_comments);
        g_test_add_func("/yaml-set/append-to-list", test_set_append_to_list);
        g_test_add_func("/yaml-set/creates-missing-keys", test_set_creates_missing_keys);
        g_test_add_func("/yaml-set/refuses-other-forms", test_set_refuses_other_forms);
        g_test_add_func("/yaml-set/error-names-file-line-column",
                        test_set_error_names_file_line_column);
        g_test_add_func("/yaml-set/tree", test_set_tree);
        return g_test_run();
}
