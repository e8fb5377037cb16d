/* issue 9, hole 3: the ssh limactl runs (shell, copy, lima) reads no config file, so a
 * ProxyCommand the owner plants in her instance's ssh.config does not run when root runs
 * `limactl --system shell`. The control case shows that `ssh -F ssh.config`, the old way,
 * does run it. Also: --preserve-env's block list and the terminal-safe strings. */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "limactl-format.h"
#include "limactl-ssh.h"

typedef struct {
        gchar *dir;
        gchar *config;
        gchar *marker;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree gchar *text = NULL;

        f->dir = g_dir_make_tmp("limactl-ssh-XXXXXX", &error);
        g_assert_no_error(error);
        f->config = g_build_filename(f->dir, "ssh.config", NULL);
        f->marker = g_build_filename(f->dir, "proxycommand-ran", NULL);
        /* What the owner of an instance can write in her own folder. */
        text = g_strdup_printf("Host *\n  ProxyCommand touch %s\n  PermitLocalCommand yes\n"
                               "  LocalCommand touch %s\n",
                               f->marker, f->marker);
        g_file_set_contents(f->config, text, -1, &error);
        g_assert_no_error(error);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
        g_unlink(f->marker);
        g_unlink(f->config);
        g_rmdir(f->dir);
        g_free(f->dir);
        g_free(f->config);
        g_free(f->marker);
}

static gint
run(GPtrArray *argv)
{
        g_autoptr(GError) error = NULL;
        gint status = 0;
        g_ptr_array_add(argv, NULL);
        g_assert_true(g_spawn_sync(NULL, (gchar **)argv->pdata, NULL,
                                   G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                                       G_SPAWN_STDERR_TO_DEV_NULL,
                                   NULL, NULL, NULL, NULL, &status, &error));
        g_assert_no_error(error);
        return status;
}

static void
test_old_invocation_runs_the_planted_command(Fixture *f, gconstpointer data)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_ptr_array_add(argv, "ssh");
        g_ptr_array_add(argv, "-F");
        g_ptr_array_add(argv, f->config);
        g_ptr_array_add(argv, "-o");
        g_ptr_array_add(argv, "ConnectTimeout=5");
        g_ptr_array_add(argv, "-T");
        g_ptr_array_add(argv, "lima-dev");
        g_ptr_array_add(argv, "true");
        (void)run(argv);
        g_assert_true(g_file_test(f->marker, G_FILE_TEST_EXISTS));
}

static void
test_limactl_invocation_reads_no_config(Fixture *f, gconstpointer data)
{
        LimactlSshTarget target = {
                .user = (gchar *)"alice",
                .port = 1, /* nothing listens: ssh fails, having read its options */
                .identity = f->config,
                .control_path = NULL,
        };
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);

        g_ptr_array_add(argv, g_strdup("ssh"));
        limactl_ssh_add_options(argv, &target);
        for (guint i = 0; i < argv->len; i++) {
                const gchar *arg = g_ptr_array_index(argv, i);
                g_assert_false(g_str_has_suffix(arg, "ssh.config") &&
                               !g_str_has_prefix(arg, "IdentityFile="));
        }
        g_assert_cmpstr(g_ptr_array_index(argv, 1), ==, "-F");
        g_assert_cmpstr(g_ptr_array_index(argv, 2), ==, "/dev/null");
        g_ptr_array_add(argv, g_strdup("-T"));
        g_ptr_array_add(argv, g_strdup("127.0.0.1"));
        g_ptr_array_add(argv, g_strdup("true"));
        g_assert_cmpint(run(argv), !=, 0);
        g_assert_false(g_file_test(f->marker, G_FILE_TEST_EXISTS));
}

static void
test_preserve_env_block_list(void)
{
        const gchar *env[] = { "FOO=1",
                               "PATH=/bin",
                               "HOME=/root",
                               "SSH_AUTH_SOCK=x",
                               "XDG_RUNTIME_DIR=/run",
                               "LD_PRELOAD=x",
                               "_=x",
                               "MY_VAR=a b",
                               "BAD-NAME=1",
                               "=x",
                               NULL };
        g_auto(GStrv) kept = limactl_format_preserved_env(env);
        g_autofree gchar *joined = g_strjoinv(",", kept);
        g_assert_cmpstr(joined, ==, "FOO=1,MY_VAR=a b");
}

static void
test_shell_script_with_shell_and_env(void)
{
        gchar *command[] = { "echo", "a b", NULL };
        const gchar *env[] = { "FOO=x y", NULL };
        g_autofree gchar *s =
            limactl_format_shell_script_full(NULL, FALSE, "/bin/bash", env, command);
        g_autofree gchar *login = limactl_format_shell_script_full("/w", TRUE, NULL, NULL, NULL);
        g_assert_cmpstr(s, ==,
                        "cd ~; exec env 'FOO=x y' '/bin/bash' -l -c ''\\''echo'\\'' "
                        "'\\''a b'\\'''");
        g_assert_cmpstr(login, ==, "cd '/w' || exit 1; exec \"$SHELL\" -l");
}

static void
test_sanitize(void)
{
        g_autofree gchar *clean = limactl_format_sanitize("dev\033]0;pwned\007\tok\nnext\x7f"
                                                          "\xc2\x9b"
                                                          "2J \xff end");
        g_assert_null(strchr(clean, '\033'));
        g_assert_null(strchr(clean, '\007'));
        g_assert_null(strchr(clean, '\x7f'));
        g_assert_null(strstr(clean, "\xc2\x9b"));
        g_assert_true(g_utf8_validate(clean, -1, NULL));
        g_assert_nonnull(strstr(clean, "\tok\nnext"));
}

/* What the ssh that limactl execs reads as its key: the IdentityFile option's file. */
static gchar *
key_ssh_reads(const LimactlSshTarget *t)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        gchar *text = NULL;
        limactl_ssh_add_options(argv, t);
        for (guint i = 0; i < argv->len; i++) {
                const gchar *arg = g_ptr_array_index(argv, i);
                if (g_str_has_prefix(arg, "IdentityFile=")) {
                        if (!g_file_get_contents(arg + strlen("IdentityFile="), &text, NULL, NULL))
                                return g_strdup("(unreadable)");
                        return text;
                }
        }
        return g_strdup("(none)");
}

/* Root runs `limactl --system shell` on alice's instance: the key is in alice's keys folder,
 * so once limactl has checked it she swaps it for a link to a key of root's (or a FIFO). The
 * ssh root runs must read what limactl checked, never what the name points to later. */
static void
test_key_swapped_after_check(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree gchar *dir = g_dir_make_tmp("limactl-key-XXXXXX", &error);
        g_autofree gchar *copies = g_build_filename(dir, "copies", NULL);
        g_autofree gchar *key = g_build_filename(dir, "user", NULL);
        g_autofree gchar *root_key = g_build_filename(dir, "root-key", NULL);
        g_autofree gchar *fifo = g_build_filename(dir, "fifo", NULL);
        g_autofree gchar *before = NULL;
        g_autofree gchar *after = NULL;
        g_autofree gchar *control = NULL;
        g_autofree gchar *first_copy = NULL;
        g_autoptr(GError) link_error = NULL;
        g_autoptr(GError) fifo_error = NULL;
        g_autoptr(GError) uid_error = NULL;
        LimactlSshTarget t = { .user = (gchar *)"alice", .port = 22 };

        g_assert_no_error(error);
        g_assert_true(g_file_set_contents(key, "OWNER-KEY", -1, NULL));
        g_assert_true(g_file_set_contents(root_key, "ROOT-KEY", -1, NULL));

        /* Control: the key named by its path, as on main, follows the swap. */
        t.identity = g_strdup(key);
        before = key_ssh_reads(&t);
        g_assert_cmpstr(before, ==, "OWNER-KEY");
        g_assert_cmpint(g_unlink(key), ==, 0);
        g_assert_cmpint(symlink(root_key, key), ==, 0);
        control = key_ssh_reads(&t);
        g_assert_cmpstr(control, ==, "ROOT-KEY");
        g_assert_cmpint(g_unlink(key), ==, 0);
        g_assert_true(g_file_set_contents(key, "OWNER-KEY", -1, NULL));

        /* Taken once, without following links, into a folder only the caller writes. */
        g_assert_true(limactl_ssh_take_key(&t, getuid(), copies, &error));
        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(t.identity, copies));
        first_copy = g_strdup(t.identity);
        g_assert_cmpint(g_unlink(key), ==, 0);
        g_assert_cmpint(symlink(root_key, key), ==, 0);
        after = key_ssh_reads(&t);
        g_assert_cmpstr(after, ==, "OWNER-KEY");

        /* Planted before the check: a link or a FIFO is refused, naming the file. */
        g_free(t.identity);
        t.identity = g_strdup(key);
        g_assert_false(limactl_ssh_take_key(&t, getuid(), copies, &link_error));
        g_assert_nonnull(strstr(link_error->message, key));
        g_assert_cmpint(g_unlink(key), ==, 0);
        g_assert_cmpint(mkfifo(key, 0600), ==, 0);
        g_assert_false(limactl_ssh_take_key(&t, getuid(), copies, &fifo_error));
        g_assert_nonnull(strstr(fifo_error->message, "not a regular file"));
        /* A key that is not the owner's is not hers to hand out. */
        g_assert_cmpint(g_unlink(key), ==, 0);
        g_assert_true(g_file_set_contents(key, "OWNER-KEY", -1, NULL));
        g_assert_false(limactl_ssh_take_key(&t, getuid() + 1, copies, &uid_error));
        g_assert_nonnull(strstr(uid_error->message, key));

        g_free(t.identity);
        g_unlink(first_copy);
        g_rmdir(copies);
        g_unlink(key);
        g_unlink(root_key);
        g_unlink(fifo);
        g_rmdir(dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add("/limactl/ssh/old-invocation-runs-the-planted-command", Fixture, NULL,
                   fixture_set_up, test_old_invocation_runs_the_planted_command, fixture_tear_down);
        g_test_add("/limactl/ssh/limactl-invocation-reads-no-config", Fixture, NULL, fixture_set_up,
                   test_limactl_invocation_reads_no_config, fixture_tear_down);
        g_test_add_func("/limactl/shell/preserve-env-block-list", test_preserve_env_block_list);
        g_test_add_func("/limactl/shell/script-with-shell-and-env",
                        test_shell_script_with_shell_and_env);
        g_test_add_func("/limactl/format/sanitize", test_sanitize);
        g_test_add_func("/limactl/ssh/key-swapped-after-check", test_key_swapped_after_check);
        return g_test_run();
}
