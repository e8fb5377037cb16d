/*
 * Instance.AddMount and RemoveMount. The new lima.yaml is composed and validated first, by
 * the same rules as any lima.yaml. A stopped instance just gets it (the mount follows at the
 * next start); a running one gets the change from its host agent first, and lima.yaml is
 * saved only once that worked, so a failure changes nothing.
 */
#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>

#include "lima-config-fill.h"
#include "lima-config-mounts.h"
#include "lima-error.h"
#include "lima-host.h"
#include "lima-paths.h"
#include "limad-agent.h"
#include "limad-authorize.h"
#include "limad-error.h"
#include "limad-manager.h"
#include "limad-store.h"

struct _LimadMountOp {
        LimadInstance *inst; /* a reference */
        sd_bus_message *call;
        gboolean add;
        gchar *composed; /* lima.yaml to save once the agent is done */
        gchar *location;
        gchar *mount_point;
        gboolean writable;
};

static const gchar *const limad_mount_types[] = { "reverse-sshfs", "virtiofs", "9p", NULL };

static void
limad_mount_op_free(LimadMountOp *op)
{
        if (op->call != NULL) {
                /* Never answered: the link to the agent went away. */
                sd_bus_reply_method_errorf(op->call, LIMAD_DBUS_ERROR_PREFIX "Failed",
                                           _("the host agent of \"%s\" went away before the "
                                             "mount was changed; lima.yaml is unchanged"),
                                           op->inst->name);
                sd_bus_message_unref(op->call);
        }
        if (op->inst->mount_op == op)
                op->inst->mount_op = NULL;
        limad_instance_unref(op->inst);
        g_free(op->composed);
        g_free(op->location);
        g_free(op->mount_point);
        g_free(op);
}

static void
limad_mount_op_destroy(void *userdata)
{
        limad_mount_op_free(userdata);
}

static gboolean
limad_mounts_running(LimadInstance *inst)
{
        return inst->link != NULL && (g_strcmp0(inst->status, "Running") == 0 ||
                                      g_strcmp0(inst->status, "Degraded") == 0);
}

/* What every mount change needs: no other change underway, a state that allows one, a
 * config that loads. */
static gboolean
limad_mounts_check_state(LimadInstance *inst, GError **error)
{
        if (inst->mount_op != NULL) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_BUSY,
                            _("instance \"%s\" is changing another mount; try again when it "
                              "is done"),
                            inst->name);
                return FALSE;
        }
        if (g_strcmp0(inst->status, "Starting") == 0 || g_strcmp0(inst->status, "Stopping") == 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_BUSY,
                            _("instance \"%s\" is %s; change its mounts once it is Running or "
                              "Stopped"),
                            inst->name, inst->status);
                return FALSE;
        }
        if (inst->cfg == NULL) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                            _("instance \"%s\" has an invalid lima.yaml; fix it with `limactl "
                              "edit %s` first"),
                            inst->name, inst->name);
                return FALSE;
        }
        return TRUE;
}

static gchar *
limad_mounts_read_config(LimadInstance *inst, gchar **path, GError **error)
{
        gchar *text = NULL;
        *path = g_build_filename(inst->dir, LIMA_FILE_CONFIG, NULL);
        /* --system: the folder is the owner's; no symlink, FIFO or foreign file is read. */
        if (!limad_store_read_file(inst->manager, *path, inst->owner_uid, &text, NULL, error))
                return NULL;
        return text;
}

/* The filled mount at mount_point (compared canonically), or NULL. */
static LimaMount *
limad_mounts_find(LimadInstance *inst, const gchar *mount_point)
{
        g_autofree gchar *want = g_canonicalize_filename(mount_point, "/");
        for (guint i = 0; i < inst->cfg->mounts->len; i++) {
                LimaMount *m = g_ptr_array_index(inst->cfg->mounts, i);
                g_autofree gchar *have = g_canonicalize_filename(m->mount_point.value, "/");
                if (g_str_equal(have, want))
                        return m;
        }
        return NULL;
}

/* Mounts shows the change at once; the agent's own list follows and replaces it. */
static void
limad_mounts_show(LimadMountOp *op)
{
        LimadInstance *inst = op->inst;
        g_autofree gchar *want = g_canonicalize_filename(op->mount_point, "/");

        for (guint i = inst->mounts->len; i > 0; i--) {
                LimaMountStatus *s = g_ptr_array_index(inst->mounts, i - 1);
                g_autofree gchar *have = g_canonicalize_filename(s->mount_point, "/");
                if (g_str_equal(have, want))
                        g_ptr_array_remove_index(inst->mounts, i - 1);
        }
        if (op->add) {
                LimaMount *m = limad_mounts_find(inst, op->mount_point);
                LimaMountStatus *s = lima_mount_status_new(
                    m != NULL ? m->location.value : op->location, op->mount_point,
                    inst->cfg->mount_type.value, op->writable, "mounted");
                s->tag = g_strdup(m != NULL ? m->tag : NULL);
                g_ptr_array_add(inst->mounts, s);
        }
        limad_instance_emit_changed(inst, "Mounts", NULL);
}

static int
limad_mounts_on_agent_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        LimadMountOp *op = userdata;
        LimadInstance *inst = op->inst;
        g_autoptr(GError) error = NULL;
        g_autoptr(sd_bus_message) call = g_steal_pointer(&op->call);
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (e != NULL) {
                /* The agent's named errors pass through; transport trouble is Failed. */
                if (g_str_has_prefix(e->name, LIMAD_DBUS_ERROR_PREFIX))
                        sd_bus_reply_method_error(call, e);
                else
                        sd_bus_reply_method_errorf(call, LIMAD_DBUS_ERROR_PREFIX "Failed",
                                                   _("the host agent did not change the mount: "
                                                     "%s; lima.yaml is unchanged"),
                                                   e->message);
                return 0;
        }
        if (inst->manager == NULL) {
                sd_bus_reply_method_errorf(call, LIMAD_DBUS_ERROR_PREFIX "Failed",
                                           _("instance \"%s\" was deleted meanwhile"), inst->name);
                return 0;
        }
        if (!limad_store_save_running_config(inst->manager, inst, op->composed, &error)) {
                g_autoptr(GError) undo = NULL;
                g_prefix_error(&error, _("the mount changed in the guest, but lima.yaml could "
                                         "not be saved: "));
                /* An added mount that is not saved would vanish at the next start: undo it. */
                if (op->add &&
                    !limad_agent_call_mount(inst, NULL, op->mount_point, NULL, NULL, NULL, &undo))
                        g_warning("%s: %s", inst->name, undo->message);
                sd_bus_reply_method_errorf(call, LIMAD_DBUS_ERROR_PREFIX "Failed", "%s",
                                           error->message);
                return 0;
        }
        limad_mounts_show(op);
        g_message("%s: %s %s", inst->name, op->add ? "added mount" : "removed mount",
                  op->mount_point);
        sd_bus_reply_method_return(call, NULL);
        return 0;
}

/* Hands the change to the agent; the call is answered from its reply. */
static gboolean
limad_mounts_ask_agent(LimadInstance *inst, sd_bus_message *m, gboolean add, const gchar *composed,
                       const gchar *location, const gchar *mount_point, gboolean writable,
                       GError **error)
{
        LimadMountOp *op = g_new0(LimadMountOp, 1);

        op->inst = limad_instance_ref(inst);
        op->add = add;
        op->composed = g_strdup(composed);
        op->location = g_strdup(location);
        op->mount_point = g_strdup(mount_point);
        op->writable = writable;
        if (!limad_agent_call_mount(inst, add ? composed : NULL, mount_point,
                                    limad_mounts_on_agent_reply, op, limad_mount_op_destroy,
                                    error)) {
                limad_mount_op_free(op);
                return FALSE;
        }
        op->call = sd_bus_message_ref(m);
        inst->mount_op = op;
        return TRUE;
}

/* options: "type" (s) only. */
static gboolean
limad_mounts_read_options(sd_bus_message *m, gchar **type, GError **error)
{
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key = NULL;
                const char *value = NULL;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        break;
                if (!g_str_equal(key, "type")) {
                        g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_INVALID_ARGUMENT,
                                    _("unknown option \"%s\"; AddMount takes \"type\" (s)"), key);
                        return FALSE;
                }
                if (sd_bus_message_read(m, "v", "s", &value) < 0) {
                        g_set_error_literal(error, LIMAD_ERROR, LIMAD_ERROR_INVALID_ARGUMENT,
                                            _("option \"type\" must have type s"));
                        return FALSE;
                }
                g_free(*type);
                *type = g_strdup(value);
                r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_INVALID_ARGUMENT,
                            _("cannot read the options: %s"), g_strerror(-r));
                return FALSE;
        }
        return TRUE;
}

/* The mount type a new mount gets: the instance's, since lima.yaml has one mountType for
 * all its mounts. A runtime 9p mount is refused before anything else. */
static gboolean
limad_mounts_check_type(LimadInstance *inst, const gchar *type, GError **error)
{
        const gchar *current = inst->cfg->mount_type.value;
        const gchar *want = type != NULL && *type != '\0' ? type : current;

        if (!g_strv_contains(limad_mount_types, want)) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_INVALID_ARGUMENT,
                            _("mount type \"%s\" is not one of reverse-sshfs, virtiofs, 9p"), want);
                return FALSE;
        }
        if (g_str_equal(want, "9p") && limad_mounts_running(inst)) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("9p mounts cannot be hot-plugged into QEMU; add the mount while "
                              "\"%s\" is stopped (`limactl stop %s`, then `limactl mount add`, "
                              "or put it in lima.yaml) and start it again, or use an instance "
                              "with mountType virtiofs or reverse-sshfs"),
                            inst->name, inst->name);
                return FALSE;
        }
        if (g_strcmp0(want, current) != 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_INVALID_ARGUMENT,
                            _("instance \"%s\" mounts everything with mountType %s (lima.yaml "
                              "has one mountType for all mounts), so a %s mount cannot be "
                              "added; leave out the type, or change mountType while it is "
                              "stopped"),
                            inst->name, current, want);
                return FALSE;
        }
        return TRUE;
}

/* The host as the owner sees it: ~ and mount point templates expand for them (--system). */
static LimaHost *
limad_mounts_host(LimadInstance *inst)
{
        if (inst->manager->system_mode)
                return lima_host_new_for_uid(inst->name, inst->dir, inst->owner_uid);
        return lima_host_new_from_system(inst->name, inst->dir);
}

static gboolean
limad_mounts_add(LimadInstance *inst, sd_bus_message *m, const gchar *location,
                 const gchar *mount_point, gboolean writable, const gchar *type, GError **error)
{
        g_autofree gchar *path = NULL;
        g_autofree gchar *text = NULL;
        g_autofree gchar *candidate = NULL;
        g_autofree gchar *composed = NULL;
        g_autofree gchar *filled = NULL;
        g_autofree gchar *target = NULL;
        g_autoptr(LimaMount) probe = lima_mount_new();
        g_autoptr(LimaHost) host = limad_mounts_host(inst);
        const gchar *mp = mount_point != NULL && *mount_point != '\0' ? mount_point : NULL;
        LimaMount *existing;

        if (!limad_mounts_check_state(inst, error) || !limad_mounts_check_type(inst, type, error))
                return FALSE;
        if (*location == '\0' || (!g_path_is_absolute(location) && location[0] != '~')) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_INVALID_ARGUMENT,
                            _("location \"%s\" must be an absolute host path (or start with "
                              "\"~\")"),
                            location);
                return FALSE;
        }
        if (mp != NULL && !g_path_is_absolute(mp) && strstr(mp, "{{") == NULL) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_INVALID_ARGUMENT,
                            _("mount point \"%s\" must be an absolute path in the guest"), mp);
                return FALSE;
        }
        /* Unlike a mount in lima.yaml (made at start when missing), one added now must be
         * there to be served. */
        {
                g_autoptr(GError) local = NULL;
                g_autofree gchar *expanded = lima_expand_home(location, host->home, &local);
                /* Asked as the owner first (--system): whether a folder only root can see
                 * exists is not theirs to learn from the answer. */
                if (expanded != NULL && !limad_store_check_mount(inst->manager, inst->owner_uid,
                                                                 expanded, writable, error))
                        return FALSE;
                if (expanded != NULL && !g_file_test(expanded, G_FILE_TEST_IS_DIR)) {
                        g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_INVALID_ARGUMENT,
                                    _("location \"%s\" is not an existing directory on the "
                                      "host; create it first"),
                                    expanded);
                        return FALSE;
                }
        }
        /* Where it lands in the guest, expanded as a fill would. */
        lima_string_set(&probe->location, location, NULL);
        if (mp != NULL)
                lima_string_set(&probe->mount_point, mp, NULL);
        target = lima_config_fill_mount_point(inst->cfg, probe, host);
        if (target == NULL) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_INVALID_ARGUMENT,
                            _("cannot tell where \"%s\" would be mounted; give an absolute "
                              "mount point"),
                            location);
                return FALSE;
        }
        existing = limad_mounts_find(inst, target);
        if (existing != NULL) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_INVALID_ARGUMENT,
                            _("instance \"%s\" already has a mount at %s (of %s); remove it "
                              "first with `limactl mount remove %s %s`"),
                            inst->name, target, existing->location.value, inst->name, target);
                return FALSE;
        }
        text = limad_mounts_read_config(inst, &path, error);
        if (text == NULL)
                return FALSE;
        candidate = lima_config_mounts_add(text, path, location, mp, writable, error);
        if (candidate == NULL)
                return FALSE;
        /* The rules of any lima.yaml: location exists, is readable (writable if asked), … */
        filled = limad_store_validate(inst->manager, inst->name, candidate, NULL, inst->owner_uid,
                                      NULL, &composed, error);
        if (filled == NULL) {
                g_prefix_error(error, _("the new mount is not valid: "));
                return FALSE;
        }
        if (limad_mounts_running(inst))
                return limad_mounts_ask_agent(inst, m, TRUE, composed, location, target, writable,
                                              error);
        if (!limad_store_set_config(inst->manager, inst, candidate, error))
                return FALSE;
        /* The change is made; a reply that cannot be sent is the caller's loss, not an error. */
        (void)sd_bus_reply_method_return(m, NULL);
        return TRUE;
}

static gboolean
limad_mounts_remove(LimadInstance *inst, sd_bus_message *m, const gchar *mount_point,
                    GError **error)
{
        g_autofree gchar *path = NULL;
        g_autofree gchar *text = NULL;
        g_autofree gchar *candidate = NULL;
        g_autofree gchar *composed = NULL;
        g_autofree gchar *filled = NULL;
        g_autofree gchar *target = NULL;
        g_autoptr(LimaHost) host = limad_mounts_host(inst);
        guint removed = 0;

        if (!limad_mounts_check_state(inst, error))
                return FALSE;
        if (!g_path_is_absolute(mount_point)) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_INVALID_ARGUMENT,
                            _("mount point \"%s\" must be an absolute path in the guest"),
                            mount_point);
                return FALSE;
        }
        target = g_canonicalize_filename(mount_point, "/");
        if (limad_mounts_find(inst, target) == NULL) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_INVALID_ARGUMENT,
                            _("instance \"%s\" has no mount at %s; `limactl mount list %s` "
                              "shows its mounts"),
                            inst->name, target, inst->name);
                return FALSE;
        }
        if (limad_mounts_running(inst) && g_strcmp0(inst->cfg->mount_type.value, "9p") == 0) {
                g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                            _("9p mounts cannot be hot-unplugged from QEMU; remove it while "
                              "\"%s\" is stopped, or use mountType virtiofs or reverse-sshfs"),
                            inst->name);
                return FALSE;
        }
        text = limad_mounts_read_config(inst, &path, error);
        if (text == NULL)
                return FALSE;
        candidate = lima_config_mounts_remove(text, path, inst->cfg, host, target, &removed, error);
        if (candidate == NULL)
                return FALSE;
        if (removed == 0) {
                g_set_error(error, LIMAD_ERROR, LIMAD_ERROR_INVALID_ARGUMENT,
                            _("the mount at %s does not come from %s but from "
                              "_config/default.yaml or _config/override.yaml in the Lima home; "
                              "remove it there"),
                            target, path);
                return FALSE;
        }
        filled = limad_store_validate(inst->manager, inst->name, candidate, NULL, inst->owner_uid,
                                      NULL, &composed, error);
        if (filled == NULL)
                return FALSE;
        if (limad_mounts_running(inst))
                return limad_mounts_ask_agent(inst, m, FALSE, composed, NULL, target, FALSE, error);
        if (!limad_store_set_config(inst->manager, inst, candidate, error))
                return FALSE;
        /* The change is made; a reply that cannot be sent is the caller's loss, not an error. */
        (void)sd_bus_reply_method_return(m, NULL);
        return TRUE;
}

int
limad_instance_method_add_mount(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimadInstance *inst = userdata;
        g_autoptr(GError) error = NULL;
        g_autofree gchar *type = NULL;
        const char *location = NULL;
        const char *mount_point = NULL;
        int writable = 0;
        int r = limad_authorize(inst->manager, m, inst, _("add a mount to"), ret_error);

        if (r <= 0)
                return r < 0 ? r : 1;
        r = sd_bus_message_read(m, "ssb", &location, &mount_point, &writable);
        if (r < 0)
                return r;
        if (!limad_mounts_read_options(m, &type, &error))
                return limad_error_to_bus(error, ret_error);
        limad_instance_refresh(inst);
        if (!limad_mounts_add(inst, m, location, mount_point, writable, type, &error))
                return limad_error_to_bus(error, ret_error);
        return 1;
}

int
limad_instance_method_remove_mount(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimadInstance *inst = userdata;
        g_autoptr(GError) error = NULL;
        const char *mount_point = NULL;
        int r = limad_authorize(inst->manager, m, inst, _("remove a mount from"), ret_error);

        if (r <= 0)
                return r < 0 ? r : 1;
        r = sd_bus_message_read(m, "s", &mount_point);
        if (r < 0)
                return r;
        limad_instance_refresh(inst);
        if (!limad_mounts_remove(inst, m, mount_point, &error))
                return limad_error_to_bus(error, ret_error);
        return 1;
}
