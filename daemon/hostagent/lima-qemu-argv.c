#include "lima-qemu-argv.h"

#include <glib/gi18n.h>
#include <string.h>
#include <sys/un.h>

#include "lima-config-fill.h"
#include "lima-error.h"
#include "lima-safe-path.h"
#include "lima-guest-protocol.h"
#include "lima-qemu-hotplug.h"
#include "lima-size.h"

#define MIB (1024ull * 1024ull)
/* QEMU's limits: vhost-user-fs queues (VIRTQUEUE_MAX_SIZE) and the virtio-fs config tag. */
#define LIMA_QEMU_VIRTIOFS_MAX_QUEUE_SIZE 1024
#define LIMA_QEMU_VIRTIOFS_MAX_TAG        36

static const gchar *const lima_qemu_9p_security_models[] = { "passthrough", "mapped-xattr",
                                                             "mapped-file", "none", NULL };

LimaQemuPlan *
lima_qemu_plan_new(const LimaConfig *config, const gchar *instance_dir)
{
        LimaQemuPlan *plan = g_new0(LimaQemuPlan, 1);
        plan->config = config;
        plan->instance_dir = g_strdup(instance_dir);
        plan->diffdisk = g_build_filename(instance_dir, LIMA_QEMU_DIFFDISK, NULL);
        plan->cidata_iso = g_build_filename(instance_dir, LIMA_QEMU_CIDATA_ISO, NULL);
        plan->qmp_sock = g_build_filename(instance_dir, LIMA_QEMU_QMP_SOCK, NULL);
        plan->serial_log = g_build_filename(instance_dir, LIMA_QEMU_SERIAL_LOG, NULL);
        plan->pidfile = g_build_filename(instance_dir, LIMA_QEMU_PIDFILE, NULL);
        plan->ga_sock = g_build_filename(instance_dir, LIMA_GUEST_HOST_SOCKET, NULL);
        plan->accel = LIMA_ACCEL_TCG;
        return plan;
}

void
lima_qemu_plan_free(LimaQemuPlan *plan)
{
        if (plan == NULL)
                return;
        g_free(plan->instance_dir);
        g_free(plan->qemu_binary);
        g_free(plan->diffdisk);
        g_free(plan->cidata_iso);
        g_free(plan->qmp_sock);
        g_free(plan->serial_log);
        g_free(plan->pidfile);
        g_free(plan->ga_sock);
        g_free(plan->firmware);
        g_free(plan->kernel);
        g_free(plan->initrd);
        g_free(plan->kernel_cmdline);
        g_free(plan);
}

gchar *
lima_qemu_virtiofsd_socket(const LimaQemuPlan *plan, const LimaMount *mount)
{
        g_autofree gchar *name = g_strdup_printf("virtiofsd-%s.sock", mount->tag);
        return g_build_filename(plan->instance_dir, name, NULL);
}

const gchar *
lima_qemu_binary_for_arch(const gchar *arch)
{
        if (g_strcmp0(arch, "x86_64") == 0)
                return "qemu-system-x86_64";
        if (g_strcmp0(arch, "aarch64") == 0)
                return "qemu-system-aarch64";
        return NULL;
}

gchar *
lima_qemu_opt_escape(const gchar *value)
{
        GString *out = g_string_sized_new(strlen(value) + 8);
        for (const gchar *p = value; *p != '\0'; p++) {
                if (*p == ',')
                        g_string_append_c(out, ',');
                g_string_append_c(out, *p);
        }
        return g_string_free(out, FALSE);
}

/* A control character would end a line in QEMU's logs and our own state files, and no real
 * path or kernel option needs one. */
static gboolean
lima_qemu_check_text(const gchar *what, const gchar *value, GError **error)
{
        if (value == NULL || *value == '\0') {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG, _("%s is empty"), what);
                return FALSE;
        }
        for (const guchar *p = (const guchar *)value; *p != '\0'; p++) {
                if (*p < 0x20 || *p == 0x7f) {
                        g_autofree gchar *shown = g_strescape(value, NULL);
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                                    _("%s \"%s\" contains a control character (0x%02x), "
                                      "which cannot be passed to QEMU safely; remove it"),
                                    what, shown, *p);
                        return FALSE;
                }
        }
        return TRUE;
}

static gboolean
lima_qemu_check_socket_path(const gchar *what, const gchar *path, GError **error)
{
        const struct sockaddr_un addr = { 0 };
        if (!lima_safe_path_check(what, path, error))
                return FALSE;
        if (strlen(path) >= sizeof(addr.sun_path)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("%s \"%s\" is %zu bytes, longer than a unix socket path may be "
                              "(%zu); use a shorter instance directory (LIMA_HOME)"),
                            what, path, strlen(path), sizeof(addr.sun_path) - 1);
                return FALSE;
        }
        return TRUE;
}

static void
lima_qemu_argv_add(GPtrArray *argv, const gchar *option, gchar *value)
{
        g_ptr_array_add(argv, g_strdup(option));
        if (value != NULL)
                g_ptr_array_add(argv, value);
}

/* Whole MiB, as -m and the memory backend take it (Lima rounds down the same way). */
static gboolean
lima_qemu_memory_mib(const LimaConfig *cfg, guint64 *mib, GError **error)
{
        guint64 memory = 0;
        if (!lima_size_parse(cfg->memory.value, &memory) || memory < MIB) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("memory \"%s\" is not a size of at least 1MiB"),
                            cfg->memory.value != NULL ? cfg->memory.value : "");
                return FALSE;
        }
        *mib = memory / MIB;
        return TRUE;
}

static gboolean
lima_qemu_add_machine(GPtrArray *argv, const LimaQemuPlan *plan, const gchar *arch,
                      guint64 memory_mib, GError **error)
{
        const LimaConfig *cfg = plan->config;
        const gchar *accel = lima_accel_to_string(plan->accel);

        if (!cfg->cpus.set || cfg->cpus.value < 1 || cfg->cpus.value > 1024) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("cpus must be between 1 and 1024, got %lld"),
                            (long long)cfg->cpus.value);
                return FALSE;
        }

        if (g_strcmp0(arch, "x86_64") == 0)
                lima_qemu_argv_add(argv, "-machine", g_strdup_printf("q35,accel=%s", accel));
        else
                lima_qemu_argv_add(argv, "-machine",
                                   g_strdup_printf("virt,gic-version=max,accel=%s", accel));
        /* "host" passes the real CPU through; under TCG "max" is the richest model. */
        lima_qemu_argv_add(argv, "-cpu", g_strdup(plan->accel == LIMA_ACCEL_KVM ? "host" : "max"));
        lima_qemu_argv_add(argv, "-smp", g_strdup_printf("%" G_GINT64_FORMAT, cfg->cpus.value));
        lima_qemu_argv_add(argv, "-m", g_strdup_printf("%" G_GUINT64_FORMAT, memory_mib));
        return TRUE;
}

static gboolean
lima_qemu_add_boot(GPtrArray *argv, const LimaQemuPlan *plan, const gchar *arch, GError **error)
{
        if (plan->firmware != NULL) {
                g_autofree gchar *fw = NULL;
                if (!lima_safe_path_check(_("firmware"), plan->firmware, error))
                        return FALSE;
                fw = lima_qemu_opt_escape(plan->firmware);
                lima_qemu_argv_add(argv, "-drive",
                                   g_strdup_printf("if=pflash,format=raw,readonly=on,file=%s", fw));
        } else if (g_strcmp0(arch, "aarch64") == 0 && plan->kernel == NULL) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("an aarch64 guest needs UEFI firmware (install qemu-efi-aarch64) "
                              "or a kernel to boot directly"));
                return FALSE;
        }

        if (plan->kernel == NULL) {
                if (plan->initrd != NULL || plan->kernel_cmdline != NULL) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                                    _("an initrd or kernel command line needs a kernel"));
                        return FALSE;
                }
                return TRUE;
        }
        /* -kernel, -initrd and -append take their value verbatim: no comma escaping. */
        if (!lima_safe_path_check(_("kernel"), plan->kernel, error))
                return FALSE;
        lima_qemu_argv_add(argv, "-kernel", g_strdup(plan->kernel));
        if (plan->initrd != NULL) {
                if (!lima_safe_path_check(_("initrd"), plan->initrd, error))
                        return FALSE;
                lima_qemu_argv_add(argv, "-initrd", g_strdup(plan->initrd));
        }
        if (plan->kernel_cmdline != NULL) {
                if (!lima_qemu_check_text(_("kernel command line"), plan->kernel_cmdline, error))
                        return FALSE;
                lima_qemu_argv_add(argv, "-append", g_strdup(plan->kernel_cmdline));
        }
        return TRUE;
}

static gboolean
lima_qemu_add_disks(GPtrArray *argv, const LimaQemuPlan *plan, GError **error)
{
        g_autofree gchar *disk = NULL;
        g_autofree gchar *cidata = NULL;

        if (!lima_safe_path_check(_("disk"), plan->diffdisk, error) ||
            !lima_safe_path_check(_("cidata ISO"), plan->cidata_iso, error))
                return FALSE;
        disk = lima_qemu_opt_escape(plan->diffdisk);
        cidata = lima_qemu_opt_escape(plan->cidata_iso);
        lima_qemu_argv_add(
            argv, "-drive",
            g_strdup_printf("file=%s,if=none,id=disk0,format=qcow2,discard=on", disk));
        /* bootindex keeps the firmware off the seed, whatever order the PCI slots come in;
         * with -kernel QEMU boots the kernel itself and takes index 0 for it. */
        lima_qemu_argv_add(argv, "-device",
                           g_strdup(plan->kernel != NULL
                                        ? "virtio-blk-pci,drive=disk0"
                                        : "virtio-blk-pci,drive=disk0,bootindex=0"));
        /* cloud-init's NoCloud source finds the seed by its volume label "cidata". */
        lima_qemu_argv_add(
            argv, "-drive",
            g_strdup_printf("file=%s,if=none,id=cidata,format=raw,readonly=on", cidata));
        lima_qemu_argv_add(argv, "-device", g_strdup("virtio-blk-pci,drive=cidata"));
        return TRUE;
}

static gboolean
lima_qemu_add_network(GPtrArray *argv, const LimaQemuPlan *plan, GError **error)
{
        g_autofree gchar *hash = NULL;

        if (plan->ssh_local_port == 0) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("the SSH port must be chosen before QEMU starts"));
                return FALSE;
        }
        lima_qemu_argv_add(argv, "-netdev",
                           g_strdup_printf("user,id=net0,net=%s,dhcpstart=%s,"
                                           "hostfwd=tcp:127.0.0.1:%u-:22",
                                           LIMA_QEMU_SLIRP_NETWORK, LIMA_QEMU_SLIRP_GUEST_IP,
                                           plan->ssh_local_port));
        /* A locally administered MAC derived from the instance, stable across restarts. */
        hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, plan->instance_dir, -1);
        lima_qemu_argv_add(argv, "-device",
                           g_strdup_printf("virtio-net-pci,netdev=net0,mac=52:55:55:%c%c:%c%c:%c%c",
                                           hash[0], hash[1], hash[2], hash[3], hash[4], hash[5]));
        return TRUE;
}

static gboolean
lima_qemu_add_channels(GPtrArray *argv, const LimaQemuPlan *plan, GError **error)
{
        g_autofree gchar *ga = NULL;
        g_autofree gchar *qmp = NULL;
        g_autofree gchar *serial = NULL;

        if (!lima_qemu_check_socket_path(_("guest agent socket"), plan->ga_sock, error) ||
            !lima_qemu_check_socket_path(_("QMP socket"), plan->qmp_sock, error) ||
            !lima_safe_path_check(_("serial log"), plan->serial_log, error) ||
            !lima_safe_path_check(_("pid file"), plan->pidfile, error))
                return FALSE;
        ga = lima_qemu_opt_escape(plan->ga_sock);
        qmp = lima_qemu_opt_escape(plan->qmp_sock);
        serial = lima_qemu_opt_escape(plan->serial_log);

        lima_qemu_argv_add(argv, "-device", g_strdup("virtio-rng-pci"));
        lima_qemu_argv_add(argv, "-device", g_strdup("virtio-serial-pci,id=vser0"));
        lima_qemu_argv_add(argv, "-chardev",
                           g_strdup_printf("socket,id=ga0,path=%s,server=on,wait=off", ga));
        lima_qemu_argv_add(argv, "-device",
                           g_strdup_printf("virtserialport,bus=vser0.0,chardev=ga0,name=%s",
                                           LIMA_GUEST_PORT_NAME));
        /* The long form of -qmp unix:…: one escaping rule for every chardev path. */
        lima_qemu_argv_add(argv, "-chardev",
                           g_strdup_printf("socket,id=qmp0,path=%s,server=on,wait=off", qmp));
        lima_qemu_argv_add(argv, "-mon", g_strdup("chardev=qmp0,mode=control"));
        /* -serial file:PATH takes the path verbatim while chardev options need escaping;
         * naming a chardev keeps one rule. */
        lima_qemu_argv_add(argv, "-chardev", g_strdup_printf("file,id=serial0,path=%s", serial));
        lima_qemu_argv_add(argv, "-serial", g_strdup("chardev:serial0"));
        /* -pidfile takes its value verbatim. */
        lima_qemu_argv_add(argv, "-pidfile", g_strdup(plan->pidfile));
        return TRUE;
}

static gboolean
lima_qemu_check_mount(const LimaMount *m, guint i, GError **error)
{
        g_autofree gchar *what = g_strdup_printf(_("mounts[%u].location"), i);
        if (!lima_safe_path_check(what, m->location.value, error))
                return FALSE;
        if (m->tag == NULL || *m->tag == '\0') {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("mounts[%u] has no tag; fill the config first"), i);
                return FALSE;
        }
        return lima_qemu_check_text(_("mount tag"), m->tag, error);
}

static gboolean
lima_qemu_add_9p(GPtrArray *argv, const LimaConfig *cfg, GError **error)
{
        for (guint i = 0; i < cfg->mounts->len; i++) {
                const LimaMount *m = g_ptr_array_index(cfg->mounts, i);
                const gchar *model = m->ninep_security_model.value != NULL
                                         ? m->ninep_security_model.value
                                         : LIMA_DEFAULT_9P_SECURITY_MODEL;
                g_autofree gchar *path = NULL;
                g_autofree gchar *tag = NULL;

                if (!lima_qemu_check_mount(m, i, error))
                        return FALSE;
                if (!g_strv_contains(lima_qemu_9p_security_models, model)) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                                    _("mounts[%u].9p.securityModel \"%s\" is not one of "
                                      "passthrough, mapped-xattr, mapped-file, none"),
                                    i, model);
                        return FALSE;
                }
                path = lima_qemu_opt_escape(m->location.value);
                tag = lima_qemu_opt_escape(m->tag);
                /* QEMU itself refuses writes to a read-only share: enforced on the host. */
                lima_qemu_argv_add(argv, "-fsdev",
                                   g_strdup_printf("local,id=fs%u,path=%s,security_model=%s%s", i,
                                                   path, model,
                                                   m->writable.value ? "" : ",readonly=on"));
                lima_qemu_argv_add(
                    argv, "-device",
                    g_strdup_printf("virtio-9p-pci,fsdev=fs%u,mount_tag=%s", i, tag));
        }
        return TRUE;
}

static gboolean
lima_qemu_add_virtiofs(GPtrArray *argv, const LimaQemuPlan *plan, guint64 memory_mib,
                       GError **error)
{
        const LimaConfig *cfg = plan->config;
        guint ports = lima_qemu_pcie_port_count(cfg);

        /* Every virtiofs device sits behind a root port of its own, so any of them can be
         * unplugged at runtime (a device on pcie.0 itself cannot), and the spare ports take
         * mounts added while running. io-reserve=0: virtio devices on PCIe use no I/O BARs,
         * and the 64 KiB I/O space would run out after a dozen ports reserving 4 KiB each. */
        for (guint i = 0; i < ports; i++) {
                g_autofree gchar *id = lima_qemu_pcie_port_id(i);
                lima_qemu_argv_add(
                    argv, "-device",
                    g_strdup_printf("pcie-root-port,id=%s,chassis=%u,io-reserve=0", id, i + 1));
        }
        for (guint i = 0; i < cfg->mounts->len; i++) {
                const LimaMount *m = g_ptr_array_index(cfg->mounts, i);
                gint64 queue = m->virtiofs_queue_size.set ? m->virtiofs_queue_size.value
                                                          : LIMA_DEFAULT_VIRTIOFS_QUEUE_SIZE;
                g_autofree gchar *sock = NULL;
                g_autofree gchar *sock_esc = NULL;
                g_autofree gchar *tag = NULL;
                g_autofree gchar *chr_id = NULL;
                g_autofree gchar *dev_id = NULL;
                g_autofree gchar *port_id = lima_qemu_pcie_port_id(i);

                if (!lima_qemu_check_mount(m, i, error))
                        return FALSE;
                if (strlen(m->tag) > LIMA_QEMU_VIRTIOFS_MAX_TAG) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                                    _("mounts[%u]: tag \"%s\" is longer than the %d bytes "
                                      "virtio-fs allows"),
                                    i, m->tag, LIMA_QEMU_VIRTIOFS_MAX_TAG);
                        return FALSE;
                }
                if (queue < 1 || queue > LIMA_QEMU_VIRTIOFS_MAX_QUEUE_SIZE ||
                    (queue & (queue - 1)) != 0) {
                        g_set_error(
                            error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("mounts[%u].virtiofs.queueSize %lld must be a power of two no "
                              "larger than %d"),
                            i, (long long)queue, LIMA_QEMU_VIRTIOFS_MAX_QUEUE_SIZE);
                        return FALSE;
                }
                sock = lima_qemu_virtiofsd_socket(plan, m);
                if (!lima_qemu_check_socket_path(_("virtiofsd socket"), sock, error))
                        return FALSE;
                sock_esc = lima_qemu_opt_escape(sock);
                tag = lima_qemu_opt_escape(m->tag);
                /* Ids from the tag, so the agent can name them to unplug. */
                chr_id = lima_qemu_virtiofs_chardev_id(m);
                dev_id = lima_qemu_virtiofs_device_id(m);
                lima_qemu_argv_add(argv, "-chardev",
                                   g_strdup_printf("socket,id=%s,path=%s", chr_id, sock_esc));
                lima_qemu_argv_add(argv, "-device",
                                   g_strdup_printf("vhost-user-fs-pci,queue-size=%" G_GINT64_FORMAT
                                                   ",chardev=%s,tag=%s,id=%s,bus=%s",
                                                   queue, chr_id, tag, dev_id, port_id));
        }
        /* vhost-user needs guest RAM virtiofsd can map: shared memfd, as big as -m. */
        lima_qemu_argv_add(argv, "-object",
                           g_strdup_printf("memory-backend-memfd,id=mem,size=%" G_GUINT64_FORMAT
                                           "M,share=on",
                                           memory_mib));
        lima_qemu_argv_add(argv, "-numa", g_strdup("node,memdev=mem"));
        return TRUE;
}

static gboolean
lima_qemu_add_mounts(GPtrArray *argv, const LimaQemuPlan *plan, guint64 memory_mib, GError **error)
{
        const LimaConfig *cfg = plan->config;
        const gchar *type = cfg->mount_type.value;

        /* A virtiofs instance without mounts still gets shared memory and spare ports, so
         * mounts can be added while it runs. */
        if (g_strcmp0(type, "virtiofs") == 0)
                return lima_qemu_add_virtiofs(argv, plan, memory_mib, error);
        if (cfg->mounts == NULL || cfg->mounts->len == 0)
                return TRUE;
        if (g_strcmp0(type, "9p") == 0)
                return lima_qemu_add_9p(argv, cfg, error);
        /* The host agent serves these over SSH; QEMU has nothing to add. */
        if (g_strcmp0(type, "reverse-sshfs") == 0)
                return TRUE;
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                    _("mountType \"%s\" cannot be used with QEMU; use reverse-sshfs, 9p or "
                      "virtiofs"),
                    type != NULL ? type : "");
        return FALSE;
}

GPtrArray *
lima_qemu_argv_build(const LimaQemuPlan *plan, GError **error)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new_null_terminated(48, g_free, TRUE);
        const gchar *arch = plan->config->arch.value;
        const gchar *binary = plan->qemu_binary;
        guint64 memory_mib = 0;

        if (lima_qemu_binary_for_arch(arch) == NULL) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("arch \"%s\" cannot be run by this host agent; use x86_64 or "
                              "aarch64"),
                            arch != NULL ? arch : "");
                return NULL;
        }
        if (binary == NULL)
                binary = lima_qemu_binary_for_arch(arch);
        if (!lima_qemu_check_text(_("QEMU binary"), binary, error) ||
            !lima_safe_path_check(_("instance directory"), plan->instance_dir, error) ||
            !lima_qemu_memory_mib(plan->config, &memory_mib, error))
                return NULL;

        g_ptr_array_add(argv, g_strdup(binary));
        /* Only what is asked for: no default NIC, VGA, monitor or /etc/qemu config. */
        lima_qemu_argv_add(argv, "-nodefaults", NULL);
        lima_qemu_argv_add(argv, "-no-user-config", NULL);
        lima_qemu_argv_add(argv, "-display", g_strdup("none"));
        if (!lima_qemu_add_machine(argv, plan, arch, memory_mib, error) ||
            !lima_qemu_add_boot(argv, plan, arch, error) ||
            !lima_qemu_add_disks(argv, plan, error) || !lima_qemu_add_network(argv, plan, error) ||
            !lima_qemu_add_channels(argv, plan, error) ||
            !lima_qemu_add_mounts(argv, plan, memory_mib, error))
                return NULL;
        return g_steal_pointer(&argv);
}
