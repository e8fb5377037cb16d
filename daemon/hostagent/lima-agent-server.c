/* The host agent's peer-to-peer D-Bus server on ha.sock: limad (and tests) connect here to
 * follow the instance and stop it. No bus daemon is involved. */
#define _GNU_SOURCE
#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lima-agent-hotplug.h"
#include "lima-agent.h"
#include "lima-error.h"

static int
lima_agent_get_property(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        LimaAgent *agent = userdata;

        if (g_str_equal(property, "Status"))
                return sd_bus_message_append(reply, "s", agent->status);
        if (g_str_equal(property, "SSHPort"))
                return sd_bus_message_append(reply, "u", (guint32)agent->ssh_port);
        if (g_str_equal(property, "Accelerator"))
                return sd_bus_message_append(reply, "s",
                                             agent->accel_name ? agent->accel_name : "");
        if (g_str_equal(property, "QemuPid"))
                return sd_bus_message_append(reply, "u", (guint32)MAX(agent->qemu_pid, 0));
        if (g_str_equal(property, "Errors")) {
                /* A view of the strings, not a copy: the array frees nothing. */
                g_autoptr(GPtrArray) strv = g_ptr_array_sized_new(agent->errors->len + 1);
                for (guint i = 0; i < agent->errors->len; i++)
                        g_ptr_array_add(strv, g_ptr_array_index(agent->errors, i));
                g_ptr_array_add(strv, NULL);
                return sd_bus_message_append_strv(reply, (char **)strv->pdata);
        }
        if (g_str_equal(property, "Mounts")) {
                int r = sd_bus_message_open_container(reply, 'a', "(sssbsa{sv})");
                for (guint i = 0; r >= 0 && i < agent->mounts->len; i++) {
                        LimaAgentMount *m = g_ptr_array_index(agent->mounts, i);
                        r = sd_bus_message_append(reply, "(sssbsa{sv})", m->mount->location.value,
                                                  m->mount->mount_point.value,
                                                  agent->cfg->mount_type.value,
                                                  m->mount->writable.value, m->state, 2, "tag", "s",
                                                  m->mount->tag != NULL ? m->mount->tag : "",
                                                  "error", "s", m->error != NULL ? m->error : "");
                }
                return r < 0 ? r : sd_bus_message_close_container(reply);
        }
        return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "no property %s", property);
}

static int
lima_agent_method_stop(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        int force = 0;
        int r = sd_bus_message_read(m, "b", &force);
        if (r < 0)
                return r;
        lima_agent_stop(userdata, force, m);
        return 1;
}

/* The one place an agent GError becomes a named error for limad to pass on. */
static int
lima_agent_error_to_bus(const GError *error, sd_bus_error *ret_error)
{
        const gchar *name = "io.lima.lima1.Error.Failed";
        if (g_error_matches(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED))
                name = "io.lima.lima1.Error.Unsupported";
        else if (g_error_matches(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG) ||
                 g_error_matches(error, LIMA_ERROR, LIMA_ERROR_INVALID_YAML))
                name = "io.lima.lima1.Error.InvalidConfig";
        else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
                name = "io.lima.lima1.Error.InvalidArgument";
        else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BUSY))
                name = "io.lima.lima1.Error.Busy";
        return sd_bus_error_set(ret_error, name, error->message);
}

static int
lima_agent_method_add_mount(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        g_autoptr(GError) error = NULL;
        const char *config = NULL, *mount_point = NULL;
        int r = sd_bus_message_read(m, "ss", &config, &mount_point);
        if (r < 0)
                return r;
        if (!lima_agent_hotplug_add(userdata, m, config, mount_point, &error))
                return lima_agent_error_to_bus(error, ret_error);
        return 1;
}

static int
lima_agent_method_remove_mount(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        g_autoptr(GError) error = NULL;
        const char *mount_point = NULL;
        int r = sd_bus_message_read(m, "s", &mount_point);
        if (r < 0)
                return r;
        if (!lima_agent_hotplug_remove(userdata, m, mount_point, &error))
                return lima_agent_error_to_bus(error, ret_error);
        return 1;
}

#define AGENT_PROP(name, sig)                                                                      \
        SD_BUS_PROPERTY(name, sig, lima_agent_get_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

static const sd_bus_vtable lima_agent_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Stop", SD_BUS_ARGS("b", force), SD_BUS_NO_RESULT,
                                lima_agent_method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddMount", SD_BUS_ARGS("s", config, "s", mountPoint),
                                SD_BUS_NO_RESULT, lima_agent_method_add_mount,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveMount", SD_BUS_ARGS("s", mountPoint), SD_BUS_NO_RESULT,
                                lima_agent_method_remove_mount, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("Progress", SD_BUS_ARGS("s", stage, "d", fraction, "s", message),
                                0),
        AGENT_PROP("Status", "s"),
        AGENT_PROP("SSHPort", "u"),
        AGENT_PROP("Accelerator", "s"),
        AGENT_PROP("QemuPid", "u"),
        AGENT_PROP("Mounts", "a(sssbsa{sv})"),
        AGENT_PROP("Errors", "as"),
        SD_BUS_VTABLE_END,
};

static int
lima_agent_on_peer_gone(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        LimaAgent *agent = userdata;
        sd_bus *bus = sd_bus_message_get_bus(m);
        g_ptr_array_remove(agent->peers, bus);
        return 0;
}

static void
lima_agent_peer_unref(gpointer bus)
{
        sd_bus_flush_close_unref(bus);
}

static int
lima_agent_on_connection(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        LimaAgent *agent = userdata;
        sd_id128_t id;
        sd_bus *bus = NULL;
        int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        int r;

        if (conn < 0)
                return 0;
        sd_id128_randomize(&id);
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_fd(bus, conn, conn);
        if (r >= 0)
                r = sd_bus_set_server(bus, 1, id);
        /* Only the instance's owner can reach the socket (0600 in an 0700 folder). */
        if (r >= 0)
                r = sd_bus_set_anonymous(bus, 0);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, LIMA_AGENT_PATH, LIMA_AGENT_IFACE,
                                             lima_agent_vtable, agent);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, NULL, "/org/freedesktop/DBus/Local",
                                        "org.freedesktop.DBus.Local", "Disconnected",
                                        lima_agent_on_peer_gone, agent);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0)
                r = sd_bus_attach_event(bus, agent->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                g_warning("refusing a connection on ha.sock: %s", g_strerror(-r));
                if (bus != NULL)
                        sd_bus_flush_close_unref(bus);
                else
                        close(conn);
                return 0;
        }
        g_ptr_array_add(agent->peers, bus);
        return 0;
}

gboolean
lima_agent_server_listen(LimaAgent *agent, const gchar *path, GError **error)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        mode_t old_umask;
        int fd;

        if (strlen(path) >= sizeof(addr.sun_path)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                            _("%s is too long for a unix socket path; use a shorter LIMA_HOME"),
                            path);
                return FALSE;
        }
        strcpy(addr.sun_path, path);
        unlink(path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        old_umask = umask(0077);
        if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
            listen(fd, 16) != 0) {
                int saved = errno;
                umask(old_umask);
                if (fd >= 0)
                        close(fd);
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                            _("cannot listen on %s: %s"), path, g_strerror(saved));
                return FALSE;
        }
        umask(old_umask);
        agent->listen_fd = fd;
        sd_event_add_io(agent->event, &agent->listen_source, fd, EPOLLIN, lima_agent_on_connection,
                        agent);
        agent->peers = g_ptr_array_new_with_free_func(lima_agent_peer_unref);
        return TRUE;
}

void
lima_agent_server_close(LimaAgent *agent)
{
        agent->listen_source = sd_event_source_disable_unref(agent->listen_source);
        if (agent->listen_fd >= 0)
                close(agent->listen_fd);
        agent->listen_fd = -1;
        if (agent->peers != NULL)
                g_ptr_array_set_size(agent->peers, 0);
}

void
lima_agent_emit_changed(LimaAgent *agent, const gchar *first, ...)
{
        va_list args;
        g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
        g_auto(GStrv) names = NULL;

        va_start(args, first);
        for (const gchar *n = first; n != NULL; n = va_arg(args, const gchar *))
                g_strv_builder_add(builder, n);
        va_end(args);
        names = g_strv_builder_end(builder);
        for (guint i = 0; agent->peers != NULL && i < agent->peers->len; i++)
                sd_bus_emit_properties_changed_strv(g_ptr_array_index(agent->peers, i),
                                                    LIMA_AGENT_PATH, LIMA_AGENT_IFACE, names);
}

void
lima_agent_emit_progress(LimaAgent *agent, const gchar *stage, gdouble fraction,
                         const gchar *message)
{
        g_message("%s: %s", stage, message);
        for (guint i = 0; agent->peers != NULL && i < agent->peers->len; i++)
                sd_bus_emit_signal(g_ptr_array_index(agent->peers, i), LIMA_AGENT_PATH,
                                   LIMA_AGENT_IFACE, "Progress", "sds", stage, fraction, message);
}
