/* Instance names follow Lima's rule: ^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$, ≤ 76. */
#include <string.h>

#include "lima-error.h"
#include "lima-instance-name.h"

static void
test_instance_name_accepts_lima_names(void)
{
        const gchar *good[] = {
                "default", "dev", "containerd.io", "0912341234", "underscores_are_allowed",
                "a-b.c_d", "x"
        };
        g_autofree gchar *longest = g_strnfill(76, 'a');
        for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autoptr(GError) error = NULL;
                if (!lima_instance_name_validate(good[i], &error))
                        g_error("\"%s\" refused: %s", good[i], error->message);
        }
        g_assert_true(lima_instance_name_validate(longest, NULL));
}

static void
test_instance_name_refuses_bad_names_with_reason(void)
{
        const gchar *bad[] = { ".foo..foo",
                               "foo/foo",
                               "foo..foo",
                               "foo.-boo",
                               "-foo.boo",
                               "foo.boo-",
                               "but__only_tasteful_underscores",
                               "default--default",
                               "../etc",
                               "a b",
                               "é",
                               "a\nb" };
        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                if (lima_instance_name_validate(bad[i], &error))
                        g_error("\"%s\" accepted", bad[i]);
                g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_NAME);
                g_assert_nonnull(strstr(error->message, "must match"));
        }
}

static void
test_instance_name_refuses_empty_and_long(void)
{
        g_autofree gchar *too_long = g_strnfill(77, 'a');
        g_autoptr(GError) e1 = NULL;
        g_autoptr(GError) e2 = NULL;
        g_assert_false(lima_instance_name_validate("", &e1));
        g_assert_nonnull(strstr(e1->message, "empty"));
        g_assert_false(lima_instance_name_validate(too_long, &e2));
        g_assert_nonnull(strstr(e2->message, "77 characters long; the limit is 76"));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/instance-name/accepts-lima-names", test_instance_name_accepts_lima_names);
        g_test_add_func("/instance-name/refuses-bad-names-with-reason",
                        test_instance_name_refuses_bad_names_with_reason);
        g_test_add_func("/instance-name/refuses-empty-and-long",
                        test_instance_name_refuses_empty_and_long);
        return g_test_run();
}
