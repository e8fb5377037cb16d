/* Shared by the image tests: scratch folders, and a tiny HTTP server on 127.0.0.1 in a thread
 * of the test, serving files from a folder (GET only; /redirect/NAME answers 302 → /NAME). */
#pragma once

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

static inline void
test_image_rm_rf(const gchar *path)
{
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const gchar *name;

        while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
                g_autofree gchar *child = g_build_filename(path, name, NULL);
                if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
                    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
                        test_image_rm_rf(child);
                else
                        g_unlink(child);
        }
        g_rmdir(path);
}

static inline gchar *
test_image_tmpdir(void)
{
        g_autoptr(GError) error = NULL;
        gchar *dir = g_dir_make_tmp("limad-image-test-XXXXXX", &error);
        g_assert_no_error(error);
        return dir;
}

static inline gchar *
test_image_write(const gchar *dir, const gchar *name, const gchar *data, gsize len)
{
        g_autoptr(GError) error = NULL;
        gchar *path = g_build_filename(dir, name, NULL);
        g_file_set_contents(path, data, (gssize)len, &error);
        g_assert_no_error(error);
        return path;
}

typedef struct {
        GSocketListener *listener;
        GCancellable *stop;
        GThread *thread;
        gchar *root;
        guint16 port;
        gint requests;
} TestHttpServer;

static inline void
test_http_reply(GOutputStream *out, const gchar *status, const gchar *headers, const gchar *body,
                gsize len)
{
        g_autofree gchar *head =
            g_strdup_printf("HTTP/1.1 %s\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n%s"
                            "Connection: close\r\n\r\n",
                            status, len, headers);
        g_output_stream_write_all(out, head, strlen(head), NULL, NULL, NULL);
        g_output_stream_write_all(out, body, len, NULL, NULL, NULL);
}

static inline void
test_http_serve(TestHttpServer *server, GSocketConnection *conn)
{
        GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
        GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
        g_autoptr(GDataInputStream) data = g_data_input_stream_new(in);
        g_autofree gchar *request = NULL;
        g_auto(GStrv) parts = NULL;
        g_autofree gchar *path = NULL;
        g_autofree gchar *body = NULL;
        gsize len = 0;

        g_filter_input_stream_set_close_base_stream(G_FILTER_INPUT_STREAM(data), FALSE);
        request = g_data_input_stream_read_line(data, NULL, NULL, NULL);
        for (;;) {
                g_autofree gchar *line = g_data_input_stream_read_line(data, NULL, NULL, NULL);
                if (line == NULL || *g_strstrip(line) == '\0')
                        break;
        }
        g_atomic_int_inc(&server->requests);
        parts = g_strsplit(request != NULL ? request : "", " ", 3);
        if (g_strv_length(parts) < 2 || !g_str_equal(parts[0], "GET") || parts[1][0] != '/' ||
            strstr(parts[1], "..") != NULL) {
                test_http_reply(out, "400 Bad Request", "", "", 0);
                return;
        }
        if (g_str_has_prefix(parts[1], "/redirect/")) {
                g_autofree gchar *location =
                    g_strdup_printf("Location: /%s\r\n", parts[1] + strlen("/redirect/"));
                test_http_reply(out, "302 Found", location, "", 0);
                return;
        }
        path = g_build_filename(server->root, parts[1] + 1, NULL);
        if (!g_file_get_contents(path, &body, &len, NULL)) {
                test_http_reply(out, "404 Not Found", "", "not found\n", 10);
                return;
        }
        test_http_reply(out, "200 OK", "Content-Type: application/octet-stream\r\n", body, len);
}

static inline gpointer
test_http_thread(gpointer user_data)
{
        TestHttpServer *server = user_data;

        for (;;) {
                g_autoptr(GSocketConnection) conn =
                    g_socket_listener_accept(server->listener, NULL, server->stop, NULL);
                if (conn == NULL)
                        break;
                test_http_serve(server, conn);
                g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
        }
        return NULL;
}

static inline TestHttpServer *
test_http_server_new(const gchar *root)
{
        TestHttpServer *server = g_new0(TestHttpServer, 1);
        g_autoptr(GSocketAddress) addr = g_inet_socket_address_new_from_string("127.0.0.1", 0);
        g_autoptr(GSocketAddress) bound = NULL;
        g_autoptr(GError) error = NULL;

        server->root = g_strdup(root);
        server->stop = g_cancellable_new();
        server->listener = g_socket_listener_new();
        g_socket_listener_add_address(server->listener, addr, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
        g_assert_no_error(error);
        server->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
        server->thread = g_thread_new("test-http", test_http_thread, server);
        return server;
}

static inline gchar *
test_http_server_url(TestHttpServer *server, const gchar *path)
{
        return g_strdup_printf("http://127.0.0.1:%u/%s", server->port, path);
}

/* Stops serving: afterwards connections to the port are refused. */
static inline void
test_http_server_stop(TestHttpServer *server)
{
        if (server->thread == NULL)
                return;
        g_cancellable_cancel(server->stop);
        g_thread_join(g_steal_pointer(&server->thread));
        g_socket_listener_close(server->listener);
}

static inline void
test_http_server_free(TestHttpServer *server)
{
        test_http_server_stop(server);
        g_object_unref(server->listener);
        g_object_unref(server->stop);
        g_free(server->root);
        g_free(server);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestHttpServer, test_http_server_free)
