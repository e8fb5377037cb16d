/* The YAML layer: positions, round trips, and hostile input refused quickly. */
#include <string.h>

#include "lima-error.h"
#include "lima-yaml.h"

static void
test_yaml_nodes_remember_file_line_and_column(void)
{
        const gchar *text = "a: 1\nmounts:\n- location: \"~\"\n  writable: true\n";
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaYamlNode) doc = lima_yaml_parse(text, strlen(text), "dev.yaml", &error);
        LimaYamlNode *mounts, *first, *writable;

        g_assert_no_error(error);
        mounts = lima_yaml_mapping_get(doc, "mounts");
        g_assert_nonnull(mounts);
        first = g_ptr_array_index(mounts->items, 0);
        writable = lima_yaml_mapping_get(first, "writable");
        g_assert_cmpstr(writable->file, ==, "dev.yaml");
        g_assert_cmpuint(writable->line, ==, 4);
        g_assert_cmpuint(writable->column, ==, 13);
        g_assert_true(lima_yaml_mapping_get(first, "location")->quoted);
}

static void
test_yaml_round_trip_keeps_unknown_keys_and_order(void)
{
        const gchar *text = "zeta: 1\nvmType: qemu\ncustomThing:\n  nested: [a, b]\n"
                            "script: |\n  #!/bin/sh\n  echo hi\n";
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaYamlNode) doc = lima_yaml_parse(text, strlen(text), "x.yaml", &error);
        g_autofree gchar *out = lima_yaml_emit(doc, &error);
        g_autoptr(LimaYamlNode) again = NULL;

        g_assert_no_error(error);
        again = lima_yaml_parse(out, strlen(out), "x.yaml", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(lima_yaml_mapping_key_at(again, 0)->scalar, ==, "zeta");
        g_assert_cmpstr(lima_yaml_mapping_key_at(again, 2)->scalar, ==, "customThing");
        g_assert_cmpstr(lima_yaml_mapping_get(again, "script")->scalar, ==, "#!/bin/sh\necho hi\n");
        g_assert_cmpuint(
            lima_yaml_mapping_get(lima_yaml_mapping_get(again, "customThing"), "nested")
                ->items->len,
            ==, 2);
}

static void
test_yaml_empty_document_is_an_empty_mapping(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaYamlNode) doc = lima_yaml_parse("", 0, "empty.yaml", &error);
        g_assert_no_error(error);
        g_assert_cmpint(doc->kind, ==, LIMA_YAML_MAPPING);
        g_assert_cmpuint(lima_yaml_mapping_size(doc), ==, 0);
}

static void
test_yaml_syntax_error_names_file_line_and_column(void)
{
        const gchar *text = "cpus: 2\nmounts:\n  - location: [unclosed\n";
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaYamlNode) doc = lima_yaml_parse(text, strlen(text), "bad.yaml", &error);
        g_assert_null(doc);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_YAML);
        g_assert_true(g_str_has_prefix(error->message, "bad.yaml:4:1: YAML syntax error"));
}

static void
test_yaml_duplicate_key_is_an_error(void)
{
        const gchar *text = "cpus: 2\ncpus: 4\n";
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaYamlNode) doc = lima_yaml_parse(text, strlen(text), "dup.yaml", &error);
        g_assert_null(doc);
        g_assert_cmpstr(error->message, ==, "dup.yaml:2:1: duplicate key \"cpus\"");
}

static void
test_yaml_alias_bomb_is_refused_fast(void)
{
        /* The billion laughs: nine levels of nine-fold aliases. */
        g_autoptr(GString) text = g_string_new("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\","
                                               "\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaYamlNode) doc = NULL;
        gint64 start = g_get_monotonic_time();

        for (gchar c = 'b'; c <= 'i'; c++)
                g_string_append_printf(text, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", c,
                                       c, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1,
                                       c - 1);
        doc = lima_yaml_parse(text->str, text->len, "bomb.yaml", &error);
        g_assert_null(doc);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_YAML);
        g_assert_nonnull(strstr(error->message, "alias bomb"));
        /* Not a timing test: a bound so a regression to "expand it all" cannot pass. */
        g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
}

static void
test_yaml_deep_nesting_is_refused(void)
{
        g_autoptr(GString) text = g_string_new(NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaYamlNode) doc = NULL;
        for (guint i = 0; i < 10000; i++)
                g_string_append_c(text, '[');
        doc = lima_yaml_parse(text->str, text->len, "deep.yaml", &error);
        g_assert_null(doc);
        g_assert_nonnull(strstr(error->message, "nesting deeper than 64 levels"));
}

static void
test_yaml_huge_scalar_is_refused(void)
{
        gsize n = LIMA_YAML_MAX_SCALAR_BYTES + 10;
        g_autofree gchar *text = g_malloc(n + 8);
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaYamlNode) doc = NULL;
        memcpy(text, "a: ", 3);
        memset(text + 3, 'x', n);
        text[n + 3] = '\0';
        doc = lima_yaml_parse(text, n + 3, "huge.yaml", &error);
        g_assert_null(doc);
        g_assert_nonnull(strstr(error->message, "longer than the limit"));
}

static void
test_yaml_oversized_input_is_refused(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaYamlNode) doc =
            lima_yaml_parse("", LIMA_YAML_MAX_INPUT_BYTES + 1, "big.yaml", &error);
        g_assert_null(doc);
        g_assert_nonnull(strstr(error->message, "larger than the limit"));
}

static void
test_yaml_recursive_alias_is_refused(void)
{
        const gchar *text = "a: &x [1, *x]\n";
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaYamlNode) doc = lima_yaml_parse(text, strlen(text), "r.yaml", &error);
        g_assert_null(doc);
        g_assert_nonnull(strstr(error->message, "alias *x refers to no finished anchor"));
}

static void
test_yaml_second_document_is_refused(void)
{
        const gchar *text = "a: 1\n---\nb: 2\n";
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaYamlNode) doc = lima_yaml_parse(text, strlen(text), "two.yaml", &error);
        g_assert_null(doc);
        g_assert_nonnull(strstr(error->message, "more than one YAML document"));
}

static void
test_yaml_aliases_expand_to_copies(void)
{
        const gchar *text = "base: &m {location: /src}\nother: *m\n";
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaYamlNode) doc = lima_yaml_parse(text, strlen(text), "a.yaml", &error);
        LimaYamlNode *other;
        g_assert_no_error(error);
        other = lima_yaml_mapping_get(doc, "other");
        g_assert_cmpstr(lima_yaml_mapping_get(other, "location")->scalar, ==, "/src");
        g_assert_true(other != lima_yaml_mapping_get(doc, "base"));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/yaml/nodes-remember-file-line-and-column",
                        test_yaml_nodes_remember_file_line_and_column);
        g_test_add_func("/yaml/round-trip-keeps-unknown-keys-and-order",
                        test_yaml_round_trip_keeps_unknown_keys_and_order);
        g_test_add_func("/yaml/empty-document-is-an-empty-mapping",
                        test_yaml_empty_document_is_an_empty_mapping);
        g_test_add_func("/yaml/syntax-error-names-file-line-and-column",
                        test_yaml_syntax_error_names_file_line_and_column);
        g_test_add_func("/yaml/duplicate-key-is-an-error", test_yaml_duplicate_key_is_an_error);
        g_test_add_func("/yaml/alias-bomb-is-refused-fast", test_yaml_alias_bomb_is_refused_fast);
        g_test_add_func("/yaml/deep-nesting-is-refused", test_yaml_deep_nesting_is_refused);
        g_test_add_func("/yaml/huge-scalar-is-refused", test_yaml_huge_scalar_is_refused);
        g_test_add_func("/yaml/oversized-input-is-refused", test_yaml_oversized_input_is_refused);
        g_test_add_func("/yaml/recursive-alias-is-refused", test_yaml_recursive_alias_is_refused);
        g_test_add_func("/yaml/second-document-is-refused", test_yaml_second_document_is_refused);
        g_test_add_func("/yaml/aliases-expand-to-copies", test_yaml_aliases_expand_to_copies);
        return g_test_run();
}
