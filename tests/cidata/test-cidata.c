/* The cidata seed's contents: user-data, meta-data, lima.env and the boot scripts, checked by
 * parsing them and by running the mount script through sh with stub commands. */
#include "cidata-test-util.h"
#include "lima-error.h"
#include "lima-guest-boot.h"
#include "lima-iso9660.h"
#include "lima-yaml.h"

static const gchar *const test_keys[] = { TEST_KEY, NULL };

/* The first node of a sequence-of-mappings path like users[0].name. */
static LimaYamlNode *
test_get(LimaYamlNode *map, const gchar *key)
{
        LimaYamlNode *node = lima_yaml_mapping_get(map, key);
        if (node == NULL)
                g_error("no key \"%s\"", key);
        return node;
}

static LimaYamlNode *
test_item(LimaYamlNode *seq, guint i)
{
        g_assert_cmpint(seq->kind, ==, LIMA_YAML_SEQUENCE);
        g_assert_cmpuint(i, <, seq->items->len);
        return g_ptr_array_index(seq->items, i);
}

static LimaYamlNode *
test_parse(const gchar *text)
{
        g_autoptr(GError) error = NULL;
        LimaYamlNode *doc = lima_yaml_parse(text, strlen(text), "generated", &error);
        g_assert_no_error(error);
        g_assert_cmpint(doc->kind, ==, LIMA_YAML_MAPPING);
        return doc;
}

static const gchar *
test_file_text(GPtrArray *files, const gchar *path, guint *mode)
{
        for (guint i = 0; i < files->len; i++) {
                LimaIsoFile *f = g_ptr_array_index(files, i);
                if (g_str_equal(f->path, path)) {
                        if (mode != NULL)
                                *mode = f->mode;
                        return g_bytes_get_data(f->contents, NULL);
                }
        }
        return NULL;
}

/* The config most tests use: 9p, three mounts whose mount points need quoting. */
static LimaConfig *
test_mounts_config(const gchar *root, const gchar *mount_type)
{
        g_autofree gchar *ro = test_mkdir(root, "ro");
        g_autofree gchar *rw = test_mkdir(root, "rw");
        g_autofree gchar *odd = test_mkdir(root, "odd");
        g_autofree gchar *yaml =
            g_strdup_printf(TEST_IMAGES "mountType: %s\n"
                                        "mounts:\n"
                                        "- location: %s\n"
                                        "  mountPoint: /mnt/dir with space\n"
                                        "- location: %s\n"
                                        "  mountPoint: /mnt/données/日本語\n"
                                        "  writable: true\n"
                                        "  9p:\n"
                                        "    msize: 256KiB\n"
                                        "    cache: loose\n"
                                        "- location: %s\n"
                                        "  mountPoint: '/mnt/it''s $HOME \\ `x` \"q\"'\n",
                            mount_type, ro, rw, odd);
        return test_config_new(yaml, root);
}

static void
test_cidata_hostname(void)
{
        static const struct {
                const gchar *name;
                const gchar *hostname;
        } cases[] = {
                { "default", "lima-default" },
                { "my_vm.1", "lima-my-vm-1" },
                { "a-b", "lima-a-b" },
                { "x.y_z.w", "lima-x-y-z-w" },
        };
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree gchar *got = lima_cidata_hostname(cases[i].name);
                g_assert_cmpstr(got, ==, cases[i].hostname);
        }
}

static void
test_cidata_meta_data(void)
{
        g_autoptr(TestTmpdir) root = test_tmpdir_new();
        g_autoptr(LimaConfig) cfg = test_config_new(TEST_IMAGES, root);
        static const gchar *const other_keys[] = { "ssh-ed25519 AAAAother lima", NULL };
        LimaCidataPlan plan = test_plan(cfg, "my_vm.1", test_keys);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *text = lima_cidata_meta_data(&plan, &error);
        g_autofree gchar *again = NULL;
        g_autofree gchar *changed = NULL;
        g_autoptr(LimaYamlNode) doc = NULL;
        g_autoptr(LimaYamlNode) changed_doc = NULL;
        const gchar *iid;

        g_assert_no_error(error);
        doc = test_parse(text);
        g_assert_cmpstr(test_get(doc, "local-hostname")->scalar, ==, "lima-my-vm-1");
        iid = test_get(doc, "instance-id")->scalar;
        g_assert_true(g_str_has_prefix(iid, "iid-my_vm.1-"));
        g_assert_cmpuint(strlen(iid), ==, strlen("iid-my_vm.1-") + 8);

        /* Stable for the same inputs; new when user-data changes. */
        again = lima_cidata_meta_data(&plan, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(again, ==, text);
        plan.ssh_public_keys = other_keys;
        changed = lima_cidata_meta_data(&plan, &error);
        g_assert_no_error(error);
        changed_doc = test_parse(changed);
        g_assert_cmpstr(test_get(changed_doc, "instance-id")->scalar, !=, iid);

        /* A name that YAML would read as a number stays a string. */
        plan.instance_name = "1e3";
        g_clear_pointer(&changed, g_free);
        changed = lima_cidata_meta_data(&plan, &error);
        g_assert_no_error(error);
        g_assert_nonnull(strstr(changed, "local-hostname: \"lima-1e3\""));

        plan.instance_name = "bad name";
        g_assert_null(lima_cidata_meta_data(&plan, &error));
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_NAME);
}

static void
test_cidata_user_data(void)
{
        g_autoptr(TestTmpdir) root = test_tmpdir_new();
        g_autoptr(LimaConfig) cfg = test_mounts_config(root, "9p");
        static const gchar *const keys[] = { TEST_KEY, "ssh-rsa AAAAB3second user@host", NULL };
        LimaCidataPlan plan = test_plan(cfg, "dev", keys);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *text = lima_cidata_user_data(&plan, &error);
        g_autoptr(LimaYamlNode) doc = NULL;
        LimaYamlNode *user;
        LimaYamlNode *uid;
        LimaYamlNode *authorized;
        LimaYamlNode *hook;

        g_assert_no_error(error);
        g_test_message("%s", text);
        g_assert_true(g_str_has_prefix(text, "#cloud-config\n"));
        doc = test_parse(text);

        user = test_item(test_get(doc, "users"), 0);
        g_assert_cmpstr(test_get(user, "name")->scalar, ==, "alice");
        uid = test_get(user, "uid");
        g_assert_cmpstr(uid->scalar, ==, "1234");
        g_assert_false(uid->quoted);
        g_assert_cmpstr(test_get(user, "gecos")->scalar, ==, "Alice \"Al\" Liddell");
        g_assert_cmpstr(test_get(user, "homedir")->scalar, ==, "/home/alice.guest");
        g_assert_cmpstr(test_get(user, "shell")->scalar, ==, "/bin/bash");
        g_assert_cmpstr(test_get(user, "sudo")->scalar, ==, "ALL=(ALL) NOPASSWD:ALL");
        g_assert_cmpstr(test_get(user, "lock_passwd")->scalar, ==, "true");
        authorized = test_get(user, "ssh_authorized_keys");
        g_assert_cmpuint(authorized->items->len, ==, 2);
        g_assert_cmpstr(test_item(authorized, 0)->scalar, ==, TEST_KEY);
        g_assert_cmpstr(test_item(authorized, 1)->scalar, ==, "ssh-rsa AAAAB3second user@host");

        g_assert_cmpstr(test_get(doc, "manage_etc_hosts")->scalar, ==, "true");
        g_assert_false(test_get(doc, "manage_etc_hosts")->quoted);
        g_assert_cmpstr(test_get(doc, "locale")->scalar, ==, "false");
        g_assert_false(test_get(doc, "locale")->quoted);

        /* Mounts are made by the boot script on the seed, never by cloud-init's fstab. */
        g_assert_null(lima_yaml_mapping_get(doc, "mounts"));
        g_assert_null(lima_yaml_mapping_get(doc, "bootcmd"));
        hook = test_item(test_get(doc, "write_files"), 0);
        g_assert_cmpstr(test_get(hook, "path")->scalar, ==,
                        "/var/lib/cloud/scripts/per-boot/00-lima.boot.sh");
        g_assert_cmpstr(test_get(hook, "permissions")->scalar, ==, "0755");
        g_assert_nonnull(
            strstr(test_get(hook, "content")->scalar, "exec \"${LIMA_CIDATA_MNT}\"/boot.sh"));
}

static void
test_cidata_user_data_rejects_bad_plans(void)
{
        g_autoptr(TestTmpdir) root = test_tmpdir_new();
        g_autoptr(LimaConfig) cfg = test_config_new(TEST_IMAGES, root);
        static const gchar *const no_keys[] = { NULL };
        static const gchar *const two_lines[] = { "ssh-ed25519 AAAA\nssh-rsa BBBB", NULL };
        LimaCidataPlan plan = test_plan(cfg, "dev", no_keys);
        g_autoptr(GError) error = NULL;

        g_assert_null(lima_cidata_user_data(&plan, &error));
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
        g_clear_error(&error);
        plan.ssh_public_keys = two_lines;
        g_assert_null(lima_cidata_user_data(&plan, &error));
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
}

/* Runs script with sh -c, every external command replaced by a stub that logs its argv (tab
 * separated, one call a line); returns the log. */
static gchar *
test_run_with_stubs(const gchar *script, const gchar *root)
{
        static const gchar *const logged[] = { "mkdir", "chown", "mount", "modprobe", NULL };
        g_autofree gchar *bin = test_mkdir(root, "stub-bin");
        g_autofree gchar *log = g_build_filename(root, "calls.log", NULL);
        g_autofree gchar *mountpoint = g_build_filename(bin, "mountpoint", NULL);
        g_autofree gchar *env_path = g_strconcat("PATH=", bin, NULL);
        g_autofree gchar *env_log = g_strconcat("LOG=", log, NULL);
        const gchar *argv[] = { "/bin/sh", "-c", script, "lima-mounts", NULL };
        const gchar *envp[] = { env_path, env_log, "LIMA_CIDATA_USER=alice", NULL };
        g_autoptr(GError) error = NULL;
        gchar *text = NULL;
        gint status = 0;

        for (guint i = 0; logged[i] != NULL; i++) {
                g_autofree gchar *path = g_build_filename(bin, logged[i], NULL);
                g_file_set_contents(path,
                                    "#!/bin/sh\n"
                                    "{ printf '%s' \"${0##*/}\"; for a in \"$@\"; do "
                                    "printf '\\t%s' \"$a\"; done; printf '\\n'; } >>\"$LOG\"\n",
                                    -1, &error);
                g_assert_no_error(error);
                g_chmod(path, 0755);
        }
        /* Nothing is mounted yet. */
        g_file_set_contents(mountpoint, "#!/bin/sh\nexit 1\n", -1, &error);
        g_assert_no_error(error);
        g_chmod(mountpoint, 0755);

        g_spawn_sync(NULL, (gchar **)argv, (gchar **)envp, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                     &status, &error);
        g_assert_no_error(error);
        g_spawn_check_wait_status(status, &error);
        g_assert_no_error(error);
        g_file_get_contents(log, &text, NULL, &error);
        g_assert_no_error(error);
        return text;
}

static void
test_cidata_mount_script_9p_round_trips_through_sh(void)
{
        g_autoptr(TestTmpdir) root = test_tmpdir_new();
        g_autoptr(LimaConfig) cfg = test_mounts_config(root, "9p");
        LimaCidataPlan plan = test_plan(cfg, "dev", test_keys);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *script = lima_cidata_mount_script(&plan, &error);
        g_autofree gchar *log = NULL;
        g_autoptr(GString) want = g_string_new("modprobe\t9pnet_virtio\n");
        static const gchar *const mount_points[] = { "/mnt/dir with space", "/mnt/données/日本語",
                                                     "/mnt/it's $HOME \\ `x` \"q\"" };
        static const gchar *const options[] = {
                "trans=virtio,version=9p2000.L,msize=131072,cache=fscache,ro,nofail",
                "trans=virtio,version=9p2000.L,msize=262144,cache=loose,rw,nofail",
                "trans=virtio,version=9p2000.L,msize=131072,cache=fscache,ro,nofail",
        };

        g_assert_no_error(error);
        g_test_message("%s", script);
        g_assert_cmpuint(cfg->mounts->len, ==, 3);
        for (guint i = 0; i < cfg->mounts->len; i++) {
                LimaMount *m = g_ptr_array_index(cfg->mounts, i);
                g_assert_cmpstr(m->mount_point.value, ==, mount_points[i]);
                g_string_append_printf(want, "mkdir\t-p\t%s\n", mount_points[i]);
                g_string_append_printf(want, "chown\talice\t%s\n", mount_points[i]);
                g_string_append_printf(want, "mount\t-t\t9p\t-o\t%s\t%s\t%s\n", options[i], m->tag,
                                       mount_points[i]);
        }
        log = test_run_with_stubs(script, root);
        g_assert_cmpstr(log, ==, want->str);
}

/* The native route's plan, made by the host and read by the guest agent's own parser: every
 * field survives, whatever bytes the mount points hold. */
static void
test_cidata_boot_plan_round_trips_to_the_guest(void)
{
        g_autoptr(TestTmpdir) root = test_tmpdir_new();
        g_autoptr(LimaConfig) cfg = test_mounts_config(root, "9p");
        LimaCidataPlan plan = test_plan(cfg, "my_vm.1", test_keys);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *text = lima_cidata_boot_plan(&plan, &error);
        g_autoptr(GPtrArray) files = NULL;
        LimaGuestBootPlan parsed;
        gchar why[256];

        g_assert_no_error(error);
        g_test_message("%s", text);
        g_assert_cmpint(lima_guest_boot_plan_parse(text, &parsed, why, sizeof(why)), ==, 0);
        g_assert_cmpstr(parsed.hostname, ==, "lima-my-vm-1");
        g_assert_cmpstr(parsed.user, ==, cfg->user_name.value);
        g_assert_cmpuint(parsed.uid, ==, (gulong)cfg->user_uid.value);
        g_assert_cmpstr(parsed.home, ==, cfg->user_home.value);
        g_assert_cmpstr(parsed.shell, ==, cfg->user_shell.value);
        g_assert_cmpuint(parsed.n_keys, ==, 1);
        g_assert_cmpstr(parsed.keys[0], ==, TEST_KEY);
        g_assert_cmpuint(parsed.n_mounts, ==, cfg->mounts->len);
        for (guint i = 0; i < cfg->mounts->len; i++) {
                LimaMount *m = g_ptr_array_index(cfg->mounts, i);
                g_assert_cmpstr(parsed.mounts[i].type, ==, "9p");
                g_assert_cmpstr(parsed.mounts[i].tag, ==, m->tag);
                g_assert_cmpstr(parsed.mounts[i].mount_point, ==, m->mount_point.value);
                g_assert_true(g_str_has_prefix(parsed.mounts[i].options, "trans=virtio,"));
        }
        lima_guest_boot_plan_clear(&parsed);

        /* On the seed, beside user-data. */
        files = lima_cidata_files(&plan, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(test_file_text(files, "lima-boot-plan", NULL), ==, text);
}

/* What the guest refuses: nothing of a bad plan is used. */
static void
test_boot_plan_rejects_bad_plans(void)
{
        static const gchar *const bad[] = {
                "",
                "LIMAD-BOOT-PLAN 2\nHOSTNAME h\nUSER a 1 /h /bin/sh\nKEY k\n",
                "HOSTNAME h\n",
                "LIMAD-BOOT-PLAN 1\nUSER a 1 /h /bin/sh\nKEY k\n",
                "LIMAD-BOOT-PLAN 1\nHOSTNAME h\nKEY k\n",
                "LIMAD-BOOT-PLAN 1\nHOSTNAME h\nUSER a 1 /h /bin/sh\n",
                "LIMAD-BOOT-PLAN 1\nHOSTNAME h\nUSER a -1 /h /bin/sh\nKEY k\n",
                "LIMAD-BOOT-PLAN 1\nHOSTNAME h\nUSER a 1x /h /bin/sh\nKEY k\n",
                "LIMAD-BOOT-PLAN 1\nHOSTNAME h\nUSER a 1 rel /bin/sh\nKEY k\n",
                "LIMAD-BOOT-PLAN 1\nHOSTNAME h\nUSER a:b 1 /h /bin/sh\nKEY k\n",
                "LIMAD-BOOT-PLAN 1\nHOSTNAME h\nUSER a 1 /h /bin/sh\nKEY k%0Aevil\n",
                "LIMAD-BOOT-PLAN 1\nHOSTNAME h\nHOSTNAME i\nUSER a 1 /h /bin/sh\nKEY k\n",
                "LIMAD-BOOT-PLAN 1\nHOSTNAME h\nUSER a 1 /h /bin/sh\nKEY k\nMOUNT nfs t o /m\n",
                "LIMAD-BOOT-PLAN 1\nHOSTNAME h\nUSER a 1 /h /bin/sh\nKEY k\nMOUNT 9p t o rel\n",
                "LIMAD-BOOT-PLAN 1\nHOSTNAME h\nUSER a 1 /h /bin/sh\nKEY k\nMOUNT 9p t o\n",
                "LIMAD-BOOT-PLAN 1\nHOSTNAME h\nUSER a 1 /h /bin/sh\nKEY  k\n",
                "LIMAD-BOOT-PLAN 1\nHOSTNAME h\nUSER a 1 /h /bin/sh\nKEY k%zz\n",
                "LIMAD-BOOT-PLAN 1\nHOSTNAME h\nUSER a 1 /h /bin/sh\nKEY k\nRUN rm\n",
        };
        LimaGuestBootPlan parsed;
        gchar why[256];

        g_assert_cmpint(lima_guest_boot_plan_parse("LIMAD-BOOT-PLAN 1\n# c\n\nHOSTNAME h\n"
                                                   "USER a 1 /h /bin/sh G%20C\nKEY k\n",
                                                   &parsed, why, sizeof(why)),
                        ==, 0);
        g_assert_cmpstr(parsed.gecos, ==, "G C");
        lima_guest_boot_plan_clear(&parsed);
        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                if (lima_guest_boot_plan_parse(bad[i], &parsed, why, sizeof(why)) == 0)
                        g_error("parsed \"%s\"", g_strescape(bad[i], NULL));
                g_test_message("%s", why);
                g_assert_null(parsed.user);
        }
}

static void
test_cidata_mount_script_virtiofs_and_sshfs(void)
{
        g_autoptr(TestTmpdir) root = test_tmpdir_new();
        g_autoptr(LimaConfig) vfs = test_mounts_config(root, "virtiofs");
        g_autoptr(TestTmpdir) root2 = test_tmpdir_new();
        g_autoptr(LimaConfig) sshfs = test_mounts_config(root2, "reverse-sshfs");
        LimaCidataPlan plan = test_plan(vfs, "dev", test_keys);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *script = lima_cidata_mount_script(&plan, &error);
        g_autofree gchar *log = NULL;
        g_autofree gchar *sshfs_script = NULL;
        g_autofree gchar *sshfs_log = NULL;
        LimaMount *rw = g_ptr_array_index(vfs->mounts, 1);

        g_assert_no_error(error);
        log = test_run_with_stubs(script, root);
        g_assert_true(g_str_has_prefix(log, "modprobe\tvirtiofs\n"));
        g_assert_nonnull(strstr(log, "mount\t-t\tvirtiofs\t-o\tro,nofail\t"));
        {
                g_autofree gchar *line = g_strdup_printf(
                    "mount\t-t\tvirtiofs\t-o\trw,nofail\t%s\t/mnt/données/日本語\n", rw->tag);
                g_assert_nonnull(strstr(log, line));
        }

        /* reverse-sshfs: the host agent mounts; the guest only gets owned mount points. */
        plan.config = sshfs;
        sshfs_script = lima_cidata_mount_script(&plan, &error);
        g_assert_no_error(error);
        sshfs_log = test_run_with_stubs(sshfs_script, root2);
        g_assert_cmpstr(sshfs_log, ==,
                        "mkdir\t-p\t/mnt/dir with space\n"
                        "chown\talice\t/mnt/dir with space\n"
                        "mkdir\t-p\t/mnt/données/日本語\n"
                        "chown\talice\t/mnt/données/日本語\n"
                        "mkdir\t-p\t/mnt/it's $HOME \\ `x` \"q\"\n"
                        "chown\talice\t/mnt/it's $HOME \\ `x` \"q\"\n");
}

/* virtiofs mounts added while running come back after a guest reboot from the list the
 * host agent keeps on the guest's disk (here a file of the test's own). */
static void
test_cidata_mount_script_runtime_mounts(void)
{
        g_autoptr(TestTmpdir) root = test_tmpdir_new();
        g_autoptr(LimaConfig) vfs = test_mounts_config(root, "virtiofs");
        LimaCidataPlan plan = test_plan(vfs, "dev", test_keys);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *script = lima_cidata_mount_script(&plan, &error);
        g_autofree gchar *list = g_build_filename(root, "runtime-mounts", NULL);
        g_autoptr(GString) edited = NULL;
        g_autofree gchar *log = NULL;

        g_assert_no_error(error);
        g_assert_nonnull(strstr(script, LIMA_CIDATA_RUNTIME_MOUNTS));
        edited = g_string_new(script);
        g_string_replace(edited, LIMA_CIDATA_RUNTIME_MOUNTS, list, 0);
        /* A blank line is skipped; the last line has no newline, as the agent writes none. */
        g_file_set_contents(list, "lima-aaa\trw\t/mnt/hot one\n\nlima-bbb\tro\t/mnt/hot2", -1,
                            &error);
        g_assert_no_error(error);
        log = test_run_with_stubs(edited->str, root);
        g_assert_nonnull(strstr(log, "mount\t-t\tvirtiofs\t-o\trw\tlima-aaa\t/mnt/hot one\n"));
        g_assert_nonnull(strstr(log, "mount\t-t\tvirtiofs\t-o\tro\tlima-bbb\t/mnt/hot2\n"));
        g_assert_null(strstr(log, "mount\t-t\tvirtiofs\t-o\t\t"));
}

static void
test_cidata_lima_env(void)
{
        g_autoptr(TestTmpdir) root = test_tmpdir_new();
        g_autoptr(LimaConfig) cfg = test_mounts_config(root, "9p");
        LimaCidataPlan plan = test_plan(cfg, "dev", test_keys);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *rw = g_build_filename(root, "rw", NULL);
        g_autofree gchar *env = NULL;

        plan.host_home = rw;
        plan.guestagent_path = "/nonexistent/lima-guestagent";
        env = lima_cidata_lima_env(&plan, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(env, ==,
                        "LIMA_CIDATA_NAME=dev\n"
                        "LIMA_CIDATA_USER=alice\n"
                        "LIMA_CIDATA_UID=1234\n"
                        "LIMA_CIDATA_HOME=/home/alice.guest\n"
                        "LIMA_CIDATA_HOSTHOME_MOUNTPOINT=/mnt/données/日本語\n"
                        "LIMA_CIDATA_MOUNTS=3\n"
                        "LIMA_CIDATA_MOUNTS_0_MOUNTPOINT=/mnt/dir with space\n"
                        "LIMA_CIDATA_MOUNTS_1_MOUNTPOINT=/mnt/données/日本語\n"
                        "LIMA_CIDATA_MOUNTS_2_MOUNTPOINT=/mnt/it's $HOME \\ `x` \"q\"\n"
                        "LIMA_CIDATA_MOUNTTYPE=9p\n"
                        "LIMA_CIDATA_VMTYPE=qemu\n"
                        "LIMA_CIDATA_VIRTIO_PORT=/dev/virtio-ports/io.lima.guestagent\n");
}

static void
test_cidata_provision_env_and_params(void)
{
        g_autoptr(TestTmpdir) root = test_tmpdir_new();
        g_autoptr(LimaConfig) cfg =
            test_config_new(TEST_IMAGES "param:\n  GREETING: hello world\n"
                                        "env:\n  HTTP_PROXY: http://proxy:3128\n"
                                        "provision:\n"
                                        "- mode: system\n  script: |\n    #!/bin/sh\n    echo sys\n"
                                        "- mode: user\n  script: |\n    #!/bin/sh\n    echo usr\n"
                                        "- mode: boot\n  script: |\n    echo boot\n"
                                        "- script: |\n    #!/bin/sh\n    echo default\n",
                            root);
        LimaCidataPlan plan = test_plan(cfg, "dev", test_keys);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) files = lima_cidata_files(&plan, &error);
        g_autoptr(LimaYamlNode) doc = NULL;
        const gchar *bootcmd;
        guint mode = 0;

        g_assert_no_error(error);
        g_assert_cmpstr(test_file_text(files, "provision.system/00000000", &mode), ==,
                        "#!/bin/sh\necho sys\n");
        g_assert_cmpuint(mode, ==, 0755);
        g_assert_cmpstr(test_file_text(files, "provision.user/00000001", NULL), ==,
                        "#!/bin/sh\necho usr\n");
        /* Boot mode: in bootcmd for cloud-init, and a file for the native route. */
        g_assert_cmpstr(test_file_text(files, "provision.boot/00000002", NULL), ==, "echo boot\n");
        g_assert_cmpstr(test_file_text(files, "provision.system/00000003", NULL), ==,
                        "#!/bin/sh\necho default\n");
        g_assert_cmpstr(test_file_text(files, "param.env", NULL), ==,
                        "PARAM_GREETING=hello world\n");
        g_assert_cmpstr(test_file_text(files, "etc_environment", NULL), ==,
                        "HTTP_PROXY=http://proxy:3128\n");
        g_assert_null(test_file_text(files, "lima-guestagent", NULL));

        doc = test_parse(test_file_text(files, "user-data", NULL));
        bootcmd = test_item(test_get(doc, "bootcmd"), 0)->scalar;
        g_assert_nonnull(strstr(bootcmd, "PARAM_GREETING=hello world\nEOF\necho boot\n"));
}

static void
test_cidata_provision_unsupported_mode(void)
{
        g_autoptr(TestTmpdir) root = test_tmpdir_new();
        g_autoptr(LimaConfig) cfg =
            test_config_new(TEST_IMAGES "provision:\n"
                                        "- mode: data\n  path: /etc/motd\n  content: hi\n",
                            root);
        LimaCidataPlan plan = test_plan(cfg, "dev", test_keys);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) files = lima_cidata_files(&plan, &error);

        g_assert_null(files);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED);
        g_assert_nonnull(strstr(error->message, "provision[0]"));
}

static void
test_cidata_env_rejects_bad_names(void)
{
        g_autoptr(TestTmpdir) root = test_tmpdir_new();
        g_autoptr(LimaConfig) cfg = test_config_new(TEST_IMAGES "env:\n  BAD-NAME: x\n", root);
        LimaCidataPlan plan = test_plan(cfg, "dev", test_keys);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) files = lima_cidata_files(&plan, &error);

        g_assert_null(files);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
        g_assert_nonnull(strstr(error->message, "env.BAD-NAME"));
}

/* Every shell script on the seed (and the hook in user-data) parses with the guest's sh. */
static void
test_cidata_scripts_parse(void)
{
        g_autoptr(TestTmpdir) root = test_tmpdir_new();
        g_autoptr(LimaConfig) cfg = test_mounts_config(root, "9p");
        g_autofree gchar *agent = g_build_filename(root, "lima-guestagent", NULL);
        LimaCidataPlan plan = test_plan(cfg, "dev", test_keys);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) files = NULL;
        g_autoptr(LimaYamlNode) doc = NULL;
        g_autoptr(GPtrArray) scripts = g_ptr_array_new();
        guint checked = 0;

        g_file_set_contents(agent, "\177ELF fake", -1, &error);
        g_assert_no_error(error);
        plan.guestagent_path = agent;
        files = lima_cidata_files(&plan, &error);
        g_assert_no_error(error);
        g_assert_nonnull(test_file_text(files, "lima-guestagent", NULL));
        g_assert_nonnull(strstr(test_file_text(files, "lima-guestagent.service", NULL),
                                "BindsTo=dev-virtio\\x2dports-io.lima.guestagent.device\n"));

        doc = test_parse(test_file_text(files, "user-data", NULL));
        g_ptr_array_add(scripts,
                        test_get(test_item(test_get(doc, "write_files"), 0), "content")->scalar);
        for (guint i = 0; i < files->len; i++) {
                LimaIsoFile *f = g_ptr_array_index(files, i);
                if (g_str_has_suffix(f->path, ".sh"))
                        g_ptr_array_add(scripts, (gpointer)g_bytes_get_data(f->contents, NULL));
        }
        for (guint i = 0; i < scripts->len; i++) {
                const gchar *argv[] = { "/bin/sh", "-n", "-c", g_ptr_array_index(scripts, i),
                                        NULL };
                g_autofree gchar *err = NULL;
                gint status = 0;
                g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                             NULL, &err, &status, &error);
                g_assert_no_error(error);
                if (!g_spawn_check_wait_status(status, NULL))
                        g_error("sh -n failed: %s\n%s", err,
                                (gchar *)g_ptr_array_index(scripts, i));
                checked++;
        }
        /* hook, boot.sh, mounts, etc-environment, guest agent */
        g_assert_cmpuint(checked, ==, 5);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/cidata/hostname", test_cidata_hostname);
        g_test_add_func("/cidata/meta-data", test_cidata_meta_data);
        g_test_add_func("/cidata/user-data", test_cidata_user_data);
        g_test_add_func("/cidata/user-data-rejects-bad-plans",
                        test_cidata_user_data_rejects_bad_plans);
        g_test_add_func("/cidata/mount-script/9p-round-trips-through-sh",
                        test_cidata_mount_script_9p_round_trips_through_sh);
        g_test_add_func("/cidata/mount-script/virtiofs-and-sshfs",
                        test_cidata_mount_script_virtiofs_and_sshfs);
        g_test_add_func("/cidata/mount-script/runtime-mounts",
                        test_cidata_mount_script_runtime_mounts);
        g_test_add_func("/cidata/lima-env", test_cidata_lima_env);
        g_test_add_func("/cidata/boot-plan", test_cidata_boot_plan_round_trips_to_the_guest);
        g_test_add_func("/cidata/boot-plan-rejects", test_boot_plan_rejects_bad_plans);
        g_test_add_func("/cidata/provision-env-and-params", test_cidata_provision_env_and_params);
        g_test_add_func("/cidata/provision-unsupported-mode",
                        test_cidata_provision_unsupported_mode);
        g_test_add_func("/cidata/env-rejects-bad-names", test_cidata_env_rejects_bad_names);
        g_test_add_func("/cidata/scripts-parse", test_cidata_scripts_parse);
        return g_test_run();
}
