/* The per-user key pair: made once, 0600, reused, repaired without replacing the key. */
#include <sys/stat.h>

#include "cidata-test-util.h"
#include "lima-ssh-keys.h"

static gboolean
test_skip_without_ssh_keygen(void)
{
        g_autofree gchar *path = g_find_program_in_path("ssh-keygen");
        if (path == NULL) {
                g_test_skip("ssh-keygen is not installed (apt-get install openssh-client)");
                return TRUE;
        }
        return FALSE;
}

static void
test_ssh_keys_generate(void)
{
        g_autoptr(TestTmpdir) home = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree gchar *key = NULL;
        g_autofree gchar *priv = NULL;
        g_autofree gchar *pub = NULL;
        g_autofree gchar *pub_text = NULL;
        g_autofree gchar *config = NULL;
        g_autofree gchar *want_priv = NULL;
        GStatBuf st;

        if (test_skip_without_ssh_keygen())
                return;
        home = test_tmpdir_new();
        key = lima_ssh_keys_ensure(home, &error);
        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(key, "ssh-ed25519 "));
        g_assert_true(g_str_has_suffix(key, " lima"));
        g_assert_null(strchr(key, '\n'));

        priv = lima_ssh_keys_private_path(home);
        config = g_build_filename(home, "_config", NULL);
        want_priv = g_build_filename(config, "user", NULL);
        g_assert_cmpstr(priv, ==, want_priv);
        g_assert_cmpint(g_stat(priv, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 07777, ==, 0600);
        g_assert_cmpint(g_stat(config, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 077, ==, 0);
        pub = g_strconcat(priv, ".pub", NULL);
        g_file_get_contents(pub, &pub_text, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(g_strstrip(pub_text), ==, key);

        /* No temp directory is left behind. */
        {
                g_autoptr(GDir) dir = g_dir_open(config, 0, &error);
                const gchar *name;
                g_assert_no_error(error);
                while ((name = g_dir_read_name(dir)) != NULL)
                        g_assert_false(g_str_has_prefix(name, ".user-keygen-"));
        }
}

static void
test_ssh_keys_idempotent(void)
{
        g_autoptr(TestTmpdir) home = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree gchar *first = NULL;
        g_autofree gchar *second = NULL;
        g_autofree gchar *priv = NULL;
        g_autofree gchar *before = NULL;
        g_autofree gchar *after = NULL;
        GStatBuf st1, st2;

        if (test_skip_without_ssh_keygen())
                return;
        home = test_tmpdir_new();
        first = lima_ssh_keys_ensure(home, &error);
        g_assert_no_error(error);
        priv = lima_ssh_keys_private_path(home);
        g_assert_cmpint(g_stat(priv, &st1), ==, 0);
        g_file_get_contents(priv, &before, NULL, &error);
        g_assert_no_error(error);

        second = lima_ssh_keys_ensure(home, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(first, ==, second);
        g_assert_cmpint(g_stat(priv, &st2), ==, 0);
        g_assert_cmpuint(st1.st_ino, ==, st2.st_ino);
        g_file_get_contents(priv, &after, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(before, ==, after);
        g_assert_cmpint(st2.st_mode & 07777, ==, 0600);
}

/* A lost user.pub is derived from the private key: instances keep trusting the same key. */
static void
test_ssh_keys_repairs_without_replacing(void)
{
        g_autoptr(TestTmpdir) home = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree gchar *first = NULL;
        g_autofree gchar *again = NULL;
        g_autofree gchar *priv = NULL;
        g_autofree gchar *pub = NULL;
        GStatBuf st;

        if (test_skip_without_ssh_keygen())
                return;
        home = test_tmpdir_new();
        first = lima_ssh_keys_ensure(home, &error);
        g_assert_no_error(error);
        priv = lima_ssh_keys_private_path(home);
        pub = g_strconcat(priv, ".pub", NULL);

        g_assert_cmpint(g_unlink(pub), ==, 0);
        g_assert_cmpint(g_chmod(priv, 0644), ==, 0);
        again = lima_ssh_keys_ensure(home, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(again, ==, first);
        g_assert_true(g_file_test(pub, G_FILE_TEST_IS_REGULAR));
        g_assert_cmpint(g_stat(priv, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 07777, ==, 0600);
}

static void
test_ssh_keys_rejects_garbage_public_key(void)
{
        g_autoptr(TestTmpdir) home = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree gchar *key = NULL;
        g_autofree gchar *pub = NULL;
        g_autofree gchar *priv = NULL;

        if (test_skip_without_ssh_keygen())
                return;
        home = test_tmpdir_new();
        key = lima_ssh_keys_ensure(home, &error);
        g_assert_no_error(error);
        priv = lima_ssh_keys_private_path(home);
        pub = g_strconcat(priv, ".pub", NULL);
        g_file_set_contents(pub, "\n", -1, &error);
        g_assert_no_error(error);
        g_clear_pointer(&key, g_free);
        key = lima_ssh_keys_ensure(home, &error);
        g_assert_null(key);
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, "ssh-keygen -y -f"));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/ssh-keys/generate", test_ssh_keys_generate);
        g_test_add_func("/ssh-keys/idempotent", test_ssh_keys_idempotent);
        g_test_add_func("/ssh-keys/repairs-without-replacing",
                        test_ssh_keys_repairs_without_replacing);
        g_test_add_func("/ssh-keys/rejects-garbage-public-key",
                        test_ssh_keys_rejects_garbage_public_key);
        return g_test_run();
}
