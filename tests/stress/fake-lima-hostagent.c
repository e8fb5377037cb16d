/*
 * fake-lima-hostagent: a host agent stand-in for limad's timeout tests. It serves
 * io.lima.lima1.HostAgent on DIR/ha.sock (pid in DIR/ha.pid; its name contains
 * "lima-hostagent", which is what limad checks), reports Running, and answers Stop after
 * DELAY seconds (then exits cleanly, as an agent does after a power-off), or never when
 * DELAY is negative.
 *
 *   fake-lima-hostagent DIR DELAY
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>

typedef struct {
        sd_event *event;
        const gchar *dir;
        gint delay;
        sd_bus_message *stop_call; /* held while "powering off" */
} FakeAgent;

static void
fake_agent_cleanup(FakeAgent *agent)
{
        g_autofree gchar *pid = g_build_filename(agent->dir, "ha.pid", NULL);
        g_autofree gchar *sock = g_build_filename(agent->dir, "ha.sock", NULL);
        g_unlink(pid);
        g_unlink(sock);
}

static int
fake_agent_on_powered_off(sd_event_source *source, uint64_t usec, void *userdata)
{
        FakeAgent *agent = userdata;
        sd_bus_reply_method_return(agent->stop_call, NULL);
        sd_bus_flush(sd_bus_message_get_bus(agent->stop_call));
        fake_agent_cleanup(agent);
        sd_event_exit(agent->event, 0);
        return 0;
}

static int
fake_agent_stop(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        FakeAgent *agent = userdata;
        if (agent->stop_call != NULL)
                return sd_bus_error_set(ret_error, "io.lima.lima1.Error.Busy", "stopping already");
        agent->stop_call = sd_bus_message_ref(m);
        if (agent->delay >= 0)
                sd_event_add_time_relative(agent->event, NULL, CLOCK_MONOTONIC,
                                           (uint64_t)agent->delay * G_USEC_PER_SEC, 0,
                                           fake_agent_on_powered_off, agent);
        return 1;
}

static int
fake_agent_property(sd_bus *bus, const char *path, const char *interface, const char *property,
                    sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        if (g_str_equal(property, "Status"))
                return sd_bus_message_append(reply, "s", "Running");
        if (g_str_equal(property, "SSHPort"))
                return sd_bus_message_append(reply, "u", 0u);
        if (g_str_equal(property, "Accelerator"))
                return sd_bus_message_append(reply, "s", "tcg");
        return sd_bus_message_append(reply, "as", 0);
}

static const sd_bus_vtable fake_agent_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Stop", "b", "", fake_agent_stop, 0),
        SD_BUS_PROPERTY("Status", "s", fake_agent_property, 0, 0),
        SD_BUS_PROPERTY("SSHPort", "u", fake_agent_property, 0, 0),
        SD_BUS_PROPERTY("Accelerator", "s", fake_agent_property, 0, 0),
        SD_BUS_PROPERTY("Errors", "as", fake_agent_property, 0, 0),
        SD_BUS_VTABLE_END,
};

static int
fake_agent_on_connection(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        FakeAgent *agent = userdata;
        sd_bus *bus = NULL;
        sd_id128_t id;
        int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

        if (conn < 0)
                return 0;
        sd_id128_randomize(&id);
        if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, conn, conn) < 0 ||
            sd_bus_set_server(bus, 1, id) < 0 || sd_bus_set_anonymous(bus, 1) < 0 ||
            sd_bus_add_object_vtable(bus, NULL, "/io/lima/lima1/hostagent",
                                     "io.lima.lima1.HostAgent", fake_agent_vtable, agent) < 0 ||
            sd_bus_start(bus) < 0 ||
            sd_bus_attach_event(bus, agent->event, SD_EVENT_PRIORITY_NORMAL) < 0) {
                fprintf(stderr, "fake-lima-hostagent: cannot serve a connection\n");
                sd_bus_unref(bus);
                return 0;
        }
        /* Lives as long as the process: a stand-in serves one test. */
        return 0;
}

int
main(int argc, char **argv)
{
        FakeAgent agent = { 0 };
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        g_autofree gchar *sock = NULL;
        g_autofree gchar *pid = NULL;
        g_autofree gchar *pid_text = NULL;
        int fd;

        if (argc != 3) {
                fprintf(stderr, "usage: %s DIR DELAY (seconds; negative: never answer Stop)\n",
                        argv[0]);
                return 2;
        }
        agent.dir = argv[1];
        agent.delay = atoi(argv[2]);
        sock = g_build_filename(agent.dir, "ha.sock", NULL);
        pid = g_build_filename(agent.dir, "ha.pid", NULL);
        g_strlcpy(addr.sun_path, sock, sizeof(addr.sun_path));
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        g_unlink(sock);
        if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 8) != 0) {
                fprintf(stderr, "fake-lima-hostagent: cannot listen on %s: %s\n", sock,
                        g_strerror(errno));
                return 1;
        }
        pid_text = g_strdup_printf("%d\n", (int)getpid());
        if (!g_file_set_contents(pid, pid_text, -1, NULL))
                return 1;
        sd_event_default(&agent.event);
        sd_event_add_io(agent.event, NULL, fd, EPOLLIN, fake_agent_on_connection, &agent);
        sd_event_loop(agent.event);
        return 0;
}
