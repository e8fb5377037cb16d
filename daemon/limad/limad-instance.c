/* One instance: its object on the bus, its state, and the methods that act on it. */
#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lima-config-resolve.h"
#include "lima-error.h"
#include "lima-paths.h"
#include "lima-size.h"
#include "limad-agent.h"
#include "limad-authorize.h"
#include "limad-error.h"
#include "limad-manager.h"
#include "limad-store.h"
#include "limad-systemd.h"

static void
limad_message_unref(gpointer m)
{
        sd_bus_message_unref(m);
}

LimadInstance *
limad_instance_ref(LimadInstance *inst)
{
        inst->ref_count++;
        return inst;
}

static void
limad_reply_all_with_error(GPtrArray *calls, const gchar *name, const gchar *message)
{
        for (guint i = 0; i < calls->len; i++)
                sd_bus_reply_method_errorf(g_ptr_array_index(calls, i), name, "%s", message);
        g_ptr_array_set_size(calls, 0);
}

void
limad_instance_unref(LimadInstance *inst)
{
        if (inst == NULL || --inst->ref_count > 0)
                return;
        limad_reply_all_with_error(inst->pending_stops, LIMAD_DBUS_ERROR_PREFIX "Failed",
                                   "limad is shutting down");
        limad_reply_all_with_error(inst->pending_deletes, LIMAD_DBUS_ERROR_PREFIX "Failed",
                                   "limad is shutting down");
        g_clear_pointer(&inst->link, limad_agent_link_free);
        if (inst->agent_child != NULL) {
                /* The agent may outlive its instance object (delete while stopping): leave
                 * the watch to the loop so the child is still reaped. */
                sd_event_source_set_userdata(inst->agent_child, NULL);
                sd_event_source_set_floating(inst->agent_child, 1);
                sd_event_source_unref(inst->agent_child);
        }
        sd_event_source_disable_unref(inst->connect_timer);
        g_free(inst->name);
        g_free(inst->dir);
        g_free(inst->path);
        lima_config_free(inst->cfg);
        g_free(inst->status);
        g_free(inst->unit_job);
        g_free(inst->accel);
        g_ptr_array_unref(inst->errors);
        g_ptr_array_unref(inst->mounts);
        g_ptr_array_unref(inst->pending_stops);
        g_ptr_array_unref(inst->pending_deletes);
        g_free(inst);
}

void
limad_instance_emit_changed(LimadInstance *inst, const gchar *first, ...)
{
        va_list args;
        g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
        g_auto(GStrv) names = NULL;

        if (inst->manager == NULL)
                return;
        va_start(args, first);
        for (const gchar *n = first; n != NULL; n = va_arg(args, const gchar *))
                g_strv_builder_add(builder, n);
        va_end(args);
        names = g_strv_builder_end(builder);
        limad_manager_emit_properties_changed(inst->manager, inst->path, names);
}

void
limad_instance_set_status(LimadInstance *inst, const gchar *status)
{
        if (g_strcmp0(inst->status, status) == 0)
                return;
        g_info("%s: %s → %s", inst->name, inst->status, status);
        g_free(inst->status);
        inst->status = g_strdup(status);
        limad_instance_emit_changed(inst, "Status", NULL);
}

void
limad_instance_set_errors(LimadInstance *inst, GPtrArray *errors)
{
        g_ptr_array_set_size(inst->errors, 0);
        for (guint i = 0; errors != NULL && i < errors->len; i++)
                g_ptr_array_add(inst->errors, g_strdup(g_ptr_array_index(errors, i)));
        limad_instance_emit_changed(inst, "Errors", NULL);
}

void
limad_instance_add_error(LimadInstance *inst, const gchar *message)
{
        g_ptr_array_add(inst->errors, g_strdup(message));
        limad_instance_emit_changed(inst, "Errors", NULL);
}

/* Mounts as configured, each pending until an agent says otherwise. */
static void
limad_instance_mounts_from_config(LimadInstance *inst)
{
        g_ptr_array_set_size(inst->mounts, 0);
        for (guint i = 0; inst->cfg != NULL && i < inst->cfg->mounts->len; i++) {
                LimaMount *m = g_ptr_array_index(inst->cfg->mounts, i);
                LimaMountStatus *s = lima_mount_status_new(m->location.value, m->mount_point.value,
                                                           inst->cfg->mount_type.value,
                                                           m->writable.value, "pending");
                s->tag = g_strdup(m->tag);
                g_ptr_array_add(inst->mounts, s);
        }
}

/* The tail of the agent's stderr: what a person needs to see when it died. */
gchar *
limad_instance_agent_log_tail(LimadInstance *inst)
{
        g_autofree gchar *path = g_build_filename(inst->dir, LIMA_FILE_HA_STDERR, NULL);
        g_autofree gchar *text = NULL;
        gsize len = 0;
        const gchar *start;
        guint lines = 0;

        if (inst->manager == NULL ||
            !limad_store_read_file(inst->manager, path, inst->owner_uid, &text, &len, NULL) ||
            len == 0)
                return NULL;
        while (len > 0 && text[len - 1] == '\n')
                text[--len] = '\0';
        start = text + len;
        while (start > text && lines < 5) {
                start--;
                if (*start == '\n' && ++lines == 5)
                        start++;
        }
        return g_strdup(start);
}

void
limad_instance_refresh(LimadInstance *inst)
{
        g_autofree gchar *ha_pid_path = g_build_filename(inst->dir, LIMA_FILE_HA_PID, NULL);
        g_autofree gchar *qemu_pid_path = g_build_filename(inst->dir, LIMA_FILE_QEMU_PID, NULL);
        pid_t ha, qemu;

        if (inst->link != NULL || inst->connect_timer != NULL)
                return;
        ha = lima_pidfile_alive(ha_pid_path, "lima-hostagent");
        qemu = lima_pidfile_alive(qemu_pid_path, "qemu");
        if (ha > 0) {
                g_autoptr(GError) error = NULL;
                if (!limad_agent_link(inst, &error)) {
                        g_info("%s: agent pid %d runs but does not answer yet: %s", inst->name, ha,
                               error->message);
                        limad_instance_set_status(inst, "Starting");
                        limad_agent_link_retry(inst, 30);
                }
                return;
        }
        if (qemu > 0) {
                g_autofree gchar *msg = g_strdup_printf(
                    _("the host agent is gone but QEMU (pid %d) still runs; `limactl stop -f "
                      "%s` ends it"),
                    qemu, inst->name);
                g_ptr_array_set_size(inst->errors, 0);
                limad_instance_add_error(inst, msg);
                limad_instance_set_status(inst, "Broken");
                return;
        }
        if (g_file_test(ha_pid_path, G_FILE_TEST_EXISTS)) {
                /* A pid file without its process: the agent died without cleaning up. */
                g_autofree gchar *tail = limad_instance_agent_log_tail(inst);
                g_autofree gchar *msg = g_strdup_printf(
                    _("the host agent exited unexpectedly%s%s; `limactl start %s` starts it "
                      "afresh"),
                    tail != NULL ? ": " : "", tail != NULL ? tail : "", inst->name);
                g_ptr_array_set_size(inst->errors, 0);
                limad_instance_add_error(inst, msg);
                limad_instance_set_status(inst, "Broken");
                return;
        }
        if (g_strcmp0(inst->status, "Broken") != 0)
                limad_instance_set_status(inst, "Stopped");
}

void
limad_instance_agent_gone(LimadInstance *inst)
{
        g_autoptr(LimadInstance) hold = limad_instance_ref(inst);
        (void)hold; /* keeps inst alive while it may be dropped */
        g_autofree gchar *old = g_strdup(inst->status);

        g_clear_pointer(&inst->link, limad_agent_link_free);
        inst->ssh_port = 0;
        g_clear_pointer(&inst->accel, g_free);
        limad_instance_mounts_from_config(inst);
        limad_instance_emit_changed(inst, "SSHPort", "Accelerator", "Mounts", NULL);
        /* A clean exit leaves no pid files (Stopped); anything else is Broken. */
        g_free(inst->status);
        inst->status = g_strdup("Stopped");
        limad_instance_refresh(inst);
        if (g_strcmp0(old, inst->status) != 0)
                limad_instance_emit_changed(inst, "Status", NULL);
        if (inst->manager == NULL)
                return;
        for (guint i = 0; i < inst->pending_stops->len; i++)
                sd_bus_reply_method_return(g_ptr_array_index(inst->pending_stops, i), NULL);
        g_ptr_array_set_size(inst->pending_stops, 0);
        if (inst->pending_deletes->len > 0) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GPtrArray) calls = g_ptr_array_ref(inst->pending_deletes);
                inst->pending_deletes = g_ptr_array_new_with_free_func(limad_message_unref);
                if (!limad_store_delete(inst->manager, inst, &error)) {
                        for (guint i = 0; i < calls->len; i++) {
                                sd_bus_error e = SD_BUS_ERROR_NULL;
                                limad_error_to_bus(error, &e);
                                sd_bus_reply_method_error(g_ptr_array_index(calls, i), &e);
                                sd_bus_error_free(&e);
                        }
                        return;
                }
                for (guint i = 0; i < calls->len; i++)
                        sd_bus_reply_method_return(g_ptr_array_index(calls, i), NULL);
        }
}

/* --system: the owner is who the folder belongs to (only root can give it away), and
 * owner-uid, written by limad at create, must agree; a folder someone tampered with is
 * owned by root and carries an error, so nobody but root may act on it. */
static gboolean
limad_instance_load_owner(LimadInstance *inst, const gchar *owner_path)
{
        g_autofree gchar *recorded = NULL;
        g_autoptr(GError) error = NULL;
        struct stat st;
        guint64 uid = G_MAXUINT64;

        inst->owner_uid = 0;
        if (lstat(inst->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
                limad_instance_add_error(inst, _("the instance folder is not a folder"));
                return FALSE;
        }
        if (limad_store_read_file(inst->manager, owner_path, 0, &recorded, NULL, &error))
                g_ascii_string_to_unsigned(g_strstrip(recorded), 10, 0, G_MAXUINT32, &uid, NULL);
        if (uid != st.st_uid) {
                g_autofree gchar *msg = g_strdup_printf(
                    _("%s does not match the owner of the folder (uid %u); only root may act "
                      "on this instance until an administrator fixes one or the other"),
                    owner_path, (guint)st.st_uid);
                limad_instance_add_error(inst, msg);
                return FALSE;
        }
        inst->owner_uid = st.st_uid;
        return TRUE;
}

LimadInstance *
limad_instance_load(LimadManager *manager, const gchar *name)
{
        LimadInstance *inst = g_new0(LimadInstance, 1);
        g_autofree gchar *config_path = NULL;
        g_autofree gchar *version_path = NULL;
        g_autofree gchar *owner_path = NULL;
        g_autofree gchar *text = NULL;
        g_autofree gchar *owner = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaHost) host = NULL;
        g_autoptr(LimaDiagnostics) diags = NULL;
        gsize len = 0;

        inst->ref_count = 1;
        inst->manager = manager;
        inst->name = g_strdup(name);
        inst->dir = lima_paths_instance_file(manager->lima_home, name, NULL);
        sd_bus_path_encode(LIMAD_INSTANCE_PREFIX, name, &inst->path);
        inst->status = g_strdup("Stopped");
        inst->errors = g_ptr_array_new_with_free_func(g_free);
        inst->mounts = g_ptr_array_new_with_free_func((GDestroyNotify)lima_mount_status_free);
        inst->pending_stops = g_ptr_array_new_with_free_func(limad_message_unref);
        inst->pending_deletes = g_ptr_array_new_with_free_func(limad_message_unref);
        owner_path = g_build_filename(inst->dir, LIMA_FILE_OWNER, NULL);
        inst->owner_uid = getuid();
        if (manager->system_mode) {
                if (!limad_instance_load_owner(inst, owner_path))
                        return inst;
                host = lima_host_new_for_uid(name, inst->dir, inst->owner_uid);
        } else {
                if (g_file_get_contents(owner_path, &owner, NULL, NULL))
                        inst->owner_uid = (guint)g_ascii_strtoull(owner, NULL, 10);
                host = lima_host_new_from_system(name, inst->dir);
        }
        version_path = g_build_filename(inst->dir, LIMA_FILE_VERSION, NULL);
        if (limad_store_read_file(manager, version_path, inst->owner_uid, &host->existing_version,
                                  NULL, NULL))
                g_strstrip(host->existing_version);
        else
                host->existing_version = g_strdup("");
        config_path = g_build_filename(inst->dir, LIMA_FILE_CONFIG, NULL);
        diags = lima_diagnostics_new(config_path);
        if (!limad_store_read_file(manager, config_path, inst->owner_uid, &text, &len, &error)) {
                limad_instance_add_error(inst, error->message);
        } else {
                inst->cfg = lima_config_resolve_full(
                    text, len, config_path, host, manager->lima_home,
                    manager->system_mode ? LIMA_RESOLVE_SYSTEM : 0, diags, &error);
                if (inst->cfg == NULL)
                        limad_instance_add_error(inst, error->message);
                else if (!lima_diagnostics_check(diags, &error)) {
                        limad_instance_add_error(inst, error->message);
                        g_clear_pointer(&inst->cfg, lima_config_free);
                }
        }
        limad_instance_mounts_from_config(inst);
        return inst;
}

/* ---- properties ---- */

#define INST(userdata) ((LimadInstance *)(userdata))

static int
limad_prop_string(sd_bus_message *reply, const gchar *value)
{
        return sd_bus_message_append(reply, "s", value != NULL ? value : "");
}

static int
limad_instance_get_property(sd_bus *bus, const char *path, const char *interface,
                            const char *property, sd_bus_message *reply, void *userdata,
                            sd_bus_error *error)
{
        LimadInstance *inst = INST(userdata);
        LimaConfig *cfg = inst->cfg;
        guint64 bytes = 0;

        if (g_str_equal(property, "Name"))
                return limad_prop_string(reply, inst->name);
        if (g_str_equal(property, "Status"))
                return limad_prop_string(reply, inst->status);
        if (g_str_equal(property, "OwnerUID"))
                return sd_bus_message_append(reply, "u", inst->owner_uid);
        if (g_str_equal(property, "VMType"))
                return limad_prop_string(reply, cfg != NULL ? cfg->vm_type.value : NULL);
        if (g_str_equal(property, "Arch"))
                return limad_prop_string(reply, cfg != NULL ? cfg->arch.value : NULL);
        if (g_str_equal(property, "CPUs"))
                return sd_bus_message_append(reply, "u",
                                             cfg != NULL ? (guint32)cfg->cpus.value : 0);
        if (g_str_equal(property, "Memory")) {
                if (cfg != NULL)
                        lima_size_parse(cfg->memory.value, &bytes);
                return sd_bus_message_append(reply, "t", bytes);
        }
        if (g_str_equal(property, "Disk")) {
                if (cfg != NULL)
                        lima_size_parse(cfg->disk.value, &bytes);
                return sd_bus_message_append(reply, "t", bytes);
        }
        if (g_str_equal(property, "Dir"))
                return limad_prop_string(reply, inst->dir);
        if (g_str_equal(property, "SSHPort"))
                return sd_bus_message_append(reply, "u", inst->ssh_port);
        if (g_str_equal(property, "Accelerator"))
                return limad_prop_string(reply, inst->accel);
        if (g_str_equal(property, "Errors")) {
                /* A view of the strings, not a copy: the array frees nothing. */
                g_autoptr(GPtrArray) strv = g_ptr_array_sized_new(inst->errors->len + 1);
                for (guint i = 0; i < inst->errors->len; i++)
                        g_ptr_array_add(strv, g_ptr_array_index(inst->errors, i));
                g_ptr_array_add(strv, NULL);
                return sd_bus_message_append_strv(reply, (char **)strv->pdata);
        }
        if (g_str_equal(property, "Mounts")) {
                int r = sd_bus_message_open_container(reply, 'a', "(sssbsa{sv})");
                for (guint i = 0; r >= 0 && i < inst->mounts->len; i++) {
                        LimaMountStatus *m = g_ptr_array_index(inst->mounts, i);
                        r = sd_bus_message_append(
                            reply, "(sssbsa{sv})", m->location ? m->location : "",
                            m->mount_point ? m->mount_point : "", m->type ? m->type : "",
                            m->writable, m->state ? m->state : "", m->error != NULL ? 2 : 1, "tag",
                            "s", m->tag ? m->tag : "", "error", "s", m->error ? m->error : "");
                }
                return r < 0 ? r : sd_bus_message_close_container(reply);
        }
        return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "no property %s", property);
}

/* ---- methods ---- */

static gboolean
limad_instance_is_active(LimadInstance *inst)
{
        return g_strv_contains(
            (const gchar *const[]){ "Starting", "Running", "Degraded", "Stopping", NULL },
            inst->status);
}

/* Kills what a dead agent left running, and its stale files. */
static void
limad_instance_kill_leftovers(LimadInstance *inst)
{
        g_autofree gchar *qemu_pid_path = g_build_filename(inst->dir, LIMA_FILE_QEMU_PID, NULL);
        pid_t qemu = lima_pidfile_alive(qemu_pid_path, "qemu");
        if (qemu > 0 && inst->manager != NULL && inst->manager->system_mode) {
                /* The pid file is the owner's to write: kill only a process of theirs. */
                g_autofree gchar *proc = g_strdup_printf("/proc/%d", qemu);
                struct stat st;
                if (stat(proc, &st) != 0 || st.st_uid != inst->owner_uid)
                        qemu = 0;
        }
        if (qemu > 0) {
                g_message("%s: killing leftover QEMU pid %d", inst->name, qemu);
                kill(qemu, SIGKILL);
        }
        limad_store_remove_runtime_files(inst);
}

static int
limad_instance_method_start(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimadInstance *inst = INST(userdata);
        g_autoptr(GError) error = NULL;
        int r;

        r = limad_authorize(inst->manager, m, inst, _("start"), ret_error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = sd_bus_message_skip(m, "a{sv}");
        if (r < 0)
                return r;
        limad_instance_refresh(inst);
        if (limad_instance_is_active(inst))
                return sd_bus_error_setf(ret_error, LIMAD_DBUS_ERROR_PREFIX "AlreadyRunning",
                                         _("instance \"%s\" is already %s"), inst->name,
                                         inst->status);
        if (inst->cfg == NULL) {
                return sd_bus_error_setf(
                    ret_error, LIMAD_DBUS_ERROR_PREFIX "InvalidConfig",
                    _("instance \"%s\" has an invalid lima.yaml; fix it "
                      "with `limactl edit %s`: %s"),
                    inst->name, inst->name,
                    inst->errors->len > 0 ? (const gchar *)g_ptr_array_index(inst->errors, 0) : "");
        }
        g_ptr_array_set_size(inst->errors, 0);
        limad_instance_emit_changed(inst, "Errors", NULL);
        limad_instance_kill_leftovers(inst);
        if (!limad_agent_launch(inst, &error))
                return limad_error_to_bus(error, ret_error);
        limad_instance_set_status(inst, "Starting");
        return sd_bus_reply_method_return(m, NULL);
}

static int
limad_instance_method_stop(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimadInstance *inst = INST(userdata);
        g_autoptr(GError) error = NULL;
        int force = 0;
        int r;

        r = limad_authorize(inst->manager, m, inst, _("stop"), ret_error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = sd_bus_message_read(m, "b", &force);
        if (r < 0)
                return r;
        limad_instance_refresh(inst);
        /* A unit still starting has no link yet, but systemd can stop it. */
        if (inst->link == NULL && (inst->manager->systemd == NULL ||
                                   !limad_systemd_unit_running(inst->manager->systemd, inst))) {
                if (g_str_equal(inst->status, "Broken")) {
                        limad_instance_kill_leftovers(inst);
                        g_ptr_array_set_size(inst->errors, 0);
                        limad_instance_emit_changed(inst, "Errors", NULL);
                        limad_instance_set_status(inst, "Stopped");
                        return sd_bus_reply_method_return(m, NULL);
                }
                return sd_bus_error_setf(ret_error, LIMAD_DBUS_ERROR_PREFIX "NotRunning",
                                         _("instance \"%s\" is not running (%s)"), inst->name,
                                         inst->status);
        }
        if (!limad_agent_request_stop(inst, force, &error))
                return limad_error_to_bus(error, ret_error);
        g_ptr_array_add(inst->pending_stops, sd_bus_message_ref(m));
        return 1;
}

static int
limad_instance_method_delete(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimadInstance *inst = INST(userdata);
        g_autoptr(GError) error = NULL;
        int force = 0;
        int r;

        r = limad_authorize(inst->manager, m, inst, _("delete"), ret_error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = sd_bus_message_read(m, "b", &force);
        if (r < 0)
                return r;
        limad_instance_refresh(inst);
        if (inst->link != NULL) {
                if (!force)
                        return sd_bus_error_setf(ret_error, LIMAD_DBUS_ERROR_PREFIX "Busy",
                                                 _("instance \"%s\" is %s; stop it first, or "
                                                   "delete with --force"),
                                                 inst->name, inst->status);
                if (!limad_agent_request_stop(inst, TRUE, &error))
                        return limad_error_to_bus(error, ret_error);
                g_ptr_array_add(inst->pending_deletes, sd_bus_message_ref(m));
                return 1;
        }
        if (g_str_equal(inst->status, "Starting"))
                return sd_bus_error_setf(ret_error, LIMAD_DBUS_ERROR_PREFIX "Busy",
                                         _("instance \"%s\" is starting; wait, or stop it "
                                           "first"),
                                         inst->name);
        limad_instance_kill_leftovers(inst);
        if (!limad_store_delete(inst->manager, inst, &error))
                return limad_error_to_bus(error, ret_error);
        return sd_bus_reply_method_return(m, NULL);
}

/* The stored lima.yaml as written, also when it no longer validates: that is when a user
 * most needs it back (limactl edit). On the system bus it is the owner's (provisioning
 * scripts and env may hold secrets): others see the properties only. */
static int
limad_instance_method_get_config(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimadInstance *inst = INST(userdata);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = g_build_filename(inst->dir, LIMA_FILE_CONFIG, NULL);
        g_autofree gchar *text = NULL;
        int r = limad_authorize(inst->manager, m, inst, _("read the config of"), ret_error);

        if (r <= 0)
                return r < 0 ? r : 1;
        if (!limad_store_read_file(inst->manager, path, inst->owner_uid, &text, NULL, &error))
                return sd_bus_error_setf(ret_error, LIMAD_DBUS_ERROR_PREFIX "Failed",
                                         _("cannot read the config of instance \"%s\": %s"),
                                         inst->name, error->message);
        if (!g_utf8_validate(text, -1, NULL))
                return sd_bus_error_setf(ret_error, LIMAD_DBUS_ERROR_PREFIX "InvalidConfig",
                                         _("%s is not UTF-8 text; fix or replace it by hand"),
                                         path);
        return sd_bus_reply_method_return(m, "s", text);
}

static int
limad_instance_method_set_config(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimadInstance *inst = INST(userdata);
        g_autoptr(GError) error = NULL;
        const char *yaml = NULL;
        int r;

        r = limad_authorize(inst->manager, m, inst, _("change the config of"), ret_error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = sd_bus_message_read(m, "s", &yaml);
        if (r < 0)
                return r;
        limad_instance_refresh(inst);
        if (limad_instance_is_active(inst))
                return sd_bus_error_setf(ret_error, LIMAD_DBUS_ERROR_PREFIX "Busy",
                                         _("instance \"%s\" is %s; stop it to change its "
                                           "config"),
                                         inst->name, inst->status);
        if (!limad_store_set_config(inst->manager, inst, yaml, &error))
                return limad_error_to_bus(error, ret_error);
        return sd_bus_reply_method_return(m, NULL);
}

#define PROP(name, sig)                                                                            \
        SD_BUS_PROPERTY(name, sig, limad_instance_get_property, 0,                                 \
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

const sd_bus_vtable limad_instance_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Start", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT,
                                limad_instance_method_start, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Stop", SD_BUS_ARGS("b", force), SD_BUS_NO_RESULT,
                                limad_instance_method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Delete", SD_BUS_ARGS("b", force), SD_BUS_NO_RESULT,
                                limad_instance_method_delete, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetConfig", SD_BUS_ARGS("s", yaml), SD_BUS_NO_RESULT,
                                limad_instance_method_set_config, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetConfig", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", yaml),
                                limad_instance_method_get_config, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
            "AddMount",
            SD_BUS_ARGS("s", location, "s", mountPoint, "b", writable, "a{sv}", options),
            SD_BUS_NO_RESULT, limad_instance_method_add_mount, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveMount", SD_BUS_ARGS("s", mountPoint), SD_BUS_NO_RESULT,
                                limad_instance_method_remove_mount, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("Progress", SD_BUS_ARGS("s", stage, "d", fraction, "s", message),
                                0),
        PROP("Name", "s"),
        PROP("Status", "s"),
        PROP("OwnerUID", "u"),
        PROP("VMType", "s"),
        PROP("Arch", "s"),
        PROP("CPUs", "u"),
        PROP("Memory", "t"),
        PROP("Disk", "t"),
        PROP("Dir", "s"),
        PROP("SSHPort", "u"),
        PROP("Accelerator", "s"),
        PROP("Mounts", "a(sssbsa{sv})"),
        PROP("Errors", "as"),
        SD_BUS_VTABLE_END,
};
