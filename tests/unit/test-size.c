/* Sizes as Lima (go-units RAMInBytes) reads them, and version order. */
#include "lima-size.h"
#include "lima-version.h"

static void
test_size_accepts_lima_spellings(void)
{
        const struct {
                const gchar *text;
                guint64 bytes;
        } cases[] = {
                { "128KiB", 128 * 1024 }, { "128k", 128 * 1024 },  { "128kb", 128 * 1024 },
                { "4GiB", 4ull << 30 },   { "4 GiB", 4ull << 30 }, { "4gib", 4ull << 30 },
                { "4G", 4ull << 30 },     { "4GB", 4ull << 30 },   { "100GiB", 100ull << 30 },
                { "1.5GiB", 3ull << 29 }, { "4096", 4096 },        { "512b", 512 },
                { "2TiB", 2ull << 40 },   { "1PiB", 1ull << 50 },
        };
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                guint64 bytes = 0;
                g_assert_true(lima_size_parse(cases[i].text, &bytes));
                g_assert_cmpuint(bytes, ==, cases[i].bytes);
        }
}

static void
test_size_rejects_what_is_not_a_size(void)
{
        const gchar *bad[] = { "12XB", "",      "GiB", "-1GiB", " 4",   "4GiBs",
                               "4iB",  "4.GiB", "4Gx", "1e3",   "four", "4  GiB" };
        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                guint64 bytes = 0;
                if (lima_size_parse(bad[i], &bytes))
                        g_error("\"%s\" was taken as a size", bad[i]);
        }
}

static void
test_size_format_is_readable(void)
{
        g_autofree gchar *a = lima_size_format(4ull << 30);
        g_autofree gchar *b = lima_size_format(3ull << 29);
        g_assert_cmpstr(a, ==, "4GiB");
        g_assert_cmpstr(b, ==, "1.5GiB");
}

static void
test_version_order(void)
{
        g_assert_cmpint(lima_version_compare("0.9.2", "1.0.0"), <, 0);
        g_assert_cmpint(lima_version_compare("v1.0.0", "1.0.0"), ==, 0);
        g_assert_cmpint(lima_version_compare("1.0.0-rc1", "1.0.0"), <, 0);
        g_assert_cmpint(lima_version_compare("1.10.0", "1.9.9"), >, 0);
        g_assert_cmpint(lima_version_compare("", "0.1.0"), <, 0);
        g_assert_cmpint(lima_version_compare("2", "1.9"), >, 0);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/size/accepts-lima-spellings", test_size_accepts_lima_spellings);
        g_test_add_func("/size/rejects-what-is-not-a-size", test_size_rejects_what_is_not_a_size);
        g_test_add_func("/size/format-is-readable", test_size_format_is_readable);
        g_test_add_func("/version/order", test_version_order);
        return g_test_run();
}
