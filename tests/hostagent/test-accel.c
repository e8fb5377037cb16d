/* The accelerator probe: the LIMA_QEMU_ACCEL override, and each reason to fall back to TCG. */
#include <glib/gstdio.h>
#include <string.h>

#include "lima-accel.h"
#include "lima-error.h"

static void
test_assert_reason(const gchar *reason, const gchar *text)
{
        if (reason == NULL || strstr(reason, text) == NULL)
                g_error("expected a reason containing \"%s\", got \"%s\"", text, reason);
}

static void
test_env_override(void)
{
        const struct {
                const gchar *value;
                LimaAccel accel;
        } cases[] = { { "kvm", LIMA_ACCEL_KVM }, { "tcg", LIMA_ACCEL_TCG } };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree gchar *reason = NULL;
                LimaAccel accel =
                    cases[i].accel == LIMA_ACCEL_KVM ? LIMA_ACCEL_TCG : LIMA_ACCEL_KVM;

                /* The real environment, and a guest KVM could never run: the override wins. */
                g_setenv(LIMA_ACCEL_ENV, cases[i].value, TRUE);
                g_assert_true(lima_accel_probe("s390x", &accel, &reason, &error));
                g_assert_no_error(error);
                g_assert_cmpint(accel, ==, cases[i].accel);
                test_assert_reason(reason, cases[i].value);
                test_assert_reason(reason, "forced by " LIMA_ACCEL_ENV);
        }
        g_unsetenv(LIMA_ACCEL_ENV);
}

static void
test_env_override_invalid(void)
{
        const LimaAccelProbeEnv env = { .env_override = "hvf" };
        g_autoptr(GError) error = NULL;
        g_autofree gchar *reason = NULL;
        LimaAccel accel = LIMA_ACCEL_TCG;

        g_assert_false(lima_accel_probe_with(&env, "x86_64", &accel, &reason, &error));
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
        g_assert_nonnull(strstr(error->message, "\"kvm\""));
        g_assert_null(reason);
}

static void
test_other_arch_is_tcg(void)
{
        const LimaAccelProbeEnv env = { .env_override = "", .host_arch = "x86_64" };
        g_autofree gchar *reason = NULL;
        LimaAccel accel = LIMA_ACCEL_KVM;

        g_assert_true(lima_accel_probe_with(&env, "aarch64", &accel, &reason, NULL));
        g_assert_cmpint(accel, ==, LIMA_ACCEL_TCG);
        test_assert_reason(reason, "tcg: the guest is aarch64 but the host is x86_64");
}

static void
test_kvm_pvm_is_tcg(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree gchar *modules = g_dir_make_tmp("lima-accel-XXXXXX", &error);
        g_autofree gchar *pvm = g_build_filename(modules, "kvm_pvm", NULL);
        LimaAccelProbeEnv env = { .env_override = "", .host_arch = "x86_64" };
        g_autofree gchar *reason = NULL;
        LimaAccel accel = LIMA_ACCEL_KVM;

        g_assert_no_error(error);
        g_assert_cmpint(g_mkdir(pvm, 0700), ==, 0);
        env.module_dir = modules;
        /* Even a /dev/kvm that works (PVM's does) must not be used. */
        g_assert_true(lima_accel_probe_with(&env, "x86_64", &accel, &reason, NULL));
        g_assert_cmpint(accel, ==, LIMA_ACCEL_TCG);
        test_assert_reason(reason, "tcg: /dev/kvm is kvm_pvm (software nested)");
        g_rmdir(pvm);
        g_rmdir(modules);
}

static void
test_missing_dev_kvm_is_tcg(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree gchar *modules = g_dir_make_tmp("lima-accel-XXXXXX", &error);
        g_autofree gchar *dev = g_build_filename(modules, "kvm", NULL);
        LimaAccelProbeEnv env = { .env_override = "", .host_arch = "x86_64" };
        g_autofree gchar *reason = NULL;
        LimaAccel accel = LIMA_ACCEL_KVM;

        g_assert_no_error(error);
        env.module_dir = modules;
        env.dev_kvm = dev;
        g_assert_true(lima_accel_probe_with(&env, "x86_64", &accel, &reason, NULL));
        g_assert_cmpint(accel, ==, LIMA_ACCEL_TCG);
        test_assert_reason(reason, dev);
        test_assert_reason(reason, "cannot be opened");

        /* A file that is not a KVM device fails the API check. */
        g_assert_true(g_file_set_contents(dev, "", 0, NULL));
        g_clear_pointer(&reason, g_free);
        g_assert_true(lima_accel_probe_with(&env, "x86_64", &accel, &reason, NULL));
        g_assert_cmpint(accel, ==, LIMA_ACCEL_TCG);
        test_assert_reason(reason, "KVM_GET_API_VERSION");
        g_unlink(dev);
        g_rmdir(modules);
}

/* This host, as the agent will see it: on a kvm_pvm machine the answer must be TCG. */
static void
test_this_host(void)
{
        const LimaAccelProbeEnv env = { .env_override = "" };
        g_autofree gchar *reason = NULL;
        LimaAccel accel = LIMA_ACCEL_KVM;

        g_assert_true(lima_accel_probe_with(&env, "x86_64", &accel, &reason, NULL));
        g_test_message("%s", reason);
        if (g_file_test("/sys/module/kvm_pvm", G_FILE_TEST_IS_DIR))
                g_assert_cmpint(accel, ==, LIMA_ACCEL_TCG);
        if (!g_file_test("/dev/kvm", G_FILE_TEST_EXISTS))
                g_assert_cmpint(accel, ==, LIMA_ACCEL_TCG);
}

static void
test_names(void)
{
        LimaAccel accel = LIMA_ACCEL_TCG;
        g_assert_cmpstr(lima_accel_to_string(LIMA_ACCEL_KVM), ==, "kvm");
        g_assert_cmpstr(lima_accel_to_string(LIMA_ACCEL_TCG), ==, "tcg");
        g_assert_true(lima_accel_from_string("kvm", &accel));
        g_assert_cmpint(accel, ==, LIMA_ACCEL_KVM);
        g_assert_false(lima_accel_from_string("KVM", &accel));
        g_assert_false(lima_accel_from_string(NULL, &accel));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/accel/names", test_names);
        g_test_add_func("/accel/env-override", test_env_override);
        g_test_add_func("/accel/env-override-invalid", test_env_override_invalid);
        g_test_add_func("/accel/other-arch-is-tcg", test_other_arch_is_tcg);
        g_test_add_func("/accel/kvm-pvm-is-tcg", test_kvm_pvm_is_tcg);
        g_test_add_func("/accel/missing-dev-kvm-is-tcg", test_missing_dev_kvm_is_tcg);
        g_test_add_func("/accel/this-host", test_this_host);
        return g_test_run();
}
