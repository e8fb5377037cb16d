/* One OpenSSH master connection per running instance (ControlPath <dir>/ssh.sock), a child
 * of the agent: reverse-sshfs sessions, mount checks and `limactl shell` open a channel on it
 * instead of paying a handshake each (1-3 s in a TCG guest). ssh.config says
 * ControlMaster no, so nobody else ever becomes a master; without the socket ssh simply
 * connects afresh.
 *
 * The master also tells the agent when the guest goes away: its connection ends when the
 * guest reboots (sshd stops) or hangs (ServerAlive). It is restarted with a backoff that
 * never gives up, and once it is up again the agent rechecks the guest and its mounts. */
#include "lima-agent-ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lima-agent-mounts.h"
#include "lima-paths.h"
#include "lima-ssh-config.h"

/* How often the agent looks for the master's socket while it connects. */
#define LIMA_SSH_MASTER_POLL_USEC (100 * 1000)
/* The first boot does not wait longer than this for a master before going on without. */
#define LIMA_SSH_MASTER_FIRST_WAIT_USEC  (10 * G_USEC_PER_SEC)
#define LIMA_SSH_MASTER_BACKOFF_MIN_USEC (250 * 1000)
/* A try on a guest still booting fails fast (reset) or within ConnectTimeout. */
#define LIMA_SSH_MASTER_BACKOFF_MAX_USEC (2 * G_USEC_PER_SEC)
/* ssh binds "<ControlPath>.<16 random characters>" first, then links it into place. */
#define LIMA_SSH_CONTROL_PATH_SUFFIX 17

static void lima_agent_ssh_spawn(LimaAgent *agent);

gchar *
lima_agent_ssh_control_path(const gchar *dir)
{
        struct sockaddr_un addr;
        g_autofree gchar *path = g_build_filename(dir, LIMA_FILE_SSH_SOCK, NULL);

        if (strlen(path) + LIMA_SSH_CONTROL_PATH_SUFFIX >= sizeof(addr.sun_path)) {
                g_message("%s is too long for a unix socket; ssh runs without a master "
                          "connection",
                          path);
                return NULL;
        }
        return g_steal_pointer(&path);
}

/* The agent blocks SIGCHLD/SIGTERM and ignores SIGPIPE; ssh starts with defaults. */
static void
lima_agent_ssh_child_setup(gpointer user_data)
{
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
}

static GPtrArray *
lima_agent_ssh_master_argv(LimaAgent *agent)
{
        GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
        const gchar *env = g_getenv("LIMA_SSH");

        g_ptr_array_add(argv, g_strdup(env != NULL && *env != '\0' ? env : "ssh"));
        g_ptr_array_add(argv, g_strdup("-F"));
        g_ptr_array_add(argv, g_build_filename(agent->dir, LIMA_FILE_SSH_CONFIG, NULL));
        /* No command, no terminal: a connection that only carries others' channels. */
        g_ptr_array_add(argv, g_strdup("-N"));
        g_ptr_array_add(argv, g_strdup("-T"));
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup("BatchMode=yes"));
        g_ptr_array_add(argv, g_strdup("-o"));
        /* A TCG guest under load can take longer than 5 s to send its banner. */
        g_ptr_array_add(argv, g_strdup("ConnectTimeout=15"));
        /* Stays in the foreground as our child, so its end is seen at once. */
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup("ControlMaster=yes"));
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup("ControlPersist=no"));
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strconcat("ControlPath=", agent->ssh_control_path, NULL));
        /* A guest reset without a clean sshd shutdown leaves no FIN: notice in ~15 s. */
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup("ServerAliveInterval=5"));
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup("ServerAliveCountMax=3"));
        g_ptr_array_add(argv, lima_ssh_config_host(agent->name));
        g_ptr_array_add(argv, NULL);
        return argv;
}

static gint64
lima_agent_ssh_backoff(guint failures)
{
        gint64 delay = LIMA_SSH_MASTER_BACKOFF_MIN_USEC;

        for (guint i = 1; i < failures && delay < LIMA_SSH_MASTER_BACKOFF_MAX_USEC; i++)
                delay *= 2;
        return MIN(delay, LIMA_SSH_MASTER_BACKOFF_MAX_USEC);
}

/* Only news matters: the first boot, or the guest back after it went away. */
static void
lima_agent_ssh_reached(LimaAgent *agent)
{
        gboolean first = !agent->guest_reached;

        agent->guest_reached = TRUE;
        if (first || agent->guest_lost)
                lima_agent_guest_reachable(agent);
}

static int
lima_agent_ssh_on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        LimaAgent *agent = userdata;
        struct stat st;

        agent->ssh_master_timer = sd_event_source_disable_unref(agent->ssh_master_timer);
        if (agent->ssh_master_pid <= 0) {
                /* The backoff is over: try again. */
                lima_agent_ssh_spawn(agent);
                return 0;
        }
        if (stat(agent->ssh_control_path, &st) == 0 && S_ISSOCK(st.st_mode)) {
                g_message("ssh master connection up (pid %d)", agent->ssh_master_pid);
                agent->ssh_master_up = TRUE;
                agent->ssh_master_failures = 0;
                lima_agent_mounts_kick_sshfs(agent);
                lima_agent_ssh_reached(agent);
                return 0;
        }
        if (!agent->guest_reached &&
            g_get_monotonic_time() - agent->ssh_master_started > LIMA_SSH_MASTER_FIRST_WAIT_USEC) {
                g_message("the ssh master is slow to connect; going on without it for now");
                lima_agent_ssh_reached(agent);
        }
        sd_event_add_time_relative(agent->event, &agent->ssh_master_timer, CLOCK_MONOTONIC,
                                   LIMA_SSH_MASTER_POLL_USEC, 0, lima_agent_ssh_on_timer, agent);
        return 0;
}

static int
lima_agent_ssh_on_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        LimaAgent *agent = userdata;
        gboolean was_up = agent->ssh_master_up;
        gint64 delay;

        agent->ssh_master_child = sd_event_source_disable_unref(agent->ssh_master_child);
        agent->ssh_master_timer = sd_event_source_disable_unref(agent->ssh_master_timer);
        agent->ssh_master_pid = 0;
        agent->ssh_master_up = FALSE;
        /* A socket nobody listens on makes every ssh print an error before connecting. */
        unlink(agent->ssh_control_path);
        if (!agent->ssh_master_wanted || agent->stop_requested)
                return 0;
        g_message("ssh master connection ended (%s %d)%s",
                  si->si_code == CLD_EXITED ? "status" : "signal", si->si_status,
                  was_up ? "; the guest went away" : "");
        if (was_up) {
                agent->ssh_master_failures = 0;
                lima_agent_guest_lost(agent);
        }
        agent->ssh_master_failures++;
        delay = lima_agent_ssh_backoff(agent->ssh_master_failures);
        sd_event_add_time_relative(agent->event, &agent->ssh_master_timer, CLOCK_MONOTONIC,
                                   (uint64_t)delay, 0, lima_agent_ssh_on_timer, agent);
        if (!agent->guest_reached &&
            g_get_monotonic_time() - agent->ssh_master_started > LIMA_SSH_MASTER_FIRST_WAIT_USEC)
                lima_agent_ssh_reached(agent);
        return 0;
}

static void
lima_agent_ssh_spawn(LimaAgent *agent)
{
        g_autoptr(GPtrArray) argv = lima_agent_ssh_master_argv(agent);
        g_autofree gchar *log = g_build_filename(agent->dir, "ha.ssh.log", NULL);
        g_autoptr(GError) error = NULL;
        int log_fd;
        pid_t pid = 0;

        if (agent->ssh_master_started == 0 || agent->guest_reached)
                agent->ssh_master_started = g_get_monotonic_time();
        unlink(agent->ssh_control_path);
        log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (!g_spawn_async_with_pipes_and_fds(NULL, (const gchar *const *)argv->pdata, NULL,
                                              G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH |
                                                  G_SPAWN_STDIN_FROM_DEV_NULL |
                                                  G_SPAWN_STDOUT_TO_DEV_NULL,
                                              lima_agent_ssh_child_setup, NULL, -1, -1, log_fd,
                                              NULL, NULL, 0, &pid, NULL, NULL, NULL, &error)) {
                /* Not worth failing over: everything works without a master, only slower. */
                g_warning("cannot start the ssh master connection: %s", error->message);
                if (log_fd >= 0)
                        close(log_fd);
                if (!agent->guest_reached)
                        lima_agent_ssh_reached(agent);
                return;
        }
        if (log_fd >= 0)
                close(log_fd);
        agent->ssh_master_pid = pid;
        sd_event_add_child(agent->event, &agent->ssh_master_child, pid, WEXITED,
                           lima_agent_ssh_on_exit, agent);
        sd_event_add_time_relative(agent->event, &agent->ssh_master_timer, CLOCK_MONOTONIC,
                                   LIMA_SSH_MASTER_POLL_USEC, 0, lima_agent_ssh_on_timer, agent);
}

void
lima_agent_ssh_start(LimaAgent *agent)
{
        if (agent->ssh_control_path == NULL) {
                lima_agent_ssh_reached(agent);
                return;
        }
        agent->ssh_master_wanted = TRUE;
        lima_agent_ssh_spawn(agent);
}

void
lima_agent_ssh_stop(LimaAgent *agent)
{
        agent->ssh_master_wanted = FALSE;
        agent->ssh_master_child = sd_event_source_disable_unref(agent->ssh_master_child);
        agent->ssh_master_timer = sd_event_source_disable_unref(agent->ssh_master_timer);
        if (agent->ssh_master_pid > 0) {
                kill(agent->ssh_master_pid, SIGTERM);
                waitpid(agent->ssh_master_pid, NULL, 0);
                agent->ssh_master_pid = 0;
        }
        agent->ssh_master_up = FALSE;
        if (agent->ssh_control_path != NULL)
                unlink(agent->ssh_control_path);
}
