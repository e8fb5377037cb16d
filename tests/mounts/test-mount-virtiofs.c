/* lima-mount-virtiofs: argv for both daemons and the daemon search (the real daemon in its
 * user namespace: test-virtiofsd-userns.c). */
#include <glib.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lima-mount-virtiofs.h"
#include "test-mount-util.h"

#define C_VIRTIOFSD "/usr/lib/qemu/virtiofsd"

static const gchar *const rust_help =
    "Usage: virtiofsd [OPTIONS] --socket-path <SOCKET_PATH>\n"
    "      --shared-dir <SHARED_DIR>  Shared directory path\n"
    "      --readonly                 Share directory as read-only\n"
    "      --sandbox <SANDBOX>        Sandbox mechanism [default: namespace]\n"
    "      --translate-uid <TRANSLATE_UID>\n"
    "      --translate-gid <TRANSLATE_GID>\n";
static const gchar *const rust_old_help = "Usage: virtiofsd [OPTIONS]\n"
                                          "      --shared-dir <SHARED_DIR>  Shared directory path\n"
                                          "      --socket-path <SOCKET_PATH>\n"
                                          "      --sandbox <SANDBOX>\n";
static const gchar *const c_help =
    "usage: virtiofsd [options]\n"
    "    -o source=PATH             shared directory tree\n"
    "    --socket-path=PATH         path for the vhost-user socket\n";

static LimaVirtiofsdBinary
test_bin(LimaVirtiofsdFlavour flavour, gboolean readonly, gboolean translate)
{
        LimaVirtiofsdBinary bin = { .path = (gchar *)"/usr/bin/virtiofsd",
                                    .flavour = flavour,
                                    .has_readonly = readonly,
                                    .has_translate = translate };
        return bin;
}

static gchar *
test_argv_join(GPtrArray *argv)
{
        g_assert_null(g_ptr_array_index(argv, argv->len - 1));
        return g_strjoinv("|", (gchar **)argv->pdata);
}

static gchar *
test_argv(const LimaVirtiofsdBinary *bin, const LimaVirtiofsdArgs *args)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) argv = lima_virtiofsd_argv(bin, args, &error);
        g_assert_no_error(error);
        return test_argv_join(argv);
}

static void
test_parse_help(void)
{
        LimaVirtiofsdBinary bin = { 0 };
        g_assert_true(lima_virtiofsd_parse_help(rust_help, &bin));
        g_assert_cmpint(bin.flavour, ==, LIMA_VIRTIOFSD_RUST);
        g_assert_true(bin.has_readonly);
        g_assert_true(bin.has_translate);
        g_assert_true(lima_virtiofsd_parse_help(rust_old_help, &bin));
        g_assert_cmpint(bin.flavour, ==, LIMA_VIRTIOFSD_RUST);
        g_assert_false(bin.has_readonly);
        g_assert_false(bin.has_translate);
        g_assert_true(lima_virtiofsd_parse_help(c_help, &bin));
        g_assert_cmpint(bin.flavour, ==, LIMA_VIRTIOFSD_C);
        /* What the C daemon says to --help when a user, not root, runs it. */
        g_assert_true(lima_virtiofsd_parse_help(
            "setgroups() failed with error=1:Operation not permitted\n", &bin));
        g_assert_cmpint(bin.flavour, ==, LIMA_VIRTIOFSD_C);
        g_assert_false(lima_virtiofsd_parse_help("usage: cat [FILE]\n", &bin));
}

static void
test_fuse_opt_escape(void)
{
        g_autofree gchar *plain = lima_virtiofsd_fuse_opt_escape("/home/ana/my dir");
        g_autofree gchar *commas = lima_virtiofsd_fuse_opt_escape("/a,b\\c,");
        g_assert_cmpstr(plain, ==, "/home/ana/my dir");
        g_assert_cmpstr(commas, ==, "/a\\,b\\\\c\\,");
}

static void
test_argv_rust(void)
{
        g_autoptr(LimaMount) rw = test_mount_new("/home/zoë/my dir", "/mnt/x", TRUE);
        g_autoptr(LimaMount) ro = test_mount_new("/srv/a,b", "/mnt/y", FALSE);
        LimaVirtiofsdBinary full = test_bin(LIMA_VIRTIOFSD_RUST, TRUE, TRUE);
        LimaVirtiofsdBinary old = test_bin(LIMA_VIRTIOFSD_RUST, FALSE, FALSE);
        LimaVirtiofsdIds ids = { .guest_uid = 501, .guest_gid = 20 };
        LimaVirtiofsdArgs args = { .mount = rw,
                                   .socket_path = "/run/l/v.sock",
                                   .source = "/home/zoë/my dir",
                                   .privileged = FALSE,
                                   .ids = &ids,
                                   .host_uid = 1000,
                                   .host_gid = 1000 };
        g_autofree gchar *a = test_argv(&full, &args);
        g_autofree gchar *b = NULL;
        g_autofree gchar *c = NULL;
        g_autofree gchar *d = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) none = NULL;

        /* Unprivileged: no sandbox, the guest user's ids mapped to ours. Bytes unchanged. */
        g_assert_cmpstr(a, ==,
                        "/usr/bin/virtiofsd|--socket-path=/run/l/v.sock|"
                        "--shared-dir=/home/zoë/my dir|--cache=auto|--sandbox=none|"
                        "--translate-uid=map:501:1000:1|--translate-gid=map:20:1000:1");
        /* Root: the namespace sandbox, no translation; read-only by the daemon's flag, and
         * no escaping (only the C daemon splits at commas). */
        args.mount = ro;
        args.source = "/srv/a,b";
        args.privileged = TRUE;
        b = test_argv(&full, &args);
        g_assert_cmpstr(b, ==,
                        "/usr/bin/virtiofsd|--socket-path=/run/l/v.sock|--shared-dir=/srv/a,b|"
                        "--cache=auto|--sandbox=namespace|--readonly");
        /* Same ids as ours: nothing to translate. */
        args.mount = rw;
        args.source = "/home/zoë/my dir";
        args.privileged = FALSE;
        ids.guest_uid = 1000;
        ids.guest_gid = -1;
        c = test_argv(&full, &args);
        g_assert_null(strstr(c, "--translate"));
        /* No --readonly: read-only needs a bind mount, which the caller did not make. */
        args.mount = ro;
        args.source = "/srv/a,b";
        none = lima_virtiofsd_argv(&old, &args, &error);
        g_assert_null(none);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED);
        g_assert_nonnull(strstr(error->message, "read-only"));
        args.ro_by_binding = TRUE;
        args.privileged = TRUE;
        args.source = "/var/lib/lima/x/virtiofs-ro-t";
        d = test_argv(&old, &args);
        g_assert_cmpstr(d, ==,
                        "/usr/bin/virtiofsd|--socket-path=/run/l/v.sock|"
                        "--shared-dir=/var/lib/lima/x/virtiofs-ro-t|--cache=auto|"
                        "--sandbox=namespace");
}

static void
test_argv_c(void)
{
        g_autoptr(LimaMount) rw = test_mount_new("/home/ana/a,b c/ü", "/mnt/x", TRUE);
        g_autoptr(LimaMount) ro = test_mount_new("/home/ana/ro", "/mnt/y", FALSE);
        g_autoptr(LimaMount) nl = test_mount_new("/home/ana/evil\n-o source=/", "/mnt/z", TRUE);
        LimaVirtiofsdBinary bin = test_bin(LIMA_VIRTIOFSD_C, FALSE, FALSE);
        LimaVirtiofsdArgs args = { .mount = rw,
                                   .socket_path = "/run/l/v,1.sock",
                                   .source = "/home/ana/a,b c/ü",
                                   .privileged = TRUE };
        g_autofree gchar *a = test_argv(&bin, &args);
        g_autofree gchar *b = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) error2 = NULL;
        g_autoptr(GError) error3 = NULL;
        g_autoptr(GPtrArray) none = NULL;

        /* -o values are FUSE option lists: the comma escaped; --socket-path= is taken whole. */
        g_assert_cmpstr(a, ==,
                        "/usr/bin/virtiofsd|--socket-path=/run/l/v,1.sock|-o|"
                        "source=/home/ana/a\\,b c/ü|-o|cache=auto|-o|sandbox=chroot");
        /* Read-only only through the bind mount. */
        args.mount = ro;
        args.source = "/home/ana/ro";
        none = lima_virtiofsd_argv(&bin, &args, &error);
        g_assert_null(none);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED);
        /* As lima_virtiofsd_start runs it: the agent's listening socket, the private bind. */
        args.ro_by_binding = TRUE;
        args.source = "/run/virtiofsd/source";
        args.listen_fd = 7;
        b = test_argv(&bin, &args);
        g_assert_cmpstr(b, ==,
                        "/usr/bin/virtiofsd|--fd=7|-o|"
                        "source=/run/virtiofsd/source|-o|cache=auto|-o|sandbox=chroot");
        /* Never as a plain process: only as root of its own user namespace. */
        args.privileged = FALSE;
        none = lima_virtiofsd_argv(&bin, &args, &error2);
        g_assert_null(none);
        g_assert_error(error2, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED);
        g_assert_nonnull(strstr(error2->message, "user namespace"));
        /* A newline could smuggle an option into the daemon's parser. */
        args.privileged = TRUE;
        args.mount = nl;
        args.source = nl->location.value;
        none = lima_virtiofsd_argv(&bin, &args, &error3);
        g_assert_null(none);
        g_assert_error(error3, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
}

typedef struct {
        gchar *root;
        gchar *path_dir;
        gchar *etc_dir;
        gchar *share_dir;
        gchar *fallback_c;
        gchar *rust;
        gchar *c;
        gchar *broken;
} SearchFixture;

static gchar *
search_fake(SearchFixture *f, const gchar *name, const gchar *help)
{
        g_autofree gchar *text = g_strdup_printf("#!/bin/sh\ncat <<'HELP'\n%sHELP\n", help);
        gchar *path = g_build_filename(f->root, name, NULL);
        test_write_script(path, text);
        return path;
}

static void
search_descriptor(const gchar *dir, const gchar *name, const gchar *type, const gchar *binary)
{
        g_autofree gchar *path = g_build_filename(dir, name, NULL);
        g_autofree gchar *text = g_strdup_printf(
            "{ \"description\": \"test\", \"type\": \"%s\", \"binary\": \"%s\" }\n", type, binary);
        g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void
search_setup(SearchFixture *f, gconstpointer data)
{
        f->root = test_make_tmpdir();
        f->path_dir = g_build_filename(f->root, "bin", NULL);
        f->etc_dir = g_build_filename(f->root, "etc", NULL);
        f->share_dir = g_build_filename(f->root, "share", NULL);
        g_mkdir(f->path_dir, 0755);
        g_mkdir(f->etc_dir, 0755);
        g_mkdir(f->share_dir, 0755);
        f->rust = search_fake(f, "rust-virtiofsd", rust_help);
        f->c = search_fake(f, "c-virtiofsd", c_help);
        f->broken = search_fake(f, "not-virtiofsd", "usage: cat\n");
        f->fallback_c = search_fake(f, "fallback-virtiofsd", c_help);
}

static void
search_teardown(SearchFixture *f, gconstpointer data)
{
        test_rm_rf(f->root);
        g_free(f->root);
        g_free(f->path_dir);
        g_free(f->etc_dir);
        g_free(f->share_dir);
        g_free(f->fallback_c);
        g_free(f->rust);
        g_free(f->c);
        g_free(f->broken);
}

static LimaVirtiofsdBinary *
search_run(SearchFixture *f, const gchar *env, GError **error)
{
        const gchar *dirs[] = { f->etc_dir, f->share_dir, NULL };
        const gchar *fallbacks[] = { "/nonexistent/virtiofsd", f->fallback_c, NULL };
        LimaVirtiofsdSearch search = { .env_override = env,
                                       .search_path = f->path_dir,
                                       .descriptor_dirs = dirs,
                                       .fallback_binaries = fallbacks };
        return lima_virtiofsd_find_in(&search, error);
}

static void
test_search_order(SearchFixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaVirtiofsdBinary) bin = NULL;
        g_autofree gchar *on_path = g_build_filename(f->path_dir, "virtiofsd", NULL);

        /* Nothing but the fallbacks: the missing one skipped. */
        bin = search_run(f, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(bin->path, ==, f->fallback_c);
        g_assert_cmpint(bin->flavour, ==, LIMA_VIRTIOFSD_C);
        g_clear_pointer(&bin, lima_virtiofsd_binary_free);

        /* Descriptors: other types ignored, sorted by name, /etc hides /usr/share's file of
         * the same name, and a binary that is no virtiofsd is skipped. */
        search_descriptor(f->share_dir, "10-gpu.json", "gpu", f->rust);
        search_descriptor(f->share_dir, "20-broken.json", "fs", f->broken);
        search_descriptor(f->share_dir, "50-qemu-virtiofsd.json", "fs", f->c);
        search_descriptor(f->etc_dir, "50-qemu-virtiofsd.json", "fs", f->rust);
        search_descriptor(f->etc_dir, "60-other.json", "fs", f->c);
        bin = search_run(f, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(bin->path, ==, f->rust);
        g_assert_cmpint(bin->flavour, ==, LIMA_VIRTIOFSD_RUST);
        g_assert_true(bin->has_readonly);
        g_clear_pointer(&bin, lima_virtiofsd_binary_free);

        /* virtiofsd on PATH beats the descriptors. */
        test_write_script(on_path, "#!/bin/sh\necho '-o source=PATH --socket-path=PATH'\n");
        bin = search_run(f, "", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(bin->path, ==, on_path);
        g_assert_cmpint(bin->flavour, ==, LIMA_VIRTIOFSD_C);
        g_clear_pointer(&bin, lima_virtiofsd_binary_free);

        /* $LIMA_VIRTIOFSD beats everything. */
        bin = search_run(f, f->rust, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(bin->path, ==, f->rust);
}

static void
test_search_errors(SearchFixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) error2 = NULL;
        g_autoptr(LimaVirtiofsdBinary) bin = NULL;
        const gchar *dirs[] = { f->share_dir, NULL };
        LimaVirtiofsdSearch empty = { .descriptor_dirs = dirs };

        /* A named binary that is no virtiofsd is an error, not a reason to look elsewhere. */
        bin = search_run(f, f->broken, &error);
        g_assert_null(bin);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED);
        g_assert_true(g_str_has_prefix(error->message, "LIMA_VIRTIOFSD: "));

        bin = lima_virtiofsd_find_in(&empty, &error2);
        g_assert_null(bin);
        g_assert_error(error2, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED);
        g_assert_nonnull(strstr(error2->message, "LIMA_VIRTIOFSD"));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/virtiofs/parse-help", test_parse_help);
        g_test_add_func("/virtiofs/fuse-opt-escape", test_fuse_opt_escape);
        g_test_add_func("/virtiofs/argv-rust", test_argv_rust);
        g_test_add_func("/virtiofs/argv-c", test_argv_c);
        g_test_add("/virtiofs/search-order", SearchFixture, NULL, search_setup, test_search_order,
                   search_teardown);
        g_test_add("/virtiofs/search-errors", SearchFixture, NULL, search_setup, test_search_errors,
                   search_teardown);
        return g_test_run();
}
