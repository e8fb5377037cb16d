/* Defaults as Lima fills them, the three layers, templates in paths, and mount tags. */
#include <string.h>

#include "lima-config-fill.h"
#include "lima-mount-tag.h"
#include "test-util.h"

static LimaMount *
mount_at(LimaConfig *cfg, guint i)
{
        g_assert_cmpuint(i, <, cfg->mounts->len);
        return g_ptr_array_index(cfg->mounts, i);
}

static void
test_defaults_builtin_values(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaConfig) cfg = test_resolve(TEST_IMAGES, host, NULL, &diags, &error);

        g_assert_no_error(error);
        test_assert_no_errors(diags);
        g_assert_cmpstr(cfg->vm_type.value, ==, "qemu");
        g_assert_cmpstr(cfg->os.value, ==, "Linux");
        g_assert_cmpstr(cfg->arch.value, ==, "x86_64");
        g_assert_cmpint(cfg->cpus.value, ==, 4);        /* min(4, 16 host CPUs) */
        g_assert_cmpstr(cfg->memory.value, ==, "4GiB"); /* min(4GiB, 32GiB / 2) */
        g_assert_cmpstr(cfg->disk.value, ==, "100GiB");
        g_assert_cmpstr(cfg->mount_type.value, ==, "9p");
        g_assert_false(cfg->mount_inotify.value);
        g_assert_cmpint(cfg->ssh_local_port.value, ==, 0);
        g_assert_false(cfg->ssh_load_dot_ssh_pub_keys.value);
        g_assert_cmpstr(cfg->user_name.value, ==, "alice");
        g_assert_cmpint(cfg->user_uid.value, ==, 1234);
        g_assert_cmpstr(cfg->user_home.value, ==, "/home/alice.guest");
        g_assert_cmpstr(cfg->user_shell.value, ==, "/bin/bash");
}

static void
test_defaults_small_host_gets_half_its_memory_and_its_cpus(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(LimaConfig) cfg = NULL;
        host->cpus = 2;
        host->memory = 3ull << 30;
        cfg = test_resolve(TEST_IMAGES, host, NULL, &diags, NULL);
        g_assert_cmpint(cfg->cpus.value, ==, 2);
        g_assert_cmpstr(cfg->memory.value, ==, "1.5GiB");
}

static void
test_defaults_mount_options(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(LimaConfig) cfg = test_resolve(TEST_IMAGES "mounts:\n- location: /srv/ro\n"
                                                             "- location: /srv/rw\n"
                                                             "  writable: true\n",
                                                 host, NULL, &diags, NULL);
        LimaMount *ro = mount_at(cfg, 0);
        LimaMount *rw = mount_at(cfg, 1);

        g_assert_false(ro->writable.value);
        g_assert_true(ro->sshfs_cache.value);
        g_assert_false(ro->sshfs_follow_symlinks.value);
        g_assert_cmpstr(ro->sshfs_sftp_driver.value, ==, "openssh-sftp-server");
        g_assert_cmpstr(ro->ninep_security_model.value, ==, "none");
        g_assert_cmpstr(ro->ninep_protocol_version.value, ==, "9p2000.L");
        g_assert_cmpstr(ro->ninep_msize.value, ==, "128KiB");
        g_assert_cmpstr(ro->ninep_cache.value, ==, "fscache");
        g_assert_cmpint(ro->virtiofs_queue_size.value, ==, 1024);
        g_assert_cmpstr(ro->mount_point.value, ==, "/srv/ro");
        g_assert_true(rw->writable.value);
        g_assert_cmpstr(rw->ninep_cache.value, ==, "mmap");
}

static void
test_defaults_explicit_mount_options_are_kept(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(LimaConfig) cfg =
            test_resolve(TEST_IMAGES "mounts:\n- location: /srv\n  writable: true\n"
                                     "  sshfs: {cache: false, followSymlinks: true, "
                                     "sftpDriver: builtin}\n"
                                     "  9p: {securityModel: mapped-xattr, protocolVersion: "
                                     "9p2000.u, msize: 512KiB, cache: loose}\n"
                                     "  virtiofs: {queueSize: 256}\n",
                         host, NULL, &diags, NULL);
        LimaMount *m = mount_at(cfg, 0);
        test_assert_no_errors(diags);
        g_assert_false(m->sshfs_cache.value);
        g_assert_true(m->sshfs_follow_symlinks.value);
        g_assert_cmpstr(m->sshfs_sftp_driver.value, ==, "builtin");
        g_assert_cmpstr(m->ninep_security_model.value, ==, "mapped-xattr");
        g_assert_cmpstr(m->ninep_protocol_version.value, ==, "9p2000.u");
        g_assert_cmpstr(m->ninep_msize.value, ==, "512KiB");
        g_assert_cmpstr(m->ninep_cache.value, ==, "loose");
        g_assert_cmpint(m->virtiofs_queue_size.value, ==, 256);
}

static void
test_defaults_sftp_driver_is_builtin_without_openssh(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(LimaConfig) cfg = NULL;
        g_clear_pointer(&host->sftp_server, g_free);
        cfg = test_resolve(TEST_IMAGES "mounts:\n- location: /srv\n", host, NULL, &diags, NULL);
        g_assert_cmpstr(mount_at(cfg, 0)->sshfs_sftp_driver.value, ==, "builtin");
}

static void
test_defaults_mount_type_follows_the_version_table(void)
{
        const struct {
                const gchar *yaml;
                const gchar *existing_version;
                const gchar *mount_type;
                const gchar *sftp_driver;
        } cases[] = {
                /* new instances: 9p for QEMU */
                { "", NULL, "9p", "openssh-sftp-server" },
                /* a guest that cannot do 9p falls back to reverse-sshfs */
                { "mountTypesUnsupported: [9p]\n", NULL, "reverse-sshfs", "openssh-sftp-server" },
                /* created by Lima < 1.0: reverse-sshfs, as it had */
                { "", "0.23.2", "reverse-sshfs", "openssh-sftp-server" },
                /* created by Lima < 0.10: reverse-sshfs with the builtin SFTP server */
                { "", "0.9.2", "reverse-sshfs", "builtin" },
                /* created by Lima 1.0 or later */
                { "", "1.0.0", "9p", "openssh-sftp-server" },
                /* an existing instance without lima-version predates 0.20 */
                { "", "", "reverse-sshfs", "builtin" },
                /* an explicit type always wins */
                { "mountType: virtiofs\n", "0.9.2", "virtiofs", "builtin" },
                { "mountType: default\n", NULL, "9p", "openssh-sftp-server" },
        };
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(LimaHost) host = test_host_new();
                g_autoptr(LimaDiagnostics) diags = NULL;
                g_autofree gchar *yaml =
                    g_strconcat(TEST_IMAGES "mounts:\n- location: /srv\n", cases[i].yaml, NULL);
                g_autoptr(LimaConfig) cfg = NULL;
                host->existing_version = g_strdup(cases[i].existing_version);
                cfg = test_resolve(yaml, host, NULL, &diags, NULL);
                g_assert_cmpstr(cfg->mount_type.value, ==, cases[i].mount_type);
                g_assert_cmpstr(mount_at(cfg, 0)->sshfs_sftp_driver.value, ==,
                                cases[i].sftp_driver);
        }
}

static void
test_defaults_old_instances_keep_the_linux_home(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(LimaConfig) cfg = NULL;
        host->existing_version = g_strdup("1.0.3");
        cfg = test_resolve(TEST_IMAGES, host, NULL, &diags, NULL);
        g_assert_cmpstr(cfg->user_home.value, ==, "/home/alice.linux");
}

static void
test_defaults_host_templates_in_location(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(LimaConfig) cfg =
            test_resolve(TEST_IMAGES "param:\n  Src: /data/src\nmounts:\n"
                                     "- location: \"{{.Home}}/a\"\n"
                                     "- location: \"{{.Dir}}/b\"\n"
                                     "- location: \"/x/{{.Name}}/{{.UID}}/{{.User}}\"\n"
                                     "- location: \"{{ .Param.Src }}\"\n"
                                     "- location: \"{{.GlobalTempDir}}/lima\"\n"
                                     "- location: \"{{.TempDir}}/t\"\n"
                                     "- location: \"~\"\n"
                                     "- location: \"~/c/../d\"\n",
                         host, NULL, &diags, NULL);
        g_assert_cmpstr(mount_at(cfg, 0)->location.value, ==, "/home/alice/a");
        g_assert_cmpstr(mount_at(cfg, 1)->location.value, ==, "/home/alice/.lima/dev/b");
        g_assert_cmpstr(mount_at(cfg, 2)->location.value, ==, "/x/dev/1234/alice");
        g_assert_cmpstr(mount_at(cfg, 3)->location.value, ==, "/data/src");
        g_assert_cmpstr(mount_at(cfg, 4)->location.value, ==, "/tmp/lima");
        g_assert_cmpstr(mount_at(cfg, 5)->location.value, ==, "/tmp/t");
        g_assert_cmpstr(mount_at(cfg, 6)->location.value, ==, "/home/alice");
        g_assert_cmpstr(mount_at(cfg, 7)->location.value, ==, "/home/alice/d");
        g_assert_cmpstr(mount_at(cfg, 7)->mount_point.value, ==, "/home/alice/d");
}

static void
test_defaults_guest_templates_in_mount_point(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(LimaConfig) cfg =
            test_resolve(TEST_IMAGES "mounts:\n- location: /srv/a\n  mountPoint: \"{{.Home}}/a\"\n"
                                     "- location: /srv/b\n  mountPoint: \"/mnt/{{.Hostname}}\"\n",
                         host, NULL, &diags, NULL);
        g_assert_cmpstr(mount_at(cfg, 0)->mount_point.value, ==, "/home/alice.guest/a");
        g_assert_cmpstr(mount_at(cfg, 1)->mount_point.value, ==, "/mnt/lima-dev");
}

static void
test_defaults_unknown_template_variable_is_an_error_with_position(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(LimaConfig) cfg = test_resolve(
            TEST_IMAGES "mounts:\n- location: \"{{.Hme}}/a\"\n", host, NULL, &diags, NULL);
        g_assert_nonnull(cfg);
        test_assert_error(diags, "dev.yaml:5:13: mounts[0].location: \"{{.Hme}}/a\" uses "
                                 "{{.Hme}}, which is not a known variable");
}

static void
test_defaults_mount_tag_is_hashed_from_location_and_mount_point(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(LimaConfig) cfg =
            test_resolve(TEST_IMAGES "mounts:\n- location: /srv/a\n  mountPoint: /mnt/a\n", host,
                         NULL, &diags, NULL);
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
        g_autofree gchar *want = NULL;
        g_checksum_update(sum, (const guchar *)"/srv/a:/mnt/a", -1);
        want = g_strdup_printf("lima-%.16s", g_checksum_get_string(sum));
        g_assert_cmpstr(mount_at(cfg, 0)->tag, ==, want);
        g_assert_cmpuint(strlen(want), ==, 21);
}

static void
test_defaults_mount_tag_does_not_depend_on_position(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) d1 = NULL;
        g_autoptr(LimaDiagnostics) d2 = NULL;
        g_autoptr(LimaConfig) one =
            test_resolve(TEST_IMAGES "mounts:\n- location: /srv/b\n", host, NULL, &d1, NULL);
        g_autoptr(LimaConfig) two = test_resolve(
            TEST_IMAGES "mounts:\n- location: /srv/a\n- location: /srv/b\n", host, NULL, &d2, NULL);
        g_assert_cmpstr(mount_at(one, 0)->tag, ==, mount_at(two, 1)->tag);
        g_assert_cmpstr(mount_at(two, 0)->tag, !=, mount_at(two, 1)->tag);
}

static gchar *
make_lima_home(const gchar *default_yaml, const gchar *override_yaml)
{
        g_autoptr(GError) error = NULL;
        gchar *home = g_dir_make_tmp("limad-test-XXXXXX", &error);
        g_autofree gchar *config = g_build_filename(home, "_config", NULL);
        g_assert_no_error(error);
        g_mkdir(config, 0755);
        if (default_yaml != NULL) {
                g_autofree gchar *p = g_build_filename(config, "default.yaml", NULL);
                g_file_set_contents(p, default_yaml, -1, &error);
        }
        if (override_yaml != NULL) {
                g_autofree gchar *p = g_build_filename(config, "override.yaml", NULL);
                g_file_set_contents(p, override_yaml, -1, &error);
        }
        g_assert_no_error(error);
        return home;
}

static void
remove_lima_home(const gchar *home)
{
        g_autofree gchar *config = g_build_filename(home, "_config", NULL);
        g_autofree gchar *d = g_build_filename(config, "default.yaml", NULL);
        g_autofree gchar *o = g_build_filename(config, "override.yaml", NULL);
        g_unlink(d);
        g_unlink(o);
        g_rmdir(config);
        g_rmdir(home);
}

static void
test_defaults_layers_default_instance_override(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autofree gchar *home = make_lima_home(
            "cpus: 1\nmemory: 1GiB\ndisk: 10GiB\nenv: {A: d, B: d}\n"
            "mounts:\n- location: /srv/shared\n  mountPoint: /mnt/shared\n"
            "  9p: {msize: 256KiB}\n- location: /srv/only-default\n",
            "memory: 8GiB\nenv: {B: o}\n"
            "mounts:\n- location: /srv/other\n  mountPoint: /mnt/shared\n  writable: true\n");
        g_autoptr(LimaConfig) cfg =
            test_resolve(TEST_IMAGES "cpus: 2\nmemory: 2GiB\nenv: {A: y}\n"
                                     "mounts:\n- location: /srv/mine\n"
                                     "- location: /srv/shared\n  mountPoint: /mnt/shared\n"
                                     "  9p: {cache: loose}\n",
                         host, home, &diags, NULL);
        LimaMount *shared;

        test_assert_no_errors(diags);
        g_assert_cmpint(cfg->cpus.value, ==, 2);        /* y over d */
        g_assert_cmpstr(cfg->memory.value, ==, "8GiB"); /* o over y */
        g_assert_cmpstr(cfg->disk.value, ==, "10GiB");  /* d when y is silent */
        g_assert_cmpstr(lima_key_values_lookup(cfg->env, "A"), ==, "y");
        g_assert_cmpstr(lima_key_values_lookup(cfg->env, "B"), ==, "o");
        /* d's mounts come first; same mount point merges, later layers winning per field */
        g_assert_cmpuint(cfg->mounts->len, ==, 3);
        shared = mount_at(cfg, 0);
        g_assert_cmpstr(shared->mount_point.value, ==, "/mnt/shared");
        g_assert_cmpstr(shared->location.value, ==, "/srv/other");
        g_assert_true(shared->writable.value);
        g_assert_cmpstr(shared->ninep_msize.value, ==, "256KiB");
        g_assert_cmpstr(shared->ninep_cache.value, ==, "loose");
        g_assert_cmpstr(mount_at(cfg, 1)->location.value, ==, "/srv/only-default");
        g_assert_cmpstr(mount_at(cfg, 2)->location.value, ==, "/srv/mine");
        /* A value from a layer file is reported at its own file. */
        {
                g_autofree gchar *layer = g_build_filename(home, "_config", "default.yaml", NULL);
                g_assert_cmpstr(cfg->disk.node->file, ==, layer);
        }
        remove_lima_home(home);
}

static void
test_defaults_broken_layer_file_is_an_error(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) diags = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree gchar *home = make_lima_home("cpus: [\n", NULL);
        g_autoptr(LimaConfig) cfg = test_resolve(TEST_IMAGES, host, home, &diags, &error);
        g_assert_null(cfg);
        g_assert_nonnull(strstr(error->message, "default.yaml:2:1: YAML syntax error"));
        remove_lima_home(home);
}

static void
test_defaults_fill_output_round_trips(void)
{
        g_autoptr(LimaHost) host = test_host_new();
        g_autoptr(LimaDiagnostics) d1 = NULL;
        g_autoptr(LimaDiagnostics) d2 = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaConfig) cfg = test_resolve(
            TEST_IMAGES "customKey: {kept: true}\nmounts:\n- location: \"/srv/with space\"\n"
                        "  mountPoint: \"/mnt/é x\"\n  writable: true\n",
            host, NULL, &d1, NULL);
        g_autofree gchar *yaml = lima_config_to_yaml(cfg, &error);
        g_autoptr(LimaConfig) again = NULL;
        g_autofree gchar *yaml2 = NULL;

        g_assert_no_error(error);
        again = test_resolve(yaml, host, NULL, &d2, &error);
        g_assert_no_error(error);
        yaml2 = lima_config_to_yaml(again, &error);
        g_assert_cmpstr(yaml, ==, yaml2);
        g_assert_nonnull(strstr(yaml, "customKey:\n  kept: true\n"));
        g_assert_cmpstr(mount_at(again, 0)->mount_point.value, ==, "/mnt/é x");
        g_assert_nonnull(strstr(yaml, "tag: lima-"));
}

static void
test_defaults_load_save_loses_nothing(void)
{
        const gchar *text = "# comment\nvmType: qemu\nfirmware:\n  legacyBIOS: true\n"
                            "containerd: {system: false, user: false}\n" TEST_IMAGES
                            "mounts:\n- location: \"~\"\n  extra: 1\nvideo:\n  display: none\n";
        g_autoptr(LimaDiagnostics) diags = lima_diagnostics_new("x.yaml");
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaConfig) cfg =
            lima_config_load_data(text, strlen(text), "x.yaml", diags, &error);
        g_autofree gchar *out = lima_config_to_yaml(cfg, &error);
        g_assert_no_error(error);
        g_assert_nonnull(strstr(out, "firmware:\n  legacyBIOS: true\n"));
        g_assert_nonnull(strstr(out, "containerd:\n  system: false\n  user: false\n"));
        g_assert_nonnull(strstr(out, "  extra: 1\n"));
        g_assert_nonnull(strstr(out, "video:\n  display: none\n"));
        g_assert_nonnull(strstr(out, "- location: \"~\"\n"));
        /* untyped but known keys are not warned about; the unknown mount key is */
        g_assert_false(test_diags_contain(diags, LIMA_DIAGNOSTIC_WARNING, "firmware"));
        test_assert_warning(diags, "mounts[0].extra: unknown field");
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/defaults/builtin-values", test_defaults_builtin_values);
        g_test_add_func("/defaults/small-host-gets-half-its-memory-and-its-cpus",
                        test_defaults_small_host_gets_half_its_memory_and_its_cpus);
        g_test_add_func("/defaults/mount-options", test_defaults_mount_options);
        g_test_add_func("/defaults/explicit-mount-options-are-kept",
                        test_defaults_explicit_mount_options_are_kept);
        g_test_add_func("/defaults/sftp-driver-is-builtin-without-openssh",
                        test_defaults_sftp_driver_is_builtin_without_openssh);
        g_test_add_func("/defaults/mount-type-follows-the-version-table",
                        test_defaults_mount_type_follows_the_version_table);
        g_test_add_func("/defaults/old-instances-keep-the-linux-home",
                        test_defaults_old_instances_keep_the_linux_home);
        g_test_add_func("/defaults/host-templates-in-location",
                        test_defaults_host_templates_in_location);
        g_test_add_func("/defaults/guest-templates-in-mount-point",
                        test_defaults_guest_templates_in_mount_point);
        g_test_add_func("/defaults/unknown-template-variable-is-an-error-with-position",
                        test_defaults_unknown_template_variable_is_an_error_with_position);
        g_test_add_func("/defaults/mount-tag-is-hashed-from-location-and-mount-point",
                        test_defaults_mount_tag_is_hashed_from_location_and_mount_point);
        g_test_add_func("/defaults/mount-tag-does-not-depend-on-position",
                        test_defaults_mount_tag_does_not_depend_on_position);
        g_test_add_func("/defaults/layers-default-instance-override",
                        test_defaults_layers_default_instance_override);
        g_test_add_func("/defaults/broken-layer-file-is-an-error",
                        test_defaults_broken_layer_file_is_an_error);
        g_test_add_func("/defaults/fill-output-round-trips", test_defaults_fill_output_round_trips);
        g_test_add_func("/defaults/load-save-loses-nothing", test_defaults_load_save_loses_nothing);
        return g_test_run();
}
