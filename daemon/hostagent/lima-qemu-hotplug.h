/*
 * virtiofs devices plugged into and out of a running QEMU over QMP: the ids and root ports
 * they use (the argv cold-plugs with the same names), the QMP arguments, and the blocking
 * sequences: chardev-add + device_add, and device_del (until DEVICE_DELETED) +
 * chardev-remove. 9p cannot be hot-plugged into QEMU at all.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "lima-config.h"
#include "lima-qmp.h"

G_BEGIN_DECLS

/* Root ports left free at start for mounts added while running; each takes one mount. Four:
 * each port is a PCIe function on pcie.0 (32 slots, shared with the disks and NICs), and a
 * fifth runtime mount can wait for the next start, when it gets a port of its own. */
#define LIMA_QEMU_SPARE_PCIE_PORTS 4
/* How long the guest gets to release an unplugged device (Linux's pciehp waits 5 s after
 * the attention button, and TCG is slow). */
#define LIMA_QEMU_UNPLUG_TIMEOUT_MS 30000

/* "lima-port<index>". */
gchar *lima_qemu_pcie_port_id(guint index);
/* virtiofs: one root port per mount plus the spares; other mount types: none. */
guint lima_qemu_pcie_port_count(const LimaConfig *cfg);
/* "chr-<tag>" and "fs-<tag>": the chardev and device of a virtiofs mount. */
gchar *lima_qemu_virtiofs_chardev_id(const LimaMount *m);
gchar *lima_qemu_virtiofs_device_id(const LimaMount *m);

/* chardev-add: a client socket to the mount's virtiofsd. */
JsonObject *lima_qemu_hotplug_chardev_args(const LimaMount *m, const gchar *socket_path);
/* device_add: vhost-user-fs-pci with the mount's tag, queue size and ids, on port_id. */
JsonObject *lima_qemu_hotplug_device_args(const LimaMount *m, const gchar *port_id);
/* {"id": id}: device_del and chardev-remove. */
JsonObject *lima_qemu_hotplug_id_args(const gchar *id);

/* chardev-add then device_add; on failure the chardev is removed again. */
gboolean lima_qemu_hotplug_virtiofs(LimaQmp *qmp, const LimaMount *m, const gchar *socket_path,
                                    const gchar *port_id, GError **error);
/* device_del, DEVICE_DELETED within timeout_ms, then chardev-remove. A device that is not
 * there is not an error (a failed plug, or one already gone). */
gboolean lima_qemu_unplug_virtiofs(LimaQmp *qmp, const LimaMount *m, guint timeout_ms,
                                   GError **error);

G_END_DECLS
