/*
 * Runtime mounts. virtiofs: a virtiofsd for the mount (started here, on the loop thread, as
 * at boot), then on a worker chardev-add + device_add into a free root port and a mount(8) in
 * the guest over ssh; removal is umount, device_del until DEVICE_DELETED, chardev-remove,
 * then the daemon stops. reverse-sshfs: a session as at boot; removal umounts in the guest
 * and ends it. 9p cannot be hot-plugged into QEMU.
 *
 * A mount being added joins agent->mounts only once it works, and one being removed leaves
 * it first, so the boot-time checks and supervision never see one half done.
 */
#include "lima-agent-hotplug.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "lima-agent-inotify.h"
#include "lima-agent-mounts.h"
#include "lima-agent-ssh.h"
#include "lima-agent-worker.h"
#include "lima-cidata.h"
#include "lima-config-resolve.h"
#include "lima-error.h"
#include "lima-paths.h"
#include "lima-qemu-argv.h"
#include "lima-qemu-hotplug.h"
#include "lima-qmp.h"
#include "lima-ssh-config.h"

#define LIMA_HOTPLUG_QMP_TIMEOUT_MS   10000
#define LIMA_HOTPLUG_SSHFS_TIMEOUT_MS 30000

/* Saves $LIST as the guest's list of runtime virtiofs mounts (see lima-cidata.c). */
#define LIMA_HOTPLUG_SAVE_LIST                                                                     \
        "printf '%s' \"$LIST\" > " LIMA_CIDATA_RUNTIME_MOUNTS ".new && "                           \
        "mv -f " LIMA_CIDATA_RUNTIME_MOUNTS ".new " LIMA_CIDATA_RUNTIME_MOUNTS "\n"

/* In the guest, as root: $1 tag, $2 options, $3 mount point, $4 its owner, $5 the runtime
 * list with it. The device shows up a moment after device_add: mount(8) is retried. */
static const gchar lima_hotplug_mount_script[] =
    "modprobe virtiofs 2>/dev/null\n"
    "if [ ! -d \"$3\" ]; then mkdir -p \"$3\" && chown \"$4\" \"$3\" || exit 1; fi\n"
    "mountpoint -q \"$3\" && { echo \"$3 is already a mount point in the guest\" >&2; exit 1; }\n"
    "LIST=$5\n"
    "i=0\n"
    "while [ $i -lt 60 ]; do\n"
    "\tif mount -t virtiofs -o \"$2\" \"$1\" \"$3\" 2>/dev/null; then\n"
    "\t\t" LIMA_HOTPLUG_SAVE_LIST "\t\texit 0\n"
    "\tfi\n"
    "\tsleep 0.5; i=$((i + 1))\n"
    "done\n"
    "mount -t virtiofs -o \"$2\" \"$1\" \"$3\" || exit 1\n" LIMA_HOTPLUG_SAVE_LIST;

/* $1 mount point: unmounted, or it was not mounted; $2 the runtime list without it (virtiofs),
 * or unset (reverse-sshfs: the host brings those back itself). */
static const gchar lima_hotplug_umount_script[] =
    "if mountpoint -q \"$1\"; then umount \"$1\" || exit 1; fi\n"
    "[ $# -ge 2 ] || exit 0\n"
    "LIST=$2\n" LIMA_HOTPLUG_SAVE_LIST;

typedef struct {
        LimaAgent *agent;
        sd_bus_message *call;
        gboolean add;
        LimaAgentMount *m; /* out of agent->mounts while the change runs */
        guint index;       /* remove: m's place in agent->mounts, which follows cfg->mounts */
        LimaMount *mount;  /* add: owned until it joins agent->cfg->mounts */
        gboolean virtiofs;
        LimaWorker *worker;
        /* for the worker: copies, so it never reads the agent */
        gchar *name;
        gchar *ssh_config;
        gchar *qmp_sock;
        gchar *socket_path;
        gchar *port_id;
        gchar *user;
        LimaMount *work_mount;
        gchar *runtime_list;       /* virtiofs: the guest's runtime list once the change is made */
        LimaSshfsSession *session; /* borrowed: unwatched while the worker runs */
} LimaHotplugOp;

static LimaHotplugOp *hotplug_op;

static void
lima_hotplug_op_free(LimaHotplugOp *op)
{
        g_clear_pointer(&op->worker, lima_worker_free);
        if (op->call != NULL)
                sd_bus_message_unref(op->call);
        g_clear_pointer(&op->m, lima_agent_mount_free);
        g_clear_pointer(&op->mount, lima_mount_free);
        g_clear_pointer(&op->work_mount, lima_mount_free);
        g_free(op->name);
        g_free(op->ssh_config);
        g_free(op->qmp_sock);
        g_free(op->socket_path);
        g_free(op->port_id);
        g_free(op->user);
        g_free(op->runtime_list);
        g_free(op);
}

static gboolean
lima_hotplug_ssh(LimaHotplugOp *op, const gchar *script, const gchar *const *args, GError **error)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_ptr_array_add(argv, (gpointer) "sudo");
        g_ptr_array_add(argv, (gpointer) "sh");
        g_ptr_array_add(argv, (gpointer) "-c");
        g_ptr_array_add(argv, (gpointer)script);
        g_ptr_array_add(argv, (gpointer) "sh");
        for (guint i = 0; args[i] != NULL; i++)
                g_ptr_array_add(argv, (gpointer)args[i]);
        g_ptr_array_add(argv, NULL);
        return lima_ssh_run(op->ssh_config, op->name, (const gchar *const *)argv->pdata, NULL,
                            error);
}

/* ---- on the worker ---- */

static gboolean
lima_hotplug_add_virtiofs_run(LimaHotplugOp *op, GError **error)
{
        const LimaMount *m = op->work_mount;
        const gchar *args[] = { m->tag,
                                m->writable.value ? "rw" : "ro",
                                m->mount_point.value,
                                op->user,
                                op->runtime_list,
                                NULL };
        g_autoptr(LimaQmp) qmp = lima_qmp_connect(op->qmp_sock, LIMA_HOTPLUG_QMP_TIMEOUT_MS, error);

        if (qmp == NULL || !lima_qemu_hotplug_virtiofs(qmp, m, op->socket_path, op->port_id, error))
                return FALSE;
        if (!lima_hotplug_ssh(op, lima_hotplug_mount_script, args, error)) {
                g_autoptr(GError) local = NULL;
                g_prefix_error(error, _("cannot mount %s in the guest: "), m->mount_point.value);
                /* Nothing may stay plugged for a mount that failed. */
                if (!lima_qemu_unplug_virtiofs(qmp, m, LIMA_QEMU_UNPLUG_TIMEOUT_MS, &local))
                        g_warning("%s", local->message);
                return FALSE;
        }
        return TRUE;
}

static gboolean
lima_hotplug_remove_virtiofs_run(LimaHotplugOp *op, GError **error)
{
        const LimaMount *m = op->work_mount;
        const gchar *args[] = { m->mount_point.value, op->runtime_list, NULL };
        g_autoptr(LimaQmp) qmp = NULL;

        if (!lima_hotplug_ssh(op, lima_hotplug_umount_script, args, error)) {
                g_prefix_error(error, _("cannot unmount %s in the guest (close what uses it): "),
                               m->mount_point.value);
                return FALSE;
        }
        qmp = lima_qmp_connect(op->qmp_sock, LIMA_HOTPLUG_QMP_TIMEOUT_MS, error);
        return qmp != NULL && lima_qemu_unplug_virtiofs(qmp, m, LIMA_QEMU_UNPLUG_TIMEOUT_MS, error);
}

static gboolean
lima_hotplug_run(LimaWorker *worker, gpointer data, GError **error)
{
        LimaHotplugOp *op = data;
        const gchar *umount_args[] = { op->work_mount->mount_point.value, NULL };

        if (op->virtiofs)
                return op->add ? lima_hotplug_add_virtiofs_run(op, error)
                               : lima_hotplug_remove_virtiofs_run(op, error);
        if (op->add)
                return lima_sshfs_session_wait_mounted(op->session, LIMA_HOTPLUG_SSHFS_TIMEOUT_MS,
                                                       error);
        /* Unmounted here, so a busy mount is refused; ending the session then is clean. */
        if (!lima_hotplug_ssh(op, lima_hotplug_umount_script, umount_args, error)) {
                g_prefix_error(error, _("cannot unmount %s in the guest (close what uses it): "),
                               op->work_mount->mount_point.value);
                return FALSE;
        }
        return TRUE;
}

/* ---- back on the loop ---- */

/* Running or Degraded, from the mounts as they are now. */
static void
lima_hotplug_settle(LimaAgent *agent)
{
        gboolean degraded = FALSE;

        g_ptr_array_set_size(agent->errors, 0);
        for (guint i = 0; i < agent->mounts->len; i++) {
                LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                if (m->error == NULL)
                        continue;
                g_ptr_array_add(agent->errors,
                                g_strdup_printf("%s: %s", m->mount->mount_point.value, m->error));
                degraded = TRUE;
        }
        lima_agent_emit_changed(agent, "Mounts", "Errors", NULL);
        lima_agent_set_status(agent, degraded ? "Degraded" : "Running");
}

static void
lima_hotplug_reply_error(sd_bus_message *call, const gchar *name, const GError *error)
{
        if (call != NULL)
                sd_bus_reply_method_errorf(call, name, "%s", error->message);
}

static void
lima_hotplug_finish(LimaHotplugOp *op, gboolean ok, const GError *error)
{
        LimaAgent *agent = op->agent;

        if (op->add && ok) {
                /* The mount joins the config and the list; its helpers are watched now. */
                LimaMount *mount = g_steal_pointer(&op->mount);
                g_ptr_array_add(agent->cfg->mounts, mount);
                op->m->mount = mount;
                lima_agent_mount_set(op->m, "mounted", NULL);
                lima_agent_mount_watch(op->m);
                g_ptr_array_add(agent->mounts, g_steal_pointer(&op->m));
                /* mountInotify covers it like the mounts from the start. */
                lima_agent_inotify_watch_mount(agent, mount);
                g_message("added %s at %s", mount->location.value, mount->mount_point.value);
        } else if (!op->add && ok) {
                LimaMount *mount = (LimaMount *)op->m->mount;
                g_message("removed %s from %s", mount->location.value, mount->mount_point.value);
                lima_agent_inotify_unwatch_mount(agent, mount->mount_point.value);
                /* The worker already unmounted it in the guest: no second round trip from
                 * the loop when the session ends. */
                if (op->m->sshfs != NULL)
                        lima_sshfs_session_forget_mount(op->m->sshfs);
                g_clear_pointer(&op->m, lima_agent_mount_free);
                g_ptr_array_remove(agent->cfg->mounts, mount);
        } else if (!op->add) {
                /* Still mounted in the guest: it goes back where it was (the guest rechecks
                 * pair agent->mounts with cfg->mounts by index), watched again. */
                lima_agent_mount_watch(op->m);
                g_ptr_array_insert(agent->mounts, (gint)MIN(op->index, agent->mounts->len),
                                   g_steal_pointer(&op->m));
        }
        /* Mounts changes before the reply, so whoever asked sees the new list at once. A
         * failed add: op_free ends its virtiofsd or session. */
        if (!agent->stop_requested)
                lima_hotplug_settle(agent);
        if (ok)
                sd_bus_reply_method_return(op->call, NULL);
        else
                lima_hotplug_reply_error(op->call, "io.lima.lima1.Error.Failed", error);
        g_clear_pointer(&op->call, sd_bus_message_unref);
}

static int
lima_hotplug_on_defer_free(sd_event_source *s, void *userdata)
{
        lima_hotplug_op_free(userdata);
        sd_event_source_disable_unref(s);
        return 0;
}

static void
lima_hotplug_on_report(const LimaWorkerMessage *msg, gpointer user_data)
{
        LimaHotplugOp *op = user_data;

        if (msg->stage != NULL)
                return;
        lima_hotplug_finish(op, msg->ok, msg->error);
        /* A worker cannot be freed from inside its own report. */
        hotplug_op = NULL;
        sd_event_add_defer(op->agent->event, NULL, lima_hotplug_on_defer_free, op);
        /* A guest that came back meanwhile is checked now that the list holds still. */
        lima_agent_guest_recheck_pending(op->agent);
}

gboolean
lima_agent_hotplug_busy(LimaAgent *agent)
{
        return hotplug_op != NULL;
}

void
lima_agent_hotplug_stop(LimaAgent *agent)
{
        g_autoptr(GError) error = NULL;
        LimaHotplugOp *op = hotplug_op;

        if (op == NULL)
                return;
        hotplug_op = NULL;
        /* Waits for the worker: its ssh and QMP calls are bounded. */
        g_clear_pointer(&op->worker, lima_worker_free);
        g_set_error_literal(&error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                            _("the instance is stopping"));
        if (op->call != NULL)
                lima_hotplug_finish(op, FALSE, error);
        lima_hotplug_op_free(op);
}

static gboolean
lima_hotplug_check_idle(LimaAgent *agent, GError **error)
{
        if (hotplug_op != NULL) {
                g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                                    _("another mount is being added or removed; try again when "
                                      "it is done"));
                return FALSE;
        }
        if (agent->stop_requested || (g_strcmp0(agent->status, "Running") != 0 &&
                                      g_strcmp0(agent->status, "Degraded") != 0)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                            _("the instance is %s; mounts change only while it is Running"),
                            agent->status);
                return FALSE;
        }
        /* The check after a reboot reads the mount list on a worker: it stays as it is. */
        if (lima_agent_guest_checking(agent)) {
                g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                                    _("the guest came back from a reboot and its mounts are "
                                      "being checked; try again in a few seconds"));
                return FALSE;
        }
        return TRUE;
}

static gboolean
lima_hotplug_refuse_9p(LimaAgent *agent, GError **error)
{
        if (g_strcmp0(agent->cfg->mount_type.value, "9p") != 0)
                return TRUE;
        g_set_error_literal(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("9p mounts cannot be hot-plugged into QEMU; change the mount "
                              "while the instance is stopped (it takes effect at the next "
                              "start), or use mountType virtiofs or reverse-sshfs"));
        return FALSE;
}

static LimaAgentMount *
lima_hotplug_find(LimaAgent *agent, const gchar *mount_point, guint *index)
{
        g_autofree gchar *want = g_canonicalize_filename(mount_point, "/");
        for (guint i = 0; i < agent->mounts->len; i++) {
                LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                g_autofree gchar *have = g_canonicalize_filename(m->mount->mount_point.value, "/");
                if (g_str_equal(have, want)) {
                        if (index != NULL)
                                *index = i;
                        return m;
                }
        }
        return NULL;
}

/* The lowest root port no virtiofs mount sits on, or -1. */
static gint
lima_hotplug_free_port(LimaAgent *agent)
{
        for (guint p = 0; p < agent->pcie_ports; p++) {
                gboolean used = FALSE;
                for (guint i = 0; i < agent->mounts->len && !used; i++)
                        used = ((LimaAgentMount *)g_ptr_array_index(agent->mounts, i))->port ==
                               (gint)p;
                if (!used)
                        return (gint)p;
        }
        return -1;
}

/* config resolved the way the agent resolved lima.yaml at start. */
static LimaConfig *
lima_hotplug_resolve(LimaAgent *agent, const gchar *config, GError **error)
{
        g_autofree gchar *path = g_build_filename(agent->dir, LIMA_FILE_CONFIG, NULL);
        g_autofree gchar *version_path = g_build_filename(agent->dir, LIMA_FILE_VERSION, NULL);
        g_autoptr(LimaHost) host = lima_host_new_from_system(agent->name, agent->dir);
        g_autoptr(LimaDiagnostics) diags = lima_diagnostics_new(path);
        g_autoptr(LimaConfig) cfg = NULL;

        if (!g_file_get_contents(version_path, &host->existing_version, NULL, NULL))
                host->existing_version = g_strdup("");
        g_strstrip(host->existing_version);
        cfg =
            lima_config_resolve(config, strlen(config), path, host, agent->lima_home, diags, error);
        if (cfg == NULL || !lima_diagnostics_check(diags, error))
                return NULL;
        return g_steal_pointer(&cfg);
}

static LimaHotplugOp *
lima_hotplug_op_new(LimaAgent *agent, sd_bus_message *call, gboolean add)
{
        LimaHotplugOp *op = g_new0(LimaHotplugOp, 1);
        op->agent = agent;
        op->call = sd_bus_message_ref(call);
        op->add = add;
        op->virtiofs = g_strcmp0(agent->cfg->mount_type.value, "virtiofs") == 0;
        op->name = g_strdup(agent->name);
        op->ssh_config = g_build_filename(agent->dir, LIMA_FILE_SSH_CONFIG, NULL);
        op->qmp_sock = g_build_filename(agent->dir, LIMA_FILE_QMP_SOCK, NULL);
        op->user = g_strdup(agent->cfg->user_name.value);
        return op;
}

static void
lima_hotplug_start_worker(LimaHotplugOp *op)
{
        hotplug_op = op;
        op->worker = lima_worker_start(op->agent->event, "hotplug", lima_hotplug_run, op,
                                       lima_hotplug_on_report, op);
}

/* The guest's list of runtime virtiofs mounts: the ones added since start, but skip, plus
 * also when not NULL. */
static gchar *
lima_hotplug_runtime_list(LimaAgent *agent, const LimaAgentMount *skip, const LimaMount *also)
{
        GString *out = g_string_new(NULL);
        for (guint i = 0; i < agent->mounts->len; i++) {
                LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                if (m->hot && m != skip)
                        g_string_append_printf(out, "%s\t%s\t%s\n", m->mount->tag,
                                               m->mount->writable.value ? "rw" : "ro",
                                               m->mount->mount_point.value);
        }
        if (also != NULL)
                g_string_append_printf(out, "%s\t%s\t%s\n", also->tag,
                                       also->writable.value ? "rw" : "ro", also->mount_point.value);
        return g_string_free(out, FALSE);
}

/* Starts the host side of a new mount: its virtiofsd on a free port, or its session. */
static gboolean
lima_hotplug_start_helper(LimaAgent *agent, LimaHotplugOp *op, GError **error)
{
        LimaAgentMount *m = op->m;

        if (!op->virtiofs) {
                if (!lima_agent_mount_start_sshfs(m, error))
                        return FALSE;
                op->session = m->sshfs;
                return TRUE;
        }
        m->port = lima_hotplug_free_port(agent);
        if (m->port < 0) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("all %u PCIe ports for virtiofs devices are taken; add the mount "
                              "while the instance is stopped (each mount gets a port at "
                              "start), or remove another first"),
                            agent->pcie_ports);
                return FALSE;
        }
        if (agent->virtiofsd_bin == NULL &&
            (agent->virtiofsd_bin = lima_virtiofsd_find(error)) == NULL)
                return FALSE;
        {
                g_autoptr(LimaQemuPlan) plan = lima_qemu_plan_new(agent->cfg, agent->dir);
                LimaVirtiofsdIds ids = { .guest_uid = agent->cfg->user_uid.value, .guest_gid = -1 };
                op->socket_path = lima_qemu_virtiofsd_socket(plan, m->mount);
                op->port_id = lima_qemu_pcie_port_id((guint)m->port);
                m->virtiofsd = lima_virtiofsd_start(agent->virtiofsd_bin, m->mount, op->socket_path,
                                                    agent->dir, &ids, error);
        }
        if (m->virtiofsd == NULL) {
                g_prefix_error(error, _("cannot serve %s over virtiofs: "),
                               m->mount->location.value);
                return FALSE;
        }
        return TRUE;
}

gboolean
lima_agent_hotplug_add(LimaAgent *agent, sd_bus_message *call, const gchar *config,
                       const gchar *mount_point, GError **error)
{
        g_autoptr(LimaConfig) cfg = NULL;
        LimaHotplugOp *op;
        LimaMount *found = NULL;
        g_autofree gchar *want = g_canonicalize_filename(mount_point, "/");

        if (!lima_hotplug_check_idle(agent, error) || !lima_hotplug_refuse_9p(agent, error))
                return FALSE;
        cfg = lima_hotplug_resolve(agent, config, error);
        if (cfg == NULL)
                return FALSE;
        if (g_strcmp0(cfg->mount_type.value, agent->cfg->mount_type.value) != 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            _("the instance runs with mountType %s, the new config says %s; "
                              "restart it to change the mount type"),
                            agent->cfg->mount_type.value, cfg->mount_type.value);
                return FALSE;
        }
        for (guint i = 0; i < cfg->mounts->len && found == NULL; i++) {
                LimaMount *m = g_ptr_array_index(cfg->mounts, i);
                g_autofree gchar *have = g_canonicalize_filename(m->mount_point.value, "/");
                if (g_str_equal(have, want))
                        found = m;
        }
        if (found == NULL) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            _("the config has no mount at %s"), mount_point);
                return FALSE;
        }
        if (lima_hotplug_find(agent, mount_point, NULL) != NULL) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            _("%s is mounted already; remove it first"), mount_point);
                return FALSE;
        }
        op = lima_hotplug_op_new(agent, call, TRUE);
        op->mount = lima_mount_copy(found);
        op->work_mount = lima_mount_copy(found);
        op->m = g_new0(LimaAgentMount, 1);
        op->m->agent = agent;
        op->m->mount = op->mount;
        op->m->state = g_strdup("pending");
        op->m->port = -1;
        op->m->hot = TRUE;
        if (op->virtiofs)
                op->runtime_list = lima_hotplug_runtime_list(agent, NULL, op->mount);
        if (!lima_hotplug_start_helper(agent, op, error)) {
                lima_hotplug_op_free(op);
                return FALSE;
        }
        g_message("adding %s at %s", found->location.value, found->mount_point.value);
        lima_hotplug_start_worker(op);
        return TRUE;
}

gboolean
lima_agent_hotplug_remove(LimaAgent *agent, sd_bus_message *call, const gchar *mount_point,
                          GError **error)
{
        LimaHotplugOp *op;
        LimaAgentMount *m;
        guint index = 0;

        if (!lima_hotplug_check_idle(agent, error) || !lima_hotplug_refuse_9p(agent, error))
                return FALSE;
        m = lima_hotplug_find(agent, mount_point, &index);
        if (m == NULL) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            _("the instance has no mount at %s"), mount_point);
                return FALSE;
        }
        op = lima_hotplug_op_new(agent, call, FALSE);
        /* Out of the list and unwatched: its helpers ending now is the point. */
        if (op->virtiofs)
                op->runtime_list = lima_hotplug_runtime_list(agent, m, NULL);
        op->index = index;
        op->m = g_ptr_array_steal_index(agent->mounts, index);
        lima_agent_mount_unwatch(op->m);
        op->work_mount = lima_mount_copy(op->m->mount);
        lima_agent_emit_changed(agent, "Mounts", NULL);
        g_message("removing %s", mount_point);
        lima_hotplug_start_worker(op);
        return TRUE;
}
