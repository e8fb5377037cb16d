/* The lima.yaml edit behind `limactl mount add/remove`: one mount in or out, the user's other
 * keys kept, and the result a valid config with the usual hashed tag. */
#include <string.h>

#include "lima-config-mounts.h"
#include "lima-mount-tag.h"
#include "test-util.h"

#define USER_YAML                                                                                  \
        TEST_IMAGES "\n"                                                                           \
                    "cpus: 2\n"                                                                    \
                    "x-user-key: {kept: true}\n"                                                   \
                    "mounts:\n"                                                                    \
                    "- location: \"~\"\n"                                                          \
                    "- location: /srv/data\n"                                                      \
                    "  mountPoint: \"{{.Home}}/data\"\n"                                           \
                    "  writable: true\n"

static LimaConfig *
resolve_ok(const gchar *yaml, LimaHost *host)
{
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(GError) error = NULL;
        LimaConfig *cfg = test_resolve(yaml, host, NULL, &diags, &error);
        g_assert_no_error(error);
        g_assert_nonnull(cfg);
        return cfg;
}

static LimaMount *
find_mount(LimaConfig *cfg, const gchar *mount_point)
{
        for (guint i = 0; i < cfg->mounts->len; i++) {
                LimaMount *m = g_ptr_array_index(cfg->mounts, i);
                if (g_strcmp0(m->mount_point.value, mount_point) == 0)
                        return m;
        }
        return NULL;
}

static void
test_add_appends_and_keeps_user_keys(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(GError) error = NULL;
        g_autofree gchar *out =
            lima_config_mounts_add(USER_YAML, "dev.yaml", "/srv/new dir", "/mnt/new", TRUE, &error);
        g_autoptr(LimaConfig) cfg = NULL;
        g_autofree gchar *tag = lima_mount_tag("/srv/new dir", "/mnt/new");
        LimaMount *m;

        g_assert_no_error(error);
        g_assert_nonnull(strstr(out, "x-user-key:"));
        g_assert_nonnull(strstr(out, "kept: true"));
        g_assert_nonnull(strstr(out, "cpus: 2"));
        cfg = resolve_ok(out, host);
        g_assert_cmpuint(cfg->mounts->len, ==, 3);
        m = g_ptr_array_index(cfg->mounts, 2);
        g_assert_cmpstr(m->location.value, ==, "/srv/new dir");
        g_assert_cmpstr(m->mount_point.value, ==, "/mnt/new");
        g_assert_true(m->writable.value);
        g_assert_cmpstr(m->tag, ==, tag);
        /* The earlier entries are as they were. */
        g_assert_nonnull(find_mount(cfg, "/home/alice"));
        g_assert_nonnull(find_mount(cfg, "/home/alice.guest/data"));
}

static void
test_add_without_mount_point_uses_location(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(GError) error = NULL;
        g_autofree gchar *out =
            lima_config_mounts_add(TEST_IMAGES, "dev.yaml", "/srv/ro", NULL, FALSE, &error);
        g_autoptr(LimaConfig) cfg = NULL;

        g_assert_no_error(error);
        g_assert_null(strstr(out, "mountPoint"));
        cfg = resolve_ok(out, host);
        g_assert_cmpuint(cfg->mounts->len, ==, 1);
        g_assert_nonnull(find_mount(cfg, "/srv/ro"));
        g_assert_false(((LimaMount *)g_ptr_array_index(cfg->mounts, 0))->writable.value);
}

static void
test_add_refuses_text_that_is_not_yaml(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree gchar *out =
            lima_config_mounts_add("cpus: [", "dev.yaml", "/srv", NULL, FALSE, &error);
        g_assert_null(out);
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, "dev.yaml"));
}

static void
test_remove_matches_the_expanded_mount_point(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaConfig) filled = resolve_ok(USER_YAML, host);
        g_autoptr(GError) error = NULL;
        guint removed = 99;
        /* Written as "{{.Home}}/data": found by where it lands, trailing slash and all. */
        g_autofree gchar *out = lima_config_mounts_remove(
            USER_YAML, "dev.yaml", filled, host, "/home/alice.guest/data/", &removed, &error);
        g_autoptr(LimaConfig) cfg = NULL;

        g_assert_no_error(error);
        g_assert_cmpuint(removed, ==, 1);
        g_assert_nonnull(strstr(out, "x-user-key:"));
        cfg = resolve_ok(out, host);
        g_assert_cmpuint(cfg->mounts->len, ==, 1);
        g_assert_null(find_mount(cfg, "/home/alice.guest/data"));
        g_assert_nonnull(find_mount(cfg, "/home/alice"));
}

static void
test_remove_of_an_unknown_mount_point_removes_nothing(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaConfig) filled = resolve_ok(USER_YAML, host);
        g_autoptr(GError) error = NULL;
        guint removed = 99;
        g_autofree gchar *out = lima_config_mounts_remove(USER_YAML, "dev.yaml", filled, host,
                                                          "/mnt/nothing", &removed, &error);
        g_autoptr(LimaConfig) cfg = NULL;

        g_assert_no_error(error);
        g_assert_cmpuint(removed, ==, 0);
        cfg = resolve_ok(out, host);
        g_assert_cmpuint(cfg->mounts->len, ==, 2);
}

static void
test_remove_takes_every_entry_of_a_merged_mount(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        const gchar *yaml = TEST_IMAGES "\n"
                                        "mounts:\n"
                                        "- location: /srv/a\n"
                                        "  mountPoint: /mnt/x\n"
                                        "- location: /srv/b\n"
                                        "  mountPoint: /mnt/x\n"
                                        "  writable: true\n";
        g_autoptr(LimaConfig) filled = resolve_ok(yaml, host);
        g_autoptr(GError) error = NULL;
        guint removed = 0;
        g_autofree gchar *out =
            lima_config_mounts_remove(yaml, "dev.yaml", filled, host, "/mnt/x", &removed, &error);
        g_autoptr(LimaConfig) cfg = NULL;

        g_assert_no_error(error);
        g_assert_cmpuint(removed, ==, 2);
        cfg = resolve_ok(out, host);
        g_assert_cmpuint(cfg->mounts->len, ==, 0);
}

/* The user's comments and layout survive: the entry goes in as text when that reads back
 * exactly as the model's edit would. */
static void
test_add_and_remove_keep_comments(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        const gchar *yaml = "# my instance\n" TEST_IMAGES "mounts:   # shared folders\n"
                            "  - location: /srv/a   # the first\n"
                            "    writable: true\n"
                            "\n"
                            "  # the second\n"
                            "  - location: /srv/b\n"
                            "# about cpus\n"
                            "cpus: 2\n";
        g_autoptr(LimaConfig) filled = resolve_ok(yaml, host);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *added =
            lima_config_mounts_add(yaml, "dev.yaml", "/srv/c", "/mnt/c", FALSE, &error);
        g_autofree gchar *removed_text = NULL;
        g_autoptr(LimaConfig) cfg = NULL;
        guint removed = 0;

        g_assert_no_error(error);
        g_test_message("%s", added);
        g_assert_true(g_str_has_prefix(added, "# my instance\n"));
        g_assert_nonnull(strstr(added, "# the first"));
        g_assert_nonnull(strstr(added, "  - location: /srv/b\n"
                                       "  - location: /srv/c\n"
                                       "    mountPoint: /mnt/c\n"
                                       "    writable: false\n"
                                       "# about cpus\n"));
        cfg = resolve_ok(added, host);
        g_assert_cmpuint(cfg->mounts->len, ==, 3);

        removed_text =
            lima_config_mounts_remove(yaml, "dev.yaml", filled, host, "/srv/a", &removed, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(removed, ==, 1);
        g_assert_null(strstr(removed_text, "/srv/a"));
        g_assert_nonnull(strstr(removed_text, "# shared folders"));
        g_assert_nonnull(strstr(removed_text, "# the second\n  - location: /srv/b\n"));
        g_clear_pointer(&cfg, lima_config_free);
        cfg = resolve_ok(removed_text, host);
        g_assert_cmpuint(cfg->mounts->len, ==, 1);
}

/* No mounts key: one is appended. Flow style: the model rewrites it, still right. */
static void
test_add_without_mounts_key_and_to_flow_style(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        const gchar *flow = TEST_IMAGES "mounts: [{location: /srv/a}]  # flow\n";
        g_autoptr(GError) error = NULL;
        g_autofree gchar *plain = lima_config_mounts_add("# hello\n" TEST_IMAGES, "dev.yaml",
                                                         "/srv/x", NULL, TRUE, &error);
        g_autofree gchar *from_flow = NULL;
        g_autoptr(LimaConfig) cfg = NULL;

        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(plain, "# hello\n"));
        g_assert_true(g_str_has_suffix(plain, "mounts:\n- location: /srv/x\n  writable: true\n"));
        from_flow = lima_config_mounts_add(flow, "dev.yaml", "/srv/x", NULL, TRUE, &error);
        g_assert_no_error(error);
        cfg = resolve_ok(from_flow, host);
        g_assert_cmpuint(cfg->mounts->len, ==, 2);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/config-mounts/add-appends-and-keeps-user-keys",
                        test_add_appends_and_keeps_user_keys);
        g_test_add_func("/config-mounts/add-without-mount-point-uses-location",
                        test_add_without_mount_point_uses_location);
        g_test_add_func("/config-mounts/add-refuses-text-that-is-not-yaml",
                        test_add_refuses_text_that_is_not_yaml);
        g_test_add_func("/config-mounts/remove-matches-the-expanded-mount-point",
                        test_remove_matches_the_expanded_mount_point);
        g_test_add_func("/config-mounts/remove-of-an-unknown-mount-point-removes-nothing",
                        test_remove_of_an_unknown_mount_point_removes_nothing);
        g_test_add_func("/config-mounts/remove-takes-every-entry-of-a-merged-mount",
                        test_remove_takes_every_entry_of_a_merged_mount);
        g_test_add_func("/config-mounts/add-and-remove-keep-comments",
                        test_add_and_remove_keep_comments);
        g_test_add_func("/config-mounts/add-without-mounts-key-and-to-flow-style",
                        test_add_without_mounts_key_and_to_flow_style);
        return g_test_run();
}
