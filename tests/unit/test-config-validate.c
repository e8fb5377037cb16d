/* Each class of bad input gets its own message, pointing at file:line:column and field. */
#include <string.h>
#include <unistd.h>

#include "test-util.h"

static LimaDiagnostics *
resolve_diags(const gchar *yaml)
{
        g_autoptr(LimaHost) host = test_host_new();
        LimaDiagnostics *diags = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaConfig) cfg = test_resolve(yaml, host, NULL, &diags, &error);
        g_assert_nonnull(cfg);
        g_assert_no_error(error);
        return diags;
}

#define CHECK_ERROR(yaml, text)                                                                    \
        G_STMT_START                                                                               \
        {                                                                                          \
                g_autoptr(LimaDiagnostics) _d = resolve_diags(yaml);                               \
                test_assert_error(_d, text);                                                       \
        }                                                                                          \
        G_STMT_END

static void
test_validate_msize_must_be_a_size(void)
{
        CHECK_ERROR(TEST_IMAGES "mounts:\n- location: /tmp\n  mountPoint: /mnt/x\n"
                                "  9p:\n    msize: 12XB\n",
                    "dev.yaml:8:12: mounts[0].9p.msize: \"12XB\" is not a size");
        CHECK_ERROR(TEST_IMAGES "mounts:\n- location: /tmp\n  mountPoint: /mnt/x\n"
                                "  9p: {msize: 1KiB}\n",
                    "mounts[0].9p.msize: \"1KiB\" is below the 4KiB minimum");
}

static void
test_validate_9p_enums_are_checked(void)
{
        CHECK_ERROR(TEST_IMAGES "mounts:\n- location: /tmp\n  mountPoint: /mnt/x\n"
                                "  9p: {securityModel: mapped}\n",
                    "mounts[0].9p.securityModel: must be \"passthrough\", \"mapped-xattr\", "
                    "\"mapped-file\" or \"none\", got \"mapped\"");
        CHECK_ERROR(TEST_IMAGES "mounts:\n- location: /tmp\n  mountPoint: /mnt/x\n"
                                "  9p: {protocolVersion: 9p2001}\n",
                    "mounts[0].9p.protocolVersion: must be \"9p2000\", \"9p2000.u\" or "
                    "\"9p2000.L\", got \"9p2001\"");
        CHECK_ERROR(TEST_IMAGES "mounts:\n- location: /tmp\n  mountPoint: /mnt/x\n"
                                "  9p: {cache: always}\n",
                    "mounts[0].9p.cache: must be \"none\", \"loose\", \"fscache\" or \"mmap\", "
                    "got \"always\"");
}

static void
test_validate_sftp_driver_is_checked(void)
{
        CHECK_ERROR(TEST_IMAGES "mounts:\n- location: /tmp\n  mountPoint: /mnt/x\n"
                                "  sshfs: {sftpDriver: libssh}\n",
                    "mounts[0].sshfs.sftpDriver: must be \"builtin\", \"openssh-sftp-server\" "
                    "or \"\", got \"libssh\"");
}

static void
test_validate_queue_size_is_a_power_of_two(void)
{
        CHECK_ERROR(TEST_IMAGES "mounts:\n- location: /tmp\n  mountPoint: /mnt/x\n"
                                "  virtiofs: {queueSize: 1000}\n",
                    "mounts[0].virtiofs.queueSize: must be a power of two from 1 to 1024");
}

static void
test_validate_location_must_be_absolute_or_tilde(void)
{
        CHECK_ERROR(TEST_IMAGES "mounts:\n- location: src/x\n",
                    "dev.yaml:5:13: mounts[0].location: must be an absolute path or start with "
                    "\"~\", got \"src/x\"");
}

static void
test_validate_tilde_user_is_unexpandable(void)
{
        CHECK_ERROR(TEST_IMAGES "mounts:\n- location: ~bob/src\n",
                    "mounts[0].location: refers to an unexpandable path: \"~bob/src\"");
}

static void
test_validate_missing_location_is_a_warning(void)
{
        g_autoptr(LimaDiagnostics) diags =
            resolve_diags(TEST_IMAGES "mounts:\n- location: /nonexistent/limad-test\n");
        test_assert_no_errors(diags);
        test_assert_warning(diags, "mounts[0].location: refers to a non-existent directory: "
                                   "\"/nonexistent/limad-test\"");
}

static void
test_validate_non_directory_location_is_an_error(void)
{
        CHECK_ERROR(TEST_IMAGES "mounts:\n- location: /etc/hostname\n  mountPoint: /mnt/h\n",
                    "mounts[0].location: refers to a non-directory path: \"/etc/hostname\"");
}

static void
test_validate_inaccessible_location_is_an_error(void)
{
        /* A symlink loop cannot be reached even by root, so the rule shows in CI too. */
        g_autoptr(GError) error = NULL;
        g_autofree gchar *dir = g_dir_make_tmp("limad-noaccess-XXXXXX", &error);
        g_autofree gchar *loop = g_build_filename(dir, "loop", NULL);
        g_autofree gchar *yaml = NULL;
        g_assert_no_error(error);
        g_assert_cmpint(symlink(loop, loop), ==, 0);
        yaml = g_strdup_printf(TEST_IMAGES "mounts:\n- location: %s\n", loop);
        CHECK_ERROR(yaml, "refers to an inaccessible path");
        g_unlink(loop);
        g_rmdir(dir);
}

static void
test_validate_reserved_mount_points_are_refused(void)
{
        const gchar *reserved[] = { "/",     "/bin", "/dev", "/etc", "/home", "/opt",
                                    "/sbin", "/tmp", "/usr", "/var", "/usr/" };
        for (guint i = 0; i < G_N_ELEMENTS(reserved); i++) {
                g_autofree gchar *yaml = g_strdup_printf(
                    TEST_IMAGES "mounts:\n- location: /tmp\n  mountPoint: \"%s\"\n", reserved[i]);
                CHECK_ERROR(yaml, "mounts[0].mountPoint: must not be a system path such as "
                                  "/etc or /usr");
        }
}

static void
test_validate_guest_home_is_reserved(void)
{
        CHECK_ERROR(TEST_IMAGES "mounts:\n- location: /tmp\n  mountPoint: /home/alice.guest\n",
                    "mounts[0].mountPoint: is the reserved internal home directory "
                    "\"/home/alice.guest\"");
}

static void
test_validate_mount_point_must_not_start_with_tilde(void)
{
        CHECK_ERROR(TEST_IMAGES "mounts:\n- location: /tmp\n  mountPoint: ~/x\n",
                    "dev.yaml:6:15: mounts[0].mountPoint: must not start with \"~\"");
}

static void
test_validate_mount_point_must_be_absolute(void)
{
        CHECK_ERROR(TEST_IMAGES "mounts:\n- location: /tmp\n  mountPoint: mnt/x\n",
                    "mounts[0].mountPoint: must be an absolute path in the guest");
}

static void
test_validate_mount_type_is_checked(void)
{
        CHECK_ERROR(TEST_IMAGES "mountType: nfs\n",
                    "dev.yaml:4:12: mountType: must be \"reverse-sshfs\", \"9p\", \"virtiofs\" "
                    "or \"wsl2\", got \"nfs\"");
        CHECK_ERROR(TEST_IMAGES "mountType: 9p\nmountTypesUnsupported: [9p]\n",
                    "mountType: must not be one of mountTypesUnsupported, got \"9p\"");
        CHECK_ERROR(TEST_IMAGES "mountTypesUnsupported: [nfs]\n",
                    "mountTypesUnsupported[0]: must be");
}

static void
test_validate_host_and_driver_compatibility(void)
{
        CHECK_ERROR(TEST_IMAGES "vmType: vz\n", "vmType: \"vz\" needs macOS 13 or later");
        CHECK_ERROR(TEST_IMAGES "vmType: wsl2\n",
                    "vmType: \"wsl2\" needs Windows 10 build 19041 or later");
        CHECK_ERROR(TEST_IMAGES "mountType: wsl2\n",
                    "mountType: \"wsl2\" works only with vmType \"wsl2\"");
        CHECK_ERROR(TEST_IMAGES "vmType: wsl2\nmountType: 9p\n",
                    "mountType: vmType \"wsl2\" takes only mountType \"wsl2\"");
        CHECK_ERROR(TEST_IMAGES "vmType: hyperkit\n",
                    "vmType: must be \"qemu\", \"vz\" or \"wsl2\", got \"hyperkit\"");
}

static void
test_validate_images_are_required(void)
{
        CHECK_ERROR("cpus: 2\n", "dev.yaml: images: must be set");
        CHECK_ERROR("images:\n- arch: x86_64\n", "images[0].location: must be set");
        CHECK_ERROR("images:\n- location: /x.qcow2\n  digest: sha256:abc\n",
                    "images[0].digest: \"sha256:abc\" is invalid");
        CHECK_ERROR("images:\n- location: /x.qcow2\n  arch: amd64\n",
                    "images[0].arch: must be \"x86_64\"");
}

static void
test_validate_types_are_checked(void)
{
        CHECK_ERROR(TEST_IMAGES "cpus: many\n", "dev.yaml:4:7: cpus: must be a whole number, not "
                                                "\"many\"");
        CHECK_ERROR(TEST_IMAGES "cpus: -1\n", "cpus: must be a positive number, got -1");
        CHECK_ERROR(TEST_IMAGES "mounts:\n- location: /tmp\n  writable: yes please\n",
                    "mounts[0].writable: must be true or false, not \"yes please\"");
        CHECK_ERROR(TEST_IMAGES "mounts: {location: /tmp}\n",
                    "mounts: must be a list, not a mapping");
        CHECK_ERROR(TEST_IMAGES "memory: lots\n", "memory: \"lots\" is not a size");
        CHECK_ERROR(TEST_IMAGES "disk: 10XB\n", "disk: \"10XB\" is not a size");
        CHECK_ERROR("- a\n- b\n", "must be a mapping, not a list");
}

static void
test_validate_ssh_local_port_rules(void)
{
        CHECK_ERROR(TEST_IMAGES "ssh: {localPort: 22}\n", "ssh.localPort: must not be 22");
        CHECK_ERROR(TEST_IMAGES "ssh: {localPort: 70000}\n", "ssh.localPort: must be < 65536");
        CHECK_ERROR(TEST_IMAGES "ssh: {localPort: -5}\n", "ssh.localPort: must be > 0");
}

static void
test_validate_minimum_lima_version(void)
{
        CHECK_ERROR(TEST_IMAGES "minimumLimaVersion: 99.0.0\n",
                    "minimumLimaVersion: template requires Lima version \"99.0.0\"");
        CHECK_ERROR(TEST_IMAGES "minimumLimaVersion: soon\n",
                    "minimumLimaVersion: must be a semver value");
}

static void
test_validate_provision_and_probes(void)
{
        CHECK_ERROR(TEST_IMAGES "provision:\n- mode: sometimes\n  script: echo\n",
                    "provision[0].mode: must be one of");
        CHECK_ERROR(TEST_IMAGES "provision:\n- mode: system\n", "provision[0].script: must not "
                                                                "be empty");
        CHECK_ERROR(TEST_IMAGES "probes:\n- script: echo hi\n",
                    "probes[0].script: must start with a '#!' line");
        CHECK_ERROR(TEST_IMAGES "portForwards:\n- guestPort: 99999\n",
                    "portForwards[0].guestPort: must be between 0 and 65535");
}

static void
test_validate_reports_every_error_not_just_the_first(void)
{
        g_autoptr(LimaDiagnostics) diags =
            resolve_diags(TEST_IMAGES "cpus: x\nmemory: y\nmountType: z\n");
        g_assert_cmpuint(lima_diagnostics_count(diags, LIMA_DIAGNOSTIC_ERROR), ==, 3);
}

static void
test_validate_unknown_key_is_a_warning(void)
{
        g_autoptr(LimaDiagnostics) diags = resolve_diags(TEST_IMAGES "mountTyep: 9p\n");
        test_assert_no_errors(diags);
        test_assert_warning(diags, "dev.yaml:4:1: mountTyep: unknown field");
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/validate/msize-must-be-a-size", test_validate_msize_must_be_a_size);
        g_test_add_func("/validate/9p-enums-are-checked", test_validate_9p_enums_are_checked);
        g_test_add_func("/validate/sftp-driver-is-checked", test_validate_sftp_driver_is_checked);
        g_test_add_func("/validate/queue-size-is-a-power-of-two",
                        test_validate_queue_size_is_a_power_of_two);
        g_test_add_func("/validate/location-must-be-absolute-or-tilde",
                        test_validate_location_must_be_absolute_or_tilde);
        g_test_add_func("/validate/tilde-user-is-unexpandable",
                        test_validate_tilde_user_is_unexpandable);
        g_test_add_func("/validate/missing-location-is-a-warning",
                        test_validate_missing_location_is_a_warning);
        g_test_add_func("/validate/non-directory-location-is-an-error",
                        test_validate_non_directory_location_is_an_error);
        g_test_add_func("/validate/inaccessible-location-is-an-error",
                        test_validate_inaccessible_location_is_an_error);
        g_test_add_func("/validate/reserved-mount-points-are-refused",
                        test_validate_reserved_mount_points_are_refused);
        g_test_add_func("/validate/guest-home-is-reserved", test_validate_guest_home_is_reserved);
        g_test_add_func("/validate/mount-point-must-not-start-with-tilde",
                        test_validate_mount_point_must_not_start_with_tilde);
        g_test_add_func("/validate/mount-point-must-be-absolute",
                        test_validate_mount_point_must_be_absolute);
        g_test_add_func("/validate/mount-type-is-checked", test_validate_mount_type_is_checked);
        g_test_add_func("/validate/host-and-driver-compatibility",
                        test_validate_host_and_driver_compatibility);
        g_test_add_func("/validate/images-are-required", test_validate_images_are_required);
        g_test_add_func("/validate/types-are-checked", test_validate_types_are_checked);
        g_test_add_func("/validate/ssh-local-port-rules", test_validate_ssh_local_port_rules);
        g_test_add_func("/validate/minimum-lima-version", test_validate_minimum_lima_version);
        g_test_add_func("/validate/provision-and-probes", test_validate_provision_and_probes);
        g_test_add_func("/validate/reports-every-error-not-just-the-first",
                        test_validate_reports_every_error_not_just_the_first);
        g_test_add_func("/validate/unknown-key-is-a-warning",
                        test_validate_unknown_key_is_a_warning);
        return g_test_run();
}
