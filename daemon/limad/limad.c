/* limad: the instance manager. Serves io.lima.lima1 on the session bus (--user) or the
 * system bus (--system) and keeps running instances' host agents linked. */
#include <glib/gi18n.h>
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "config.h"
#include "lima-log.h"
#include "lima-paths.h"
#include "limad-manager.h"
#include "limad-peer.h"
#include "limad-store.h"

/* lima-hostagent sits beside limad, in the build tree and when installed. */
static gchar *
limad_find_hostagent(void)
{
        const gchar *env = g_getenv("LIMAD_HOSTAGENT");
        g_autofree gchar *self = NULL;
        g_autofree gchar *dir = NULL;
        if (env != NULL && *env != '\0')
                return g_strdup(env);
        self = g_file_read_link("/proc/self/exe", NULL);
        if (self == NULL)
                return g_strdup("lima-hostagent");
        dir = g_path_get_dirname(self);
        {
                /* The build tree keeps it in a folder of its own. */
                g_autofree gchar *beside = g_build_filename(dir, "lima-hostagent", NULL);
                g_autofree gchar *build_tree =
                    g_build_filename(dir, "hostagent", "lima-hostagent", NULL);
                if (!g_file_test(beside, G_FILE_TEST_IS_EXECUTABLE) &&
                    g_file_test(build_tree, G_FILE_TEST_IS_EXECUTABLE))
                        return g_steal_pointer(&build_tree);
                return g_steal_pointer(&beside);
        }
}

static gboolean limad_log_prefix;

static void
limad_log_handler(const gchar *domain, GLogLevelFlags level, const gchar *message,
                  gpointer user_data)
{
        gboolean verbose = GPOINTER_TO_INT(user_data);
        if ((level & (G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG)) && !verbose)
                return;
        if (limad_log_prefix)
                fprintf(stderr, "%s%s\n", lima_log_priority_prefix(level), message);
        else
                fprintf(stderr, "limad: %s\n", message);
}

static int
limad_on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        g_message("signal %u: exiting; running instances keep running", si->ssi_signo);
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

int
main(int argc, char **argv)
{
        gboolean user_mode = FALSE;
        gboolean system_mode = FALSE;
        gboolean verbose = FALSE;
        gboolean version = FALSE;
        g_autofree gchar *state_dir = NULL;
        const GOptionEntry entries[] = {
                { "user", 0, 0, G_OPTION_ARG_NONE, &user_mode,
                  N_("Serve the session bus; instances live in $LIMA_HOME (default ~/.lima)"),
                  NULL },
                { "system", 0, 0, G_OPTION_ARG_NONE, &system_mode,
                  N_("Serve the system bus for every user; instances live in /var/lib/lima, "
                     "polkit decides who may act on whose"),
                  NULL },
                { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
                  N_("With --system: keep instances in DIR instead of " LIMA_PATHS_SYSTEM_HOME),
                  N_("DIR") },
                { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_("Log every state change"),
                  NULL },
                { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version"), NULL },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *lima_home = NULL;
        sd_event *event = NULL;
        sd_bus *bus = NULL;
        LimadManager *manager;
        g_autoptr(LimadPeerServer) peers = NULL;
        int listen_fd;
        sigset_t mask;
        int r;

        setlocale(LC_ALL, "");
        /* LIMAD_LOCALEDIR: the catalogues of an uninstalled build (the tests). */
        bindtextdomain(GETTEXT_PACKAGE, g_getenv("LIMAD_LOCALEDIR") != NULL
                                            ? g_getenv("LIMAD_LOCALEDIR")
                                            : LOCALEDIR);
        textdomain(GETTEXT_PACKAGE);
        g_option_context_set_summary(
            ctx, _("The limad instance manager: serves the io.lima.lima1 D-Bus API that limactl "
                   "uses, starts and stops instances through their host agents, and re-adopts "
                   "running instances when it restarts."));
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                fprintf(stderr, "limad: %s\n", error->message);
                return 2;
        }
        if (version) {
                printf("limad %s (Lima %s compatible)\n", LIMAD_VERSION, LIMA_COMPAT_VERSION);
                return 0;
        }
        if (user_mode == system_mode) {
                fprintf(stderr, "limad: %s\n", _("say which bus to serve: --user or --system"));
                return 2;
        }
        if (state_dir != NULL && !system_mode) {
                fprintf(stderr, "limad: %s\n",
                        _("--state-dir goes with --system; --user uses $LIMA_HOME"));
                return 2;
        }
        if (system_mode && geteuid() != 0) {
                fprintf(stderr, "limad: %s\n",
                        _("--system runs as root (it starts instances as their owners); use "
                          "--user for your own instances"));
                return 2;
        }
        /* journald reads priority prefixes; on a terminal or in a file they are noise. */
        limad_log_prefix = lima_log_stderr_is_journal();
        g_log_set_default_handler(limad_log_handler, GINT_TO_POINTER(verbose));

        /* sd-event takes these as events; nobody else may get them first. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        /* A socket handed over (systemd's limad.socket, launchd's Sockets): serve peers on it,
         * and the session bus too when there is one. */
        listen_fd = limad_peer_listen_fd(&error);
        if (listen_fd == -2 || (listen_fd >= 0 && system_mode)) {
                fprintf(stderr, "limad: %s\n",
                        error != NULL ? error->message
                                      : _("--system serves the system bus only, where its bus "
                                          "policy and polkit apply; it takes no socket"));
                return 2;
        }
        r = sd_event_default(&event);
        if (r >= 0)
                r = system_mode ? sd_bus_open_system(&bus) : sd_bus_open_user(&bus);
        if (r < 0 && listen_fd >= 0) {
                g_message("no session bus (%s): serving peers on the handed socket only",
                          g_strerror(-r));
                bus = NULL;
                r = 0;
        }
        if (bus != NULL) {
                sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
                /* Without its bus limad serves no one; running instances carry on without it. */
                sd_bus_set_exit_on_disconnect(bus, 1);
        }
        sd_event_add_signal(event, NULL, SIGTERM, limad_on_signal, NULL);
        sd_event_add_signal(event, NULL, SIGINT, limad_on_signal, NULL);

        if (system_mode)
                lima_home = g_strdup(state_dir != NULL ? state_dir : LIMA_PATHS_SYSTEM_HOME);
        else
                lima_home = lima_paths_home();
        if (system_mode && !limad_store_prepare_system_dir(lima_home, &error)) {
                fprintf(stderr, "limad: %s\n", error->message);
                return 1;
        }
        manager = limad_manager_new(event, bus, lima_home, system_mode, &error);
        if (manager == NULL) {
                fprintf(stderr, "limad: %s\n", error->message);
                return 1;
        }
        manager->hostagent_path = limad_find_hostagent();
        if (listen_fd >= 0) {
                peers = limad_peer_server_new(manager, listen_fd, &error);
                if (peers == NULL) {
                        fprintf(stderr, "limad: %s\n", error->message);
                        return 1;
                }
        }
        r = bus != NULL ? sd_bus_request_name(bus, LIMAD_BUS_NAME, 0) : 0;
        if (r < 0) {
                fprintf(stderr, "limad: %s %s: %s\n", _("cannot own the bus name"), LIMAD_BUS_NAME,
                        r == -EEXIST ? _("another limad already serves it") : g_strerror(-r));
                return 1;
        }
        if (bus != NULL)
                g_message("serving %s on the %s bus; instances in %s", LIMAD_BUS_NAME,
                          system_mode ? "system" : "session", lima_home);
        if (peers != NULL)
                g_message("serving %s to peers on the handed socket; instances in %s",
                          LIMAD_BUS_NAME, lima_home);
        sd_notify(0, "READY=1\nSTATUS=Serving io.lima.lima1");
        r = sd_event_loop(event);
        sd_notify(0, "STOPPING=1");
        g_clear_pointer(&peers, limad_peer_server_free);
        limad_manager_free(manager);
        sd_bus_flush_close_unref(bus);
        sd_event_unref(event);
        return r < 0 ? 1 : 0;
}
