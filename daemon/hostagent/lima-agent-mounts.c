/* The host side of an instance's mounts while it runs: one virtiofsd per virtiofs mount
 * (before QEMU), one reverse-sshfs session per reverse-sshfs mount (once sshd answers), each
 * supervised: a dead helper is noticed at once and a reverse-sshfs session comes back. 9p
 * needs nothing here: QEMU serves it. */
#include <errno.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lima-agent-mounts.h"
#include "lima-agent-worker.h"
#include "lima-paths.h"
#include "lima-qemu-argv.h"
#include "lima-sftp-server.h"

#define LIMA_SSHFS_MOUNT_TIMEOUT_MS 30000

static gboolean
lima_agent_mount_type_is(LimaAgent *agent, const gchar *type)
{
        return g_strcmp0(agent->cfg->mount_type.value, type) == 0;
}

static void
lima_agent_mount_set(LimaAgentMount *m, const gchar *state, const gchar *error)
{
        g_free(m->state);
        m->state = g_strdup(state);
        g_free(m->error);
        m->error = g_strdup(error);
}

/* ---- virtiofs ---- */

static int
lima_agent_on_virtiofsd_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        LimaAgentMount *m = userdata;
        LimaAgent *agent = m->agent;
        g_autofree gchar *msg = NULL;

        lima_virtiofsd_exited(m->virtiofsd);
        m->virtiofsd_child = sd_event_source_disable_unref(m->virtiofsd_child);
        if (agent->stop_requested)
                return 0;
        msg = g_strdup_printf(_("virtiofsd for %s exited (%s %d); see virtiofsd-%s.stderr.log; "
                                "restart the instance to serve it again"),
                              m->mount->mount_point.value,
                              si->si_code == CLD_EXITED ? "status" : "signal", si->si_status,
                              m->mount->tag);
        lima_agent_mount_set(m, "failed", msg);
        lima_agent_add_error(agent, msg);
        lima_agent_emit_changed(agent, "Mounts", NULL);
        if (g_strcmp0(agent->status, "Running") == 0)
                lima_agent_set_status(agent, "Degraded");
        return 0;
}

gboolean
lima_agent_mounts_start_virtiofsd(LimaAgent *agent, GError **error)
{
        g_autoptr(LimaQemuPlan) plan = NULL;

        if (!lima_agent_mount_type_is(agent, "virtiofs") || agent->mounts->len == 0)
                return TRUE;
        if (agent->virtiofsd_bin == NULL) {
                agent->virtiofsd_bin = lima_virtiofsd_find(error);
                if (agent->virtiofsd_bin == NULL)
                        return FALSE;
        }
        plan = lima_qemu_plan_new(agent->cfg, agent->dir);
        for (guint i = 0; i < agent->mounts->len; i++) {
                LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                g_autofree gchar *sock = lima_qemu_virtiofsd_socket(plan, m->mount);
                LimaVirtiofsdIds ids = { .guest_uid = agent->cfg->user_uid.value,
                                         .guest_gid = -1,
                                         .owner_uid =
                                             agent->owner != NULL ? agent->owner->uid : 0 };
                /* --system starts them before the agent drops to the owner: once is enough. */
                if (m->virtiofsd != NULL)
                        continue;
                /* QEMU cannot start without every socket: one failure fails the start. */
                m->virtiofsd = lima_virtiofsd_start(agent->virtiofsd_bin, m->mount, sock,
                                                    agent->dir, &ids, error);
                if (m->virtiofsd == NULL) {
                        g_prefix_error(error, _("cannot serve %s over virtiofs: "),
                                       m->mount->location.value);
                        return FALSE;
                }
                sd_event_add_child(agent->event, &m->virtiofsd_child,
                                   lima_virtiofsd_pid(m->virtiofsd), WEXITED,
                                   lima_agent_on_virtiofsd_exit, m);
                /* A root daemon's socket is root's; QEMU runs as the owner and must reach it. */
                if (agent->owner != NULL && geteuid() == 0 &&
                    lchown(sock, agent->owner->uid, agent->owner->gid) != 0) {
                        int saved = errno;
                        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                                    _("cannot give %s to user %s: %s"), sock, agent->owner->name,
                                    g_strerror(saved));
                        return FALSE;
                }
        }
        return TRUE;
}

/* ---- reverse-sshfs ---- */

static void lima_agent_sshfs_check(LimaAgent *agent);

static void
lima_agent_sshfs_drop_watches(LimaAgentMount *m)
{
        m->ssh_child = sd_event_source_disable_unref(m->ssh_child);
        m->server_child = sd_event_source_disable_unref(m->server_child);
}

static int lima_agent_on_sshfs_exit(sd_event_source *s, const siginfo_t *si, void *userdata);

/* sftpDriver builtin: our own SFTP v3 server, confined to the location, on the session's
 * thread until the guest's sshfs goes away. */
static void
lima_agent_builtin_sftp(int in_fd, int out_fd, gpointer data)
{
        LimaAgentMount *m = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaSftpServer) server =
            lima_sftp_server_new(m->mount->location.value, !m->mount->writable.value, &error);
        if (server == NULL || !lima_sftp_server_run(server, in_fd, out_fd, NULL, &error))
                g_warning("builtin SFTP server for %s: %s", m->mount->location.value,
                          error != NULL ? error->message : "ended");
}

static gboolean
lima_agent_sshfs_start_one(LimaAgentMount *m, GError **error)
{
        LimaAgent *agent = m->agent;
        g_autofree gchar *ssh_config = g_build_filename(agent->dir, LIMA_FILE_SSH_CONFIG, NULL);
        g_autofree gchar *log = g_build_filename(agent->dir, "ha.sshfs.log", NULL);
        LimaSshfsOptions o = {
                .ssh_config = ssh_config,
                .instance_name = agent->name,
                .mount = m->mount,
                .log_path = log,
                .builtin_serve = lima_agent_builtin_sftp,
                .builtin_data = m,
        };
        pid_t server;

        m->sshfs = lima_sshfs_session_start(&o, error);
        if (m->sshfs == NULL)
                return FALSE;
        sd_event_add_child(agent->event, &m->ssh_child, lima_sshfs_session_ssh_pid(m->sshfs),
                           WEXITED, lima_agent_on_sshfs_exit, m);
        server = lima_sshfs_session_server_pid(m->sshfs);
        if (server > 0)
                sd_event_add_child(agent->event, &m->server_child, server, WEXITED,
                                   lima_agent_on_sshfs_exit, m);
        return TRUE;
}

/* ssh or the SFTP server died: the guest's mount is gone; bring a new session up. */
static int
lima_agent_on_sshfs_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        LimaAgentMount *m = userdata;
        LimaAgent *agent = m->agent;
        g_autoptr(GError) error = NULL;

        const gchar *which =
            si->si_pid == lima_sshfs_session_server_pid(m->sshfs) ? "SFTP server" : "ssh";

        lima_sshfs_session_child_exited(m->sshfs, si->si_pid);
        lima_agent_sshfs_drop_watches(m);
        if (agent->stop_requested)
                return 0;
        g_message("reverse-sshfs for %s lost its %s (pid %d); reconnecting",
                  m->mount->mount_point.value, which, si->si_pid);
        g_clear_pointer(&m->sshfs, lima_sshfs_session_free);
        if (!lima_agent_sshfs_start_one(m, &error)) {
                lima_agent_mount_set(m, "failed", error->message);
                lima_agent_add_error(agent, error->message);
                lima_agent_emit_changed(agent, "Mounts", NULL);
                lima_agent_set_status(agent, "Degraded");
                return 0;
        }
        lima_agent_sshfs_check(agent);
        return 0;
}

typedef struct {
        LimaAgent *agent;
        GPtrArray *sessions; /* LimaSshfsSession*, borrowed; NULL entries for other mounts */
        GPtrArray *errors;   /* gchar* or NULL, one per mount */
} LimaSshfsCheck;

static gboolean
lima_agent_sshfs_check_run(LimaWorker *worker, gpointer data, GError **error)
{
        LimaSshfsCheck *check = data;
        for (guint i = 0; i < check->sessions->len; i++) {
                LimaSshfsSession *s = g_ptr_array_index(check->sessions, i);
                g_autoptr(GError) local = NULL;
                if (s != NULL &&
                    !lima_sshfs_session_wait_mounted(s, LIMA_SSHFS_MOUNT_TIMEOUT_MS, &local))
                        check->errors->pdata[i] = g_strdup(local->message);
        }
        return TRUE;
}

static void
lima_agent_sshfs_check_free(LimaSshfsCheck *check)
{
        g_ptr_array_unref(check->sessions);
        g_ptr_array_unref(check->errors);
        g_free(check);
}

static LimaWorker *sshfs_worker;
static LimaSshfsCheck *sshfs_check;

static int
lima_agent_on_free_check(sd_event_source *s, void *userdata)
{
        g_clear_pointer(&sshfs_worker, lima_worker_free);
        g_clear_pointer(&sshfs_check, lima_agent_sshfs_check_free);
        sd_event_source_disable_unref(s);
        return 0;
}

static void
lima_agent_on_sshfs_checked(const LimaWorkerMessage *msg, gpointer user_data)
{
        LimaAgent *agent = user_data;
        if (msg->stage != NULL)
                return;
        agent->sshfs_checking = FALSE;
        for (guint i = 0; i < agent->mounts->len; i++) {
                LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                const gchar *err = g_ptr_array_index(sshfs_check->errors, i);
                if (g_ptr_array_index(sshfs_check->sessions, i) == NULL)
                        continue;
                lima_agent_mount_set(m, err == NULL ? "mounted" : "failed", err);
        }
        sd_event_add_defer(agent->event, NULL, lima_agent_on_free_check, NULL);
        lima_agent_mounts_settled(agent);
}

/* Checks, on a worker, that every session's mount is there; then settles the status. */
static void
lima_agent_sshfs_check(LimaAgent *agent)
{
        if (agent->sshfs_checking || sshfs_worker != NULL)
                return;
        agent->sshfs_checking = TRUE;
        sshfs_check = g_new0(LimaSshfsCheck, 1);
        sshfs_check->agent = agent;
        sshfs_check->sessions = g_ptr_array_new();
        sshfs_check->errors = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < agent->mounts->len; i++) {
                LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                g_ptr_array_add(sshfs_check->sessions, m->sshfs);
                g_ptr_array_add(sshfs_check->errors, NULL);
        }
        sshfs_worker = lima_worker_start(agent->event, "sshfs", lima_agent_sshfs_check_run,
                                         sshfs_check, lima_agent_on_sshfs_checked, agent);
}

gboolean
lima_agent_mounts_start_sshfs(LimaAgent *agent)
{
        if (!lima_agent_mount_type_is(agent, "reverse-sshfs") || agent->mounts->len == 0)
                return FALSE;
        lima_agent_emit_progress(agent, "mounts", 0.9, _("starting reverse-sshfs sessions"));
        for (guint i = 0; i < agent->mounts->len; i++) {
                LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                g_autoptr(GError) error = NULL;
                if (!lima_agent_sshfs_start_one(m, &error))
                        lima_agent_mount_set(m, "failed", error->message);
        }
        lima_agent_sshfs_check(agent);
        return TRUE;
}

void
lima_agent_mounts_stop(LimaAgent *agent)
{
        for (guint i = 0; i < agent->mounts->len; i++) {
                LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                lima_agent_sshfs_drop_watches(m);
                g_clear_pointer(&m->sshfs, lima_sshfs_session_free);
                m->virtiofsd_child = sd_event_source_disable_unref(m->virtiofsd_child);
                g_clear_pointer(&m->virtiofsd, lima_virtiofsd_free);
        }
        g_clear_pointer(&sshfs_worker, lima_worker_free);
        g_clear_pointer(&sshfs_check, lima_agent_sshfs_check_free);
}
