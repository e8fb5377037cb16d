/* The QEMU command line: one per mount type, escaping, kernel boot, refusals, and a real QEMU
 * that must accept what we build. */
#include <glib/gstdio.h>
#include <unistd.h>

#include "lima-error.h"
#include "lima-mount-tag.h"
#include "lima-qemu-argv.h"
#include "lima-qemu-hotplug.h"
#include "lima-qmp.h"
#include "test-qemu-util.h"

#define TEST_DIR  "/home/alice/.lima/dev"
#define TEST_BASE "images:\n- location: /img/debian.qcow2\n  arch: x86_64\ncpus: 2\nmemory: 2GiB\n"

static LimaQemuPlan *
test_plan_new(const LimaConfig *cfg, const gchar *dir)
{
        LimaQemuPlan *plan = lima_qemu_plan_new(cfg, dir);
        plan->ssh_local_port = 60022;
        return plan;
}

static GPtrArray *
test_build(const LimaQemuPlan *plan)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) argv = lima_qemu_argv_build(plan, &error);
        g_assert_no_error(error);
        g_assert_nonnull(argv);
        g_assert_null(argv->pdata[argv->len]); /* ready for g_spawn */
        return g_steal_pointer(&argv);
}

/* The value following each occurrence of option, joined by "\n" (NULL when absent). */
static gchar *
test_values(GPtrArray *argv, const gchar *option)
{
        g_autoptr(GStrvBuilder) values = g_strv_builder_new();
        g_auto(GStrv) out = NULL;

        for (guint i = 0; i + 1 < argv->len; i++) {
                if (g_strcmp0(argv->pdata[i], option) == 0)
                        g_strv_builder_add(values, argv->pdata[i + 1]);
        }
        out = g_strv_builder_end(values);
        return out[0] == NULL ? NULL : g_strjoinv("\n", out);
}

static void
test_assert_pair(GPtrArray *argv, const gchar *option, const gchar *value)
{
        for (guint i = 0; i + 1 < argv->len; i++) {
                if (g_strcmp0(argv->pdata[i], option) == 0 &&
                    g_strcmp0(argv->pdata[i + 1], value) == 0)
                        return;
        }
        {
                g_autofree gchar *seen = test_values(argv, option);
                g_error("expected %s %s; %s has:\n%s", option, value, option,
                        seen != NULL ? seen : "(nothing)");
        }
}

static gboolean
test_has_arg_containing(GPtrArray *argv, const gchar *text)
{
        for (guint i = 0; i < argv->len; i++) {
                if (strstr(argv->pdata[i], text) != NULL)
                        return TRUE;
        }
        return FALSE;
}

static void
test_escape(void)
{
        struct {
                const gchar *in;
                const gchar *out;
        } cases[] = {
                { "", "" },
                { "/srv/plain", "/srv/plain" },
                { "/srv/a,b", "/srv/a,,b" },
                { ",", ",," },
                { "a,,b", "a,,,,b" },
                { "/tmp/my vms,2/dev", "/tmp/my vms,,2/dev" },
                { "/x/,leading and trailing,", "/x/,,leading and trailing,," },
        };
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree gchar *got = lima_qemu_opt_escape(cases[i].in);
                g_assert_cmpstr(got, ==, cases[i].out);
        }
}

static void
test_common_devices(void)
{
        g_autoptr(LimaConfig) cfg = test_qemu_config(TEST_BASE "mountType: reverse-sshfs\n");
        g_autoptr(LimaQemuPlan) plan = test_plan_new(cfg, TEST_DIR);
        g_autoptr(GPtrArray) argv = test_build(plan);

        g_assert_cmpstr(argv->pdata[0], ==, "qemu-system-x86_64");
        test_assert_pair(argv, "-machine", "q35,accel=tcg");
        test_assert_pair(argv, "-cpu", "max");
        test_assert_pair(argv, "-smp", "2");
        test_assert_pair(argv, "-m", "2048");
        test_assert_pair(argv, "-display", "none");
        g_assert_true(g_ptr_array_find_with_equal_func(argv, "-nodefaults", g_str_equal, NULL));
        test_assert_pair(argv, "-drive",
                         "file=" TEST_DIR "/diffdisk,if=none,id=disk0,format=qcow2,discard=on");
        test_assert_pair(argv, "-device", "virtio-blk-pci,drive=disk0,bootindex=0");
        test_assert_pair(argv, "-drive",
                         "file=" TEST_DIR "/cidata.iso,if=none,id=cidata,format=raw,readonly=on");
        test_assert_pair(argv, "-device", "virtio-blk-pci,drive=cidata");
        test_assert_pair(argv, "-netdev",
                         "user,id=net0,net=192.168.5.0/24,dhcpstart=192.168.5.15,"
                         "hostfwd=tcp:127.0.0.1:60022-:22");
        g_assert_true(test_has_arg_containing(argv, "virtio-net-pci,netdev=net0,mac=52:55:55:"));
        test_assert_pair(argv, "-device", "virtio-rng-pci");
        test_assert_pair(argv, "-chardev",
                         "socket,id=qmp0,path=" TEST_DIR "/qmp.sock,server=on,wait=off");
        test_assert_pair(argv, "-mon", "chardev=qmp0,mode=control");
        test_assert_pair(argv, "-chardev", "file,id=serial0,path=" TEST_DIR "/serial.log");
        test_assert_pair(argv, "-serial", "chardev:serial0");
        test_assert_pair(argv, "-pidfile", TEST_DIR "/qemu.pid");
        test_assert_pair(argv, "-chardev",
                         "socket,id=ga0,path=" TEST_DIR "/ga.sock,server=on,wait=off");
        test_assert_pair(argv, "-device",
                         "virtserialport,bus=vser0.0,chardev=ga0,name=io.lima.guestagent");
        g_assert_false(test_has_arg_containing(argv, "-kernel"));
}

static void
test_reverse_sshfs_has_no_fs_devices(void)
{
        g_autoptr(LimaConfig) cfg = test_qemu_config(TEST_BASE "mountType: reverse-sshfs\n"
                                                               "mounts:\n- location: /srv/ro\n"
                                                               "- location: /srv/rw\n"
                                                               "  writable: true\n");
        g_autoptr(LimaQemuPlan) plan = test_plan_new(cfg, TEST_DIR);
        g_autoptr(GPtrArray) argv = test_build(plan);

        g_assert_cmpuint(cfg->mounts->len, ==, 2);
        g_assert_false(test_has_arg_containing(argv, "-fsdev"));
        g_assert_false(test_has_arg_containing(argv, "virtio-9p"));
        g_assert_false(test_has_arg_containing(argv, "vhost-user-fs"));
        g_assert_false(test_has_arg_containing(argv, "memory-backend"));
        g_assert_false(test_has_arg_containing(argv, "-numa"));
}

static void
test_9p_ro_and_rw(void)
{
        g_autoptr(LimaConfig) cfg = test_qemu_config(TEST_BASE "mountType: 9p\n"
                                                               "mounts:\n- location: /srv/ro\n"
                                                               "- location: /srv/rw\n"
                                                               "  mountPoint: /mnt/rw\n"
                                                               "  writable: true\n"
                                                               "  9p:\n"
                                                               "    securityModel: mapped-xattr\n");
        g_autoptr(LimaQemuPlan) plan = test_plan_new(cfg, TEST_DIR);
        g_autoptr(GPtrArray) argv = test_build(plan);
        g_autofree gchar *tag_ro = lima_mount_tag("/srv/ro", "/srv/ro");
        g_autofree gchar *tag_rw = lima_mount_tag("/srv/rw", "/mnt/rw");
        g_autofree gchar *dev_ro = g_strdup_printf("virtio-9p-pci,fsdev=fs0,mount_tag=%s", tag_ro);
        g_autofree gchar *dev_rw = g_strdup_printf("virtio-9p-pci,fsdev=fs1,mount_tag=%s", tag_rw);

        test_assert_pair(argv, "-fsdev",
                         "local,id=fs0,path=/srv/ro,security_model=none,readonly=on");
        test_assert_pair(argv, "-device", dev_ro);
        test_assert_pair(argv, "-fsdev", "local,id=fs1,path=/srv/rw,security_model=mapped-xattr");
        test_assert_pair(argv, "-device", dev_rw);
        g_assert_false(test_has_arg_containing(argv, "vhost-user-fs"));
        g_assert_false(test_has_arg_containing(argv, "memory-backend"));
}

static void
test_virtiofs(void)
{
        g_autoptr(LimaConfig) cfg = test_qemu_config(TEST_BASE "mountType: virtiofs\n"
                                                               "mounts:\n- location: /srv/ro\n"
                                                               "- location: /srv/rw\n"
                                                               "  writable: true\n"
                                                               "  virtiofs:\n"
                                                               "    queueSize: 256\n");
        g_autoptr(LimaQemuPlan) plan = test_plan_new(cfg, TEST_DIR);
        g_autoptr(GPtrArray) argv = test_build(plan);
        g_autofree gchar *tag_ro = lima_mount_tag("/srv/ro", "/srv/ro");
        g_autofree gchar *tag_rw = lima_mount_tag("/srv/rw", "/srv/rw");
        g_autofree gchar *chr_ro =
            g_strdup_printf("socket,id=chr-%s,path=" TEST_DIR "/virtiofsd-%s.sock", tag_ro, tag_ro);
        g_autofree gchar *dev_ro = g_strdup_printf(
            "vhost-user-fs-pci,queue-size=1024,chardev=chr-%s,tag=%s,id=fs-%s,bus=lima-port0",
            tag_ro, tag_ro, tag_ro);
        g_autofree gchar *dev_rw = g_strdup_printf(
            "vhost-user-fs-pci,queue-size=256,chardev=chr-%s,tag=%s,id=fs-%s,bus=lima-port1",
            tag_rw, tag_rw, tag_rw);
        g_autofree gchar *sock =
            lima_qemu_virtiofsd_socket(plan, g_ptr_array_index(cfg->mounts, 0));
        g_autofree gchar *chr_prefix = g_strdup_printf("socket,id=chr-%s,path=", tag_ro);

        test_assert_pair(argv, "-chardev", chr_ro);
        g_assert_true(g_str_has_prefix(chr_ro + strlen(chr_prefix), sock));
        test_assert_pair(argv, "-device", dev_ro);
        test_assert_pair(argv, "-device", dev_rw);
        /* A root port per mount, then the spares for mounts added while running. */
        test_assert_pair(argv, "-device", "pcie-root-port,id=lima-port0,chassis=1,io-reserve=0");
        test_assert_pair(argv, "-device", "pcie-root-port,id=lima-port5,chassis=6,io-reserve=0");
        g_assert_false(test_has_arg_containing(argv, "lima-port6"));
        test_assert_pair(argv, "-object", "memory-backend-memfd,id=mem,size=2048M,share=on");
        test_assert_pair(argv, "-numa", "node,memdev=mem");
        g_assert_false(test_has_arg_containing(argv, "-fsdev"));
}

/* No mounts yet: shared memory and spare ports all the same, for mounts added later. */
static void
test_virtiofs_without_mounts_can_take_some_later(void)
{
        g_autoptr(LimaConfig) cfg = test_qemu_config(TEST_BASE "mountType: virtiofs\n"
                                                               "mounts: []\n");
        g_autoptr(LimaQemuPlan) plan = test_plan_new(cfg, TEST_DIR);
        g_autoptr(GPtrArray) argv = test_build(plan);

        test_assert_pair(argv, "-object", "memory-backend-memfd,id=mem,size=2048M,share=on");
        test_assert_pair(argv, "-device", "pcie-root-port,id=lima-port3,chassis=4,io-reserve=0");
        g_assert_false(test_has_arg_containing(argv, "lima-port4"));
        g_assert_false(test_has_arg_containing(argv, "vhost-user-fs"));
}

static void
test_virtiofs_bad_queue_size(void)
{
        g_autoptr(LimaConfig) cfg = test_qemu_config(TEST_BASE "mountType: virtiofs\n"
                                                               "mounts:\n- location: /srv/a\n");
        g_autoptr(LimaQemuPlan) plan = test_plan_new(cfg, TEST_DIR);
        LimaMount *m = g_ptr_array_index(cfg->mounts, 0);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) argv = NULL;

        lima_int_set(&m->virtiofs_queue_size, 1000, NULL);
        argv = lima_qemu_argv_build(plan, &error);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
        g_assert_null(argv);
        g_assert_nonnull(strstr(error->message, "power of two"));
}

static void
test_comma_and_space_escaping(void)
{
        g_autoptr(LimaConfig) cfg = test_qemu_config(TEST_BASE "mountType: 9p\n"
                                                               "mounts:\n"
                                                               "- location: \"/srv/a,b c\"\n"
                                                               "  writable: true\n");
        g_autoptr(LimaQemuPlan) plan = test_plan_new(cfg, "/tmp/my vms,2/dev");
        g_autoptr(GPtrArray) argv = NULL;

        plan->kernel = g_strdup("/boot/vmlinuz,1");
        argv = test_build(plan);
        test_assert_pair(argv, "-drive",
                         "file=/tmp/my vms,,2/dev/diffdisk,if=none,id=disk0,format=qcow2,"
                         "discard=on");
        test_assert_pair(argv, "-drive",
                         "file=/tmp/my vms,,2/dev/cidata.iso,if=none,id=cidata,format=raw,"
                         "readonly=on");
        test_assert_pair(argv, "-chardev",
                         "socket,id=qmp0,path=/tmp/my vms,,2/dev/qmp.sock,server=on,wait=off");
        test_assert_pair(argv, "-chardev", "file,id=serial0,path=/tmp/my vms,,2/dev/serial.log");
        test_assert_pair(argv, "-fsdev", "local,id=fs0,path=/srv/a,,b c,security_model=none");
        /* Options QEMU takes verbatim must not be escaped. */
        test_assert_pair(argv, "-pidfile", "/tmp/my vms,2/dev/qemu.pid");
        test_assert_pair(argv, "-kernel", "/boot/vmlinuz,1");
}

static void
test_kernel_boot(void)
{
        g_autoptr(LimaConfig) cfg = test_qemu_config(TEST_BASE);
        g_autoptr(LimaQemuPlan) plan = test_plan_new(cfg, TEST_DIR);
        g_autoptr(GPtrArray) argv = NULL;
        g_autoptr(GError) error = NULL;

        plan->kernel = g_strdup("/img/vmlinuz");
        plan->initrd = g_strdup("/img/initrd.img");
        plan->kernel_cmdline = g_strdup("root=LABEL=cloudimg-rootfs ro console=ttyS0,115200");
        argv = test_build(plan);
        test_assert_pair(argv, "-kernel", "/img/vmlinuz");
        test_assert_pair(argv, "-initrd", "/img/initrd.img");
        test_assert_pair(argv, "-append", "root=LABEL=cloudimg-rootfs ro console=ttyS0,115200");
        g_clear_pointer(&argv, g_ptr_array_unref);

        /* An initrd alone boots nothing. */
        g_clear_pointer(&plan->kernel, g_free);
        argv = lima_qemu_argv_build(plan, &error);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
        g_assert_null(argv);
}

static void
test_kvm(void)
{
        g_autoptr(LimaConfig) cfg = test_qemu_config(TEST_BASE);
        g_autoptr(LimaQemuPlan) plan = test_plan_new(cfg, TEST_DIR);
        g_autoptr(GPtrArray) argv = NULL;

        plan->accel = LIMA_ACCEL_KVM;
        argv = test_build(plan);
        test_assert_pair(argv, "-machine", "q35,accel=kvm");
        test_assert_pair(argv, "-cpu", "host");
}

static void
test_aarch64(void)
{
        g_autoptr(LimaConfig) cfg = test_qemu_config(
            "images:\n- location: /img/debian-arm64.qcow2\n  arch: aarch64\narch: aarch64\n"
            "memory: 1GiB\n");
        g_autoptr(LimaQemuPlan) plan = test_plan_new(cfg, TEST_DIR);
        g_autoptr(GPtrArray) argv = NULL;
        g_autoptr(GError) error = NULL;

        argv = lima_qemu_argv_build(plan, &error);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED);
        g_assert_null(argv);

        plan->firmware = g_strdup("/usr/share/AAVMF/AAVMF_CODE.fd");
        argv = test_build(plan);
        g_assert_cmpstr(argv->pdata[0], ==, "qemu-system-aarch64");
        test_assert_pair(argv, "-machine", "virt,gic-version=max,accel=tcg");
        test_assert_pair(argv, "-drive",
                         "if=pflash,format=raw,readonly=on,file=/usr/share/AAVMF/AAVMF_CODE.fd");
        test_assert_pair(argv, "-m", "1024");
}

static void
test_rejects_unsafe_values(void)
{
        g_autoptr(LimaConfig) cfg = test_qemu_config(TEST_BASE "mountType: 9p\n"
                                                               "mounts:\n- location: /srv/a\n");
        LimaMount *m = g_ptr_array_index(cfg->mounts, 0);
        g_autofree gchar *long_dir = g_strnfill(100, 'd');
        struct {
                const gchar *dir;
                const gchar *cmdline;
                const gchar *location;
                guint16 port;
                const gchar *mount_type;
                const gchar *message;
        } cases[] = {
                { "/tmp/new\nline", NULL, NULL, 22, NULL, "control character" },
                { "relative/dir", NULL, NULL, 22, NULL, "not an absolute path" },
                { NULL, "console=ttyS0\rinit=/bin/sh", NULL, 22, NULL, "control character" },
                { TEST_DIR, NULL, "/srv/tab\there", 22, NULL, "control character" },
                { TEST_DIR, NULL, NULL, 0, NULL, "SSH port" },
                { TEST_DIR, NULL, NULL, 22, "wsl2", "wsl2" },
        };
        g_autofree gchar *long_path = g_strconcat("/", long_dir, NULL);

        for (guint i = 0; i < G_N_ELEMENTS(cases) + 1; i++) {
                g_autoptr(LimaQemuPlan) plan = NULL;
                g_autoptr(GError) error = NULL;
                g_autoptr(GPtrArray) argv = NULL;
                g_autoptr(LimaMount) saved = lima_mount_copy(m);
                g_autofree gchar *saved_type = g_strdup(cfg->mount_type.value);
                const gchar *message = "unix socket";

                if (i < G_N_ELEMENTS(cases)) {
                        plan =
                            lima_qemu_plan_new(cfg, cases[i].dir != NULL ? cases[i].dir : TEST_DIR);
                        plan->ssh_local_port = cases[i].port;
                        if (cases[i].cmdline != NULL) {
                                plan->kernel = g_strdup("/img/vmlinuz");
                                plan->kernel_cmdline = g_strdup(cases[i].cmdline);
                        }
                        if (cases[i].location != NULL)
                                lima_string_set(&m->location, cases[i].location, NULL);
                        if (cases[i].mount_type != NULL)
                                lima_string_set(&cfg->mount_type, cases[i].mount_type, NULL);
                        message = cases[i].message;
                } else {
                        /* /ddd…/virtiofsd-<tag>.sock cannot fit in sun_path. */
                        plan = test_plan_new(cfg, long_path);
                        g_free(plan->qmp_sock);
                        plan->qmp_sock = g_strconcat(long_path, "/qmp.sock", NULL);
                }
                argv = lima_qemu_argv_build(plan, &error);
                g_assert_null(argv);
                g_assert_nonnull(error);
                g_test_message("case %u: %s", i, error->message);
                g_assert_nonnull(strstr(error->message, message));

                lima_string_set(&m->location, saved->location.value, NULL);
                lima_string_set(&cfg->mount_type, saved_type, NULL);
        }
}

static void
test_unsupported_arch(void)
{
        g_autoptr(LimaConfig) cfg = test_qemu_config(TEST_BASE);
        g_autoptr(LimaQemuPlan) plan = test_plan_new(cfg, TEST_DIR);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) argv = NULL;

        lima_string_set(&cfg->arch, "riscv64", NULL);
        argv = lima_qemu_argv_build(plan, &error);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED);
        g_assert_null(lima_qemu_binary_for_arch("riscv64"));
}

/* A real instance directory whose path has a comma and a space, so the escaping meets QEMU's
 * own parser; the mounts share <dir>/"share,1 x" and /tmp. */
typedef struct {
        gchar *dir;
        gchar *share;
        LimaConfig *cfg;
        LimaQemuPlan *plan;
} RealInstance;

static gboolean
real_instance_init(RealInstance *inst, const gchar *mount_type)
{
        g_autofree gchar *qemu = test_qemu_find("qemu-system-x86_64");
        g_autofree gchar *qemu_img = qemu != NULL ? test_qemu_find("qemu-img") : NULL;
        g_autoptr(GError) error = NULL;
        g_autofree gchar *yaml = NULL;
        const gchar *img[] = { qemu_img, "create", "-q", "-f", "qcow2", NULL, "64M", NULL };
        gint wait_status = 0;

        if (qemu == NULL || qemu_img == NULL)
                return FALSE;
        inst->dir = g_dir_make_tmp("lima-argv,test XXXXXX", &error);
        g_assert_no_error(error);
        inst->share = g_build_filename(inst->dir, "share,1 x", NULL);
        g_assert_cmpint(g_mkdir(inst->share, 0700), ==, 0);
        yaml = g_strdup_printf("images:\n- location: /img/debian.qcow2\n  arch: x86_64\n"
                               "cpus: 1\nmemory: 256MiB\nmountType: %s\n"
                               "mounts:\n- location: \"%s\"\n- location: /tmp\n"
                               "  mountPoint: /mnt/tmp\n  writable: true\n",
                               mount_type, inst->share);
        inst->cfg = test_qemu_config(yaml);
        inst->plan = lima_qemu_plan_new(inst->cfg, inst->dir);
        inst->plan->qemu_binary = g_steal_pointer(&qemu);
        inst->plan->ssh_local_port = test_qemu_free_port();
        g_file_set_contents(inst->plan->cidata_iso, "not really an ISO", -1, &error);
        g_assert_no_error(error);
        img[5] = inst->plan->diffdisk;
        g_spawn_sync(NULL, (gchar **)img, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                     &wait_status, &error);
        g_assert_no_error(error);
        g_spawn_check_wait_status(wait_status, &error);
        g_assert_no_error(error);
        return TRUE;
}

static void
real_instance_clear(RealInstance *inst)
{
        test_qemu_rm_rf(inst->dir);
        g_clear_pointer(&inst->plan, lima_qemu_plan_free);
        g_clear_pointer(&inst->cfg, lima_config_free);
        g_clear_pointer(&inst->share, g_free);
        g_clear_pointer(&inst->dir, g_free);
}

/* QEMU must accept the whole command line: started paused (-S), asked its state over QMP,
 * then told to quit. */
static void
real_instance_run_paused(RealInstance *inst)
{
        const LimaQemuPlan *plan = inst->plan;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) argv = test_build(plan);
        g_autoptr(LimaQmp) qmp = NULL;
        g_autofree gchar *pid_text = NULL;
        g_autofree gchar *status = NULL;
        gboolean running = TRUE;
        gint exit_status;
        GPid pid;

        g_ptr_array_add(argv, g_strdup("-S"));
        pid = test_qemu_spawn(argv);

        qmp = lima_qmp_connect(plan->qmp_sock, 30000, &error);
        g_assert_no_error(error);
        status = lima_qmp_query_status(qmp, &running, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(status, ==, "prelaunch");
        g_assert_false(running);
        g_assert_true(g_file_test(plan->ga_sock, G_FILE_TEST_EXISTS));
        g_assert_true(g_file_test(plan->serial_log, G_FILE_TEST_EXISTS));
        g_file_get_contents(plan->pidfile, &pid_text, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpint(g_ascii_strtoll(pid_text, NULL, 10), ==, pid);

        g_assert_true(lima_qmp_quit(qmp, &error));
        g_assert_no_error(error);
        exit_status = test_qemu_wait(pid, 10000);
        g_spawn_close_pid(pid);
        g_assert_true(WIFEXITED(exit_status));
        g_assert_cmpint(WEXITSTATUS(exit_status), ==, 0);
}

static void
test_real_qemu_accepts_9p_argv(void)
{
        RealInstance inst = { 0 };
        if (!real_instance_init(&inst, "9p"))
                return;
        real_instance_run_paused(&inst);
        real_instance_clear(&inst);
}

/* virtiofsd's -o is a FUSE option list: a backslash escapes a comma (or itself). */
static gchar *
test_fuse_opt(const gchar *location)
{
        GString *out = g_string_new("source=");
        for (const gchar *p = location; *p != '\0'; p++) {
                if (*p == ',' || *p == '\\')
                        g_string_append_c(out, '\\');
                g_string_append_c(out, *p);
        }
        return g_string_free(out, FALSE);
}

/* The C virtiofsd serving location on sock, once its socket is there. */
static GPid
test_start_virtiofsd(const gchar *virtiofsd, const gchar *sock, const gchar *location)
{
        g_autofree gchar *sock_arg = g_strconcat("--socket-path=", sock, NULL);
        g_autofree gchar *source = test_fuse_opt(location);
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        GPid pid;

        g_ptr_array_add(argv, (gpointer)virtiofsd);
        g_ptr_array_add(argv, sock_arg);
        g_ptr_array_add(argv, (gpointer) "-o");
        g_ptr_array_add(argv, source);
        g_ptr_array_add(argv, (gpointer) "-o");
        g_ptr_array_add(argv, (gpointer) "sandbox=namespace");
        pid = test_qemu_spawn(argv);
        while (!g_file_test(sock, G_FILE_TEST_EXISTS)) {
                g_assert_cmpint(waitpid(pid, NULL, WNOHANG), ==, 0);
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(20 * 1000);
        }
        return pid;
}

/* vhost-user-fs talks to its backend while QEMU starts, so this needs the C virtiofsd that
 * Debian's QEMU ships, which runs only as root. */
static void
test_real_qemu_accepts_virtiofs_argv(void)
{
        const gchar *virtiofsd = "/usr/lib/qemu/virtiofsd";
        RealInstance inst = { 0 };
        g_autoptr(GArray) daemons = g_array_new(FALSE, FALSE, sizeof(GPid));

        if (getuid() != 0 || !g_file_test(virtiofsd, G_FILE_TEST_IS_EXECUTABLE)) {
                g_test_skip("needs root and /usr/lib/qemu/virtiofsd");
                return;
        }
        if (!real_instance_init(&inst, "virtiofs"))
                return;
        for (guint i = 0; i < inst.cfg->mounts->len; i++) {
                const LimaMount *m = g_ptr_array_index(inst.cfg->mounts, i);
                g_autofree gchar *sock = lima_qemu_virtiofsd_socket(inst.plan, m);
                GPid pid = test_start_virtiofsd(virtiofsd, sock, m->location.value);
                g_array_append_val(daemons, pid);
        }
        real_instance_run_paused(&inst);
        /* Each virtiofsd serves one connection and leaves when QEMU does. */
        for (guint i = 0; i < daemons->len; i++) {
                GPid pid = g_array_index(daemons, GPid, i);
                test_qemu_wait(pid, 10000);
                g_spawn_close_pid(pid);
        }
        real_instance_clear(&inst);
}

/* The QMP arguments the agent hot-plugs with, as QEMU 7.2 itself takes them: a virtiofs
 * instance without mounts gets a device on its first spare port; a second device on the same
 * port is refused and its chardev taken back out. Root, for the C virtiofsd. */
static void
test_real_qemu_hotplugs_virtiofs(void)
{
        const gchar *virtiofsd = "/usr/lib/qemu/virtiofsd";
        RealInstance inst = { 0 };
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) argv = NULL;
        g_autoptr(LimaQmp) qmp = NULL;
        g_autoptr(LimaMount) hot = lima_mount_new();
        g_autoptr(LimaMount) second = lima_mount_new();
        g_autofree gchar *sock = NULL;
        g_autofree gchar *sock2 = NULL;
        g_autoptr(JsonNode) chardevs = NULL;
        g_autofree gchar *chardevs_text = NULL;
        GPid daemon, daemon2, pid;

        if (getuid() != 0 || !g_file_test(virtiofsd, G_FILE_TEST_IS_EXECUTABLE)) {
                g_test_skip("needs root and /usr/lib/qemu/virtiofsd");
                return;
        }
        if (!real_instance_init(&inst, "virtiofs"))
                return;
        g_ptr_array_set_size(inst.cfg->mounts, 0);
        lima_string_set(&hot->location, inst.share, NULL);
        lima_string_set(&hot->mount_point, "/mnt/hot", NULL);
        hot->tag = lima_mount_tag(inst.share, "/mnt/hot");
        lima_string_set(&second->location, inst.share, NULL);
        lima_string_set(&second->mount_point, "/mnt/second", NULL);
        second->tag = lima_mount_tag(inst.share, "/mnt/second");
        sock = lima_qemu_virtiofsd_socket(inst.plan, hot);
        sock2 = lima_qemu_virtiofsd_socket(inst.plan, second);
        daemon = test_start_virtiofsd(virtiofsd, sock, inst.share);
        daemon2 = test_start_virtiofsd(virtiofsd, sock2, inst.share);

        argv = test_build(inst.plan);
        g_ptr_array_add(argv, g_strdup("-S"));
        pid = test_qemu_spawn(argv);
        qmp = lima_qmp_connect(inst.plan->qmp_sock, 30000, &error);
        g_assert_no_error(error);

        g_assert_true(lima_qemu_hotplug_virtiofs(qmp, hot, sock, "lima-port0", &error));
        g_assert_no_error(error);
        g_assert_false(lima_qemu_hotplug_virtiofs(qmp, second, sock2, "lima-port0", &error));
        g_assert_nonnull(error);
        g_test_message("second device on the port: %s", error->message);
        g_clear_error(&error);
        chardevs = lima_qmp_execute(qmp, "query-chardev", NULL, &error);
        g_assert_no_error(error);
        chardevs_text = json_to_string(chardevs, FALSE);
        g_assert_nonnull(strstr(chardevs_text, "chr-lima-"));
        g_assert_null(strstr(chardevs_text, second->tag));

        g_assert_true(lima_qmp_quit(qmp, &error));
        test_qemu_wait(pid, 10000);
        g_spawn_close_pid(pid);
        test_qemu_wait(daemon, 10000);
        g_spawn_close_pid(daemon);
        /* The refused one was connected to and let go; it may have left already. */
        kill(daemon2, SIGTERM);
        test_qemu_wait(daemon2, 10000);
        g_spawn_close_pid(daemon2);
        real_instance_clear(&inst);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/qemu-argv/escape", test_escape);
        g_test_add_func("/qemu-argv/common-devices", test_common_devices);
        g_test_add_func("/qemu-argv/virtiofs-without-mounts-can-take-some-later",
                        test_virtiofs_without_mounts_can_take_some_later);
        g_test_add_func("/qemu-argv/reverse-sshfs-has-no-fs-devices",
                        test_reverse_sshfs_has_no_fs_devices);
        g_test_add_func("/qemu-argv/9p-ro-and-rw", test_9p_ro_and_rw);
        g_test_add_func("/qemu-argv/virtiofs", test_virtiofs);
        g_test_add_func("/qemu-argv/virtiofs-bad-queue-size", test_virtiofs_bad_queue_size);
        g_test_add_func("/qemu-argv/comma-and-space-escaping", test_comma_and_space_escaping);
        g_test_add_func("/qemu-argv/kernel-boot", test_kernel_boot);
        g_test_add_func("/qemu-argv/kvm", test_kvm);
        g_test_add_func("/qemu-argv/aarch64", test_aarch64);
        g_test_add_func("/qemu-argv/unsupported-arch", test_unsupported_arch);
        g_test_add_func("/qemu-argv/rejects-unsafe-values", test_rejects_unsafe_values);
        g_test_add_func("/qemu-argv/real-qemu-accepts-9p-argv", test_real_qemu_accepts_9p_argv);
        g_test_add_func("/qemu-argv/real-qemu-hotplugs-virtiofs", test_real_qemu_hotplugs_virtiofs);
        g_test_add_func("/qemu-argv/real-qemu-accepts-virtiofs-argv",
                        test_real_qemu_accepts_virtiofs_argv);
        return g_test_run();
}
