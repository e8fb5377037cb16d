/* Reading io.lima.lima1.Instance properties, one object or all of them. */
#include "limactl-instance.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "limactl-bus.h"
#include "limactl-format.h"

LimactlInstance *
limactl_instance_new(const gchar *path)
{
        LimactlInstance *inst = g_new0(LimactlInstance, 1);
        inst->path = g_strdup(path);
        inst->mounts = g_ptr_array_new_with_free_func((GDestroyNotify)lima_mount_status_free);
        inst->errors = g_new0(gchar *, 1);
        return inst;
}

void
limactl_instance_free(LimactlInstance *inst)
{
        if (inst == NULL)
                return;
        g_free(inst->path);
        g_free(inst->name);
        g_free(inst->status);
        g_free(inst->vm_type);
        g_free(inst->arch);
        g_free(inst->dir);
        g_free(inst->accelerator);
        g_ptr_array_unref(inst->mounts);
        g_strfreev(inst->errors);
        g_free(inst);
}

gboolean
limactl_instance_is_up(const LimactlInstance *inst)
{
        return g_strcmp0(inst->status, "Running") == 0 || g_strcmp0(inst->status, "Degraded") == 0;
}

typedef enum {
        LIMACTL_PROP_STRING,
        LIMACTL_PROP_U32,
        LIMACTL_PROP_U64,
} LimactlPropKind;

static const struct {
        const gchar *name;
        LimactlPropKind kind;
        gsize offset;
} limactl_instance_props[] = {
        { "Name", LIMACTL_PROP_STRING, G_STRUCT_OFFSET(LimactlInstance, name) },
        { "Status", LIMACTL_PROP_STRING, G_STRUCT_OFFSET(LimactlInstance, status) },
        { "OwnerUID", LIMACTL_PROP_U32, G_STRUCT_OFFSET(LimactlInstance, owner_uid) },
        { "VMType", LIMACTL_PROP_STRING, G_STRUCT_OFFSET(LimactlInstance, vm_type) },
        { "Arch", LIMACTL_PROP_STRING, G_STRUCT_OFFSET(LimactlInstance, arch) },
        { "CPUs", LIMACTL_PROP_U32, G_STRUCT_OFFSET(LimactlInstance, cpus) },
        { "Memory", LIMACTL_PROP_U64, G_STRUCT_OFFSET(LimactlInstance, memory) },
        { "Disk", LIMACTL_PROP_U64, G_STRUCT_OFFSET(LimactlInstance, disk) },
        { "Dir", LIMACTL_PROP_STRING, G_STRUCT_OFFSET(LimactlInstance, dir) },
        { "SSHPort", LIMACTL_PROP_U32, G_STRUCT_OFFSET(LimactlInstance, ssh_port) },
        { "Accelerator", LIMACTL_PROP_STRING, G_STRUCT_OFFSET(LimactlInstance, accelerator) },
};

static const gchar *
limactl_prop_signature(LimactlPropKind kind)
{
        switch (kind) {
        case LIMACTL_PROP_STRING:
                return "s";
        case LIMACTL_PROP_U32:
                return "u";
        case LIMACTL_PROP_U64:
                return "t";
        }
        return "";
}

static int
limactl_read_simple_prop(LimactlInstance *inst, sd_bus_message *m, LimactlPropKind kind,
                         gsize offset)
{
        gpointer field = G_STRUCT_MEMBER_P(inst, offset);
        const char *s = NULL;
        uint32_t u = 0;
        uint64_t t = 0;
        int r;

        switch (kind) {
        case LIMACTL_PROP_STRING:
                r = sd_bus_message_read(m, "v", "s", &s);
                if (r >= 0) {
                        g_free(*(gchar **)field);
                        /* limad relays strings from agents and owners: no terminal escapes. */
                        *(gchar **)field = limactl_format_sanitize(s);
                }
                return r;
        case LIMACTL_PROP_U32:
                r = sd_bus_message_read(m, "v", "u", &u);
                if (r >= 0)
                        *(guint32 *)field = u;
                return r;
        case LIMACTL_PROP_U64:
                r = sd_bus_message_read(m, "v", "t", &t);
                if (r >= 0)
                        *(guint64 *)field = t;
                return r;
        }
        return -EINVAL;
}

/* The options a{sv} of one mount: tag and error, both strings. */
static int
limactl_read_mount_options(LimaMountStatus *mount, sd_bus_message *m)
{
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key = NULL;
                const char *contents = NULL;
                const char *value = NULL;
                char type;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(m, &type, &contents);
                if (r < 0)
                        return r;
                if ((g_str_equal(key, "tag") || g_str_equal(key, "error")) &&
                    g_strcmp0(contents, "s") == 0) {
                        r = sd_bus_message_read(m, "v", "s", &value);
                        if (r < 0)
                                return r;
                        if (g_str_equal(key, "tag")) {
                                g_free(mount->tag);
                                mount->tag = limactl_format_sanitize(value);
                        } else {
                                g_free(mount->error);
                                mount->error = limactl_format_sanitize(value);
                        }
                } else {
                        r = sd_bus_message_skip(m, "v");
                        if (r < 0)
                                return r;
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int
limactl_read_mounts(LimactlInstance *inst, sd_bus_message *m)
{
        int r = sd_bus_message_enter_container(m, 'v', "a(sssbsa{sv})");
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "(sssbsa{sv})");
        if (r < 0)
                return r;
        g_ptr_array_set_size(inst->mounts, 0);
        while ((r = sd_bus_message_enter_container(m, 'r', "sssbsa{sv}")) > 0) {
                const char *location = NULL, *mount_point = NULL, *type = NULL, *state = NULL;
                int writable = 0;
                g_autoptr(LimaMountStatus) mount = NULL;
                r = sd_bus_message_read(m, "sssbs", &location, &mount_point, &type, &writable,
                                        &state);
                if (r < 0)
                        return r;
                g_autofree gchar *clean_location = limactl_format_sanitize(location);
                g_autofree gchar *clean_mount_point = limactl_format_sanitize(mount_point);
                g_autofree gchar *clean_type = limactl_format_sanitize(type);
                g_autofree gchar *clean_state = limactl_format_sanitize(state);
                mount = lima_mount_status_new(clean_location, clean_mount_point, clean_type,
                                              writable, clean_state);
                r = limactl_read_mount_options(mount, m);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
                g_ptr_array_add(inst->mounts, g_steal_pointer(&mount));
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int
limactl_read_errors(LimactlInstance *inst, sd_bus_message *m)
{
        char **strv = NULL;
        int r = sd_bus_message_enter_container(m, 'v', "as");
        if (r < 0)
                return r;
        r = sd_bus_message_read_strv(m, &strv);
        if (r < 0)
                return r;
        g_strfreev(inst->errors);
        for (guint i = 0; strv != NULL && strv[i] != NULL; i++) {
                gchar *clean = limactl_format_sanitize(strv[i]);
                g_free(strv[i]);
                strv[i] = clean;
        }
        inst->errors = strv != NULL ? strv : g_new0(gchar *, 1);
        return sd_bus_message_exit_container(m);
}

/* One property: the name is read, the variant comes next. */
static int
limactl_read_prop(LimactlInstance *inst, const gchar *key, sd_bus_message *m)
{
        const char *contents = NULL;
        char type;
        int r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        for (guint i = 0; i < G_N_ELEMENTS(limactl_instance_props); i++) {
                if (!g_str_equal(key, limactl_instance_props[i].name))
                        continue;
                if (g_strcmp0(contents, limactl_prop_signature(limactl_instance_props[i].kind)))
                        break;
                return limactl_read_simple_prop(inst, m, limactl_instance_props[i].kind,
                                                limactl_instance_props[i].offset);
        }
        if (g_str_equal(key, "Mounts") && g_strcmp0(contents, "a(sssbsa{sv})") == 0)
                return limactl_read_mounts(inst, m);
        if (g_str_equal(key, "Errors") && g_strcmp0(contents, "as") == 0)
                return limactl_read_errors(inst, m);
        return sd_bus_message_skip(m, "v");
}

gboolean
limactl_instance_read_properties(LimactlInstance *inst, sd_bus_message *m, GError **error)
{
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key = NULL;
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0)
                        r = limactl_read_prop(inst, key, m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED,
                            _("limad sent malformed instance properties: %s"), g_strerror(-r));
                return FALSE;
        }
        return TRUE;
}

LimactlInstance *
limactl_instance_get(sd_bus *bus, const gchar *name, GError **error)
{
        g_autofree gchar *path = limactl_bus_get_instance_path(bus, name, error);
        g_autoptr(sd_bus_message) call = NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(LimactlInstance) inst = NULL;
        int r;

        if (path == NULL)
                return NULL;
        call = limactl_bus_new_call(bus, path, "org.freedesktop.DBus.Properties", "GetAll", error);
        if (call == NULL)
                return NULL;
        r = sd_bus_message_append(call, "s", LIMACTL_INSTANCE_IFACE);
        if (r < 0) {
                limactl_bus_set_error(error, r, NULL);
                return NULL;
        }
        reply = limactl_bus_call(bus, call, LIMACTL_BUS_DEFAULT_TIMEOUT, error);
        if (reply == NULL)
                return NULL;
        inst = limactl_instance_new(path);
        if (!limactl_instance_read_properties(inst, reply, error))
                return NULL;
        if (inst->name == NULL)
                inst->name = g_strdup(name);
        return g_steal_pointer(&inst);
}

static gint
limactl_instance_compare(gconstpointer a, gconstpointer b)
{
        const LimactlInstance *ia = *(const LimactlInstance *const *)a;
        const LimactlInstance *ib = *(const LimactlInstance *const *)b;
        return g_strcmp0(ia->name, ib->name);
}

/* One object of GetManagedObjects: o a{sa{sv}}. Returns NULL (no error) for objects that are
 * not instances. */
static LimactlInstance *
limactl_instance_read_object(sd_bus_message *m, int *ret)
{
        g_autoptr(LimactlInstance) inst = NULL;
        const char *path = NULL;
        gboolean is_instance = FALSE;
        int r = sd_bus_message_read(m, "o", &path);

        if (r >= 0) {
                inst = limactl_instance_new(path);
                r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
        }
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
                const char *iface = NULL;
                r = sd_bus_message_read(m, "s", &iface);
                if (r >= 0 && g_str_equal(iface, LIMACTL_INSTANCE_IFACE)) {
                        g_autoptr(GError) error = NULL;
                        is_instance = TRUE;
                        if (!limactl_instance_read_properties(inst, m, &error))
                                r = -EBADMSG;
                } else if (r >= 0) {
                        r = sd_bus_message_skip(m, "a{sv}");
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        *ret = r;
        if (r < 0 || !is_instance)
                return NULL;
        return g_steal_pointer(&inst);
}

GPtrArray *
limactl_instance_list(sd_bus *bus, GError **error)
{
        g_autoptr(sd_bus_message) call = NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GPtrArray) instances = NULL;
        int r;

        call = limactl_bus_new_call(bus, LIMACTL_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
                                    "GetManagedObjects", error);
        if (call == NULL)
                return NULL;
        reply = limactl_bus_call(bus, call, LIMACTL_BUS_DEFAULT_TIMEOUT, error);
        if (reply == NULL)
                return NULL;
        instances = g_ptr_array_new_with_free_func((GDestroyNotify)limactl_instance_free);
        r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
                LimactlInstance *inst = limactl_instance_read_object(reply, &r);
                if (inst != NULL)
                        g_ptr_array_add(instances, inst);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED,
                            _("limad sent a malformed GetManagedObjects reply: %s"),
                            g_strerror(-r));
                return NULL;
        }
        for (guint i = 0; i < instances->len; i++) {
                LimactlInstance *inst = g_ptr_array_index(instances, i);
                /* Name is a property; the path is only a fallback for a daemon without it. */
                if (inst->name == NULL) {
                        const gchar *slash = strrchr(inst->path, '/');
                        char *decoded = NULL;
                        if (sd_bus_path_decode(inst->path, "/io/lima/lima1/instance", &decoded) >
                            0) {
                                inst->name = g_strdup(decoded);
                                free(decoded);
                        } else {
                                inst->name = g_strdup(slash != NULL ? slash + 1 : inst->path);
                        }
                }
        }
        g_ptr_array_sort(instances, limactl_instance_compare);
        return g_steal_pointer(&instances);
}
