/* The host side of an instance's mounts while it runs: one virtiofsd per virtiofs mount
 * (before QEMU), one reverse-sshfs session per reverse-sshfs mount (once sshd answers), each
 * supervised: a dead helper is noticed at once and a reverse-sshfs session comes back. 9p
 * needs nothing here: QEMU serves it. */
#include <errno.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lima-agent-hotplug.h"
#include "lima-agent-mounts.h"
#include "lima-paths.h"
#include "lima-qemu-argv.h"
#include "lima-sftp-server.h"

/* A session's mount is checked every so often until it is there, for so long. */
#define LIMA_SSHFS_CHECK_INTERVAL_USEC (300 * 1000)
#define LIMA_SSHFS_MOUNT_TIMEOUT_USEC  (30 * G_USEC_PER_SEC)
/* Restarts of sessions that end before mounting: from this, doubling, up to that. */
#define LIMA_SSHFS_BACKOFF_MIN_USEC (500 * 1000)
#define LIMA_SSHFS_BACKOFF_MAX_USEC (5 * G_USEC_PER_SEC)
/* How long a session waits for a reconnecting master before connecting on its own. */
#define LIMA_SSHFS_WAIT_MASTER_USEC (30 * G_USEC_PER_SEC)
/* Sessions in a row that ended before mounting, after which one skips the master. */
#define LIMA_SSHFS_DIRECT_AFTER 3

static gboolean
lima_agent_mount_type_is(LimaAgent *agent, const gchar *type)
{
        return g_strcmp0(agent->cfg->mount_type.value, type) == 0;
}

void
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
                LimaVirtiofsdIds ids = { .guest_uid = agent->cfg->user_uid.value, .guest_gid = -1 };
                if (m->virtiofsd != NULL)
                        continue;
                /* QEMU cannot start without every socket: one failure fails the start, and
                 * the mount shows why (say, no /etc/subuid range). */
                m->virtiofsd = lima_virtiofsd_start(agent->virtiofsd_bin, m->mount, sock,
                                                    agent->dir, &ids, error);
                if (m->virtiofsd == NULL) {
                        g_prefix_error(error, _("cannot serve %s over virtiofs: "),
                                       m->mount->location.value);
                        lima_agent_mount_set(m, "failed", (*error)->message);
                        lima_agent_emit_changed(agent, "Mounts", NULL);
                        return FALSE;
                }
                sd_event_add_child(agent->event, &m->virtiofsd_child,
                                   lima_virtiofsd_pid(m->virtiofsd), WEXITED,
                                   lima_agent_on_virtiofsd_exit, m);
        }
        return TRUE;
}

/* ---- reverse-sshfs ---- */

static void lima_agent_sshfs_restart(LimaAgentMount *m);

static void
lima_agent_sshfs_drop_watches(LimaAgentMount *m)
{
        m->ssh_child = sd_event_source_disable_unref(m->ssh_child);
        m->server_child = sd_event_source_disable_unref(m->server_child);
}

/* A check in flight is moot once its session is gone. */
static void
lima_agent_sshfs_cancel_check(LimaAgentMount *m)
{
        m->sshfs_timer = sd_event_source_disable_unref(m->sshfs_timer);
        m->check_child = sd_event_source_disable_unref(m->check_child);
        if (m->check_pid > 0) {
                kill(m->check_pid, SIGKILL);
                waitpid(m->check_pid, NULL, 0);
                m->check_pid = 0;
        }
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

/* Every reverse-sshfs mount has its answer: report Running or Degraded. */
static void
lima_agent_sshfs_maybe_settle(LimaAgent *agent)
{
        for (guint i = 0; i < agent->mounts->len; i++) {
                LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                if (g_str_equal(m->state, "pending"))
                        return;
        }
        lima_agent_mounts_settled(agent);
}

static int lima_agent_on_sshfs_check_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void
lima_agent_sshfs_check_later(LimaAgentMount *m)
{
        sd_event_add_time_relative(m->agent->event, &m->sshfs_timer, CLOCK_MONOTONIC,
                                   LIMA_SSHFS_CHECK_INTERVAL_USEC, 0,
                                   lima_agent_on_sshfs_check_timer, m);
}

static int
lima_agent_on_sshfs_checked(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        LimaAgentMount *m = userdata;
        LimaAgent *agent = m->agent;
        g_autofree gchar *msg = NULL;

        m->check_child = sd_event_source_disable_unref(m->check_child);
        m->check_pid = 0;
        if (agent->stop_requested || m->sshfs == NULL)
                return 0;
        if (si->si_code == CLD_EXITED && si->si_status == 0) {
                g_message("reverse-sshfs %s: mounted %.1f s after its session started",
                          m->mount->mount_point.value,
                          (gdouble)(g_get_monotonic_time() - m->sshfs_started) / G_USEC_PER_SEC);
                m->sshfs_failures = 0;
                lima_agent_mount_set(m, "mounted", NULL);
                lima_agent_emit_changed(agent, "Mounts", NULL);
                lima_agent_sshfs_maybe_settle(agent);
                return 0;
        }
        if (g_get_monotonic_time() - m->sshfs_started < LIMA_SSHFS_MOUNT_TIMEOUT_USEC) {
                lima_agent_sshfs_check_later(m);
                return 0;
        }
        msg = g_strdup_printf(_("sshfs did not mount %s in the guest within %d s; see "
                                "ha.sshfs.log in the instance folder"),
                              m->mount->mount_point.value,
                              (int)(LIMA_SSHFS_MOUNT_TIMEOUT_USEC / G_USEC_PER_SEC));
        lima_agent_mount_set(m, "failed", msg);
        lima_agent_sshfs_maybe_settle(agent);
        return 0;
}

/* Asks the guest, without blocking the loop, whether the session's mount is there. */
static int
lima_agent_on_sshfs_check_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        LimaAgentMount *m = userdata;
        g_autoptr(GError) error = NULL;

        m->sshfs_timer = sd_event_source_disable_unref(m->sshfs_timer);
        if (m->sshfs == NULL || !lima_sshfs_session_is_alive(m->sshfs))
                return 0; /* the exit handler takes over */
        m->check_pid = lima_sshfs_session_check_spawn(m->sshfs, &error);
        if (m->check_pid <= 0) {
                g_warning("cannot check %s: %s", m->mount->mount_point.value, error->message);
                lima_agent_sshfs_check_later(m);
                return 0;
        }
        sd_event_add_child(m->agent->event, &m->check_child, m->check_pid, WEXITED,
                           lima_agent_on_sshfs_checked, m);
        return 0;
}

/* Watches the helpers of a session started unwatched (lima_agent_mount_start_sshfs). */
static void
lima_agent_sshfs_watch(LimaAgentMount *m)
{
        LimaAgent *agent = m->agent;
        pid_t server = lima_sshfs_session_server_pid(m->sshfs);

        sd_event_add_child(agent->event, &m->ssh_child, lima_sshfs_session_ssh_pid(m->sshfs),
                           WEXITED, lima_agent_on_sshfs_exit, m);
        if (server > 0)
                sd_event_add_child(agent->event, &m->server_child, server, WEXITED,
                                   lima_agent_on_sshfs_exit, m);
}

gboolean
lima_agent_mount_start_sshfs(LimaAgentMount *m, GError **error)
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
                /* Sessions that keep failing on the master try a connection of their own. */
                .direct = m->sshfs_failures >= LIMA_SSHFS_DIRECT_AFTER,
                .require_confinement = agent->owner != NULL,
        };

        m->sshfs_started = g_get_monotonic_time();
        m->sshfs = lima_sshfs_session_start(&o, error);
        return m->sshfs != NULL;
}

static gboolean
lima_agent_sshfs_start_one(LimaAgentMount *m, GError **error)
{
        if (!lima_agent_mount_start_sshfs(m, error))
                return FALSE;
        lima_agent_sshfs_watch(m);
        lima_agent_sshfs_check_later(m);
        return TRUE;
}

/* Sessions that end before they mount (the guest is rebooting, sshd is not up yet) are
 * retried ever more slowly, up to a bound, never given up. The first retry is at once. */
static gint64
lima_agent_sshfs_backoff(guint failures)
{
        gint64 delay = LIMA_SSHFS_BACKOFF_MIN_USEC;

        if (failures <= 1)
                return 0;
        for (guint i = 2; i < failures && delay < LIMA_SSHFS_BACKOFF_MAX_USEC; i++)
                delay *= 2;
        return MIN(delay, LIMA_SSHFS_BACKOFF_MAX_USEC);
}

static int
lima_agent_on_sshfs_restart_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        LimaAgentMount *m = userdata;

        m->sshfs_timer = sd_event_source_disable_unref(m->sshfs_timer);
        lima_agent_sshfs_restart(m);
        return 0;
}

static void
lima_agent_sshfs_restart(LimaAgentMount *m)
{
        LimaAgent *agent = m->agent;
        g_autoptr(GError) error = NULL;
        gint64 delay;

        if (agent->stop_requested)
                return;
        if (lima_agent_sshfs_start_one(m, &error))
                return;
        /* Nothing ran (a local problem, e.g. the location is gone): say so, keep trying. */
        lima_agent_mount_set(m, "failed", error->message);
        lima_agent_emit_changed(agent, "Mounts", NULL);
        lima_agent_sshfs_maybe_settle(agent);
        m->sshfs_failures++;
        delay = MAX(lima_agent_sshfs_backoff(m->sshfs_failures), LIMA_SSHFS_BACKOFF_MIN_USEC);
        sd_event_add_time_relative(agent->event, &m->sshfs_timer, CLOCK_MONOTONIC, (uint64_t)delay,
                                   0, lima_agent_on_sshfs_restart_timer, m);
}

/* ssh or the SFTP server died: the guest's mount is gone; bring a new session up. */
static int
lima_agent_on_sshfs_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        LimaAgentMount *m = userdata;
        LimaAgent *agent = m->agent;
        gboolean was_mounted = g_str_equal(m->state, "mounted");
        const gchar *which =
            si->si_pid == lima_sshfs_session_server_pid(m->sshfs) ? "SFTP server" : "ssh";
        g_autofree gchar *msg = NULL;
        gint64 delay;

        lima_sshfs_session_child_exited(m->sshfs, si->si_pid);
        lima_agent_sshfs_drop_watches(m);
        lima_agent_sshfs_cancel_check(m);
        if (agent->stop_requested)
                return 0;
        g_message("reverse-sshfs for %s lost its %s (pid %d, %s %d); reconnecting",
                  m->mount->mount_point.value, which, si->si_pid,
                  si->si_code == CLD_EXITED ? "status" : "signal", si->si_status);
        /* The next session's own command detaches what is left: no round trip now. */
        lima_sshfs_session_forget_mount(m->sshfs);
        g_clear_pointer(&m->sshfs, lima_sshfs_session_free);
        m->sshfs_failures = was_mounted ? 1 : m->sshfs_failures + 1;
        msg =
            g_strdup_printf(_("the reverse-sshfs session ended (%s exited); reconnecting"), which);
        lima_agent_mount_set(m, "pending", msg);
        lima_agent_emit_changed(agent, "Mounts", NULL);
        if (g_strcmp0(agent->status, "Running") == 0)
                lima_agent_set_status(agent, "Degraded");
        delay = lima_agent_sshfs_backoff(m->sshfs_failures);
        /* The master is reconnecting (it took this session with it, or the guest went away):
         * handshakes of our own beside its one would only crowd a slow guest's sshd, and
         * time out. lima_agent_mounts_kick_sshfs() starts the session the moment the master
         * is up; the timer is in case it never is. */
        if (agent->ssh_master_wanted && !agent->ssh_master_up)
                delay = LIMA_SSHFS_WAIT_MASTER_USEC;
        if (delay == 0) {
                lima_agent_sshfs_restart(m);
                return 0;
        }
        sd_event_add_time_relative(agent->event, &m->sshfs_timer, CLOCK_MONOTONIC, (uint64_t)delay,
                                   0, lima_agent_on_sshfs_restart_timer, m);
        return 0;
}

gboolean
lima_agent_mounts_start_sshfs(LimaAgent *agent)
{
        if (!lima_agent_mount_type_is(agent, "reverse-sshfs") || agent->mounts->len == 0)
                return FALSE;
        lima_agent_emit_progress(agent, "mounts", 0.9, _("starting reverse-sshfs sessions"));
        for (guint i = 0; i < agent->mounts->len; i++)
                lima_agent_mount_set(g_ptr_array_index(agent->mounts, i), "pending", NULL);
        for (guint i = 0; i < agent->mounts->len; i++)
                lima_agent_sshfs_restart(g_ptr_array_index(agent->mounts, i));
        lima_agent_sshfs_maybe_settle(agent);
        return TRUE;
}

void
lima_agent_mounts_kick_sshfs(LimaAgent *agent)
{
        for (guint i = 0; i < agent->mounts->len; i++) {
                LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                /* A session waiting out its backoff: the guest is back, try now. */
                if (m->sshfs == NULL && m->sshfs_timer != NULL) {
                        m->sshfs_timer = sd_event_source_disable_unref(m->sshfs_timer);
                        m->sshfs_failures = 0;
                        lima_agent_sshfs_restart(m);
                }
        }
}

void
lima_agent_mounts_guest_lost(LimaAgent *agent)
{
        if (lima_agent_mount_type_is(agent, "reverse-sshfs"))
                return; /* each session notices by itself and reconnects */
        for (guint i = 0; i < agent->mounts->len; i++) {
                LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                if (g_str_equal(m->state, "mounted"))
                        lima_agent_mount_set(
                            m, "pending",
                            _("the guest's ssh connection ended (a reboot?); waiting for the "
                              "guest to mount it again"));
        }
        lima_agent_emit_changed(agent, "Mounts", NULL);
}

void
lima_agent_mounts_set_guest_states(LimaAgent *agent, GPtrArray *states, GPtrArray *errors)
{
        if (lima_agent_mount_type_is(agent, "reverse-sshfs"))
                return; /* those are the sessions' to say */
        for (guint i = 0; i < agent->mounts->len && i < states->len; i++) {
                LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                /* A virtiofsd that died stays failed: a reboot does not bring it back. */
                if (lima_agent_mount_type_is(agent, "virtiofs") && m->virtiofsd_child == NULL)
                        continue;
                lima_agent_mount_set(m, g_ptr_array_index(states, i), g_ptr_array_index(errors, i));
        }
}

void
lima_agent_mount_watch(LimaAgentMount *m)
{
        if (m->virtiofsd != NULL && m->virtiofsd_child == NULL)
                sd_event_add_child(m->agent->event, &m->virtiofsd_child,
                                   lima_virtiofsd_pid(m->virtiofsd), WEXITED,
                                   lima_agent_on_virtiofsd_exit, m);
        if (m->sshfs != NULL && m->ssh_child == NULL)
                lima_agent_sshfs_watch(m);
}

void
lima_agent_mount_unwatch(LimaAgentMount *m)
{
        lima_agent_sshfs_drop_watches(m);
        lima_agent_sshfs_cancel_check(m);
        m->virtiofsd_child = sd_event_source_disable_unref(m->virtiofsd_child);
}

void
lima_agent_mount_free(LimaAgentMount *m)
{
        if (m == NULL)
                return;
        lima_agent_mount_unwatch(m);
        g_clear_pointer(&m->sshfs, lima_sshfs_session_free);
        g_clear_pointer(&m->virtiofsd, lima_virtiofsd_free);
        g_free(m->state);
        g_free(m->error);
        g_free(m);
}

void
lima_agent_mounts_stop(LimaAgent *agent)
{
        lima_agent_hotplug_stop(agent);
        for (guint i = 0; i < agent->mounts->len; i++) {
                LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                lima_agent_sshfs_drop_watches(m);
                lima_agent_sshfs_cancel_check(m);
                g_clear_pointer(&m->sshfs, lima_sshfs_session_free);
                m->virtiofsd_child = sd_event_source_disable_unref(m->virtiofsd_child);
                g_clear_pointer(&m->virtiofsd, lima_virtiofsd_free);
        }
}
