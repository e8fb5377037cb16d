/* Instances as lima@NAME.service units: starting and stopping them through the systemd
 * manager, and following jobs others queue with systemctl. */
#include "limad-systemd.h"

#include <glib/gi18n.h>
#include <signal.h>

#include "lima-paths.h"
#include "limad-agent.h"
#include "limad-error.h"
#include "limad-store.h"

#define SD1_NAME    "org.freedesktop.systemd1"
#define SD1_PATH    "/org/freedesktop/systemd1"
#define SD1_MANAGER "org.freedesktop.systemd1.Manager"
/* Calls to systemd keep sd-bus's 25 s default: pid1 answers once it has queued a job, and
 * the work is bounded by the unit (TimeoutStartSec=15min, TimeoutStopSec=150) and reported
 * by JobRemoved; a call that fails or times out becomes UnitFailed with the journalctl hint. */
#define SD1_UNIT_PREFIX  "/org/freedesktop/systemd1/unit"
#define UNIT_TEMPLATE    "lima@.service"
#define UNIT_NAME_PREFIX "lima@"
#define UNIT_NAME_SUFFIX ".service"

struct _LimadSystemd {
        LimadManager *manager;
        sd_bus_slot *job_new_slot;
        sd_bus_slot *job_removed_slot;
        sd_bus_slot *unit_changed_slot;
};

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(sd_bus_error, sd_bus_error_free)

void
limad_systemd_free(LimadSystemd *systemd)
{
        if (systemd == NULL)
                return;
        sd_bus_slot_unref(systemd->job_new_slot);
        sd_bus_slot_unref(systemd->job_removed_slot);
        sd_bus_slot_unref(systemd->unit_changed_slot);
        g_free(systemd);
}

gchar *
limad_systemd_unit_name(const gchar *instance)
{
        /* Instance names ([A-Za-z0-9._-]) are valid unit instance strings as they are; the
         * unit reads them back with %i. */
        return g_strconcat(UNIT_NAME_PREFIX, instance, UNIT_NAME_SUFFIX, NULL);
}

gchar *
limad_systemd_instance_from_unit(const gchar *unit)
{
        const gsize affixes = strlen(UNIT_NAME_PREFIX) + strlen(UNIT_NAME_SUFFIX);
        if (unit == NULL || strlen(unit) <= affixes || !g_str_has_prefix(unit, UNIT_NAME_PREFIX) ||
            !g_str_has_suffix(unit, UNIT_NAME_SUFFIX))
                return NULL;
        return g_strndup(unit + strlen(UNIT_NAME_PREFIX), strlen(unit) - affixes);
}

static LimadInstance *
limad_systemd_lookup(LimadSystemd *systemd, const gchar *unit)
{
        g_autofree gchar *name = limad_systemd_instance_from_unit(unit);
        if (name == NULL)
                return NULL;
        return g_hash_table_lookup(systemd->manager->instances, name);
}

static gchar *
limad_systemd_unit_path(LimadInstance *inst)
{
        g_autofree gchar *unit = limad_systemd_unit_name(inst->name);
        gchar *path = NULL;
        if (sd_bus_path_encode(SD1_UNIT_PREFIX, unit, &path) < 0)
                return NULL;
        return path;
}

/* A start job for inst's unit is queued (by limad or by systemctl): follow it. */
static void
limad_systemd_follow_start(LimadInstance *inst, const gchar *job)
{
        g_free(inst->unit_job);
        inst->unit_job = g_strdup(job);
        if (inst->link != NULL)
                return;
        if (g_strcmp0(inst->status, "Starting") != 0) {
                g_ptr_array_set_size(inst->errors, 0);
                limad_instance_emit_changed(inst, "Errors", NULL);
                limad_instance_set_status(inst, "Starting");
        }
        limad_agent_link_retry(inst, 60);
}

static int
limad_systemd_on_job_new(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimadSystemd *systemd = userdata;
        g_autofree gchar *type = NULL;
        const char *job, *unit;
        uint32_t id;
        LimadInstance *inst;

        if (sd_bus_message_read(m, "uos", &id, &job, &unit) < 0)
                return 0;
        inst = limad_systemd_lookup(systemd, unit);
        if (inst == NULL)
                return 0;
        /* The job is queued when its JobNew goes out, so it can still be asked its type. */
        if (sd_bus_get_property_string(systemd->manager->bus, SD1_NAME, job,
                                       "org.freedesktop.systemd1.Job", "JobType", NULL, &type) < 0)
                return 0;
        g_info("%s: systemd job %u: %s %s", inst->name, id, type, unit);
        if (g_str_equal(type, "start") || g_str_equal(type, "restart"))
                limad_systemd_follow_start(inst, job);
        return 0;
}

static int
limad_systemd_on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimadSystemd *systemd = userdata;
        const char *job, *unit, *result;
        uint32_t id;
        LimadInstance *inst;

        if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0)
                return 0;
        inst = limad_systemd_lookup(systemd, unit);
        if (inst == NULL)
                return 0;
        g_info("%s: systemd job %u for %s: %s", inst->name, id, unit, result);
        if (g_strcmp0(inst->unit_job, job) != 0) {
                /* A stop job: the link drop says Stopped. A unit stopped before limad
                 * linked to its agent never had a link to drop. */
                if (inst->link == NULL) {
                        inst->connect_timer = sd_event_source_disable_unref(inst->connect_timer);
                        limad_instance_agent_gone(inst);
                }
                return 0;
        }
        g_clear_pointer(&inst->unit_job, g_free);
        if (g_str_equal(result, "done") || g_str_equal(result, "canceled"))
                return 0;
        /* A forced stop while starting fails the start job; that is what was asked for. */
        if (inst->unit_killed || g_strcmp0(inst->status, "Stopped") == 0 ||
            g_strcmp0(inst->status, "Stopping") == 0)
                return 0;
        /* The start failed (the agent exited, READY=1 never came, a dependency failed …). */
        inst->connect_timer = sd_event_source_disable_unref(inst->connect_timer);
        if (inst->link == NULL)
                limad_instance_refresh(inst);
        {
                g_autofree gchar *msg = g_strdup_printf(
                    _("systemd could not start %s (job result: %s); `journalctl -u %s` says why"),
                    unit, result, unit);
                limad_instance_add_error(inst, msg);
        }
        limad_instance_set_status(inst, "Broken");
        return 0;
}

/* After KillUnit the unit ends "failed"; a forced stop is not a failure, so forget it. */
static int
limad_systemd_on_unit_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimadSystemd *systemd = userdata;
        g_autofree gchar *unit = NULL;
        g_autofree gchar *state = NULL;
        LimadInstance *inst;

        if (sd_bus_path_decode(sd_bus_message_get_path(m), SD1_UNIT_PREFIX, &unit) <= 0)
                return 0;
        inst = limad_systemd_lookup(systemd, unit);
        if (inst == NULL || !inst->unit_killed)
                return 0;
        if (sd_bus_get_property_string(systemd->manager->bus, SD1_NAME, sd_bus_message_get_path(m),
                                       "org.freedesktop.systemd1.Unit", "ActiveState", NULL,
                                       &state) < 0)
                return 0;
        if (g_str_equal(state, "failed") || g_str_equal(state, "inactive")) {
                inst->unit_killed = FALSE;
                limad_systemd_reset_failed(systemd, inst);
        }
        return 0;
}

/* The instance store the manager's lima@ units would use: the user manager passes its own
 * environment (LIMA_HOME or ~/.lima); PID 1's run lima-hostagent --system without
 * --state-dir, so they use the default system store. */
static gboolean
limad_systemd_same_store(LimadManager *manager, sd_bus *bus)
{
        g_auto(GStrv) env = NULL;
        g_autofree gchar *home = NULL;

        if (manager->system_mode)
                return g_str_equal(manager->lima_home, LIMA_PATHS_SYSTEM_HOME);
        if (sd_bus_get_property_strv(bus, SD1_NAME, SD1_PATH, SD1_MANAGER, "Environment", NULL,
                                     &env) < 0)
                return FALSE;
        for (guint i = 0; env != NULL && env[i] != NULL; i++)
                if (g_str_has_prefix(env[i], "LIMA_HOME=") && env[i][10] != '\0')
                        home = g_strdup(env[i] + 10);
        if (home == NULL)
                home = g_build_filename(g_get_home_dir(), ".lima", NULL);
        return g_str_equal(home, manager->lima_home);
}

LimadSystemd *
limad_systemd_new(LimadManager *manager)
{
        g_autoptr(LimadSystemd) systemd = NULL;
        g_auto(sd_bus_error) err_storage = SD_BUS_ERROR_NULL;
        sd_bus_error *err = &err_storage;
        g_autoptr(sd_bus_message) reply = NULL;
        const gchar *env = g_getenv("LIMAD_SYSTEMD");
        sd_bus *bus = manager->bus;
        int has_owner = 0;
        int r;

        if (env != NULL && g_str_equal(env, "0")) {
                g_info("LIMAD_SYSTEMD=0: instances run as children of limad");
                return NULL;
        }
        /* Asked without activating anything: a bus without systemd has no such name. */
        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "NameHasOwner", NULL, &reply, "s", SD1_NAME);
        if (r < 0 || sd_bus_message_read(reply, "b", &has_owner) < 0 || !has_owner) {
                g_info("no systemd manager on the bus: instances run as children of limad");
                return NULL;
        }
        g_clear_pointer(&reply, sd_bus_message_unref);
        r = sd_bus_call_method(bus, SD1_NAME, SD1_PATH, SD1_MANAGER, "GetUnitFileState", err,
                               &reply, "s", UNIT_TEMPLATE);
        if (r < 0) {
                g_message("systemd runs, but %s is not installed (%s): instances run as "
                          "children of limad",
                          UNIT_TEMPLATE, err->message);
                return NULL;
        }
        if (!limad_systemd_same_store(manager, bus)) {
                g_message("systemd's %s would use another instance store than %s: instances "
                          "run as children of limad",
                          UNIT_TEMPLATE, manager->lima_home);
                return NULL;
        }
        systemd = g_new0(LimadSystemd, 1);
        systemd->manager = manager;
        r = sd_bus_match_signal(bus, &systemd->job_new_slot, SD1_NAME, SD1_PATH, SD1_MANAGER,
                                "JobNew", limad_systemd_on_job_new, systemd);
        if (r >= 0)
                r = sd_bus_match_signal(bus, &systemd->job_removed_slot, SD1_NAME, SD1_PATH,
                                        SD1_MANAGER, "JobRemoved", limad_systemd_on_job_removed,
                                        systemd);
        if (r >= 0)
                r = sd_bus_add_match(bus, &systemd->unit_changed_slot,
                                     "type='signal',sender='" SD1_NAME "',"
                                     "interface='org.freedesktop.DBus.Properties',"
                                     "member='PropertiesChanged',"
                                     "path_namespace='" SD1_UNIT_PREFIX "',"
                                     "arg0='org.freedesktop.systemd1.Unit'",
                                     limad_systemd_on_unit_changed, systemd);
        /* systemd sends job and unit signals only while someone has subscribed. */
        if (r >= 0)
                r = sd_bus_call_method(bus, SD1_NAME, SD1_PATH, SD1_MANAGER, "Subscribe", err, NULL,
                                       "");
        if (r < 0) {
                g_warning("cannot follow systemd's jobs (%s): instances run as children of "
                          "limad",
                          sd_bus_error_is_set(err) ? err->message : g_strerror(-r));
                return NULL;
        }
        g_message("instances run as %s units of the %s manager", UNIT_TEMPLATE,
                  manager->system_mode ? "system" : "user");
        return g_steal_pointer(&systemd);
}

gboolean
limad_systemd_start(LimadSystemd *systemd, LimadInstance *inst, GError **error)
{
        g_autofree gchar *unit = limad_systemd_unit_name(inst->name);
        g_auto(sd_bus_error) err_storage = SD_BUS_ERROR_NULL;
        sd_bus_error *err = &err_storage;
        g_autoptr(sd_bus_message) reply = NULL;
        const char *job;
        int r;

        r = sd_bus_call_method(systemd->manager->bus, SD1_NAME, SD1_PATH, SD1_MANAGER, "StartUnit",
                               err, &reply, "ss", unit, "replace");
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &job);
        if (r < 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_UNIT_FAILED,
                            _("systemd could not start %s: %s; `journalctl -u %s` says more"), unit,
                            sd_bus_error_is_set(err) ? err->message : g_strerror(-r), unit);
                return FALSE;
        }
        g_message("%s: started %s (job %s)", inst->name, unit, job);
        limad_systemd_follow_start(inst, job);
        return TRUE;
}

gboolean
limad_systemd_unit_running(LimadSystemd *systemd, LimadInstance *inst)
{
        g_autofree gchar *path = limad_systemd_unit_path(inst);
        g_autofree gchar *state = NULL;

        /* GetUnit, not the path alone: asking an unloaded unit's path would load it. */
        {
                g_autofree gchar *unit = limad_systemd_unit_name(inst->name);
                g_autoptr(sd_bus_message) reply = NULL;
                if (path == NULL ||
                    sd_bus_call_method(systemd->manager->bus, SD1_NAME, SD1_PATH, SD1_MANAGER,
                                       "GetUnit", NULL, &reply, "s", unit) < 0)
                        return FALSE;
        }
        if (sd_bus_get_property_string(systemd->manager->bus, SD1_NAME, path,
                                       "org.freedesktop.systemd1.Unit", "ActiveState", NULL,
                                       &state) < 0)
                return FALSE;
        return g_str_equal(state, "active") || g_str_equal(state, "activating") ||
               g_str_equal(state, "deactivating") || g_str_equal(state, "reloading");
}

gboolean
limad_systemd_stop(LimadSystemd *systemd, LimadInstance *inst, gboolean force, GError **error)
{
        g_autofree gchar *unit = limad_systemd_unit_name(inst->name);
        g_auto(sd_bus_error) err_storage = SD_BUS_ERROR_NULL;
        sd_bus_error *err = &err_storage;
        int r;

        if (force) {
                /* Everything in the unit's cgroup at once: agent, QEMU and helpers. */
                r = sd_bus_call_method(systemd->manager->bus, SD1_NAME, SD1_PATH, SD1_MANAGER,
                                       "KillUnit", err, NULL, "ssi", unit, "all", SIGKILL);
                if (r >= 0)
                        inst->unit_killed = TRUE;
        } else {
                r = sd_bus_call_method(systemd->manager->bus, SD1_NAME, SD1_PATH, SD1_MANAGER,
                                       "StopUnit", err, NULL, "ss", unit, "replace");
        }
        if (r < 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_UNIT_FAILED,
                            _("systemd could not stop %s: %s; `journalctl -u %s` says more"), unit,
                            sd_bus_error_is_set(err) ? err->message : g_strerror(-r), unit);
                return FALSE;
        }
        g_message("%s: %s %s", inst->name, force ? "killed" : "stopping", unit);
        return TRUE;
}

void
limad_systemd_reset_failed(LimadSystemd *systemd, LimadInstance *inst)
{
        g_autofree gchar *unit = limad_systemd_unit_name(inst->name);
        sd_bus_call_method(systemd->manager->bus, SD1_NAME, SD1_PATH, SD1_MANAGER,
                           "ResetFailedUnit", NULL, NULL, "s", unit);
}
