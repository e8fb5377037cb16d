/* limactl's link to limad: which bus, the connection, and the one place where a D-Bus error
 * becomes a message for people. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

G_BEGIN_DECLS

#define LIMACTL_BUS_NAME            "io.lima.lima1"
#define LIMACTL_MANAGER_PATH        "/io/lima/lima1"
#define LIMACTL_MANAGER_IFACE       "io.lima.lima1.Manager"
#define LIMACTL_INSTANCE_IFACE      "io.lima.lima1.Instance"
#define LIMACTL_LIMA_ERROR_PREFIX   "io.lima.lima1.Error."
#define LIMACTL_BUS_DEFAULT_TIMEOUT (25 * (guint64)G_USEC_PER_SEC)
/* Stop and Delete return only once the guest is down; a clean ACPI shutdown takes a while. */
#define LIMACTL_BUS_LONG_TIMEOUT (10 * 60 * (guint64)G_USEC_PER_SEC)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus, sd_bus_flush_close_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_message, sd_bus_message_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_slot, sd_bus_slot_unref)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(sd_bus_error, sd_bus_error_free)

#define LIMACTL_ERROR (limactl_error_quark())

typedef enum {
        LIMACTL_ERROR_FAILED,      /* anything else limad or the bus said */
        LIMACTL_ERROR_NO_BUS,      /* no bus to talk to */
        LIMACTL_ERROR_NOT_RUNNING, /* the bus answers, limad does not */
        LIMACTL_ERROR_NO_SUCH_INSTANCE,
        LIMACTL_ERROR_ALREADY_RUNNING,
        LIMACTL_ERROR_INSTANCE_NOT_RUNNING,
        LIMACTL_ERROR_EXISTS,
        LIMACTL_ERROR_INVALID_ARGUMENT, /* a bad flag or argument, found before asking limad */
} LimactlErrorCode;

GQuark limactl_error_quark(void);

/* The global --system flag: talk to the system-wide limad instead of the session one. */
void limactl_bus_set_system(gboolean system);
gboolean limactl_bus_is_system(void);

/* Connects to the session bus (or the system bus with --system). */
sd_bus *limactl_bus_open(GError **error);

/* Turns a failed sd-bus call (r < 0, e possibly set) into a GError people can act on. */
void limactl_bus_set_error(GError **error, int r, const sd_bus_error *e);

/* Sends a method call and waits for the reply; errors as limactl_bus_set_error. */
sd_bus_message *limactl_bus_call(sd_bus *bus, sd_bus_message *call, guint64 timeout_usec,
                                 GError **error);

/* A method call to limad, ready for arguments. */
sd_bus_message *limactl_bus_new_call(sd_bus *bus, const gchar *path, const gchar *iface,
                                     const gchar *member, GError **error);

/* The object path of instance NAME (Manager.GetInstance). */
gchar *limactl_bus_get_instance_path(sd_bus *bus, const gchar *name, GError **error);

G_END_DECLS
