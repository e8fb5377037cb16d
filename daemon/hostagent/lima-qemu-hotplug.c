#include "lima-qemu-hotplug.h"

#include <glib/gi18n.h>

#include "lima-config-fill.h"

gchar *
lima_qemu_pcie_port_id(guint index)
{
        return g_strdup_printf("lima-port%u", index);
}

guint
lima_qemu_pcie_port_count(const LimaConfig *cfg)
{
        if (g_strcmp0(cfg->mount_type.value, "virtiofs") != 0)
                return 0;
        return cfg->mounts->len + LIMA_QEMU_SPARE_PCIE_PORTS;
}

gchar *
lima_qemu_virtiofs_chardev_id(const LimaMount *m)
{
        return g_strconcat("chr-", m->tag, NULL);
}

gchar *
lima_qemu_virtiofs_device_id(const LimaMount *m)
{
        return g_strconcat("fs-", m->tag, NULL);
}

JsonObject *
lima_qemu_hotplug_chardev_args(const LimaMount *m, const gchar *socket_path)
{
        g_autofree gchar *id = lima_qemu_virtiofs_chardev_id(m);
        JsonObject *args = json_object_new();
        JsonObject *backend = json_object_new();
        JsonObject *socket = json_object_new();
        JsonObject *addr = json_object_new();
        JsonObject *unix_addr = json_object_new();

        /* ChardevBackend "socket": SocketAddressLegacy {"type": "unix", "data": {path}}. */
        json_object_set_string_member(unix_addr, "path", socket_path);
        json_object_set_string_member(addr, "type", "unix");
        json_object_set_object_member(addr, "data", unix_addr);
        json_object_set_object_member(socket, "addr", addr);
        json_object_set_boolean_member(socket, "server", FALSE);
        json_object_set_string_member(backend, "type", "socket");
        json_object_set_object_member(backend, "data", socket);
        json_object_set_string_member(args, "id", id);
        json_object_set_object_member(args, "backend", backend);
        return args;
}

JsonObject *
lima_qemu_hotplug_device_args(const LimaMount *m, const gchar *port_id)
{
        g_autofree gchar *chr_id = lima_qemu_virtiofs_chardev_id(m);
        g_autofree gchar *dev_id = lima_qemu_virtiofs_device_id(m);
        JsonObject *args = json_object_new();
        gint64 queue = m->virtiofs_queue_size.set ? m->virtiofs_queue_size.value
                                                  : LIMA_DEFAULT_VIRTIOFS_QUEUE_SIZE;

        json_object_set_string_member(args, "driver", "vhost-user-fs-pci");
        json_object_set_string_member(args, "id", dev_id);
        json_object_set_string_member(args, "bus", port_id);
        /* Function 0 only: a port that has a device refuses another, rather than taking it
         * as function 1 (and unplugging both together later). */
        json_object_set_string_member(args, "addr", "0");
        json_object_set_string_member(args, "chardev", chr_id);
        json_object_set_string_member(args, "tag", m->tag);
        json_object_set_int_member(args, "queue-size", queue);
        return args;
}

JsonObject *
lima_qemu_hotplug_id_args(const gchar *id)
{
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "id", id);
        return args;
}

static gboolean
lima_qemu_hotplug_run(LimaQmp *qmp, const gchar *command, JsonObject *args, GError **error)
{
        g_autoptr(JsonObject) owned = args;
        g_autoptr(JsonNode) reply = lima_qmp_execute(qmp, command, owned, error);
        return reply != NULL;
}

gboolean
lima_qemu_hotplug_virtiofs(LimaQmp *qmp, const LimaMount *m, const gchar *socket_path,
                           const gchar *port_id, GError **error)
{
        g_autofree gchar *chr_id = lima_qemu_virtiofs_chardev_id(m);

        if (!lima_qemu_hotplug_run(qmp, "chardev-add",
                                   lima_qemu_hotplug_chardev_args(m, socket_path), error))
                return FALSE;
        if (!lima_qemu_hotplug_run(qmp, "device_add", lima_qemu_hotplug_device_args(m, port_id),
                                   error)) {
                g_autoptr(GError) local = NULL;
                if (!lima_qemu_hotplug_run(qmp, "chardev-remove", lima_qemu_hotplug_id_args(chr_id),
                                           &local))
                        g_warning("%s", local->message);
                return FALSE;
        }
        return TRUE;
}

/* QEMU 7.2 says DeviceNotFound for device_del, GenericError "… not found" for
 * chardev-remove. */
static gboolean
lima_qemu_hotplug_not_found(const GError *error)
{
        return g_error_matches(error, LIMA_QMP_ERROR, LIMA_QMP_ERROR_DEVICE_NOT_FOUND) ||
               (error->domain == LIMA_QMP_ERROR && g_strrstr(error->message, "not found") != NULL);
}

gboolean
lima_qemu_unplug_virtiofs(LimaQmp *qmp, const LimaMount *m, guint timeout_ms, GError **error)
{
        g_autofree gchar *chr_id = lima_qemu_virtiofs_chardev_id(m);
        g_autofree gchar *dev_id = lima_qemu_virtiofs_device_id(m);
        g_autoptr(GError) local = NULL;

        if (lima_qemu_hotplug_run(qmp, "device_del", lima_qemu_hotplug_id_args(dev_id), &local)) {
                /* device_del only asks: the guest releases the device, then QEMU says so. */
                if (!lima_qmp_wait_event(qmp, "DEVICE_DELETED", "device", dev_id, timeout_ms,
                                         error)) {
                        g_prefix_error(error, _("the guest did not release %s: "), dev_id);
                        return FALSE;
                }
        } else if (!lima_qemu_hotplug_not_found(local)) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        g_clear_error(&local);
        if (!lima_qemu_hotplug_run(qmp, "chardev-remove", lima_qemu_hotplug_id_args(chr_id),
                                   &local) &&
            !lima_qemu_hotplug_not_found(local)) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        return TRUE;
}
