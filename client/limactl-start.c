/* limactl start and stop. start asks limad to boot the instance, then follows its Status and
 * Progress until it is up, broken or out of time. */
#include <errno.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lima-instance-name.h"
#include "limactl-bus.h"
#include "limactl-create.h"
#include "limactl-format.h"
#include "limactl-instance.h"
#include "limactl.h"

#define LIMACTL_DEFAULT_INSTANCE "default"
#define LIMACTL_DEFAULT_TIMEOUT  "10m"
#define LIMACTL_FILE_SERIAL_LOG  "serial.log"
#define LIMACTL_FILE_HA_STDERR   "ha.stderr.log"

typedef struct {
        sd_bus *bus;
        LimactlInstance *inst;
        gboolean tty;
        gchar *last_stage;
        gboolean bar_shown;
        /* A Stopped or Broken read right after Start may predate it; only a change we saw
         * happen, or one after Starting, says the start failed. */
        gboolean saw_starting;
        gchar *prev_status;
        gboolean done;
        int exit_code;
        GError *error;
} LimactlStartWait;

static void
limactl_start_wait_clear(LimactlStartWait *wait)
{
        g_free(wait->last_stage);
        g_free(wait->prev_status);
        g_clear_error(&wait->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(LimactlStartWait, limactl_start_wait_clear)

static guint
limactl_terminal_columns(void)
{
        struct winsize ws = { 0 };
        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
                return ws.ws_col;
        return 80;
}

static void
limactl_start_clear_bar(LimactlStartWait *wait)
{
        if (!wait->bar_shown)
                return;
        g_printerr("\r\033[K");
        wait->bar_shown = FALSE;
}

static void
limactl_start_finish(LimactlStartWait *wait, int exit_code, GError *error)
{
        if (wait->done) {
                g_clear_error(&error);
                return;
        }
        wait->done = TRUE;
        wait->exit_code = exit_code;
        wait->error = error;
}

/* Decides whether the status just learnt ends the wait. */
static void
limactl_start_check_status(LimactlStartWait *wait)
{
        const gchar *status = wait->inst->status != NULL ? wait->inst->status : "";
        gboolean changed = g_strcmp0(status, wait->prev_status) != 0;

        g_free(wait->prev_status);
        wait->prev_status = g_strdup(status);
        if (g_str_equal(status, "Starting"))
                wait->saw_starting = TRUE;
        if (g_str_equal(status, "Running") || g_str_equal(status, "Degraded")) {
                limactl_start_finish(wait, 0, NULL);
                return;
        }
        if ((g_str_equal(status, "Broken") || g_str_equal(status, "Stopped")) &&
            (changed || wait->saw_starting))
                limactl_start_finish(wait, 1, NULL);
}

static int
limactl_start_on_getall(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimactlStartWait *wait = userdata;
        g_autoptr(GError) error = NULL;

        if (sd_bus_message_is_method_error(m, NULL)) {
                limactl_bus_set_error(&error, -sd_bus_message_get_errno(m),
                                      sd_bus_message_get_error(m));
                limactl_start_finish(wait, 1, g_steal_pointer(&error));
                return 0;
        }
        if (!limactl_instance_read_properties(wait->inst, m, &error)) {
                limactl_start_finish(wait, 1, g_steal_pointer(&error));
                return 0;
        }
        limactl_start_check_status(wait);
        return 0;
}

static void
limactl_start_refresh(LimactlStartWait *wait)
{
        int r = sd_bus_call_method_async(
            wait->bus, NULL, LIMACTL_BUS_NAME, wait->inst->path, "org.freedesktop.DBus.Properties",
            "GetAll", limactl_start_on_getall, wait, "s", LIMACTL_INSTANCE_IFACE);
        if (r < 0) {
                g_autoptr(GError) error = NULL;
                limactl_bus_set_error(&error, r, NULL);
                limactl_start_finish(wait, 1, g_steal_pointer(&error));
        }
}

static int
limactl_start_on_properties(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimactlStartWait *wait = userdata;
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) invalidated = NULL;
        const char *iface = NULL;

        if (sd_bus_message_read(m, "s", &iface) < 0 || !g_str_equal(iface, LIMACTL_INSTANCE_IFACE))
                return 0;
        if (!limactl_instance_read_properties(wait->inst, m, &error)) {
                limactl_start_finish(wait, 1, g_steal_pointer(&error));
                return 0;
        }
        /* Properties sent without their value are fetched again. */
        if (sd_bus_message_read_strv(m, &invalidated) >= 0 && invalidated != NULL &&
            invalidated[0] != NULL)
                limactl_start_refresh(wait);
        limactl_start_check_status(wait);
        return 0;
}

static int
limactl_start_on_progress(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimactlStartWait *wait = userdata;
        const char *stage = NULL;
        const char *message = NULL;
        double fraction = 0;

        g_autofree gchar *clean_stage = NULL;
        g_autofree gchar *clean_message = NULL;

        if (sd_bus_message_read(m, "sds", &stage, &fraction, &message) < 0 || wait->done)
                return 0;
        /* From the agent, relayed by limad: printed only without control characters. */
        clean_stage = limactl_format_sanitize(stage);
        clean_message = limactl_format_sanitize(message);
        stage = clean_stage;
        message = clean_message;
        if (wait->tty) {
                g_autofree gchar *line =
                    limactl_format_progress(fraction, stage, message, limactl_terminal_columns());
                g_printerr("\r%s\033[K", line);
                wait->bar_shown = TRUE;
        } else if (g_strcmp0(stage, wait->last_stage) != 0) {
                if (*message != '\0')
                        g_printerr("%s: %s\n", stage, message);
                else
                        g_printerr("%s\n", stage);
                g_free(wait->last_stage);
                wait->last_stage = g_strdup(stage);
        }
        return 0;
}

static int
limactl_start_on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimactlStartWait *wait = userdata;
        const char *name = NULL, *old_owner = NULL, *new_owner = NULL;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (*new_owner == '\0') {
                limactl_start_finish(wait, 1,
                                     g_error_new(LIMACTL_ERROR, LIMACTL_ERROR_NOT_RUNNING,
                                                 _("limad quit while %s was starting; see its "
                                                   "log, then run `limactl start %s` again"),
                                                 wait->inst->name, wait->inst->name));
        }
        return 0;
}

static int
limactl_start_on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimactlStartWait *wait = userdata;
        g_autoptr(GError) error = NULL;

        if (!sd_bus_message_is_method_error(m, NULL)) {
                limactl_start_refresh(wait);
                return 0;
        }
        limactl_bus_set_error(&error, -sd_bus_message_get_errno(m), sd_bus_message_get_error(m));
        if (g_error_matches(error, LIMACTL_ERROR, LIMACTL_ERROR_ALREADY_RUNNING)) {
                /* Lima does not call this an error either. */
                limactl_start_refresh(wait);
                return 0;
        }
        limactl_start_finish(wait, 1, g_steal_pointer(&error));
        return 0;
}

/* Matches first, then Start: no change can slip between the two. */
static gboolean
limactl_start_subscribe(LimactlStartWait *wait, GError **error)
{
        g_autofree gchar *owner_rule = g_strdup_printf(
            "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
            "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='%s'",
            LIMACTL_BUS_NAME);
        int r = sd_bus_match_signal(wait->bus, NULL, LIMACTL_BUS_NAME, wait->inst->path,
                                    "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                    limactl_start_on_properties, wait);
        if (r >= 0)
                r = sd_bus_match_signal(wait->bus, NULL, LIMACTL_BUS_NAME, wait->inst->path,
                                        LIMACTL_INSTANCE_IFACE, "Progress",
                                        limactl_start_on_progress, wait);
        if (r >= 0)
                r = sd_bus_add_match(wait->bus, NULL, owner_rule, limactl_start_on_owner_changed,
                                     wait);
        if (r < 0) {
                limactl_bus_set_error(error, r, NULL);
                return FALSE;
        }
        return TRUE;
}

/* Runs the bus until the wait is over or the deadline passes; FALSE on timeout. */
static gboolean
limactl_start_run_until(LimactlStartWait *wait, gint64 deadline)
{
        while (!wait->done) {
                gint64 now;
                int r = sd_bus_process(wait->bus, NULL);
                if (r > 0)
                        continue;
                if (r < 0) {
                        g_autoptr(GError) error = NULL;
                        limactl_bus_set_error(&error, r, NULL);
                        limactl_start_finish(wait, 1, g_steal_pointer(&error));
                        break;
                }
                now = g_get_monotonic_time();
                if (now >= deadline)
                        return FALSE;
                r = sd_bus_wait(wait->bus, (uint64_t)(deadline - now));
                if (r < 0 && r != -EINTR) {
                        g_autoptr(GError) error = NULL;
                        limactl_bus_set_error(&error, r, NULL);
                        limactl_start_finish(wait, 1, g_steal_pointer(&error));
                }
        }
        return TRUE;
}

static void
limactl_start_print_errors(const LimactlInstance *inst, gboolean as_warnings)
{
        for (guint i = 0; inst->errors != NULL && inst->errors[i] != NULL; i++) {
                if (as_warnings)
                        limactl_print_error(_("warning: %s"), inst->errors[i]);
                else
                        limactl_print_error("%s", inst->errors[i]);
        }
}

/* The latest Status and Errors before reporting a failure: a Stopped may be followed at once
 * by Broken with the reason. */
static void
limactl_start_reload(LimactlStartWait *wait)
{
        g_autoptr(sd_bus_message) reply = NULL;
        g_auto(sd_bus_error) e = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(wait->bus, LIMACTL_BUS_NAME, wait->inst->path,
                                   "org.freedesktop.DBus.Properties", "GetAll", &e, &reply, "s",
                                   LIMACTL_INSTANCE_IFACE);
        if (r >= 0)
                (void)limactl_instance_read_properties(wait->inst, reply, NULL);
}

static int
limactl_start_report(LimactlStartWait *wait, gboolean in_time, const gchar *timeout_text)
{
        const LimactlInstance *inst = wait->inst;
        const gchar *dir = inst->dir != NULL ? inst->dir : "";
        g_autofree gchar *serial = g_build_filename(dir, LIMACTL_FILE_SERIAL_LOG, NULL);
        g_autofree gchar *ha_log = g_build_filename(dir, LIMACTL_FILE_HA_STDERR, NULL);

        limactl_start_clear_bar(wait);
        if (wait->error == NULL && (!in_time || wait->exit_code != 0))
                limactl_start_reload(wait);
        if (!in_time) {
                limactl_print_error(_("%s did not come up within %s (it is %s); see %s, and "
                                      "try a longer --timeout"),
                                    inst->name, timeout_text,
                                    inst->status != NULL ? inst->status : "?", serial);
                return 1;
        }
        if (wait->error != NULL)
                return limactl_report_error(wait->error);
        if (wait->exit_code != 0) {
                limactl_start_print_errors(inst, FALSE);
                limactl_print_error(_("%s failed to start (it is %s); see %s and %s"), inst->name,
                                    inst->status, serial, ha_log);
                return 1;
        }
        limactl_start_print_errors(inst, TRUE);
        if (g_strcmp0(inst->status, "Degraded") == 0)
                g_printerr(_("%s is running, degraded (see the warnings above). Run `limactl "
                             "shell %s` to open a shell.\n"),
                           inst->name, inst->name);
        else
                g_printerr(_("%s is running. Run `limactl shell %s` to open a shell.\n"),
                           inst->name, inst->name);
        return 0;
}

static int
limactl_start_instance(const gchar *name, guint64 timeout, const gchar *timeout_text)
{
        g_auto(LimactlStartWait) wait = { 0 };
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus) bus = NULL;
        g_autoptr(LimactlInstance) inst = NULL;
        g_autoptr(sd_bus_message) call = NULL;
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout;
        gboolean in_time;
        int r;

        bus = limactl_bus_open(&error);
        if (bus == NULL)
                return limactl_report_error(error);
        inst = limactl_instance_get(bus, name, &error);
        if (inst == NULL)
                return limactl_report_error(error);
        if (limactl_instance_is_up(inst)) {
                g_printerr(_("%s is already running. Run `limactl shell %s` to open a shell.\n"),
                           inst->name, inst->name);
                return 0;
        }
        wait.bus = bus;
        wait.inst = inst;
        wait.prev_status = g_strdup(inst->status);
        wait.tty = limactl_use_tty(STDERR_FILENO);
        if (!limactl_start_subscribe(&wait, &error))
                return limactl_report_error(error);
        /* Someone else (or an earlier limactl) is starting it: follow that start. */
        if (g_strcmp0(inst->status, "Starting") == 0) {
                g_printerr(_("%s is already starting; waiting for it.\n"), inst->name);
                wait.saw_starting = TRUE;
                limactl_start_refresh(&wait);
                in_time = limactl_start_run_until(&wait, deadline);
                return limactl_start_report(&wait, in_time, timeout_text);
        }
        call = limactl_bus_new_call(bus, inst->path, LIMACTL_INSTANCE_IFACE, "Start", &error);
        if (call == NULL)
                return limactl_report_error(error);
        r = sd_bus_message_append(call, "a{sv}", 0);
        /* The reply may wait for downloads: let --timeout, not the call, be the limit. */
        if (r >= 0)
                r = sd_bus_call_async(bus, NULL, call, limactl_start_on_reply, &wait,
                                      timeout + G_USEC_PER_SEC);
        if (r < 0) {
                limactl_bus_set_error(&error, r, NULL);
                return limactl_report_error(error);
        }
        in_time = limactl_start_run_until(&wait, deadline);
        return limactl_start_report(&wait, in_time, timeout_text);
}

static gboolean
limactl_start_seems_name(const gchar *arg)
{
        g_autofree gchar *lower = NULL;
        if (arg == NULL)
                return TRUE;
        lower = g_ascii_strdown(arg, -1);
        return !g_str_has_prefix(arg, "template:") && strstr(arg, "://") == NULL &&
               !g_str_equal(arg, "-") && strchr(arg, '/') == NULL &&
               !g_str_has_suffix(lower, ".yaml") && !g_str_has_suffix(lower, ".yml") &&
               lima_instance_name_validate(arg, NULL);
}

/* Lima's loadOrCreateInstance: an existing instance gets the flags as an edit, a missing one
 * is created (from template:default for a bare NAME), then it is started. */
static int
limactl_start_load_or_create(LimactlCreateFlags *flags, const gchar *arg, gchar **name_out)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus) bus = NULL;
        g_autofree gchar *path = NULL;
        const gchar *name;

        if (!limactl_start_seems_name(arg))
                return limactl_create_instance(flags, arg, TRUE, name_out);
        if (flags->name != NULL && arg != NULL && !g_str_equal(flags->name, arg)) {
                limactl_print_error(_("instance name \"%s\" and CLI flag --name=%s cannot be "
                                      "specified together"),
                                    arg, flags->name);
                return 2;
        }
        name = arg != NULL ? arg : flags->name != NULL ? flags->name : LIMACTL_DEFAULT_INSTANCE;
        bus = limactl_bus_open(&error);
        if (bus == NULL)
                return limactl_report_error(error);
        path = limactl_bus_get_instance_path(bus, name, &error);
        if (path != NULL) {
                g_autoptr(GPtrArray) argv = NULL;
                g_clear_pointer(&bus, sd_bus_flush_close_unref);
                *name_out = g_strdup(name);
                if (!limactl_create_flags_given(flags))
                        return 0;
                g_printerr(_("Using the existing instance \"%s\"\n"), name);
                argv = limactl_create_edit_argv(flags, name);
                g_ptr_array_add(argv, NULL);
                /* Option parsing drops what it consumed from the vector it is given: hand it
                 * a copy of the pointers, so argv still frees every string. */
                g_autofree gchar **args = g_memdup2(argv->pdata, argv->len * sizeof(gchar *));
                return limactl_edit((int)argv->len - 1, args);
        }
        if (!g_error_matches(error, LIMACTL_ERROR, LIMACTL_ERROR_NO_SUCH_INSTANCE))
                return limactl_report_error(error);
        g_clear_pointer(&bus, sd_bus_flush_close_unref);
        if (arg != NULL && !g_str_equal(arg, LIMACTL_DEFAULT_INSTANCE)) {
                g_printerr(_("Creating an instance \"%s\" from template:default (Not from "
                             "template:%s)\n"),
                           name, name);
                limactl_print_error(_("warning: this form is deprecated. Use `limactl create "
                                      "--name=%s template:default` instead"),
                                    name);
        }
        {
                g_autofree gchar *saved = flags->name;
                int rc;
                flags->name = g_strdup(name);
                rc = limactl_create_instance(flags, NULL, TRUE, name_out);
                g_free(flags->name);
                flags->name = g_steal_pointer(&saved);
                return rc;
        }
}

int
limactl_start(int argc, char **argv)
{
        g_auto(LimactlCreateFlags) flags = LIMACTL_CREATE_FLAGS_INIT;
        g_autofree gchar *timeout_text = NULL;
        const GOptionEntry entries[] = {
                { "timeout", 0, 0, G_OPTION_ARG_STRING, &timeout_text,
                  N_("How long to wait for the instance to be running (default 10m)"),
                  N_("DURATION") },
                { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &flags.args, NULL,
                  N_("[NAME|FILE.yaml|template:NAME|-]") },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx = g_option_context_new(_("- create if needed, and start"));
        g_autoptr(GError) error = NULL;
        g_autofree gchar *shown = NULL;
        g_autofree gchar *name = NULL;
        guint64 timeout = 0;
        int rc;

        g_option_context_set_summary(
            ctx, _("Start instance NAME (default \"default\") and wait until it is running, "
                   "showing its progress. An instance that does not exist is created first, "
                   "as `limactl create` would (from template:default, FILE.yaml, "
                   "template:NAME or - for stdin), with the create flags; on an existing "
                   "instance the flags edit its lima.yaml first.\nExit status: 0 when it is "
                   "running (degraded counts, with warnings), 1 when it broke, stopped or did "
                   "not come up in time (see serial.log in its folder), 2 on bad usage."));
        limactl_create_add_entries(ctx, &flags);
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                limactl_print_error("%s", error->message);
                return 2;
        }
        if (flags.args != NULL && flags.args[0] != NULL && flags.args[1] != NULL) {
                limactl_print_error(_("start takes one NAME, FILE.yaml or template:NAME; see "
                                      "`limactl start --help`"));
                return 2;
        }
        if (!limactl_duration_parse(timeout_text != NULL ? timeout_text : LIMACTL_DEFAULT_TIMEOUT,
                                    &timeout) ||
            timeout == 0) {
                limactl_print_error(_("--timeout \"%s\": give a duration such as 10m, 90s or "
                                      "1h30m"),
                                    timeout_text);
                return 2;
        }
        shown = limactl_duration_format(timeout);
        rc = limactl_start_load_or_create(&flags, flags.args != NULL ? flags.args[0] : NULL, &name);
        if (rc != 0)
                return rc;
        return limactl_start_instance(name, timeout, shown);
}

/* Stops one instance; 0 when it is stopped. */
static int
limactl_stop_one(sd_bus *bus, const gchar *name, gboolean force)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus_message) call = NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autofree gchar *path = limactl_bus_get_instance_path(bus, name, &error);

        if (path == NULL)
                return limactl_report_error(error);
        call = limactl_bus_new_call(bus, path, LIMACTL_INSTANCE_IFACE, "Stop", &error);
        if (call == NULL)
                return limactl_report_error(error);
        if (sd_bus_message_append(call, "b", (int)force) < 0) {
                limactl_print_error(_("cannot build the Stop call (out of memory?)"));
                return 1;
        }
        reply = limactl_bus_call(bus, call, LIMACTL_BUS_LONG_TIMEOUT, &error);
        if (reply == NULL)
                return limactl_report_error(error);
        g_printerr(_("%s is stopped.\n"), name);
        return 0;
}

int
limactl_restart(int argc, char **argv)
{
        gboolean force = FALSE;
        g_autofree gchar *timeout_text = NULL;
        g_auto(GStrv) args = NULL;
        const GOptionEntry entries[] = {
                { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
                  N_("Kill the instance instead of shutting the guest down"), NULL },
                { "timeout", 0, 0, G_OPTION_ARG_STRING, &timeout_text,
                  N_("How long to wait for the instance to be running (default 10m)"),
                  N_("DURATION") },
                { "tty", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK,
                  (gpointer)limactl_tty_flag_parse, N_("Behave as on a terminal"), N_("BOOL") },
                { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &args, NULL, N_("[NAME]") },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx = g_option_context_new(_("- restart an instance"));
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus) bus = NULL;
        g_autoptr(LimactlInstance) inst = NULL;
        g_autofree gchar *shown = NULL;
        guint64 timeout = 0;
        const gchar *name;

        g_option_context_set_summary(
            ctx, _("Stop instance NAME (default \"default\") if it runs, then start it and "
                   "wait until it is running.\nExit status: as `limactl start`."));
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                limactl_print_error("%s", error->message);
                return 2;
        }
        if (args != NULL && args[0] != NULL && args[1] != NULL) {
                limactl_print_error(_("restart takes one instance NAME; see `limactl restart "
                                      "--help`"));
                return 2;
        }
        if (!limactl_duration_parse(timeout_text != NULL ? timeout_text : LIMACTL_DEFAULT_TIMEOUT,
                                    &timeout) ||
            timeout == 0) {
                limactl_print_error(_("--timeout \"%s\": give a duration such as 10m, 90s or "
                                      "1h30m"),
                                    timeout_text);
                return 2;
        }
        shown = limactl_duration_format(timeout);
        name = args != NULL && args[0] != NULL ? args[0] : LIMACTL_DEFAULT_INSTANCE;
        bus = limactl_bus_open(&error);
        if (bus == NULL)
                return limactl_report_error(error);
        inst = limactl_instance_get(bus, name, &error);
        if (inst == NULL)
                return limactl_report_error(error);
        if (g_strcmp0(inst->status, "Stopped") != 0 && g_strcmp0(inst->status, "Broken") != 0) {
                int rc = limactl_stop_one(bus, name, force);
                if (rc != 0)
                        return rc;
        }
        g_clear_pointer(&bus, sd_bus_flush_close_unref);
        return limactl_start_instance(name, timeout, shown);
}

int
limactl_stop(int argc, char **argv)
{
        gboolean force = FALSE;
        g_auto(GStrv) args = NULL;
        const GOptionEntry entries[] = {
                { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
                  N_("Kill the instance at once instead of shutting the guest down"), NULL },
                { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &args, NULL, N_("[NAME…]") },
                { NULL },
        };
        g_autoptr(GOptionContext) ctx = g_option_context_new(_("- stop instances"));
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus) bus = NULL;
        const gchar *const default_names[] = { LIMACTL_DEFAULT_INSTANCE, NULL };
        const gchar *const *names;
        int rc = 0;

        g_option_context_set_summary(
            ctx, _("Shut each instance NAME (default \"default\") down cleanly, killing it if "
                   "it does not stop in time; --force kills it at once. Returns once they are "
                   "stopped.\nExit status: 0 when all are stopped, 1 when limad refuses one "
                   "(e.g. it is not running; the others are still stopped), 2 on bad usage."));
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                limactl_print_error("%s", error->message);
                return 2;
        }
        names = args != NULL && args[0] != NULL ? (const gchar *const *)args : default_names;
        bus = limactl_bus_open(&error);
        if (bus == NULL)
                return limactl_report_error(error);
        for (guint i = 0; names[i] != NULL; i++) {
                int one = limactl_stop_one(bus, names[i], force);
                if (one != 0 && rc == 0)
                        rc = one;
        }
        return rc;
}
