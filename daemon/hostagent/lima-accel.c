#include "lima-accel.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "lima-error.h"
#include "lima-host.h"

const gchar *
lima_accel_to_string(LimaAccel accel)
{
        return accel == LIMA_ACCEL_KVM ? "kvm" : "tcg";
}

gboolean
lima_accel_from_string(const gchar *text, LimaAccel *accel)
{
        if (g_strcmp0(text, "kvm") == 0) {
                *accel = LIMA_ACCEL_KVM;
                return TRUE;
        }
        if (g_strcmp0(text, "tcg") == 0) {
                *accel = LIMA_ACCEL_TCG;
                return TRUE;
        }
        return FALSE;
}

/* Asks the device itself: the API version every KVM has had since 2007, then a throwaway VM,
 * which fails where the device exists but virtualisation is off or taken. NULL when usable. */
static gchar *
lima_accel_kvm_trial(const gchar *dev_kvm)
{
        int fd = open(dev_kvm, O_RDWR | O_CLOEXEC);
        int version;
        int vm;

        if (fd < 0)
                return g_strdup_printf(_("%s cannot be opened: %s"), dev_kvm, g_strerror(errno));
        version = ioctl(fd, KVM_GET_API_VERSION, 0);
        if (version != KVM_API_VERSION) {
                int saved = errno;
                close(fd);
                if (version < 0)
                        return g_strdup_printf(_("%s: KVM_GET_API_VERSION failed: %s"), dev_kvm,
                                               g_strerror(saved));
                return g_strdup_printf(_("%s speaks KVM API %d, QEMU needs %d"), dev_kvm, version,
                                       KVM_API_VERSION);
        }
        vm = ioctl(fd, KVM_CREATE_VM, 0);
        if (vm < 0) {
                int saved = errno;
                close(fd);
                return g_strdup_printf(_("%s: creating a VM failed: %s"), dev_kvm,
                                       g_strerror(saved));
        }
        close(vm);
        close(fd);
        return NULL;
}

static gboolean
lima_accel_decide(LimaAccel accel, gchar *why, LimaAccel *out, gchar **reason)
{
        *out = accel;
        if (reason != NULL)
                *reason = g_strdup_printf("%s: %s", lima_accel_to_string(accel), why);
        g_free(why);
        return TRUE;
}

gboolean
lima_accel_probe_with(const LimaAccelProbeEnv *env, const gchar *guest_arch, LimaAccel *accel,
                      gchar **reason, GError **error)
{
        const gchar *override = env->env_override;
        const gchar *host_arch = env->host_arch;
        const gchar *dev_kvm = env->dev_kvm != NULL ? env->dev_kvm : "/dev/kvm";
        const gchar *module_dir = env->module_dir != NULL ? env->module_dir : "/sys/module";
        g_autofree gchar *pvm = g_build_filename(module_dir, "kvm_pvm", NULL);
        struct utsname uts;
        gchar *failure;

        if (override == NULL)
                override = g_getenv(LIMA_ACCEL_ENV);
        if (override != NULL && *override != '\0') {
                LimaAccel forced;
                if (!lima_accel_from_string(override, &forced)) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                                    _("%s=\"%s\" is not an accelerator; set it to \"kvm\" or "
                                      "\"tcg\", or unset it to probe"),
                                    LIMA_ACCEL_ENV, override);
                        return FALSE;
                }
                return lima_accel_decide(forced, g_strdup_printf(_("forced by %s"), LIMA_ACCEL_ENV),
                                         accel, reason);
        }

        if (host_arch == NULL) {
                if (uname(&uts) == 0)
                        host_arch = lima_host_arch_from_machine(uts.machine);
        }
        if (g_strcmp0(guest_arch, host_arch) != 0)
                return lima_accel_decide(
                    LIMA_ACCEL_TCG,
                    g_strdup_printf(_("the guest is %s but the host is %s, KVM cannot run it"),
                                    guest_arch, host_arch != NULL ? host_arch : _("unknown")),
                    accel, reason);

        /* PVM answers every KVM ioctl, so only its module's presence gives it away. */
        if (g_file_test(pvm, G_FILE_TEST_IS_DIR))
                return lima_accel_decide(LIMA_ACCEL_TCG,
                                         g_strdup_printf(_("%s is kvm_pvm (software nested), a "
                                                           "stock kernel crawls under it"),
                                                         dev_kvm),
                                         accel, reason);

        failure = lima_accel_kvm_trial(dev_kvm);
        if (failure != NULL)
                return lima_accel_decide(LIMA_ACCEL_TCG, failure, accel, reason);
        return lima_accel_decide(LIMA_ACCEL_KVM,
                                 g_strdup_printf(_("%s works (API %d, a trial VM was created)"),
                                                 dev_kvm, KVM_API_VERSION),
                                 accel, reason);
}

gboolean
lima_accel_probe(const gchar *guest_arch, LimaAccel *accel, gchar **reason, GError **error)
{
        const LimaAccelProbeEnv env = { 0 };
        return lima_accel_probe_with(&env, guest_arch, accel, reason, error);
}
