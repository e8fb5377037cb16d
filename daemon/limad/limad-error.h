/* limad's named D-Bus errors, and the one place a GError becomes one. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_message, sd_bus_message_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_creds, sd_bus_creds_unref)

#define LIMAD_ERROR (limad_error_quark())

typedef enum {
        LIMAD_ERROR_FAILED,
        LIMAD_ERROR_NO_SUCH_INSTANCE,
        LIMAD_ERROR_EXISTS,
        LIMAD_ERROR_ALREADY_RUNNING,
        LIMAD_ERROR_NOT_RUNNING,
        LIMAD_ERROR_BUSY,
        LIMAD_ERROR_ACCESS_DENIED,
        LIMAD_ERROR_INVALID_ARGUMENT,
        LIMAD_ERROR_UNIT_FAILED, /* systemd could not start or stop lima@NAME.service */
        LIMAD_ERROR_TIMEOUT,     /* a helper (host agent, polkit) did not answer in time */
} LimadErrorCode;

#define LIMAD_DBUS_ERROR_PREFIX "io.lima.lima1.Error."

GQuark limad_error_quark(void);

/* Sets ret_error to the named error for error (LIMA_ERROR and LIMAD_ERROR codes map to
 * io.lima.lima1.Error.*) and returns the negative errno sd-bus wants. */
int limad_error_to_bus(const GError *error, sd_bus_error *ret_error);

G_END_DECLS
