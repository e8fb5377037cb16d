/* The QMP client: against a scripted server (events in the way, stale replies, errors) and
 * against a real qemu-system-x86_64. */
#include <glib/gstdio.h>

#include "lima-qemu-argv.h"
#include "lima-qemu-hotplug.h"
#include "lima-qmp.h"
#include "test-qemu-util.h"

/* A QMP server in a thread that answers each command from a script. */
typedef struct {
        GSocket *listener;
        gchar *dir;
        gchar *path;
        GThread *thread;
        GAsyncQueue *requests; /* gchar*: every request line, as sent */
        gchar *last;           /* the request being answered (server thread only) */
} FakeQmp;

static void
fake_send(GSocket *conn, const gchar *line)
{
        g_autofree gchar *text = g_strconcat(line, "\r\n", NULL);
        g_autoptr(GError) error = NULL;
        g_socket_send(conn, text, strlen(text), NULL, &error);
        g_assert_no_error(error);
}

/* The next request's command and id; FALSE at EOF. */
static gboolean
fake_receive(FakeQmp *fake, GSocket *conn, GString *buf, gchar **command, gchar **id)
{
        const gchar *newline;

        while ((newline = strchr(buf->str, '\n')) == NULL) {
                gchar chunk[1024];
                gssize n = g_socket_receive(conn, chunk, sizeof(chunk), NULL, NULL);
                if (n <= 0)
                        return FALSE;
                g_string_append_len(buf, chunk, n);
        }
        {
                g_autofree gchar *line = g_strndup(buf->str, (gsize)(newline - buf->str));
                g_autoptr(JsonParser) parser = json_parser_new();
                JsonObject *request;

                g_string_erase(buf, 0, newline - buf->str + 1);
                g_async_queue_push(fake->requests, g_strdup(line));
                g_free(fake->last);
                fake->last = g_strdup(line);
                g_assert_true(json_parser_load_from_data(parser, line, -1, NULL));
                request = json_node_get_object(json_parser_get_root(parser));
                *command = g_strdup(json_object_get_string_member(request, "execute"));
                *id = g_strdup(json_object_get_string_member(request, "id"));
        }
        return TRUE;
}

static gpointer
fake_qmp_serve(gpointer data)
{
        FakeQmp *fake = data;
        g_autoptr(GSocket) conn = g_socket_accept(fake->listener, NULL, NULL);
        g_autoptr(GString) buf = g_string_new(NULL);
        gchar *command = NULL;
        gchar *id = NULL;

        g_assert_nonnull(conn);
        fake_send(conn, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 3, \"minor\": 2, "
                        "\"major\": 7}, \"package\": \"fake\"}, \"capabilities\": [\"oob\"]}}");
        while (fake_receive(fake, conn, buf, &command, &id)) {
                g_autofree gchar *owned_command = command;
                g_autofree gchar *owned_id = id;
                (void)owned_command; /* only free what fake_receive made */
                (void)owned_id;
                g_autofree gchar *reply = NULL;

                if (g_strcmp0(command, "query-status") == 0) {
                        /* Everything a client must look past before its answer. */
                        fake_send(conn, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
                                        "\"event\": \"RESUME\"}");
                        fake_send(conn, "");
                        fake_send(conn, "{\"return\": {\"status\": \"stale\"}, \"id\": \"old\"}");
                        fake_send(conn, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 3}, "
                                        "\"event\": \"STOP\"}");
                        reply = g_strdup_printf("{\"return\": {\"status\": \"paused\", "
                                                "\"singlestep\": false, \"running\": false}, "
                                                "\"id\": \"%s\"}",
                                                id);
                } else if (g_strcmp0(command, "qmp_capabilities") == 0 ||
                           g_strcmp0(command, "system_powerdown") == 0) {
                        reply = g_strdup_printf("{\"return\": {}, \"id\": \"%s\"}", id);
                } else if (g_strcmp0(command, "chardev-add") == 0 ||
                           g_strcmp0(command, "chardev-remove") == 0) {
                        reply = g_strdup_printf("{\"return\": {}, \"id\": \"%s\"}", id);
                } else if (g_strcmp0(command, "device_add") == 0) {
                        /* Only port 0 takes a device: the rest fail as a full slot does. */
                        if (strstr(fake->last, "\"bus\":\"lima-port0\"") != NULL)
                                reply = g_strdup_printf("{\"return\": {}, \"id\": \"%s\"}", id);
                        else
                                reply = g_strdup_printf(
                                    "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                                    "\"Bus 'lima-port1' does not support hotplugging\"}, "
                                    "\"id\": \"%s\"}",
                                    id);
                } else if (g_strcmp0(command, "device_del") == 0) {
                        /* The event comes before the reply here: it must not be lost. */
                        fake_send(conn, "{\"event\": \"DEVICE_DELETED\", \"data\": {\"path\": "
                                        "\"/machine/peripheral/x/virtio-backend\"}}");
                        fake_send(conn, "{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": "
                                        "\"fs-other\"}}");
                        reply = g_strdup_printf("{\"return\": {}, \"id\": \"%s\"}", id);
                        fake_send(conn, reply);
                        g_clear_pointer(&reply, g_free);
                        reply = g_strdup("{\"event\": \"DEVICE_DELETED\", \"data\": "
                                         "{\"device\": \"fs-lima-0123456789abcdef\", "
                                         "\"path\": \"/machine/peripheral/x\"}}");
                } else if (g_strcmp0(command, "silent") == 0) {
                        continue;
                } else if (g_strcmp0(command, "quit") == 0) {
                        /* QEMU may go before its reply is read. */
                        break;
                } else {
                        reply = g_strdup_printf(
                            "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
                            "\"The command %s has not been found\"}, \"id\": \"%s\"}",
                            command, id);
                }
                fake_send(conn, reply);
        }
        g_socket_close(conn, NULL);
        return NULL;
}

static void
fake_qmp_start(FakeQmp *fake)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GSocketAddress) address = NULL;

        fake->requests = g_async_queue_new_full(g_free);
        fake->dir = g_dir_make_tmp("lima-qmp-XXXXXX", &error);
        g_assert_no_error(error);
        fake->path = g_build_filename(fake->dir, "qmp.sock", NULL);
        address = g_unix_socket_address_new(fake->path);
        fake->listener = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_DEFAULT, &error);
        g_assert_no_error(error);
        g_socket_bind(fake->listener, address, FALSE, &error);
        g_assert_no_error(error);
        g_socket_listen(fake->listener, &error);
        g_assert_no_error(error);
        fake->thread = g_thread_new("fake-qmp", fake_qmp_serve, fake);
}

static void
fake_qmp_stop(FakeQmp *fake)
{
        g_thread_join(fake->thread);
        g_socket_close(fake->listener, NULL);
        g_object_unref(fake->listener);
        g_unlink(fake->path);
        g_rmdir(fake->dir);
        g_free(fake->path);
        g_free(fake->dir);
        g_async_queue_unref(fake->requests);
        g_free(fake->last);
}

static void
test_fake_skips_events_and_stale_replies(void)
{
        FakeQmp fake = { 0 };
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaQmp) qmp = NULL;
        g_autofree gchar *status = NULL;
        gboolean running = TRUE;
        guint major = 0;
        guint minor = 0;
        guint micro = 0;

        fake_qmp_start(&fake);
        qmp = lima_qmp_connect(fake.path, 5000, &error);
        g_assert_no_error(error);
        lima_qmp_get_version(qmp, &major, &minor, &micro);
        g_assert_cmpuint(major, ==, 7);
        g_assert_cmpuint(minor, ==, 2);
        g_assert_cmpuint(micro, ==, 3);

        status = lima_qmp_query_status(qmp, &running, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(status, ==, "paused");
        g_assert_false(running);

        g_assert_true(lima_qmp_system_powerdown(qmp, &error));
        g_assert_no_error(error);
        g_assert_true(lima_qmp_quit(qmp, &error));
        g_assert_no_error(error);
        fake_qmp_stop(&fake);
}

static void
test_fake_error_and_timeout(void)
{
        FakeQmp fake = { 0 };
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaQmp) qmp = NULL;
        g_autoptr(JsonNode) reply = NULL;
        gint64 start;

        fake_qmp_start(&fake);
        qmp = lima_qmp_connect(fake.path, 300, &error);
        g_assert_no_error(error);

        reply = lima_qmp_execute(qmp, "no-such-command", NULL, &error);
        g_assert_null(reply);
        g_assert_error(error, LIMA_QMP_ERROR, LIMA_QMP_ERROR_COMMAND_NOT_FOUND);
        g_assert_nonnull(strstr(error->message, "The command no-such-command has not been found"));
        g_clear_error(&error);

        start = g_get_monotonic_time();
        reply = lima_qmp_execute(qmp, "silent", NULL, &error);
        g_assert_null(reply);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
        g_assert_cmpint(g_get_monotonic_time() - start, >=, 250 * 1000);
        g_clear_error(&error);

        g_assert_true(lima_qmp_quit(qmp, &error));
        g_assert_no_error(error);
        fake_qmp_stop(&fake);
}

/* The next request line that runs command, skipping others. */
static gchar *
fake_next_request(FakeQmp *fake, const gchar *command)
{
        g_autofree gchar *want = g_strdup_printf("\"execute\":\"%s\"", command);
        gchar *line;
        while ((line = g_async_queue_timeout_pop(fake->requests, G_USEC_PER_SEC)) != NULL) {
                if (strstr(line, want) != NULL)
                        return line;
                g_free(line);
        }
        return NULL;
}

static LimaMount *
hotplug_mount(void)
{
        LimaMount *m = lima_mount_new();
        lima_string_set(&m->location, "/srv/a", NULL);
        lima_string_set(&m->mount_point, "/mnt/a", NULL);
        m->tag = g_strdup("lima-0123456789abcdef");
        return m;
}

static gchar *
json_text(JsonObject *object)
{
        g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), object);
        return json_to_string(node, FALSE);
}

static void
test_hotplug_arguments(void)
{
        g_autoptr(LimaMount) m = hotplug_mount();
        g_autoptr(JsonObject) chr = lima_qemu_hotplug_chardev_args(m, "/run/x/virtiofsd.sock");
        g_autoptr(JsonObject) dev = NULL;
        g_autoptr(JsonObject) del = lima_qemu_hotplug_id_args("fs-x");
        g_autofree gchar *chr_text = json_text(chr);
        g_autofree gchar *dev_text = NULL;
        g_autofree gchar *del_text = json_text(del);

        g_assert_cmpstr(chr_text, ==,
                        "{\"id\":\"chr-lima-0123456789abcdef\",\"backend\":{\"type\":\"socket\","
                        "\"data\":{\"addr\":{\"type\":\"unix\",\"data\":{\"path\":"
                        "\"/run/x/virtiofsd.sock\"}},\"server\":false}}}");
        lima_int_set(&m->virtiofs_queue_size, 256, NULL);
        dev = lima_qemu_hotplug_device_args(m, "lima-port2");
        dev_text = json_text(dev);
        g_assert_cmpstr(
            dev_text, ==,
            "{\"driver\":\"vhost-user-fs-pci\",\"id\":\"fs-lima-0123456789abcdef\","
            "\"bus\":\"lima-port2\",\"addr\":\"0\",\"chardev\":\"chr-lima-0123456789abcdef\","
            "\"tag\":\"lima-0123456789abcdef\",\"queue-size\":256}");
        g_assert_cmpstr(del_text, ==, "{\"id\":\"fs-x\"}");
}

static void
test_hotplug_port_count(void)
{
        g_autoptr(LimaConfig) vfs = test_qemu_config("images: [{location: /x.qcow2}]\n"
                                                     "mountType: virtiofs\n"
                                                     "mounts: [{location: /srv}]\n");
        g_autoptr(LimaConfig) sshfs = test_qemu_config("images: [{location: /x.qcow2}]\n"
                                                       "mountType: reverse-sshfs\n"
                                                       "mounts: [{location: /srv}]\n");
        g_autofree gchar *port = lima_qemu_pcie_port_id(3);

        g_assert_cmpuint(lima_qemu_pcie_port_count(vfs), ==, 1 + LIMA_QEMU_SPARE_PCIE_PORTS);
        g_assert_cmpuint(lima_qemu_pcie_port_count(sshfs), ==, 0);
        g_assert_cmpstr(port, ==, "lima-port3");
}

static void
test_fake_hotplug_and_unplug(void)
{
        FakeQmp fake = { 0 };
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaQmp) qmp = NULL;
        g_autoptr(LimaMount) m = hotplug_mount();
        g_autofree gchar *line = NULL;

        fake_qmp_start(&fake);
        qmp = lima_qmp_connect(fake.path, 2000, &error);
        g_assert_no_error(error);

        g_assert_true(lima_qemu_hotplug_virtiofs(qmp, m, "/run/v.sock", "lima-port0", &error));
        g_assert_no_error(error);
        line = fake_next_request(&fake, "chardev-add");
        g_assert_nonnull(strstr(line, "\"path\":\"/run/v.sock\""));
        g_clear_pointer(&line, g_free);

        /* A failed device_add takes its chardev back out. */
        g_assert_false(lima_qemu_hotplug_virtiofs(qmp, m, "/run/v.sock", "lima-port1", &error));
        g_assert_nonnull(strstr(error->message, "does not support hotplugging"));
        g_clear_error(&error);
        line = fake_next_request(&fake, "chardev-remove");
        g_assert_nonnull(strstr(line, "\"id\":\"chr-lima-0123456789abcdef\""));
        g_clear_pointer(&line, g_free);

        /* DEVICE_DELETED for other devices and the backend child do not count; ours, after
         * the reply, does. */
        g_assert_true(lima_qemu_unplug_virtiofs(qmp, m, 2000, &error));
        g_assert_no_error(error);
        line = fake_next_request(&fake, "chardev-remove");
        g_assert_nonnull(line);

        g_assert_true(lima_qmp_quit(qmp, &error));
        fake_qmp_stop(&fake);
}

static void
test_fake_wait_event_times_out(void)
{
        FakeQmp fake = { 0 };
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaQmp) qmp = NULL;

        fake_qmp_start(&fake);
        qmp = lima_qmp_connect(fake.path, 2000, &error);
        g_assert_no_error(error);
        g_assert_false(lima_qmp_wait_event(qmp, "DEVICE_DELETED", "device", "fs-x", 200, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
        g_assert_nonnull(strstr(error->message, "DEVICE_DELETED"));
        g_clear_error(&error);
        g_assert_true(lima_qmp_quit(qmp, &error));
        fake_qmp_stop(&fake);
}

static void
test_connect_gives_up(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaQmp) qmp = NULL;
        gint64 start = g_get_monotonic_time();

        qmp = lima_qmp_connect("/nonexistent/lima/qmp.sock", 200, &error);
        g_assert_null(qmp);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
        g_assert_cmpint(g_get_monotonic_time() - start, >=, 150 * 1000);
}

static void
test_real_qemu(void)
{
        g_autofree gchar *qemu = test_qemu_find("qemu-system-x86_64");
        g_autoptr(GError) error = NULL;
        g_autofree gchar *dir = NULL;
        g_autofree gchar *sock = NULL;
        g_autofree gchar *sock_esc = NULL;
        g_autofree gchar *status = NULL;
        g_autoptr(GPtrArray) argv = NULL;
        g_autoptr(LimaQmp) qmp = NULL;
        g_autoptr(JsonNode) reply = NULL;
        gboolean running = FALSE;
        guint major = 0;
        gint exit_status;
        GPid pid;

        if (qemu == NULL)
                return;
        /* A comma and a space in the path: -qmp's unix: takes the escaped form. */
        dir = g_dir_make_tmp("lima-qmp,real XXXXXX", &error);
        g_assert_no_error(error);
        sock = g_build_filename(dir, "qmp.sock", NULL);
        sock_esc = lima_qemu_opt_escape(sock);
        argv = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(argv, g_strdup(qemu));
        g_ptr_array_add(argv, g_strdup("-machine"));
        g_ptr_array_add(argv, g_strdup("none"));
        g_ptr_array_add(argv, g_strdup("-accel"));
        g_ptr_array_add(argv, g_strdup("tcg"));
        g_ptr_array_add(argv, g_strdup("-display"));
        g_ptr_array_add(argv, g_strdup("none"));
        g_ptr_array_add(argv, g_strdup("-nodefaults"));
        g_ptr_array_add(argv, g_strdup("-qmp"));
        g_ptr_array_add(argv, g_strdup_printf("unix:%s,server=on,wait=off", sock_esc));
        pid = test_qemu_spawn(argv);

        qmp = lima_qmp_connect(sock, 30000, &error);
        g_assert_no_error(error);
        lima_qmp_get_version(qmp, &major, NULL, NULL);
        g_assert_cmpuint(major, >=, 2);

        status = lima_qmp_query_status(qmp, &running, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(status, ==, "running");
        g_assert_true(running);

        reply = lima_qmp_execute(qmp, "no-such-command", NULL, &error);
        g_assert_null(reply);
        g_assert_error(error, LIMA_QMP_ERROR, LIMA_QMP_ERROR_COMMAND_NOT_FOUND);
        g_clear_error(&error);

        {
                g_autoptr(JsonObject) args = json_object_new();
                json_object_set_string_member(args, "path", "/");
                reply = lima_qmp_execute(qmp, "qom-list", args, &error);
                g_assert_no_error(error);
                g_assert_true(JSON_NODE_HOLDS_ARRAY(reply));
        }

        g_assert_true(lima_qmp_system_powerdown(qmp, &error));
        g_assert_no_error(error);

        g_assert_true(lima_qmp_quit(qmp, &error));
        g_assert_no_error(error);
        exit_status = test_qemu_wait(pid, 10000);
        g_spawn_close_pid(pid);
        g_assert_true(WIFEXITED(exit_status));
        g_assert_cmpint(WEXITSTATUS(exit_status), ==, 0);

        /* After quit the connection is gone, and says so. */
        g_clear_pointer(&status, g_free);
        status = lima_qmp_query_status(qmp, NULL, &error);
        g_assert_null(status);
        g_assert_nonnull(error);
        g_assert_true(error->domain == G_IO_ERROR);
        test_qemu_rm_rf(dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/qmp/fake-skips-events-and-stale-replies",
                        test_fake_skips_events_and_stale_replies);
        g_test_add_func("/qmp/fake-error-and-timeout", test_fake_error_and_timeout);
        g_test_add_func("/qmp/connect-gives-up", test_connect_gives_up);
        g_test_add_func("/qmp/hotplug-arguments", test_hotplug_arguments);
        g_test_add_func("/qmp/hotplug-port-count", test_hotplug_port_count);
        g_test_add_func("/qmp/fake-hotplug-and-unplug", test_fake_hotplug_and_unplug);
        g_test_add_func("/qmp/fake-wait-event-times-out", test_fake_wait_event_times_out);
        g_test_add_func("/qmp/real-qemu", test_real_qemu);
        return g_test_run();
}
