/* lima-hostagent NAME: runs one instance. Prepares its disk and seed, runs QEMU, waits for
 * the guest, serves its state on ha.sock, and powers it off cleanly. limad (or systemd, as
 * lima@NAME.service) starts it; it outlives limad. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "config.h"
#include "lima-agent-hotplug.h"
#include "lima-agent-inotify.h"
#include "lima-agent-mounts.h"
#include "lima-agent-prepare.h"
#include "lima-agent-ready.h"
#include "lima-agent-ssh.h"
#include "lima-agent.h"
#include "lima-config-resolve.h"
#include "lima-instance-name.h"
#include "lima-log.h"
#include "lima-owner.h"
#include "lima-paths.h"
#include "lima-pidfile.h"
#include "lima-qemu-argv.h"
#include "lima-qemu-hotplug.h"
#include "lima-qmp.h"
#include "lima-ssh-config.h"
#include "lima-ssh-keys.h"

/* A clean ACPI shutdown takes 4-5 s under TCG; give slow guests plenty before killing. */
#define LIMA_AGENT_POWERDOWN_TIMEOUT_SEC 90
#define LIMA_AGENT_BOOT_TIMEOUT_SEC      900

static LimaAgent agent_state = { .listen_fd = -1 };
static LimaWorker *prepare_worker;
static LimaWorker *ready_worker;
static gboolean recheck_pending; /* the guest came back while a mount change ran */
static LimaAgentPrepare prepare;
static LimaAgentReady ready;
/* The ready worker runs again after the guest came back, not for the first boot. */
static gboolean ready_recheck;
static gboolean print_qemu_argv;

static void lima_agent_finish(LimaAgent *agent, gboolean clean);

void
lima_agent_set_status(LimaAgent *agent, const gchar *status)
{
        if (g_strcmp0(agent->status, status) == 0)
                return;
        g_message("status: %s", status);
        g_free(agent->status);
        agent->status = g_strdup(status);
        sd_notifyf(0, "STATUS=%s", status);
        lima_agent_emit_changed(agent, "Status", NULL);
}

void
lima_agent_add_error(LimaAgent *agent, const gchar *message)
{
        g_printerr("lima-hostagent: %s\n", message);
        g_ptr_array_add(agent->errors, g_strdup(message));
        lima_agent_emit_changed(agent, "Errors", NULL);
}

static gchar *
lima_agent_file(LimaAgent *agent, const gchar *file)
{
        return g_build_filename(agent->dir, file, NULL);
}

/* The last lines of a log, for an error a person can act on. */
static gchar *
lima_agent_log_tail(const gchar *path, guint lines)
{
        g_autofree gchar *text = NULL;
        gsize len = 0;
        const gchar *start;
        guint seen = 0;
        if (!g_file_get_contents(path, &text, &len, NULL) || len == 0)
                return g_strdup("");
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
                text[--len] = '\0';
        start = text + len;
        while (start > text) {
                if (*(start - 1) == '\n' && ++seen == lines)
                        break;
                start--;
        }
        return g_strdup(start);
}

static void
lima_worker_free_later_cb(LimaWorker **slot)
{
        g_clear_pointer(slot, lima_worker_free);
}

static int
lima_agent_on_defer_free(sd_event_source *s, void *userdata)
{
        lima_worker_free_later_cb(userdata);
        sd_event_source_disable_unref(s);
        return 0;
}

/* A worker cannot be freed from inside its own report; do it on the next loop turn. */
static void
lima_agent_free_worker_later(LimaWorker **slot)
{
        sd_event_add_defer(agent_state.event, NULL, lima_agent_on_defer_free, slot);
}

static int
lima_agent_on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        LimaAgent *agent = userdata;
        if (agent->qemu_pid > 0) {
                lima_agent_add_error(agent, _("the guest did not power off in time; killed it"));
                kill(agent->qemu_pid, SIGKILL);
        }
        return 0;
}

void
lima_agent_stop(LimaAgent *agent, gboolean force, sd_bus_message *call)
{
        g_autofree gchar *qmp_path = lima_agent_file(agent, LIMA_FILE_QMP_SOCK);
        g_autoptr(GError) error = NULL;

        if (call != NULL)
                g_ptr_array_add(agent->pending_stops, sd_bus_message_ref(call));
        if (agent->stop_requested && !force)
                return;
        if (!agent->stop_requested)
                sd_notify(0, "STOPPING=1\nSTATUS=Stopping the instance");
        agent->stop_requested = TRUE;
        lima_agent_set_status(agent, "Stopping");
        if (ready_worker != NULL)
                lima_worker_cancel(ready_worker);
        if (agent->qemu_pid <= 0) {
                /* Still preparing: the worker notices and the agent ends when it returns. */
                if (prepare_worker != NULL)
                        lima_worker_cancel(prepare_worker);
                else
                        lima_agent_finish(agent, TRUE);
                return;
        }
        lima_agent_inotify_stop(agent);
        /* reverse-sshfs sessions end first: their umount needs the guest's sshd. */
        lima_agent_mounts_stop(agent);
        lima_agent_ssh_stop(agent);
        if (!force) {
                g_autoptr(LimaQmp) qmp = lima_qmp_connect(qmp_path, 2000, &error);
                if (qmp != NULL && lima_qmp_system_powerdown(qmp, &error)) {
                        lima_agent_emit_progress(agent, "stop", 0.5,
                                                 _("asked the guest to power off"));
                        if (agent->stop_timer == NULL)
                                sd_event_add_time_relative(
                                    agent->event, &agent->stop_timer, CLOCK_MONOTONIC,
                                    LIMA_AGENT_POWERDOWN_TIMEOUT_SEC * G_USEC_PER_SEC, 0,
                                    lima_agent_on_stop_timeout, agent);
                        return;
                }
                g_warning("clean power-off failed (%s); killing QEMU", error->message);
        }
        kill(agent->qemu_pid, SIGKILL);
}

/* Ends the agent. A clean end removes the runtime files, so limad sees Stopped; otherwise
 * ha.pid stays and limad reports Broken with the tail of our stderr. */
static void
lima_agent_finish(LimaAgent *agent, gboolean clean)
{
        const gchar *files[] = { LIMA_FILE_HA_SOCK, LIMA_FILE_QMP_SOCK, LIMA_FILE_GA_SOCK,
                                 LIMA_FILE_QEMU_PID, LIMA_FILE_HA_PID };
        if (agent->qemu_pid > 0) {
                kill(agent->qemu_pid, SIGKILL);
                agent->qemu_pid = 0;
        }
        lima_agent_inotify_stop(agent);
        lima_agent_mounts_stop(agent);
        lima_agent_ssh_stop(agent);
        for (guint i = 0; i < agent->pending_stops->len; i++)
                sd_bus_reply_method_return(g_ptr_array_index(agent->pending_stops, i), NULL);
        g_ptr_array_set_size(agent->pending_stops, 0);
        /* Files first, then the link: limad looks at them the moment the link drops. */
        for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
                g_autofree gchar *path = lima_agent_file(agent, files[i]);
                if (clean || !g_str_equal(files[i], LIMA_FILE_HA_PID))
                        unlink(path);
        }
        lima_agent_server_close(agent);
        agent->exit_code = clean ? 0 : 1;
        sd_notify(0, "STOPPING=1");
        sd_event_exit(agent->event, agent->exit_code);
}

static void
lima_agent_fail(LimaAgent *agent, const gchar *message)
{
        lima_agent_add_error(agent, message);
        lima_agent_finish(agent, FALSE);
}

static int
lima_agent_on_qemu_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        LimaAgent *agent = userdata;
        agent->qemu_pid = 0;
        agent->qemu_child = sd_event_source_disable_unref(agent->qemu_child);
        agent->stop_timer = sd_event_source_disable_unref(agent->stop_timer);
        if (agent->stop_requested) {
                /* Says which: a clean power-off, or the kill after a timeout or a force. */
                if (si->si_code == CLD_EXITED)
                        g_message("QEMU exited by itself (status %d); instance stopped",
                                  si->si_status);
                else
                        g_message("QEMU was killed (signal %d); instance stopped", si->si_status);
                lima_agent_finish(agent, TRUE);
                return 0;
        }
        {
                g_autofree gchar *log = lima_agent_file(agent, "qemu.stderr.log");
                g_autofree gchar *tail = lima_agent_log_tail(log, 5);
                g_autofree gchar *msg =
                    g_strdup_printf(_("QEMU exited unexpectedly (%s %d)%s%s"),
                                    si->si_code == CLD_EXITED ? "exit status" : "signal",
                                    si->si_status, *tail != '\0' ? ": " : "", tail);
                lima_agent_fail(agent, msg);
        }
        return 0;
}

void
lima_agent_mounts_settled(LimaAgent *agent)
{
        gboolean degraded = FALSE;

        /* Errors are only ever about mounts once the guest runs: say each one once. */
        g_ptr_array_set_size(agent->errors, 0);
        for (guint i = 0; i < agent->mounts->len; i++) {
                LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                if (m->error != NULL) {
                        g_ptr_array_add(
                            agent->errors,
                            g_strdup_printf("%s: %s", m->mount->mount_point.value, m->error));
                        degraded = TRUE;
                }
        }
        lima_agent_emit_changed(agent, "Mounts", "Errors", NULL);
        lima_agent_emit_progress(agent, "ready", 1.0,
                                 degraded ? _("running, but some mounts failed") : _("running"));
        lima_agent_set_status(agent, degraded ? "Degraded" : "Running");
        lima_agent_inotify_start(agent);
        sd_notify(0, "READY=1");
}

static void
lima_agent_on_ready_report(const LimaWorkerMessage *msg, gpointer user_data)
{
        LimaAgent *agent = user_data;

        if (msg->stage != NULL) {
                /* A recheck is not a start: no progress to report. */
                if (!ready_recheck)
                        lima_agent_emit_progress(agent, msg->stage, msg->fraction, msg->message);
                return;
        }
        lima_agent_free_worker_later(&ready_worker);
        if (agent->stop_requested)
                return;
        if (ready_recheck) {
                /* The guest came back once already; it may still, so keep the VM. */
                if (!msg->ok) {
                        lima_agent_add_error(agent, msg->error->message);
                        lima_agent_set_status(agent, "Degraded");
                        return;
                }
                lima_agent_mounts_set_guest_states(agent, ready.states, ready.errors);
                lima_agent_mounts_settled(agent);
                return;
        }
        if (!msg->ok) {
                lima_agent_fail(agent, msg->error->message);
                return;
        }
        for (guint i = 0; i < agent->mounts->len; i++) {
                LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                g_free(m->state);
                m->state = g_strdup(g_ptr_array_index(ready.states, i));
                g_free(m->error);
                m->error = g_strdup(g_ptr_array_index(ready.errors, i));
        }
        /* reverse-sshfs mounts come up once the master connection is (see below). */
        lima_agent_ssh_start(agent);
}

static void
lima_agent_start_ready_worker(LimaAgent *agent, gboolean recheck)
{
        g_clear_pointer(&ready.states, g_ptr_array_unref);
        g_clear_pointer(&ready.errors, g_ptr_array_unref);
        ready_recheck = recheck;
        ready.deadline = g_get_monotonic_time() + LIMA_AGENT_BOOT_TIMEOUT_SEC * G_USEC_PER_SEC;
        ready_worker = lima_worker_start(agent->event, "ready", lima_agent_ready_run, &ready,
                                         lima_agent_on_ready_report, agent);
}

void
lima_agent_guest_reachable(LimaAgent *agent)
{
        if (agent->stop_requested)
                return;
        if (!agent->guest_lost) {
                /* The first boot: reverse-sshfs mounts come up now, from the host; the rest
                 * are already in place. */
                if (!lima_agent_mounts_start_sshfs(agent))
                        lima_agent_mounts_settled(agent);
                return;
        }
        g_message("the guest answers ssh again; checking it and its mounts");
        agent->guest_lost = FALSE;
        /* The check's worker reads the mount list, which a change in progress edits when it
         * ends: the check waits for it. */
        if (lima_agent_hotplug_busy(agent)) {
                recheck_pending = TRUE;
                return;
        }
        /* The boot scripts mount 9p and virtiofs again at every boot; wait for them. */
        if (ready_worker == NULL)
                lima_agent_start_ready_worker(agent, TRUE);
}

void
lima_agent_guest_recheck_pending(LimaAgent *agent)
{
        if (!recheck_pending || agent->stop_requested || ready_worker != NULL)
                return;
        recheck_pending = FALSE;
        lima_agent_start_ready_worker(agent, TRUE);
}

gboolean
lima_agent_guest_checking(LimaAgent *agent)
{
        return ready_worker != NULL;
}

void
lima_agent_guest_lost(LimaAgent *agent)
{
        if (agent->stop_requested)
                return;
        agent->guest_lost = TRUE;
        lima_agent_mounts_guest_lost(agent);
        lima_agent_set_status(agent, "Degraded");
}

static GPtrArray *
lima_agent_qemu_argv(LimaAgent *agent, GError **error)
{
        g_autoptr(LimaQemuPlan) plan = lima_qemu_plan_new(agent->cfg, agent->dir);
        plan->accel = agent->accel;
        plan->ssh_local_port = agent->ssh_port;
        plan->kernel = g_strdup(prepare.kernel);
        plan->initrd = g_strdup(prepare.initrd);
        plan->kernel_cmdline = g_strdup(prepare.kernel_cmdline);
        return lima_qemu_argv_build(plan, error);
}

static gboolean
lima_agent_spawn_qemu(LimaAgent *agent, GError **error)
{
        g_autoptr(GPtrArray) argv = lima_agent_qemu_argv(agent, error);
        g_autofree gchar *log = lima_agent_file(agent, "qemu.stderr.log");
        g_autofree gchar *joined = NULL;
        int log_fd;
        pid_t pid;

        if (argv == NULL)
                return FALSE;
        joined = g_strjoinv(" ", (gchar **)argv->pdata);
        g_message("running %s", joined);
        log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        pid = fork();
        if (pid < 0) {
                int saved = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                            _("cannot fork QEMU: %s"), g_strerror(saved));
                return FALSE;
        }
        if (pid == 0) {
                sigset_t none;
                int null_fd = open("/dev/null", O_RDWR);
                /* A VM without its agent is unmanaged: it dies with the agent. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                dup2(null_fd, 0);
                dup2(null_fd, 1);
                if (log_fd >= 0)
                        dup2(log_fd, 2);
                execvp(g_ptr_array_index(argv, 0), (char **)argv->pdata);
                dprintf(2, "cannot run %s: %s\n", (char *)g_ptr_array_index(argv, 0),
                        g_strerror(errno));
                _exit(127);
        }
        if (log_fd >= 0)
                close(log_fd);
        agent->qemu_pid = pid;
        sd_event_add_child(agent->event, &agent->qemu_child, pid, WEXITED, lima_agent_on_qemu_exit,
                           agent);
        lima_agent_emit_changed(agent, "QemuPid", NULL);
        return TRUE;
}

static void
lima_agent_on_prepare_report(const LimaWorkerMessage *msg, gpointer user_data)
{
        LimaAgent *agent = user_data;
        g_autoptr(GError) error = NULL;
        g_autofree gchar *msg_text = NULL;

        if (msg->stage != NULL) {
                lima_agent_emit_progress(agent, msg->stage, msg->fraction, msg->message);
                return;
        }
        lima_agent_free_worker_later(&prepare_worker);
        if (agent->stop_requested) {
                lima_agent_finish(agent, TRUE);
                return;
        }
        if (!msg->ok) {
                lima_agent_fail(agent, msg->error->message);
                return;
        }
        if (!lima_agent_mounts_start_virtiofsd(agent, &error) ||
            !lima_agent_spawn_qemu(agent, &error)) {
                lima_agent_fail(agent, error->message);
                return;
        }
        lima_agent_guest_link_start(agent);
        msg_text = g_strdup_printf(_("started QEMU (pid %d, %s); booting"), agent->qemu_pid,
                                   agent->accel_name);
        lima_agent_emit_progress(agent, "qemu", 0.4, msg_text);
        ready.cfg = agent->cfg;
        ready.name = agent->name;
        ready.ssh_config = lima_agent_file(agent, LIMA_FILE_SSH_CONFIG);
        lima_agent_start_ready_worker(agent, FALSE);
}

/* A free 127.0.0.1 port for ssh, when the config leaves it to us. */
static guint16
lima_agent_free_port(GError **error)
{
        struct sockaddr_in addr = { .sin_family = AF_INET,
                                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(addr);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        guint16 port = 0;
        if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
            getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
                port = ntohs(addr.sin_port);
        if (fd >= 0)
                close(fd);
        if (port == 0)
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                            _("cannot find a free port on 127.0.0.1: %s"), g_strerror(errno));
        return port;
}

/* owner: --system, the instance's owner: their home and name fill the config, and the
 * files (in their folder, read while still root) are read without following symlinks. */
static LimaConfig *
lima_agent_load_config(const gchar *lima_home, const gchar *name, const gchar *dir,
                       const LimaOwner *owner, GError **error)
{
        g_autofree gchar *path = g_build_filename(dir, LIMA_FILE_CONFIG, NULL);
        g_autofree gchar *version_path = g_build_filename(dir, LIMA_FILE_VERSION, NULL);
        g_autofree gchar *text = NULL;
        g_autoptr(LimaHost) host = owner != NULL ? lima_host_new_for_uid(name, dir, owner->uid)
                                                 : lima_host_new_from_system(name, dir);
        g_autoptr(LimaDiagnostics) diags = lima_diagnostics_new(path);
        g_autoptr(LimaConfig) cfg = NULL;
        gboolean read;
        gsize len = 0;

        if (owner != NULL)
                read = lima_owner_read_file(path, owner->uid, &text, &len, error);
        else
                read = g_file_get_contents(path, &text, &len, error);
        if (!read)
                return NULL;
        if (owner != NULL ? !lima_owner_read_file(version_path, owner->uid, &host->existing_version,
                                                  NULL, NULL)
                          : !g_file_get_contents(version_path, &host->existing_version, NULL, NULL))
                host->existing_version = g_strdup("");
        g_strstrip(host->existing_version);
        cfg = lima_config_resolve_full(text, len, path, host, lima_home,
                                       owner != NULL ? LIMA_RESOLVE_SYSTEM : 0, diags, error);
        if (cfg == NULL || !lima_diagnostics_check(diags, error))
                return NULL;
        return g_steal_pointer(&cfg);
}

/* Timestamped lines on stderr (ha.stderr.log); under systemd (lima@.service) the journal
 * stamps them itself and reads the priority from a "<N>" prefix. */
static void
lima_agent_log_handler(const gchar *domain, GLogLevelFlags level, const gchar *message,
                       gpointer user_data)
{
        static gint journal = -1;
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        g_autofree gchar *stamp = g_date_time_format(now, "%H:%M:%S.%f");
        const gchar *kind = (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) ? "error: "
                            : (level & G_LOG_LEVEL_WARNING)                      ? "warning: "
                                                                                 : "";
        if (level & G_LOG_LEVEL_DEBUG)
                return;
        if (journal < 0)
                journal = lima_log_stderr_is_journal();
        if (journal)
                fprintf(stderr, "%s%s\n", lima_log_priority_prefix(level), message);
        else
                fprintf(stderr, "%s lima-hostagent: %s%s\n", stamp, kind, message);
}

static int
lima_agent_on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        g_message("signal %u: stopping the instance", si->ssi_signo);
        lima_agent_stop(userdata, si->ssi_signo == SIGINT && agent_state.stop_requested, NULL);
        return 0;
}

static gboolean
lima_agent_write_pid(LimaAgent *agent, GError **error)
{
        g_autofree gchar *path = lima_agent_file(agent, LIMA_FILE_HA_PID);
        g_autofree gchar *text = g_strdup_printf("%d\n", getpid());
        return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                        error);
}

static gboolean
lima_agent_setup(LimaAgent *agent, GError **error)
{
        g_autofree gchar *reason = NULL;
        g_autofree gchar *sock = lima_agent_file(agent, LIMA_FILE_HA_SOCK);
        g_autofree gchar *ssh_config = lima_agent_file(agent, LIMA_FILE_SSH_CONFIG);
        g_autofree gchar *key = lima_ssh_keys_private_path(agent->keys_home);
        LimaSshConfig ssh = { 0 };

        if (!lima_accel_probe(agent->cfg->arch.value, &agent->accel, &reason, error))
                return FALSE;
        agent->accel_name = g_strdup(lima_accel_to_string(agent->accel));
        g_message("accelerator %s: %s", agent->accel_name, reason);
        agent->ssh_port = (guint16)agent->cfg->ssh_local_port.value;
        if (agent->ssh_port == 0 && (agent->ssh_port = lima_agent_free_port(error)) == 0)
                return FALSE;
        ssh.instance_name = agent->name;
        ssh.user = agent->cfg->user_name.value;
        ssh.port = agent->ssh_port;
        ssh.identity_file = key;
        agent->ssh_control_path = lima_agent_ssh_control_path(agent->dir);
        ssh.control_path = agent->ssh_control_path;
        if (!lima_ssh_config_write(&ssh, ssh_config, error))
                return FALSE;
        agent->pcie_ports = lima_qemu_pcie_port_count(agent->cfg);
        if (print_qemu_argv)
                return TRUE;
        if (!lima_agent_server_listen(agent, sock, error))
                return FALSE;
        if (!lima_agent_write_pid(agent, error))
                return FALSE;
        lima_agent_emit_progress(agent, "accel", 0.01, reason);
        return TRUE;
}

static void
lima_agent_setup_mounts(LimaAgent *agent)
{
        for (guint i = 0; i < agent->cfg->mounts->len; i++) {
                LimaAgentMount *m = g_new0(LimaAgentMount, 1);
                m->agent = agent;
                m->mount = g_ptr_array_index(agent->cfg->mounts, i);
                m->state = g_strdup("pending");
                m->port = (gint)i; /* virtiofs: as the argv plugs them */
                g_ptr_array_add(agent->mounts, m);
        }
}

/* --system: the instance folder's owner (only root can give a folder away), which must
 * match the owner-uid limad recorded; we must be root or that owner to run it. */
static LimaOwner *
lima_agent_find_owner(const gchar *dir, GError **error)
{
        g_autofree gchar *owner_path = g_build_filename(dir, LIMA_FILE_OWNER, NULL);
        g_autofree gchar *recorded = NULL;
        guint64 uid = G_MAXUINT64;
        struct stat st;

        if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                            _("%s is not an instance folder; `limactl --system list` shows the "
                              "instances there are"),
                            dir);
                return NULL;
        }
        if (lima_owner_read_file(owner_path, 0, &recorded, NULL, NULL))
                g_ascii_string_to_unsigned(g_strstrip(recorded), 10, 0, G_MAXUINT32, &uid, NULL);
        if (uid != st.st_uid) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                            _("%s does not match the owner of %s (uid %u); refusing to run an "
                              "instance whose owner is in doubt"),
                            owner_path, dir, (guint)st.st_uid);
                return NULL;
        }
        if (geteuid() != 0 && geteuid() != st.st_uid) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                            _("instance folder %s belongs to uid %u; run as root (limad and "
                              "lima@.service do) or as that user"),
                            dir, (guint)st.st_uid);
                return NULL;
        }
        return lima_owner_lookup(st.st_uid, error);
}

/* --system, still root: check each mount as the owner, then become the owner for good, so
 * QEMU, virtiofsd (in a user namespace the owner's subuid range maps), ssh, sftp-server and
 * the builtin SFTP server all run as them. */
static gboolean
lima_agent_become_owner(LimaAgent *agent, GError **error)
{
        for (guint i = 0; i < agent->cfg->mounts->len; i++) {
                const LimaMount *m = g_ptr_array_index(agent->cfg->mounts, i);
                if (!lima_owner_check_location(agent->owner, m->location.value, m->writable.value,
                                               error))
                        return FALSE;
        }
        if (geteuid() != 0)
                return TRUE;
        /* Nothing from root's environment decides where the owner's files go. */
        g_unsetenv("XDG_CACHE_HOME");
        g_unsetenv("XDG_CONFIG_HOME");
        g_unsetenv("XDG_DATA_HOME");
        g_unsetenv("XDG_RUNTIME_DIR");
        if (!lima_owner_drop(agent->owner, FALSE, error))
                return FALSE;
        g_message("running as %s (uid %u)", agent->owner->name, (guint)agent->owner->uid);
        return TRUE;
}

/* --print-qemu-argv: prepare as a start would, then print QEMU's argv (one argument a line)
 * instead of running it, so a benchmark can boot the very same guest by hand. */
static int
lima_agent_print_qemu_argv(LimaAgent *agent)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) argv = NULL;
        if (!lima_agent_prepare_run(NULL, &prepare, &error) ||
            (argv = lima_agent_qemu_argv(agent, &error)) == NULL) {
                g_printerr("lima-hostagent: %s\n", error->message);
                return 1;
        }
        for (guint i = 0; g_ptr_array_index(argv, i) != NULL; i++)
                g_print("%s\n", (const gchar *)g_ptr_array_index(argv, i));
        return 0;
}

static void
lima_agent_message_unref(gpointer m)
{
        sd_bus_message_unref(m);
}

int
main(int argc, char **argv)
{
        LimaAgent *agent = &agent_state;
        gboolean user_mode = FALSE;
        gboolean system_mode = FALSE;
        g_autofree gchar *state_dir = NULL;
        const GOptionEntry entries[] = {
                { "user", 0, 0, G_OPTION_ARG_NONE, &user_mode,
                  N_("The instance is in $LIMA_HOME (limad --user)"), NULL },
                { "system", 0, 0, G_OPTION_ARG_NONE, &system_mode,
                  N_("The instance is in /var/lib/lima (limad --system); start as root, the "
                     "agent runs as the instance's owner"),
                  NULL },
                { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
                  N_("With --system: the instances are in DIR (limad --system --state-dir)"),
                  N_("DIR") },
                { "print-qemu-argv", 0, 0, G_OPTION_ARG_NONE, &print_qemu_argv,
                  N_("Prepare the instance, print QEMU's command line (one argument a line) "
                     "and exit without running it; for benchmarks and debugging"),
                  NULL },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx = g_option_context_new(_("NAME"));
        g_autoptr(GError) error = NULL;
        g_autofree gchar *ha_pid = NULL;
        sigset_t mask;
        int r;

        setlocale(LC_ALL, "");
        g_log_set_default_handler(lima_agent_log_handler, NULL);
        g_option_context_set_summary(
            ctx, _("Runs instance NAME: prepares its disk and cloud-init seed, runs QEMU, waits "
                   "for the guest's sshd and mounts, serves its state on NAME/ha.sock (D-Bus, "
                   "peer to peer) and powers it off cleanly on SIGTERM or Stop. limad starts "
                   "it; run it by hand only to debug."));
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                g_printerr("lima-hostagent: %s\n", error->message);
                return 2;
        }
        if (argc != 2) {
                g_printerr("lima-hostagent: %s\n", _("name one instance; see --help"));
                return 2;
        }
        if (state_dir != NULL && !system_mode) {
                g_printerr("lima-hostagent: %s\n",
                           _("--state-dir goes with --system; --user uses $LIMA_HOME"));
                return 2;
        }
        if (!lima_instance_name_validate(argv[1], &error)) {
                g_printerr("lima-hostagent: %s\n", error->message);
                return 2;
        }
        agent->name = g_strdup(argv[1]);
        agent->system_mode = system_mode;
        if (system_mode)
                agent->lima_home = g_strdup(state_dir != NULL ? state_dir : LIMA_PATHS_SYSTEM_HOME);
        else
                agent->lima_home = lima_paths_home();
        agent->dir = lima_paths_instance_file(agent->lima_home, agent->name, NULL);
        if (system_mode && (agent->owner = lima_agent_find_owner(agent->dir, &error)) == NULL) {
                g_printerr("lima-hostagent: %s\n", error->message);
                return 1;
        }
        agent->keys_home = lima_paths_keys_home(agent->lima_home, system_mode,
                                                system_mode ? agent->owner->uid : 0);
        agent->status = g_strdup("Starting");
        agent->errors = g_ptr_array_new_with_free_func(g_free);
        agent->mounts = g_ptr_array_new_with_free_func((GDestroyNotify)lima_agent_mount_free);
        agent->pending_stops = g_ptr_array_new_with_free_func(lima_agent_message_unref);
        agent->cfg =
            lima_agent_load_config(agent->lima_home, agent->name, agent->dir, agent->owner, &error);
        if (agent->cfg == NULL) {
                g_printerr("lima-hostagent: %s\n", error->message);
                return 1;
        }
        ha_pid = lima_agent_file(agent, LIMA_FILE_HA_PID);
        if (lima_pidfile_alive(ha_pid, "lima-hostagent") > 0) {
                g_printerr("lima-hostagent: %s\n",
                           _("another host agent already runs this instance"));
                return 1;
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        r = sd_event_default(&agent->event);
        if (r < 0) {
                g_printerr("lima-hostagent: sd-event: %s\n", g_strerror(-r));
                return 1;
        }
        sd_event_add_signal(agent->event, NULL, SIGTERM, lima_agent_on_signal, agent);
        sd_event_add_signal(agent->event, NULL, SIGINT, lima_agent_on_signal, agent);
        lima_agent_setup_mounts(agent);
        if (agent->owner != NULL && !print_qemu_argv && !lima_agent_become_owner(agent, &error)) {
                g_printerr("lima-hostagent: %s\n", error->message);
                return 1;
        }
        if (!lima_agent_setup(agent, &error)) {
                g_printerr("lima-hostagent: %s\n", error->message);
                return 1;
        }
        prepare.cfg = agent->cfg;
        prepare.name = agent->name;
        prepare.dir = agent->dir;
        prepare.keys_home = agent->keys_home;
        prepare.host_home = agent->owner != NULL ? agent->owner->home : g_get_home_dir();
        if (print_qemu_argv)
                return lima_agent_print_qemu_argv(agent);
        sd_notifyf(0, "STATUS=Starting (%s)", agent->accel_name);
        prepare_worker = lima_worker_start(agent->event, "prepare", lima_agent_prepare_run,
                                           &prepare, lima_agent_on_prepare_report, agent);
        r = sd_event_loop(agent->event);
        g_clear_pointer(&ready_worker, lima_worker_free);
        g_clear_pointer(&prepare_worker, lima_worker_free);
        lima_agent_ready_clear(&ready);
        lima_agent_prepare_clear(&prepare);
        return r;
}
