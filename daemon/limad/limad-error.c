#include "limad-error.h"

#include <errno.h>

#include "lima-error.h"

G_DEFINE_QUARK(limad - error - quark, limad_error)

static const gchar *
limad_error_name(const GError *error)
{
        if (error->domain == LIMA_ERROR) {
                switch ((LimaErrorCode)error->code) {
                case LIMA_ERROR_INVALID_YAML:
                case LIMA_ERROR_INVALID_CONFIG:
                        return LIMAD_DBUS_ERROR_PREFIX "InvalidConfig";
                case LIMA_ERROR_INVALID_NAME:
                        return LIMAD_DBUS_ERROR_PREFIX "InvalidName";
                case LIMA_ERROR_NOT_FOUND:
                        return LIMAD_DBUS_ERROR_PREFIX "NotFound";
                case LIMA_ERROR_UNSUPPORTED:
                        return LIMAD_DBUS_ERROR_PREFIX "Unsupported";
                case LIMA_ERROR_PERMISSION_DENIED:
                        return LIMAD_DBUS_ERROR_PREFIX "MountNotPermitted";
                case LIMA_ERROR_FAILED:
                        break;
                }
        }
        if (error->domain == LIMAD_ERROR) {
                switch ((LimadErrorCode)error->code) {
                case LIMAD_ERROR_NO_SUCH_INSTANCE:
                        return LIMAD_DBUS_ERROR_PREFIX "NoSuchInstance";
                case LIMAD_ERROR_EXISTS:
                        return LIMAD_DBUS_ERROR_PREFIX "Exists";
                case LIMAD_ERROR_ALREADY_RUNNING:
                        return LIMAD_DBUS_ERROR_PREFIX "AlreadyRunning";
                case LIMAD_ERROR_NOT_RUNNING:
                        return LIMAD_DBUS_ERROR_PREFIX "NotRunning";
                case LIMAD_ERROR_BUSY:
                        return LIMAD_DBUS_ERROR_PREFIX "Busy";
                case LIMAD_ERROR_ACCESS_DENIED:
                        return LIMAD_DBUS_ERROR_PREFIX "AccessDenied";
                case LIMAD_ERROR_INVALID_ARGUMENT:
                        return LIMAD_DBUS_ERROR_PREFIX "InvalidArgument";
                case LIMAD_ERROR_UNIT_FAILED:
                        return LIMAD_DBUS_ERROR_PREFIX "UnitFailed";
                case LIMAD_ERROR_TIMEOUT:
                        return LIMAD_DBUS_ERROR_PREFIX "Timeout";
                case LIMAD_ERROR_FAILED:
                        break;
                }
        }
        return LIMAD_DBUS_ERROR_PREFIX "Failed";
}

int
limad_error_to_bus(const GError *error, sd_bus_error *ret_error)
{
        sd_bus_error_set(ret_error, limad_error_name(error), error->message);
        return -EIO;
}
