#include "lima-qmp.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/un.h>

/* A QMP line longer than this is not QEMU talking. */
#define LIMA_QMP_MAX_LINE (16 * 1024 * 1024)
#define LIMA_QMP_RETRY_US (50 * G_TIME_SPAN_MILLISECOND)

struct _LimaQmp {
        GSocket *socket;
        GString *inbuf;
        gchar *path;
        gint64 timeout_us;
        guint next_id;
        guint version[3];
        GQueue events; /* JsonObject*: events read while waiting for replies, oldest first */
};

/* Events nobody waits for are dropped beyond this. */
#define LIMA_QMP_MAX_EVENTS 64

G_DEFINE_QUARK(lima - qmp - error - quark, lima_qmp_error)

void
lima_qmp_free(LimaQmp *qmp)
{
        if (qmp == NULL)
                return;
        if (qmp->socket != NULL)
                g_socket_close(qmp->socket, NULL);
        g_clear_object(&qmp->socket);
        g_string_free(qmp->inbuf, TRUE);
        g_queue_clear_full(&qmp->events, (GDestroyNotify)json_object_unref);
        g_free(qmp->path);
        g_free(qmp);
}

static gboolean
lima_qmp_write_all(LimaQmp *qmp, const gchar *data, gsize len, gint64 deadline, GError **error)
{
        while (len > 0) {
                g_autoptr(GError) local = NULL;
                gssize n;

                if (!g_socket_condition_timed_wait(qmp->socket, G_IO_OUT,
                                                   MAX(deadline - g_get_monotonic_time(), 0), NULL,
                                                   error))
                        return FALSE;
                n = g_socket_send(qmp->socket, data, len, NULL, &local);
                if (n < 0) {
                        if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
                                continue;
                        g_propagate_error(error, g_steal_pointer(&local));
                        return FALSE;
                }
                data += n;
                len -= (gsize)n;
        }
        return TRUE;
}

/* The next message, a JSON object on a line of its own. */
static JsonObject *
lima_qmp_read_message(LimaQmp *qmp, gint64 deadline, GError **error)
{
        for (;;) {
                const gchar *newline = memchr(qmp->inbuf->str, '\n', qmp->inbuf->len);
                gchar buf[4096];
                g_autoptr(GError) local = NULL;
                gssize n;

                if (newline != NULL) {
                        gsize len = (gsize)(newline - qmp->inbuf->str);
                        g_autofree gchar *line = g_strstrip(g_strndup(qmp->inbuf->str, len));
                        g_autoptr(JsonParser) parser = json_parser_new();
                        JsonNode *root;

                        g_string_erase(qmp->inbuf, 0, (gssize)len + 1);
                        if (*line == '\0')
                                continue;
                        if (!json_parser_load_from_data(parser, line, -1, &local)) {
                                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                            _("QMP sent something that is not JSON: %s"),
                                            local->message);
                                return NULL;
                        }
                        root = json_parser_get_root(parser);
                        if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
                                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                            _("QMP sent a message that is not an object: %s"),
                                            line);
                                return NULL;
                        }
                        return json_object_ref(json_node_get_object(root));
                }
                if (qmp->inbuf->len > LIMA_QMP_MAX_LINE) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                    _("QMP sent a line longer than %d bytes"), LIMA_QMP_MAX_LINE);
                        return NULL;
                }
                if (!g_socket_condition_timed_wait(qmp->socket, G_IO_IN,
                                                   MAX(deadline - g_get_monotonic_time(), 0), NULL,
                                                   &local)) {
                        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                                   _("no answer from QEMU on %s: "), qmp->path);
                        return NULL;
                }
                n = g_socket_receive(qmp->socket, buf, sizeof(buf), NULL, &local);
                if (n < 0) {
                        if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
                                continue;
                        g_propagate_error(error, g_steal_pointer(&local));
                        return NULL;
                }
                if (n == 0) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                    _("QEMU closed the QMP connection %s"), qmp->path);
                        return NULL;
                }
                g_string_append_len(qmp->inbuf, buf, n);
        }
}

/* json_object_get_object_member() is critical about a missing member; QMP's are optional. */
static JsonObject *
lima_qmp_object_member(JsonObject *object, const gchar *name)
{
        JsonNode *node = json_object_get_member(object, name);
        return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

static LimaQmpErrorCode
lima_qmp_error_code_from_class(const gchar *klass)
{
        if (g_strcmp0(klass, "CommandNotFound") == 0)
                return LIMA_QMP_ERROR_COMMAND_NOT_FOUND;
        if (g_strcmp0(klass, "DeviceNotActive") == 0)
                return LIMA_QMP_ERROR_DEVICE_NOT_ACTIVE;
        if (g_strcmp0(klass, "DeviceNotFound") == 0)
                return LIMA_QMP_ERROR_DEVICE_NOT_FOUND;
        if (g_strcmp0(klass, "KVMMissingCap") == 0)
                return LIMA_QMP_ERROR_KVM_MISSING_CAP;
        return LIMA_QMP_ERROR_GENERIC;
}

static gboolean
lima_qmp_read_greeting(LimaQmp *qmp, gint64 deadline, GError **error)
{
        g_autoptr(JsonObject) greeting = lima_qmp_read_message(qmp, deadline, error);
        JsonObject *body;
        JsonObject *version;
        JsonObject *qemu = NULL;

        if (greeting == NULL)
                return FALSE;
        body = lima_qmp_object_member(greeting, "QMP");
        if (body == NULL) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            _("%s does not greet like QMP; is it QEMU's QMP socket?"), qmp->path);
                return FALSE;
        }
        version = lima_qmp_object_member(body, "version");
        if (version != NULL)
                qemu = lima_qmp_object_member(version, "qemu");
        if (qemu != NULL) {
                qmp->version[0] = (guint)json_object_get_int_member_with_default(qemu, "major", 0);
                qmp->version[1] = (guint)json_object_get_int_member_with_default(qemu, "minor", 0);
                qmp->version[2] = (guint)json_object_get_int_member_with_default(qemu, "micro", 0);
        }
        return TRUE;
}

/* The socket appears only once QEMU has parsed its options, so missing or refusing is
 * "not yet" until the deadline. */
static GSocket *
lima_qmp_open_socket(const gchar *path, gint64 deadline, GError **error)
{
        g_autoptr(GSocketAddress) address = g_unix_socket_address_new(path);

        for (;;) {
                g_autoptr(GSocket) socket = NULL;
                g_autoptr(GError) local = NULL;

                socket = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_DEFAULT, error);
                if (socket == NULL)
                        return NULL;
                if (g_socket_connect(socket, address, NULL, &local)) {
                        g_socket_set_blocking(socket, FALSE);
                        return g_steal_pointer(&socket);
                }
                if (!g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) &&
                    !g_error_matches(local, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)) {
                        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                                   _("cannot connect to QMP at %s: "), path);
                        return NULL;
                }
                if (g_get_monotonic_time() + LIMA_QMP_RETRY_US > deadline) {
                        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                                   _("QEMU did not open its QMP socket %s in "
                                                     "time; see serial.log and QEMU's stderr: "),
                                                   path);
                        return NULL;
                }
                g_usleep(LIMA_QMP_RETRY_US);
        }
}

LimaQmp *
lima_qmp_connect(const gchar *socket_path, guint timeout_ms, GError **error)
{
        const struct sockaddr_un addr = { 0 };
        g_autoptr(LimaQmp) qmp = NULL;
        g_autoptr(JsonNode) reply = NULL;
        gint64 timeout_us = (gint64)timeout_ms * G_TIME_SPAN_MILLISECOND;
        gint64 deadline = g_get_monotonic_time() + timeout_us;

        if (strlen(socket_path) >= sizeof(addr.sun_path)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            _("QMP socket path %s is too long for a unix socket"), socket_path);
                return NULL;
        }
        qmp = g_new0(LimaQmp, 1);
        qmp->inbuf = g_string_new(NULL);
        qmp->path = g_strdup(socket_path);
        qmp->timeout_us = timeout_us;
        qmp->socket = lima_qmp_open_socket(socket_path, deadline, error);
        if (qmp->socket == NULL)
                return NULL;
        if (!lima_qmp_read_greeting(qmp, deadline, error))
                return NULL;
        reply = lima_qmp_execute(qmp, "qmp_capabilities", NULL, error);
        if (reply == NULL) {
                g_prefix_error(error, _("QMP capability negotiation failed: "));
                return NULL;
        }
        return g_steal_pointer(&qmp);
}

void
lima_qmp_get_version(LimaQmp *qmp, guint *major, guint *minor, guint *micro)
{
        if (major != NULL)
                *major = qmp->version[0];
        if (minor != NULL)
                *minor = qmp->version[1];
        if (micro != NULL)
                *micro = qmp->version[2];
}

static gchar *
lima_qmp_encode_command(const gchar *command, JsonObject *arguments, const gchar *id)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();
        g_autoptr(JsonGenerator) generator = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree gchar *text = NULL;

        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "execute");
        json_builder_add_string_value(builder, command);
        if (arguments != NULL) {
                g_autoptr(JsonNode) args = json_node_init_object(json_node_alloc(), arguments);
                json_builder_set_member_name(builder, "arguments");
                json_builder_add_value(builder, g_steal_pointer(&args));
        }
        json_builder_set_member_name(builder, "id");
        json_builder_add_string_value(builder, id);
        json_builder_end_object(builder);
        root = json_builder_get_root(builder);
        json_generator_set_root(generator, root);
        text = json_generator_to_data(generator, NULL);
        return g_strconcat(text, "\n", NULL);
}

JsonNode *
lima_qmp_execute(LimaQmp *qmp, const gchar *command, JsonObject *arguments, GError **error)
{
        g_autofree gchar *id = g_strdup_printf("lima-%u", ++qmp->next_id);
        g_autofree gchar *request = lima_qmp_encode_command(command, arguments, id);
        gint64 deadline = g_get_monotonic_time() + qmp->timeout_us;

        if (!lima_qmp_write_all(qmp, request, strlen(request), deadline, error)) {
                g_prefix_error(error, _("cannot send %s to QEMU: "), command);
                return NULL;
        }
        for (;;) {
                g_autoptr(JsonObject) msg = lima_qmp_read_message(qmp, deadline, error);
                JsonNode *reply_id;
                JsonObject *failure;

                if (msg == NULL)
                        return NULL;
                if (json_object_has_member(msg, "event")) {
                        g_debug("QMP event %s kept while waiting for %s",
                                json_object_get_string_member_with_default(msg, "event", "?"),
                                command);
                        g_queue_push_tail(&qmp->events, g_steal_pointer(&msg));
                        if (g_queue_get_length(&qmp->events) > LIMA_QMP_MAX_EVENTS)
                                json_object_unref(g_queue_pop_head(&qmp->events));
                        continue;
                }
                /* A reply to an earlier command that timed out is not ours. */
                reply_id = json_object_get_member(msg, "id");
                if (reply_id != NULL && g_strcmp0(json_node_get_string(reply_id), id) != 0)
                        continue;
                if (json_object_has_member(msg, "return"))
                        return json_node_copy(json_object_get_member(msg, "return"));
                failure = lima_qmp_object_member(msg, "error");
                if (failure != NULL) {
                        const gchar *klass =
                            json_object_get_string_member_with_default(failure, "class", "");
                        g_set_error(
                            error, LIMA_QMP_ERROR, lima_qmp_error_code_from_class(klass),
                            _("QEMU refused %s: %s"), command,
                            json_object_get_string_member_with_default(failure, "desc", klass));
                        return NULL;
                }
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            _("QMP answered %s with neither a return nor an error"), command);
                return NULL;
        }
}

gboolean
lima_qmp_system_powerdown(LimaQmp *qmp, GError **error)
{
        g_autoptr(JsonNode) reply = lima_qmp_execute(qmp, "system_powerdown", NULL, error);
        return reply != NULL;
}

gchar *
lima_qmp_query_status(LimaQmp *qmp, gboolean *running, GError **error)
{
        g_autoptr(JsonNode) reply = lima_qmp_execute(qmp, "query-status", NULL, error);
        JsonObject *status;
        const gchar *name;

        if (reply == NULL)
                return NULL;
        status = JSON_NODE_HOLDS_OBJECT(reply) ? json_node_get_object(reply) : NULL;
        name = status != NULL ? json_object_get_string_member_with_default(status, "status", NULL)
                              : NULL;
        if (name == NULL) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            _("QMP query-status returned no status"));
                return NULL;
        }
        if (running != NULL)
                *running = json_object_get_boolean_member_with_default(status, "running", FALSE);
        return g_strdup(name);
}

gboolean
lima_qmp_quit(LimaQmp *qmp, GError **error)
{
        g_autoptr(GError) local = NULL;
        g_autoptr(JsonNode) reply = lima_qmp_execute(qmp, "quit", NULL, &local);

        if (reply != NULL || g_error_matches(local, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
            g_error_matches(local, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
                return TRUE;
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
}

static gboolean
lima_qmp_event_matches(JsonObject *msg, const gchar *event, const gchar *key, const gchar *value)
{
        JsonObject *data;
        if (g_strcmp0(json_object_get_string_member_with_default(msg, "event", NULL), event) != 0)
                return FALSE;
        if (key == NULL)
                return TRUE;
        data = lima_qmp_object_member(msg, "data");
        return data != NULL &&
               g_strcmp0(json_object_get_string_member_with_default(data, key, NULL), value) == 0;
}

gboolean
lima_qmp_wait_event(LimaQmp *qmp, const gchar *event, const gchar *key, const gchar *value,
                    guint timeout_ms, GError **error)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * G_TIME_SPAN_MILLISECOND;

        for (GList *l = qmp->events.head; l != NULL; l = l->next) {
                if (lima_qmp_event_matches(l->data, event, key, value)) {
                        json_object_unref(l->data);
                        g_queue_delete_link(&qmp->events, l);
                        return TRUE;
                }
        }
        for (;;) {
                g_autoptr(GError) local = NULL;
                g_autoptr(JsonObject) msg = lima_qmp_read_message(qmp, deadline, &local);
                if (msg == NULL) {
                        if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
                                g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                            _("no %s from QEMU within %u s"), event,
                                            timeout_ms / 1000);
                        else
                                g_propagate_error(error, g_steal_pointer(&local));
                        return FALSE;
                }
                if (lima_qmp_event_matches(msg, event, key, value))
                        return TRUE;
        }
}
