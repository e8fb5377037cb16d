/*
 * A small, blocking QMP client: one command at a time over QEMU's unix socket, each bounded by
 * a timeout. Asynchronous events that arrive while a reply is awaited are kept for
 * lima_qmp_wait_event().
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define LIMA_QMP_ERROR (lima_qmp_error_quark())

/* The error classes QMP reports a failed command with. Transport problems come as G_IO_ERROR:
 * TIMED_OUT, CONNECTION_CLOSED, INVALID_DATA (not QMP). */
typedef enum {
        LIMA_QMP_ERROR_GENERIC,           /* GenericError, or a class this client does not know */
        LIMA_QMP_ERROR_COMMAND_NOT_FOUND, /* CommandNotFound */
        LIMA_QMP_ERROR_DEVICE_NOT_ACTIVE, /* DeviceNotActive */
        LIMA_QMP_ERROR_DEVICE_NOT_FOUND,  /* DeviceNotFound */
        LIMA_QMP_ERROR_KVM_MISSING_CAP,   /* KVMMissingCap */
} LimaQmpErrorCode;

GQuark lima_qmp_error_quark(void);

typedef struct _LimaQmp LimaQmp;

/* Connects, reads the greeting and leaves capability negotiation. Keeps trying while the
 * socket is missing or refuses (QEMU still starting) until timeout_ms; every later command
 * gets the same timeout. */
LimaQmp *lima_qmp_connect(const gchar *socket_path, guint timeout_ms, GError **error);
void lima_qmp_free(LimaQmp *qmp);

/* The greeting's QEMU version, e.g. 7.2.x → major 7, minor 2. */
void lima_qmp_get_version(LimaQmp *qmp, guint *major, guint *minor, guint *micro);

/* Runs one command; arguments may be NULL. Returns the reply's "return" value, or NULL with
 * error (LIMA_QMP_ERROR with QMP's "desc" for a failed command). */
JsonNode *lima_qmp_execute(LimaQmp *qmp, const gchar *command, JsonObject *arguments,
                           GError **error);

/* Waits for event (whose data[key] is value, unless key is NULL), also among the events
 * that arrived while earlier commands waited for their replies. */
gboolean lima_qmp_wait_event(LimaQmp *qmp, const gchar *event, const gchar *key, const gchar *value,
                             guint timeout_ms, GError **error);

/* Asks the guest to power off (ACPI); returns once QEMU accepted the request. */
gboolean lima_qmp_system_powerdown(LimaQmp *qmp, GError **error);
/* The run state ("running", "paused", "prelaunch", "shutdown", …); running may be NULL. */
gchar *lima_qmp_query_status(LimaQmp *qmp, gboolean *running, GError **error);
/* Stops QEMU at once. QEMU closing the socket before its reply counts as success. */
gboolean lima_qmp_quit(LimaQmp *qmp, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaQmp, lima_qmp_free)

G_END_DECLS
