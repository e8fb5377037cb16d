/* The error domain every lib/ function reports with; the bus layer maps codes to D-Bus names. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LIMA_ERROR (lima_error_quark())

typedef enum {
        LIMA_ERROR_FAILED,            /* anything without a better code */
        LIMA_ERROR_INVALID_YAML,      /* the text is not YAML, or is hostile YAML */
        LIMA_ERROR_INVALID_CONFIG,    /* YAML, but not a valid instance config */
        LIMA_ERROR_INVALID_NAME,      /* an instance name breaks the naming rule */
        LIMA_ERROR_NOT_FOUND,         /* a template, file or instance does not exist */
        LIMA_ERROR_UNSUPPORTED,       /* valid, but not on this host */
        LIMA_ERROR_PERMISSION_DENIED, /* the instance's owner may not use a path */
} LimaErrorCode;

GQuark lima_error_quark(void);

G_END_DECLS
