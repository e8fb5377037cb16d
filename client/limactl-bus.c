/* The bus side of limactl: connect, call, and say in one place what a failure means. */
#include "limactl-bus.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

GQuark
limactl_error_quark(void)
{
        return g_quark_from_static_string("limactl-error-quark");
}

static gboolean limactl_use_system_bus = FALSE;

void
limactl_bus_set_system(gboolean system)
{
        limactl_use_system_bus = system;
}

gboolean
limactl_bus_is_system(void)
{
        return limactl_use_system_bus;
}

/* What to run so that limad answers, for the bus in use. */
static const gchar *
limactl_bus_start_hint(void)
{
        if (limactl_use_system_bus)
                return _("start it with `sudo limad --system &` (or `sudo systemctl start "
                         "limad`)");
        return _("start it with `limad --user &`");
}

/* Where a socket-activated limad listens for a user without a session bus (limad.socket on
 * Linux, launchd's Sockets on macOS): LIMA_DAEMON_ADDRESS (a D-Bus address), else the socket
 * launchd names in LIMA_DAEMON_SOCKET, else $XDG_RUNTIME_DIR/lima/limad.sock when that socket
 * exists. NULL when there is none. */
static gchar *
limactl_bus_peer_address(void)
{
        const gchar *env = g_getenv("LIMA_DAEMON_ADDRESS");
        const gchar *launchd_socket = g_getenv("LIMA_DAEMON_SOCKET");
        const gchar *runtime = g_getenv("XDG_RUNTIME_DIR");
        g_autofree gchar *path = NULL;
        g_autofree gchar *escaped = NULL;

        if (env != NULL && *env != '\0')
                return g_strdup(env);
        if (launchd_socket != NULL && *launchd_socket != '\0')
                path = g_strdup(launchd_socket);
        else if (runtime != NULL && *runtime != '\0')
                path = g_build_filename(runtime, "lima", "limad.sock", NULL);
        if (path == NULL || !g_file_test(path, G_FILE_TEST_EXISTS))
                return NULL;
        escaped = g_uri_escape_string(path, "/", FALSE);
        return g_strconcat("unix:path=", escaped, NULL);
}

static sd_bus *
limactl_bus_open_peer(const gchar *address, GError **error)
{
        g_autoptr(sd_bus) bus = NULL;
        int r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_NOT_RUNNING,
                            _("cannot connect to limad at %s: %s; start it with `systemctl "
                              "--user start limad.socket` or `limad --user &`"),
                            address, g_strerror(-r));
                return NULL;
        }
        return g_steal_pointer(&bus);
}

/* Whether limad answers on this bus, or D-Bus can start it there. */
static gboolean
limactl_bus_has_limad(sd_bus *bus)
{
        g_autoptr(sd_bus_message) reply = NULL;
        g_auto(GStrv) names = NULL;
        int has_owner = 0;
        int r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus", "NameHasOwner", NULL, &reply, "s",
                                   LIMACTL_BUS_NAME);
        if (r >= 0 && sd_bus_message_read(reply, "b", &has_owner) >= 0 && has_owner)
                return TRUE;
        g_clear_pointer(&reply, sd_bus_message_unref);
        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "ListActivatableNames", NULL, &reply, "");
        if (r < 0 || sd_bus_message_read_strv(reply, &names) < 0)
                return TRUE; /* cannot tell: stay on the bus, its errors say more */
        return g_strv_contains((const gchar *const *)names, LIMACTL_BUS_NAME);
}

sd_bus *
limactl_bus_open(GError **error)
{
        g_autoptr(sd_bus) bus = NULL;
        g_autofree gchar *peer = NULL;
        const gchar *address = g_getenv("DBUS_SESSION_BUS_ADDRESS");
        const gchar *explicit_peer = g_getenv("LIMA_DAEMON_ADDRESS");
        int r;

        if (!limactl_use_system_bus) {
                if (explicit_peer != NULL && *explicit_peer != '\0')
                        return limactl_bus_open_peer(explicit_peer, error);
                peer = limactl_bus_peer_address();
        }
        if (limactl_use_system_bus)
                r = sd_bus_open_system(&bus);
        else
                r = sd_bus_open_user(&bus);
        /* No bus has limad, but a socket-activated one listens: talk to it directly. */
        if (peer != NULL && (r < 0 || !limactl_bus_has_limad(bus)))
                return limactl_bus_open_peer(peer, error);
        if (r < 0) {
                if (limactl_use_system_bus) {
                        g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_NO_BUS,
                                    _("cannot connect to the system bus: %s; is dbus-daemon "
                                      "running?"),
                                    g_strerror(-r));
                } else if (address == NULL || *address == '\0') {
                        g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_NO_BUS,
                                            _("no session bus: run `dbus-run-session -- bash` "
                                              "or set DBUS_SESSION_BUS_ADDRESS"));
                } else {
                        g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_NO_BUS,
                                    _("cannot connect to the session bus at %s: %s; run "
                                      "`dbus-run-session -- bash` or fix "
                                      "DBUS_SESSION_BUS_ADDRESS"),
                                    address, g_strerror(-r));
                }
                return NULL;
        }
        /* polkit may ask the user for a password when there is someone to ask. */
        if (limactl_use_system_bus && isatty(STDIN_FILENO))
                (void)sd_bus_set_allow_interactive_authorization(bus, 1);
        return g_steal_pointer(&bus);
}

static LimactlErrorCode
limactl_error_code_for_lima(const gchar *suffix)
{
        static const struct {
                const gchar *name;
                LimactlErrorCode code;
        } codes[] = {
                { "NoSuchInstance", LIMACTL_ERROR_NO_SUCH_INSTANCE },
                { "AlreadyRunning", LIMACTL_ERROR_ALREADY_RUNNING },
                { "NotRunning", LIMACTL_ERROR_INSTANCE_NOT_RUNNING },
                { "Exists", LIMACTL_ERROR_EXISTS },
        };
        for (guint i = 0; i < G_N_ELEMENTS(codes); i++) {
                if (g_str_equal(suffix, codes[i].name))
                        return codes[i].code;
        }
        return LIMACTL_ERROR_FAILED;
}

static void
limactl_bus_set_errno_error(GError **error, int r)
{
        switch (-r) {
        case ECONNRESET:
        case ENOTCONN:
        case EPIPE:
        case ESHUTDOWN:
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_NO_BUS,
                            _("lost the connection to the bus: %s"), g_strerror(-r));
                return;
        case ETIMEDOUT:
                g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED,
                                    _("limad did not answer in time; see its log "
                                      "(journalctl --user -u limad, or its stderr)"));
                return;
        default:
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED, _("D-Bus call failed: %s"),
                            g_strerror(-r));
                return;
        }
}

void
limactl_bus_set_error(GError **error, int r, const sd_bus_error *e)
{
        const gchar *name = e != NULL && sd_bus_error_is_set(e) ? e->name : NULL;
        const gchar *message = e != NULL && e->message != NULL ? e->message : NULL;

        /* sd-bus reports local failures (connection, timeout) as System.Error.EFOO. */
        if (name == NULL || g_str_has_prefix(name, "System.Error.")) {
                limactl_bus_set_errno_error(error, r < 0 ? r : -EIO);
                return;
        }
        if (g_str_has_prefix(name, LIMACTL_LIMA_ERROR_PREFIX)) {
                const gchar *suffix = name + strlen(LIMACTL_LIMA_ERROR_PREFIX);
                g_set_error_literal(error, LIMACTL_ERROR, limactl_error_code_for_lima(suffix),
                                    message != NULL ? message : suffix);
                return;
        }
        if (g_str_equal(name, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
            g_str_equal(name, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_NOT_RUNNING,
                            _("limad is not running on the %s bus and D-Bus cannot start it; %s"),
                            limactl_use_system_bus ? _("system") : _("session"),
                            limactl_bus_start_hint());
                return;
        }
        if (g_str_has_prefix(name, "org.freedesktop.DBus.Error.Spawn.")) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_NOT_RUNNING,
                            _("limad is not running and D-Bus could not start it (%s); %s"),
                            message != NULL ? message : name, limactl_bus_start_hint());
                return;
        }
        if (g_str_equal(name, SD_BUS_ERROR_NO_REPLY) || g_str_equal(name, SD_BUS_ERROR_TIMEOUT)) {
                limactl_bus_set_errno_error(error, -ETIMEDOUT);
                return;
        }
        if (g_str_equal(name, SD_BUS_ERROR_ACCESS_DENIED) ||
            g_str_equal(name, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED)) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED, _("permission denied: %s"),
                            message != NULL ? message : name);
                return;
        }
        if (g_str_equal(name, SD_BUS_ERROR_UNKNOWN_METHOD) ||
            g_str_equal(name, SD_BUS_ERROR_UNKNOWN_INTERFACE) ||
            g_str_equal(name, SD_BUS_ERROR_UNKNOWN_PROPERTY)) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED,
                            _("limad does not support this request (%s); is limad older than "
                              "limactl?"),
                            message != NULL ? message : name);
                return;
        }
        if (g_str_equal(name, SD_BUS_ERROR_UNKNOWN_OBJECT)) {
                /* The object went away between two calls: the instance was just deleted. */
                g_set_error_literal(error, LIMACTL_ERROR, LIMACTL_ERROR_NO_SUCH_INSTANCE,
                                    _("the instance no longer exists"));
                return;
        }
        g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED, "%s",
                    message != NULL ? message : name);
}

sd_bus_message *
limactl_bus_new_call(sd_bus *bus, const gchar *path, const gchar *iface, const gchar *member,
                     GError **error)
{
        sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(bus, &m, LIMACTL_BUS_NAME, path, iface, member);
        if (r < 0) {
                limactl_bus_set_error(error, r, NULL);
                return NULL;
        }
        return m;
}

sd_bus_message *
limactl_bus_call(sd_bus *bus, sd_bus_message *call, guint64 timeout_usec, GError **error)
{
        g_auto(sd_bus_error) e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r = sd_bus_call(bus, call, timeout_usec, &e, &reply);
        if (r < 0) {
                limactl_bus_set_error(error, r, &e);
                return NULL;
        }
        return reply;
}

gchar *
limactl_bus_get_instance_path(sd_bus *bus, const gchar *name, GError **error)
{
        g_autoptr(sd_bus_message) call = NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        const char *path = NULL;
        int r;

        call = limactl_bus_new_call(bus, LIMACTL_MANAGER_PATH, LIMACTL_MANAGER_IFACE, "GetInstance",
                                    error);
        if (call == NULL)
                return NULL;
        r = sd_bus_message_append(call, "s", name);
        if (r < 0) {
                limactl_bus_set_error(error, r, NULL);
                return NULL;
        }
        reply = limactl_bus_call(bus, call, LIMACTL_BUS_DEFAULT_TIMEOUT, error);
        if (reply == NULL)
                return NULL;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED,
                            _("limad sent a malformed GetInstance reply: %s"), g_strerror(-r));
                return NULL;
        }
        return g_strdup(path);
}
