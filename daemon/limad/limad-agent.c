/* Launching host agents and following them over their ha.sock. */
/* struct ucred */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lima-paths.h"
#include "limad-agent.h"
#include "limad-error.h"
#include "limad-store.h"
#include "limad-systemd.h"

struct _LimadAgentLink {
        sd_bus *bus; /* peer-to-peer, no bus daemon */
        LimadInstance *instance;
        sd_bus_slot *changed_slot;
        sd_bus_slot *progress_slot;
        sd_bus_slot *disconnect_slot;
        sd_bus_slot *get_all_slot;
        /* The agent runs as the owner, who may replace it: what it signals is re-emitted to
         * every bus client at most LIMAD_AGENT_SIGNAL_RATE times a second. */
        gint64 window_start;
        guint window_count;
        gboolean dropped;             /* a Progress went unsent in this window */
        gboolean refetch;             /* properties changed while a fetch was on its way */
        sd_event_source *fetch_timer; /* a fetch held back to the next window */
};

#define LIMAD_AGENT_SIGNAL_RATE 20

void
limad_agent_link_free(LimadAgentLink *link)
{
        if (link == NULL)
                return;
        sd_bus_slot_unref(link->changed_slot);
        sd_bus_slot_unref(link->progress_slot);
        sd_bus_slot_unref(link->disconnect_slot);
        sd_bus_slot_unref(link->get_all_slot);
        sd_event_source_disable_unref(link->fetch_timer);
        sd_bus_flush_close_unref(link->bus);
        g_free(link);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimadAgentLink, limad_agent_link_free)

static void
limad_agent_read_mounts(sd_bus_message *m, LimadInstance *inst)
{
        const char *location, *mount_point, *type, *state;
        int writable;
        int r = sd_bus_message_enter_container(m, 'a', "(sssbsa{sv})");
        if (r < 0)
                return;
        g_ptr_array_set_size(inst->mounts, 0);
        while (sd_bus_message_enter_container(m, 'r', "sssbsa{sv}") > 0) {
                LimaMountStatus *s;
                if (sd_bus_message_read(m, "sssbs", &location, &mount_point, &type, &writable,
                                        &state) < 0)
                        return;
                s = lima_mount_status_new(location, mount_point, type, writable, state);
                if (sd_bus_message_enter_container(m, 'a', "{sv}") > 0) {
                        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                                const char *key, *value;
                                if (sd_bus_message_read(m, "s", &key) >= 0 &&
                                    sd_bus_message_read(m, "v", "s", &value) >= 0) {
                                        if (g_str_equal(key, "tag"))
                                                s->tag = g_strdup(value);
                                        else if (g_str_equal(key, "error") && *value != '\0')
                                                s->error = g_strdup(value);
                                } else {
                                        sd_bus_message_skip(m, "v");
                                }
                                sd_bus_message_exit_container(m);
                        }
                        sd_bus_message_exit_container(m);
                }
                sd_bus_message_exit_container(m);
                g_ptr_array_add(inst->mounts, s);
        }
        sd_bus_message_exit_container(m);
}

static void limad_agent_changed(LimadInstance *inst);

/* The agent's properties, mirrored onto the instance. */
static int
limad_agent_on_get_all(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        LimadInstance *inst = userdata;
        g_autofree gchar *status = NULL;
        gboolean again = FALSE;
        int r;

        if (inst->link != NULL) {
                inst->link->get_all_slot = sd_bus_slot_unref(inst->link->get_all_slot);
                again = inst->link->refetch;
                inst->link->refetch = FALSE;
        }
        if (sd_bus_message_is_method_error(reply, NULL)) {
                g_warning("%s: agent properties: %s", inst->name,
                          sd_bus_message_get_error(reply)->message);
                return 0;
        }
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && sd_bus_message_enter_container(reply, 'e', "sv") > 0) {
                const char *key;
                const char *contents;
                if (sd_bus_message_read(reply, "s", &key) < 0 ||
                    sd_bus_message_peek_type(reply, NULL, &contents) < 0)
                        break;
                sd_bus_message_enter_container(reply, 'v', contents);
                if (g_str_equal(key, "Status")) {
                        const char *v;
                        if (sd_bus_message_read(reply, "s", &v) >= 0)
                                status = g_strdup(v);
                } else if (g_str_equal(key, "SSHPort")) {
                        sd_bus_message_read(reply, "u", &inst->ssh_port);
                } else if (g_str_equal(key, "Accelerator")) {
                        const char *v;
                        if (sd_bus_message_read(reply, "s", &v) >= 0) {
                                g_free(inst->accel);
                                inst->accel = g_strdup(v);
                        }
                } else if (g_str_equal(key, "Errors")) {
                        g_auto(GStrv) errors = NULL;
                        if (sd_bus_message_read_strv(reply, &errors) >= 0) {
                                g_ptr_array_set_size(inst->errors, 0);
                                for (guint i = 0; errors != NULL && errors[i] != NULL; i++)
                                        g_ptr_array_add(inst->errors, g_strdup(errors[i]));
                        }
                } else if (g_str_equal(key, "Mounts")) {
                        limad_agent_read_mounts(reply, inst);
                } else {
                        sd_bus_message_skip(reply, contents);
                }
                sd_bus_message_exit_container(reply);
                sd_bus_message_exit_container(reply);
        }
        limad_instance_emit_changed(inst, "SSHPort", "Accelerator", "Errors", "Mounts", NULL);
        if (status != NULL)
                limad_instance_set_status(inst, status);
        if (again)
                limad_agent_changed(inst);
        return 0;
}

static void
limad_agent_fetch_properties(LimadInstance *inst)
{
        LimadAgentLink *link = inst->link;
        link->get_all_slot = sd_bus_slot_unref(link->get_all_slot);
        sd_bus_call_method_async(link->bus, &link->get_all_slot, NULL, LIMAD_AGENT_PATH,
                                 "org.freedesktop.DBus.Properties", "GetAll",
                                 limad_agent_on_get_all, inst, "s", LIMAD_AGENT_IFACE);
}

/* Whether one more signal fits this second's budget. */
static gboolean
limad_agent_rate_ok(LimadAgentLink *link)
{
        gint64 now = g_get_monotonic_time();
        if (now - link->window_start >= G_USEC_PER_SEC) {
                if (link->dropped)
                        g_message("%s: the host agent signals more than %d times a second; "
                                  "some of its progress was not passed on",
                                  link->instance->name, LIMAD_AGENT_SIGNAL_RATE);
                link->window_start = now;
                link->window_count = 0;
                link->dropped = FALSE;
        }
        return ++link->window_count <= LIMAD_AGENT_SIGNAL_RATE;
}

static int
limad_agent_on_fetch_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
        LimadInstance *inst = userdata;
        inst->link->fetch_timer = sd_event_source_disable_unref(inst->link->fetch_timer);
        limad_agent_fetch_properties(inst);
        return 0;
}

/* A fetch, and the PropertiesChanged it ends in, for each change, but one at a time and
 * within the rate: changes meanwhile fold into the next fetch. */
static void
limad_agent_changed(LimadInstance *inst)
{
        LimadAgentLink *link = inst->link;
        gint64 wait;
        if (link == NULL || link->fetch_timer != NULL)
                return;
        if (link->get_all_slot != NULL) {
                link->refetch = TRUE;
                return;
        }
        if (limad_agent_rate_ok(link)) {
                limad_agent_fetch_properties(inst);
                return;
        }
        wait = MAX(link->window_start + G_USEC_PER_SEC - g_get_monotonic_time(), 1000);
        sd_event_add_time_relative(inst->manager->event, &link->fetch_timer, CLOCK_MONOTONIC,
                                   (uint64_t)wait, 0, limad_agent_on_fetch_timer, inst);
}

static int
limad_agent_on_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        limad_agent_changed(userdata);
        return 0;
}

static int
limad_agent_on_progress(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimadInstance *inst = userdata;
        const char *stage, *message;
        double fraction;
        if (sd_bus_message_read(m, "sds", &stage, &fraction, &message) < 0 || inst->manager == NULL)
                return 0;
        if (inst->link != NULL && !limad_agent_rate_ok(inst->link)) {
                inst->link->dropped = TRUE;
                return 0;
        }
        limad_manager_emit_progress(inst->manager, inst->path, stage, fraction, message);
        return 0;
}

static int
limad_agent_on_disconnect(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimadInstance *inst = userdata;
        g_info("%s: host agent link closed", inst->name);
        if (inst->unit_killed) {
                /* A forced stop killed the agent before it could clean up after itself. */
                limad_store_remove_runtime_files(inst);
        }
        limad_instance_agent_gone(inst);
        return 0;
}

/* --system: ha.sock is in the owner's folder, so the owner controls what is there, and can
 * swap it between any check and a connect by path. So the name is opened once, without
 * following a link (O_PATH), that very inode checked (a socket of the owner's), and the
 * connect goes through /proc/self/fd/N: it reaches what was checked, nothing swapped in. */
static int
limad_agent_connect(LimadInstance *inst, const gchar *sock, GError **error)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        struct stat st;
        int fd, path_fd = open(sock, O_PATH | O_NOFOLLOW | O_CLOEXEC);

        if (path_fd < 0 || fstat(path_fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
            (inst->manager->system_mode && st.st_uid != inst->owner_uid)) {
                if (path_fd >= 0)
                        close(path_fd);
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                            _("%s is not a socket of the instance's owner (uid %u); not linking "
                              "to it"),
                            sock, inst->owner_uid);
                return -1;
        }
        g_snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d", path_fd);
        /* Non-blocking: an agent with a full backlog makes us retry, not hang. */
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
                int saved = errno;
                if (fd >= 0)
                        close(fd);
                close(path_fd);
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED, _("cannot connect to %s: %s"),
                            sock, g_strerror(saved));
                return -1;
        }
        close(path_fd);
        return fd;
}

/* The agent drops to the owner before it listens: its peer uid is exactly the owner's.
 * Root's own instances are the only ones whose agent is root. */
static gboolean
limad_agent_check_peer(LimadInstance *inst, int fd, GError **error)
{
        struct ucred cred = { 0 };
        socklen_t len = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
            cred.uid != inst->owner_uid) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                            _("the host agent of %s runs as uid %u, not as its owner (uid %u); "
                              "not linking to it"),
                            inst->name, (guint)cred.uid, inst->owner_uid);
                return FALSE;
        }
        return TRUE;
}

gboolean
limad_agent_link(LimadInstance *inst, GError **error)
{
        g_autofree gchar *sock = g_build_filename(inst->dir, LIMA_FILE_HA_SOCK, NULL);
        g_autoptr(LimadAgentLink) link = g_new0(LimadAgentLink, 1);
        int fd, r;

        if (!g_file_test(sock, G_FILE_TEST_EXISTS)) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED, "%s does not exist yet", sock);
                return FALSE;
        }
        fd = limad_agent_connect(inst, sock, error);
        if (fd < 0)
                return FALSE;
        if (inst->manager->system_mode && !limad_agent_check_peer(inst, fd, error)) {
                close(fd);
                return FALSE;
        }
        r = sd_bus_new(&link->bus);
        if (r >= 0)
                r = sd_bus_set_fd(link->bus, fd, fd);
        if (r < 0)
                close(fd);
        if (r >= 0)
                r = sd_bus_start(link->bus);
        if (r >= 0)
                r = sd_bus_attach_event(link->bus, inst->manager->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_match_signal(link->bus, &link->changed_slot, NULL, LIMAD_AGENT_PATH,
                                        "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                        limad_agent_on_changed, inst);
        if (r >= 0)
                r = sd_bus_match_signal(link->bus, &link->progress_slot, NULL, LIMAD_AGENT_PATH,
                                        LIMAD_AGENT_IFACE, "Progress", limad_agent_on_progress,
                                        inst);
        if (r >= 0)
                r = sd_bus_match_signal(link->bus, &link->disconnect_slot, NULL,
                                        "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
                                        "Disconnected", limad_agent_on_disconnect, inst);
        if (r < 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED, "cannot link to %s: %s", sock,
                            g_strerror(-r));
                return FALSE;
        }
        link->instance = inst;
        g_clear_pointer(&inst->link, limad_agent_link_free);
        inst->link = g_steal_pointer(&link);
        inst->connect_timer = sd_event_source_disable_unref(inst->connect_timer);
        g_info("%s: linked to its host agent", inst->name);
        limad_agent_fetch_properties(inst);
        return TRUE;
}

static int
limad_agent_on_retry(sd_event_source *source, uint64_t usec, void *userdata)
{
        LimadInstance *inst = userdata;
        g_autoptr(GError) error = NULL;
        g_autofree gchar *ha_pid = g_build_filename(inst->dir, LIMA_FILE_HA_PID, NULL);

        if (limad_agent_link(inst, &error))
                return 0;
        /* An agent that was on its way out when we looked is gone now: say what it left. */
        if (lima_pidfile_alive(ha_pid, "lima-hostagent") == 0 && inst->agent_pid == 0 &&
            inst->unit_job == NULL) {
                inst->connect_timer = sd_event_source_disable_unref(inst->connect_timer);
                limad_instance_refresh(inst);
                return 0;
        }
        if (g_get_monotonic_time() > inst->connect_deadline) {
                g_autofree gchar *msg = g_strdup_printf(
                    _("the host agent did not answer on %s/ha.sock; see %s/ha.stderr.log"),
                    inst->dir, inst->dir);
                inst->connect_timer = sd_event_source_disable_unref(inst->connect_timer);
                limad_instance_add_error(inst, msg);
                limad_instance_set_status(inst, "Broken");
                return 0;
        }
        sd_event_source_set_time_relative(source, 200 * 1000);
        sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
        return 0;
}

void
limad_agent_link_retry(LimadInstance *inst, guint timeout_sec)
{
        inst->connect_deadline = g_get_monotonic_time() + (gint64)timeout_sec * G_USEC_PER_SEC;
        if (inst->connect_timer != NULL)
                return;
        sd_event_add_time_relative(inst->manager->event, &inst->connect_timer, CLOCK_MONOTONIC,
                                   200 * 1000, 0, limad_agent_on_retry, inst);
}

static int
limad_agent_on_exit(sd_event_source *source, const siginfo_t *si, void *userdata)
{
        LimadInstance *inst = userdata;
        if (inst == NULL) /* its instance is gone; the child is reaped all the same */
                return 0;
        g_info("%s: host agent pid %d exited (code %d, status %d)", inst->name, si->si_pid,
               si->si_code, si->si_status);
        inst->agent_child = sd_event_source_disable_unref(inst->agent_child);
        inst->agent_pid = 0;
        if (inst->link == NULL) {
                /* It died before it ever answered: nothing else will tell. */
                inst->connect_timer = sd_event_source_disable_unref(inst->connect_timer);
                limad_instance_agent_gone(inst);
                /* agent_gone found it Broken already when it left its pid file behind. */
                if ((si->si_code != CLD_EXITED || si->si_status != 0) &&
                    g_strcmp0(inst->status, "Broken") != 0) {
                        g_autofree gchar *tail = limad_instance_agent_log_tail(inst);
                        g_autofree gchar *msg = g_strdup_printf(
                            _("the host agent failed to start (%s %d)%s%s"),
                            si->si_code == CLD_EXITED ? "exit status" : "signal", si->si_status,
                            tail != NULL ? ": " : "", tail != NULL ? tail : "");
                        limad_instance_add_error(inst, msg);
                        limad_instance_set_status(inst, "Broken");
                }
        }
        return 0;
}

static gboolean
limad_agent_spawn(LimadInstance *inst, GError **error)
{
        LimadManager *manager = inst->manager;
        const gchar *mode = manager->system_mode ? "--system" : "--user";
        int out_fd, err_fd = -1;
        pid_t pid;

        out_fd = limad_store_open_log(inst, LIMA_FILE_HA_STDOUT, error);
        if (out_fd >= 0)
                err_fd = limad_store_open_log(inst, LIMA_FILE_HA_STDERR, error);
        if (err_fd < 0) {
                if (out_fd >= 0)
                        close(out_fd);
                return FALSE;
        }
        pid = fork();
        if (pid < 0) {
                int saved = errno;
                close(out_fd);
                close(err_fd);
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED, _("cannot fork: %s"),
                            g_strerror(saved));
                return FALSE;
        }
        if (pid == 0) {
                /* A session of its own: the agent outlives limad, which re-adopts it. */
                sigset_t none;
                int null_fd = open("/dev/null", O_RDONLY);
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                setsid();
                dup2(null_fd, 0);
                dup2(out_fd, 1);
                dup2(err_fd, 2);
                g_setenv("LIMA_HOME", manager->lima_home, TRUE);
                /* --system: the agent starts as root and drops to the owner itself. */
                if (manager->system_mode)
                        execl(manager->hostagent_path, "lima-hostagent", mode, "--state-dir",
                              manager->lima_home, inst->name, NULL);
                else
                        execl(manager->hostagent_path, "lima-hostagent", mode, inst->name, NULL);
                dprintf(2, "limad: cannot run %s: %s\n", manager->hostagent_path,
                        g_strerror(errno));
                _exit(127);
        }
        close(out_fd);
        close(err_fd);
        /* A start right after a stop: the old agent may still be exiting. Its watch now only
         * reaps it, so its exit is not taken for the new agent's. */
        if (inst->agent_child != NULL) {
                sd_event_source_set_userdata(inst->agent_child, NULL);
                sd_event_source_set_floating(inst->agent_child, 1);
                inst->agent_child = sd_event_source_unref(inst->agent_child);
        }
        inst->agent_pid = pid;
        sd_event_add_child(manager->event, &inst->agent_child, pid, WEXITED, limad_agent_on_exit,
                           inst);
        g_message("%s: started %s (pid %d)", inst->name, manager->hostagent_path, pid);
        return TRUE;
}

gboolean
limad_agent_launch(LimadInstance *inst, GError **error)
{
        /* A stale socket from a dead agent would be mistaken for the new one. */
        limad_store_remove_runtime_files(inst);
        if (inst->manager->systemd != NULL)
                return limad_systemd_start(inst->manager->systemd, inst, error);
        if (!limad_agent_spawn(inst, error))
                return FALSE;
        limad_agent_link_retry(inst, 60);
        return TRUE;
}

static guint64
limad_agent_stop_timeout_usec(void)
{
        const gchar *text = g_getenv("LIMAD_AGENT_STOP_TIMEOUT_SEC");
        guint64 sec = 0;

        if (text != NULL && g_ascii_string_to_unsigned(text, 10, 1, 24 * 3600, &sec, NULL))
                return sec * G_USEC_PER_SEC;
        return LIMAD_AGENT_STOP_TIMEOUT_USEC;
}

static int
limad_agent_on_stop_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        LimadInstance *inst = userdata;
        g_autoptr(LimadInstance) hold = inst; /* the reference the call took */
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        g_autofree gchar *message = NULL;
        const gchar *name;

        (void)hold;
        /* Success, or the link closing (the agent exited): agent_gone answers the callers. */
        if (e == NULL || inst->manager == NULL || inst->link == NULL ||
            inst->link->bus != sd_bus_message_get_bus(reply) || !sd_bus_is_open(inst->link->bus))
                return 0;
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_TIMEOUT)) {
                name = LIMAD_DBUS_ERROR_PREFIX "Timeout";
                message = g_strdup_printf(
                    _("the host agent of \"%s\" did not finish stopping it within %u s (%s); it "
                      "may still be stopping: see `limactl list`, or end it with `limactl stop "
                      "--force %s`"),
                    inst->name, (guint)(limad_agent_stop_timeout_usec() / G_USEC_PER_SEC),
                    e->message, inst->name);
        } else {
                name = LIMAD_DBUS_ERROR_PREFIX "Failed";
                message = g_strdup_printf(_("the host agent of \"%s\" could not stop it: %s; "
                                            "`limactl stop --force %s` ends it"),
                                          inst->name, e->message, inst->name);
        }
        g_warning("%s: agent Stop: %s", inst->name, e->message);
        /* Tell the callers now, rather than leave them to their own timeouts. */
        for (guint i = 0; i < inst->pending_stops->len; i++)
                sd_bus_reply_method_errorf(g_ptr_array_index(inst->pending_stops, i), name, "%s",
                                           message);
        g_ptr_array_set_size(inst->pending_stops, 0);
        for (guint i = 0; i < inst->pending_deletes->len; i++)
                sd_bus_reply_method_errorf(g_ptr_array_index(inst->pending_deletes, i), name, "%s",
                                           message);
        g_ptr_array_set_size(inst->pending_deletes, 0);
        /* Status is still "Stopping": ask the agent what it really is. */
        limad_agent_fetch_properties(inst);
        return 0;
}

gboolean
limad_agent_request_stop(LimadInstance *inst, gboolean force, GError **error)
{
        LimadSystemd *systemd = inst->manager->systemd;
        int r;
        /* The unit, not the agent, when systemd runs it: systemd then knows it was stopped
         * on purpose, and a forced stop takes the whole cgroup. */
        if (systemd != NULL && limad_systemd_unit_running(systemd, inst)) {
                if (!limad_systemd_stop(systemd, inst, force, error))
                        return FALSE;
                limad_instance_set_status(inst, "Stopping");
                return TRUE;
        }
        if (inst->link == NULL) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_NOT_RUNNING,
                            _("instance \"%s\" has no running host agent"), inst->name);
                return FALSE;
        }
        limad_instance_set_status(inst, "Stopping");
        {
                g_autoptr(sd_bus_message) call = NULL;
                r = sd_bus_message_new_method_call(inst->link->bus, &call, NULL, LIMAD_AGENT_PATH,
                                                   LIMAD_AGENT_IFACE, "Stop");
                if (r >= 0)
                        r = sd_bus_message_append(call, "b", force);
                /* Not sd-bus's 25 s default: a clean power-off takes longer (under TCG). */
                if (r >= 0) {
                        r = sd_bus_call_async(inst->link->bus, NULL, call,
                                              limad_agent_on_stop_reply, limad_instance_ref(inst),
                                              limad_agent_stop_timeout_usec());
                        if (r < 0)
                                limad_instance_unref(inst);
                }
        }
        if (r < 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                            _("cannot ask the host agent to stop: %s"), g_strerror(-r));
                return FALSE;
        }
        return TRUE;
}

gboolean
limad_agent_call_mount(LimadInstance *inst, const gchar *config, const gchar *mount_point,
                       sd_bus_message_handler_t callback, gpointer userdata,
                       sd_bus_destroy_t destroy, GError **error)
{
        g_autoptr(sd_bus_message) call = NULL;
        sd_bus_slot *slot = NULL;
        int r;

        if (inst->link == NULL) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_NOT_RUNNING,
                            _("instance \"%s\" has no running host agent"), inst->name);
                return FALSE;
        }
        r = sd_bus_message_new_method_call(inst->link->bus, &call, NULL, LIMAD_AGENT_PATH,
                                           LIMAD_AGENT_IFACE,
                                           config != NULL ? "AddMount" : "RemoveMount");
        if (r >= 0)
                r = config != NULL ? sd_bus_message_append(call, "ss", config, mount_point)
                                   : sd_bus_message_append(call, "s", mount_point);
        if (r >= 0)
                r = sd_bus_call_async(inst->link->bus, &slot, call, callback, userdata,
                                      LIMAD_AGENT_MOUNT_TIMEOUT_USEC);
        if (r < 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_FAILED,
                            _("cannot ask the host agent to change a mount: %s"), g_strerror(-r));
                return FALSE;
        }
        if (slot == NULL) /* no callback: the reply is not wanted */
                return TRUE;
        /* The slot lives with the link: destroy runs after the reply, or when the link goes. */
        sd_bus_slot_set_destroy_callback(slot, destroy);
        sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
        return TRUE;
}
