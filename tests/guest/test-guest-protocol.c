/* The host↔guest wire format (guest/lima-guest-protocol.h): percent-encoding, the parser and
 * formatter, and the line splitter, including what a hostile peer may send. */
#include <glib.h>

#include "lima-guest-protocol.h"

static const gchar *const test_paths[] = {
        "/",
        "/home/alice/file.txt",
        "/with space/and  two",
        "/new\nline\r\n",
        "/tab\there",
        "/caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac",
        "/100%/%41%",
        "/\xff\xfe\x80 not utf-8",
        "/-._~ !\"#$&'()*+,:;<=>?@[\\]^`{|}\x7f",
};

static gchar *
encode(const gchar *path)
{
        gsize size = strlen(path) * 3 + 1;
        gchar *out = g_malloc(size);
        g_assert_cmpint(lima_guest_percent_encode(path, strlen(path), out, size), ==,
                        (gint)strlen(out));
        return out;
}

static void
test_percent_round_trip(void)
{
        for (guint i = 0; i < G_N_ELEMENTS(test_paths); i++) {
                g_autofree gchar *encoded = encode(test_paths[i]);
                gchar decoded[LIMA_GUEST_LINE_MAX];

                /* Only printable ASCII without space may reach the wire. */
                for (const gchar *p = encoded; *p != '\0'; p++)
                        g_assert_true(*p > 0x20 && *p < 0x7f);
                g_assert_cmpint(
                    lima_guest_percent_decode(encoded, strlen(encoded), decoded, sizeof(decoded)),
                    ==, (gint)strlen(test_paths[i]));
                g_assert_cmpstr(decoded, ==, test_paths[i]);
        }
}

static void
test_percent_every_byte(void)
{
        gchar all[255];
        gchar encoded[255 * 3 + 1];
        gchar decoded[256];

        for (guint i = 0; i < sizeof(all); i++)
                all[i] = (gchar)(i + 1);
        g_assert_cmpint(lima_guest_percent_encode(all, sizeof(all), encoded, sizeof(encoded)), >,
                        0);
        g_assert_cmpint(
            lima_guest_percent_decode(encoded, strlen(encoded), decoded, sizeof(decoded)), ==,
            (gint)sizeof(all));
        g_assert_cmpmem(decoded, sizeof(all), all, sizeof(all));
}

static void
test_percent_encoding_is_exact(void)
{
        gchar out[64];

        g_assert_cmpint(lima_guest_percent_encode("/a b%\n\xc3\xa9", 8, out, sizeof(out)), >, 0);
        g_assert_cmpstr(out, ==, "/a%20b%25%0A%C3%A9");
        /* Lower-case hex and escaped unreserved bytes decode too. */
        g_assert_cmpint(lima_guest_percent_decode("%2fa%0a%41", 10, out, sizeof(out)), ==, 4);
        g_assert_cmpstr(out, ==, "/a\nA");
        /* Printable ASCII an encoder would escape is taken as itself. */
        g_assert_cmpint(lima_guest_percent_decode("/a+b=c", 6, out, sizeof(out)), ==, 6);
        g_assert_cmpstr(out, ==, "/a+b=c");
        g_assert_cmpint(lima_guest_percent_encode("", 0, out, sizeof(out)), ==, 0);
        g_assert_cmpstr(out, ==, "");
}

static void
test_percent_rejects_bad_escapes(void)
{
        const gchar *bad[] = { "%",    "%4",       "/a%",  "/a%4", "%zz",  "%4g",
                               "%g4",  "%00",      "/%00", "a b",  "a\tb", "a\nb",
                               "\x7f", "\xc3\xa9", "%%41", "% 41", "%-1",  "%+f" };

        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                gchar out[64];
                if (lima_guest_percent_decode(bad[i], strlen(bad[i]), out, sizeof(out)) >= 0)
                        g_error("decoded \"%s\"", g_strescape(bad[i], NULL));
        }
}

static void
test_percent_respects_buffer_size(void)
{
        gchar out[8];

        /* Exactly fits: 7 bytes and the NUL. */
        g_assert_cmpint(lima_guest_percent_encode("/abcdef", 7, out, 8), ==, 7);
        g_assert_cmpint(lima_guest_percent_encode("/abcdefg", 8, out, 8), ==, -1);
        g_assert_cmpint(lima_guest_percent_encode("/abc de", 7, out, 8), ==, -1);
        g_assert_cmpint(lima_guest_percent_encode("/a", 2, out, 0), ==, -1);
        g_assert_cmpint(lima_guest_percent_decode("/abcdef", 7, out, 8), ==, 7);
        g_assert_cmpint(lima_guest_percent_decode("/abcdefg", 8, out, 8), ==, -1);
        g_assert_cmpint(lima_guest_percent_decode("%41", 3, out, 1), ==, -1);
}

static void
test_parse_accepts_every_message(void)
{
        LimaGuestMessage msg;

        g_assert_cmpint(
            lima_guest_message_parse("READY 1 0f8a3d4c-2b1e-4f6a-9c7d-1e2f3a4b5c6d\n", &msg), ==,
            0);
        g_assert_cmpint(msg.type, ==, LIMA_GUEST_MESSAGE_READY);
        g_assert_cmpuint(msg.version, ==, 1);
        g_assert_cmpstr(msg.boot_id, ==, "0f8a3d4c-2b1e-4f6a-9c7d-1e2f3a4b5c6d");

        /* The newline is optional. */
        g_assert_cmpint(lima_guest_message_parse("READY 42 unknown", &msg), ==, 0);
        g_assert_cmpuint(msg.version, ==, 42);

        g_assert_cmpint(lima_guest_message_parse("PING a.B_9-z\n", &msg), ==, 0);
        g_assert_cmpint(msg.type, ==, LIMA_GUEST_MESSAGE_PING);
        g_assert_cmpstr(msg.token, ==, "a.B_9-z");

        g_assert_cmpint(lima_guest_message_parse("PONG 7\n", &msg), ==, 0);
        g_assert_cmpint(msg.type, ==, LIMA_GUEST_MESSAGE_PONG);
        g_assert_cmpstr(msg.token, ==, "7");

        const struct {
                const gchar *name;
                LimaGuestInotifyEvent event;
        } events[] = { { "MODIFY", LIMA_GUEST_INOTIFY_MODIFY },
                       { "CREATE", LIMA_GUEST_INOTIFY_CREATE },
                       { "ATTRIB", LIMA_GUEST_INOTIFY_ATTRIB },
                       { "DELETE", LIMA_GUEST_INOTIFY_DELETE } };
        for (guint i = 0; i < G_N_ELEMENTS(events); i++) {
                g_autofree gchar *line =
                    g_strdup_printf("INOTIFY %s /home/a%%20b/%%0A%%C3%%A9\n", events[i].name);
                g_assert_cmpint(lima_guest_message_parse(line, &msg), ==, 0);
                g_assert_cmpint(msg.type, ==, LIMA_GUEST_MESSAGE_INOTIFY);
                g_assert_cmpint(msg.event, ==, events[i].event);
                g_assert_cmpstr(msg.path, ==, "/home/a b/\n\xc3\xa9");
                g_assert_cmpuint(msg.path_len, ==, strlen(msg.path));
        }
}

static void
test_parse_rejects_hostile_lines(void)
{
        g_autofree gchar *long_token = g_strnfill(LIMA_GUEST_TOKEN_MAX + 1, 'a');
        g_autofree gchar *long_token_line = g_strconcat("PING ", long_token, NULL);
        const gchar *bad[] = {
                "",
                "\n",
                "\n\n",
                " ",
                "READY",
                "READY 1",
                "READY 1 ",
                "READY  1 id",
                "READY 1 id extra",
                "READY 0 id",
                "READY -1 id",
                "READY +1 id",
                "READY 1x id",
                "READY 1234567890 id",
                "READY 99999999999999999999 id",
                "READY 1 id/slash",
                "READY 1 id%41",
                "PING",
                "PING ",
                "PING  tok",
                " PING tok",
                "PING tok ",
                "PING tok\r\n",
                "PING tok\r",
                "PING to\tk",
                "PING t\xc3\xa9",
                "PING a b",
                "ping tok",
                "PINGtok",
                "PONG",
                "PONG tok tok",
                "INOTIFY",
                "INOTIFY MODIFY",
                "INOTIFY MODIFY ",
                "INOTIFY modify /a",
                "INOTIFY MOVE /a",
                "INOTIFY MODIFY relative/path",
                "INOTIFY MODIFY %2Fencoded-slash-is-fine-but-this-is-not%",
                "INOTIFY MODIFY /a%2",
                "INOTIFY MODIFY /a%zz",
                "INOTIFY MODIFY /a%00b",
                "INOTIFY MODIFY /a b",
                "INOTIFY MODIFY /a /b",
                "INOTIFY  MODIFY /a",
                "INOTIFY MODIFY /a\n\n",
                "HELLO world",
                "\x01\x02\x03",
                "READY 1 id\nPING tok\n",
                long_token_line,
        };
        LimaGuestMessage msg;

        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                if (lima_guest_message_parse(bad[i], &msg) == 0)
                        g_error("parsed \"%s\"", g_strescape(bad[i], NULL));
        }
}

static void
test_parse_rejects_nul(void)
{
        static const gchar lines[][16] = { "PING a\0b\n", "PING ab\0\n", "\0PING ab\n" };
        LimaGuestMessage msg;

        g_assert_cmpint(lima_guest_message_parse_n("PING ab\n", 8, &msg), ==, 0);
        for (guint i = 0; i < G_N_ELEMENTS(lines); i++)
                g_assert_cmpint(lima_guest_message_parse_n(lines[i], 9, &msg), ==, -1);
        /* Length-delimited: bytes past len are not read, even without a NUL. */
        g_assert_cmpint(lima_guest_message_parse_n("PING abcdef", 6, &msg), ==, 0);
        g_assert_cmpstr(msg.token, ==, "a");
}

static void
test_parse_line_length_limit(void)
{
        /* The longest line: LIMA_GUEST_LINE_MAX bytes with its '\n'. */
        const gchar *head = "INOTIFY MODIFY /";
        gsize fill = LIMA_GUEST_LINE_MAX - 1 - strlen(head);
        g_autofree gchar *tail = g_strnfill(fill, 'x');
        g_autofree gchar *max = g_strconcat(head, tail, "\n", NULL);
        g_autofree gchar *over = g_strconcat(head, tail, "y\n", NULL);
        g_autofree gchar *huge = g_strnfill(1 << 20, 'P');
        LimaGuestMessage msg;

        g_assert_cmpuint(strlen(max), ==, LIMA_GUEST_LINE_MAX);
        g_assert_cmpint(lima_guest_message_parse(max, &msg), ==, 0);
        g_assert_cmpuint(msg.path_len, ==, fill + 1);
        g_assert_cmpint(lima_guest_message_parse(over, &msg), ==, -1);
        g_assert_cmpint(lima_guest_message_parse(huge, &msg), ==, -1);
}

static void
assert_format_round_trip(const LimaGuestMessage *msg, const gchar *expected)
{
        gchar line[LIMA_GUEST_LINE_MAX + 1];
        LimaGuestMessage back;

        g_assert_cmpint(lima_guest_message_format(msg, line, sizeof(line)), ==, (gint)strlen(line));
        if (expected != NULL)
                g_assert_cmpstr(line, ==, expected);
        g_assert_cmpint(lima_guest_message_parse(line, &back), ==, 0);
        g_assert_cmpint(back.type, ==, msg->type);
        switch (msg->type) {
        case LIMA_GUEST_MESSAGE_READY:
                g_assert_cmpuint(back.version, ==, msg->version);
                g_assert_cmpstr(back.boot_id, ==, msg->boot_id);
                break;
        case LIMA_GUEST_MESSAGE_PING:
        case LIMA_GUEST_MESSAGE_PONG:
                g_assert_cmpstr(back.token, ==, msg->token);
                break;
        case LIMA_GUEST_MESSAGE_INOTIFY:
                g_assert_cmpint(back.event, ==, msg->event);
                g_assert_cmpstr(back.path, ==, msg->path);
                break;
        case LIMA_GUEST_MESSAGE_BOOT:
                g_assert_cmpint(back.phase, ==, msg->phase);
                g_assert_cmpint(back.ok, ==, msg->ok);
                g_assert_cmpstr(back.reason, ==, msg->ok ? "" : msg->reason);
                break;
        case LIMA_GUEST_MESSAGE_MOUNT:
                g_assert_cmpint(back.ok, ==, msg->ok);
                g_assert_cmpstr(back.path, ==, msg->path);
                g_assert_cmpstr(back.reason, ==, msg->ok ? "" : msg->reason);
                break;
        }
}

/* BOOT and MOUNT: every phase, both outcomes, reasons with any byte. */
static void
test_reports(void)
{
        LimaGuestMessage msg;
        g_autofree gchar *long_reason = g_strnfill(LIMA_GUEST_REASON_MAX + 1, 'r');
        g_autofree gchar *long_reason_line = g_strconcat("BOOT user failed ", long_reason, NULL);
        const gchar *bad[] = {
                "BOOT",
                "BOOT user",
                "BOOT user OK",
                "BOOT user ok extra",
                "BOOT user failed",
                "BOOT user failed ",
                "BOOT user failed a b",
                "BOOT user failed %00",
                "BOOT user failed %",
                "BOOT users ok",
                "BOOT USER ok",
                "BOOT user mounted",
                "MOUNT",
                "MOUNT mounted",
                "MOUNT mounted relative",
                "MOUNT mounted /a extra",
                "MOUNT failed /a",
                "MOUNT ok /a",
                "MOUNT failed /a why not",
                "MOUNT failed /a%zz why",
                long_reason_line,
        };

        g_assert_cmpint(lima_guest_message_parse("BOOT sshd ok\n", &msg), ==, 0);
        g_assert_cmpint(msg.type, ==, LIMA_GUEST_MESSAGE_BOOT);
        g_assert_cmpint(msg.phase, ==, LIMA_GUEST_BOOT_SSHD);
        g_assert_true(msg.ok);
        g_assert_cmpint(lima_guest_message_parse("BOOT provision failed exit%20code%201", &msg), ==,
                        0);
        g_assert_false(msg.ok);
        g_assert_cmpstr(msg.reason, ==, "exit code 1");
        g_assert_cmpint(lima_guest_message_parse("MOUNT failed /home/a%20b no%0Adevice", &msg), ==,
                        0);
        g_assert_cmpint(msg.type, ==, LIMA_GUEST_MESSAGE_MOUNT);
        g_assert_false(msg.ok);
        g_assert_cmpstr(msg.path, ==, "/home/a b");
        g_assert_cmpstr(msg.reason, ==, "no\ndevice");
        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                if (lima_guest_message_parse(bad[i], &msg) == 0)
                        g_error("parsed \"%s\"", g_strescape(bad[i], NULL));
        }

        for (guint p = 0; p < LIMA_GUEST_BOOT_N_PHASES; p++) {
                msg = (LimaGuestMessage){ .type = LIMA_GUEST_MESSAGE_BOOT,
                                          .phase = (LimaGuestBootPhase)p,
                                          .ok = 1 };
                assert_format_round_trip(&msg, NULL);
                msg.ok = 0;
                g_strlcpy(msg.reason, "useradd: exit 9\n\xc3\xa9 %", sizeof(msg.reason));
                assert_format_round_trip(&msg, NULL);
        }
        msg = (LimaGuestMessage){ .type = LIMA_GUEST_MESSAGE_BOOT,
                                  .phase = LIMA_GUEST_BOOT_DONE,
                                  .ok = 1 };
        assert_format_round_trip(&msg, "BOOT done ok\n");
        for (guint i = 0; i < G_N_ELEMENTS(test_paths); i++) {
                msg = (LimaGuestMessage){ .type = LIMA_GUEST_MESSAGE_MOUNT, .ok = 1 };
                g_strlcpy(msg.path, test_paths[i], sizeof(msg.path));
                assert_format_round_trip(&msg, NULL);
                msg.ok = 0;
                g_strlcpy(msg.reason, test_paths[i], sizeof(msg.reason));
                assert_format_round_trip(&msg, NULL);
        }
        msg = (LimaGuestMessage){ .type = LIMA_GUEST_MESSAGE_MOUNT, .ok = 0 };
        g_strlcpy(msg.path, "/m p", sizeof(msg.path));
        g_strlcpy(msg.reason, "no such device", sizeof(msg.reason));
        assert_format_round_trip(&msg, "MOUNT failed /m%20p no%20such%20device\n");

        /* What cannot be sent: no reason for a failure, a relative mount point, a bad phase,
         * a reason over the limit. */
        {
                gchar line[LIMA_GUEST_LINE_MAX + 1];
                msg = (LimaGuestMessage){ .type = LIMA_GUEST_MESSAGE_BOOT, .ok = 0 };
                g_assert_cmpint(lima_guest_message_format(&msg, line, sizeof(line)), ==, -1);
                msg = (LimaGuestMessage){ .type = LIMA_GUEST_MESSAGE_BOOT,
                                          .phase = LIMA_GUEST_BOOT_N_PHASES,
                                          .ok = 1 };
                g_assert_cmpint(lima_guest_message_format(&msg, line, sizeof(line)), ==, -1);
                msg = (LimaGuestMessage){ .type = LIMA_GUEST_MESSAGE_MOUNT, .ok = 1 };
                g_strlcpy(msg.path, "rel", sizeof(msg.path));
                g_assert_cmpint(lima_guest_message_format(&msg, line, sizeof(line)), ==, -1);
                /* A long path and a reason that together overflow one line. */
                msg = (LimaGuestMessage){ .type = LIMA_GUEST_MESSAGE_MOUNT, .ok = 0 };
                memset(msg.path, 'x', LIMA_GUEST_LINE_MAX - 20);
                msg.path[0] = '/';
                memset(msg.reason, 'y', LIMA_GUEST_REASON_MAX);
                g_assert_cmpint(lima_guest_message_format(&msg, line, sizeof(line)), ==, -1);
        }
}

static void
test_format_round_trip(void)
{
        LimaGuestMessage msg = { .type = LIMA_GUEST_MESSAGE_READY, .version = 1 };

        g_strlcpy(msg.boot_id, "0f8a3d4c-2b1e-4f6a-9c7d-1e2f3a4b5c6d", sizeof(msg.boot_id));
        assert_format_round_trip(&msg, "READY 1 0f8a3d4c-2b1e-4f6a-9c7d-1e2f3a4b5c6d\n");
        msg.version = 999999999;
        assert_format_round_trip(&msg, NULL);

        msg = (LimaGuestMessage){ .type = LIMA_GUEST_MESSAGE_PING };
        g_strlcpy(msg.token, "tok-1", sizeof(msg.token));
        assert_format_round_trip(&msg, "PING tok-1\n");
        msg.type = LIMA_GUEST_MESSAGE_PONG;
        assert_format_round_trip(&msg, "PONG tok-1\n");

        for (guint i = 0; i < G_N_ELEMENTS(test_paths); i++) {
                msg = (LimaGuestMessage){ .type = LIMA_GUEST_MESSAGE_INOTIFY,
                                          .event = LIMA_GUEST_INOTIFY_CREATE };
                g_strlcpy(msg.path, test_paths[i], sizeof(msg.path));
                assert_format_round_trip(&msg, NULL);
        }
        msg.event = LIMA_GUEST_INOTIFY_DELETE;
        g_strlcpy(msg.path, "/a b", sizeof(msg.path));
        assert_format_round_trip(&msg, "INOTIFY DELETE /a%20b\n");
}

static void
test_format_rejects_what_cannot_be_sent(void)
{
        LimaGuestMessage msg = { .type = LIMA_GUEST_MESSAGE_PING };
        gchar line[LIMA_GUEST_LINE_MAX + 1];

        g_assert_cmpint(lima_guest_message_format(&msg, line, sizeof(line)), ==, -1);
        g_strlcpy(msg.token, "has space", sizeof(msg.token));
        g_assert_cmpint(lima_guest_message_format(&msg, line, sizeof(line)), ==, -1);
        g_strlcpy(msg.token, "ok", sizeof(msg.token));
        /* "PING ok\n" and its NUL. */
        g_assert_cmpint(lima_guest_message_format(&msg, line, 9), ==, 8);
        g_assert_cmpint(lima_guest_message_format(&msg, line, 8), ==, -1);

        msg = (LimaGuestMessage){ .type = LIMA_GUEST_MESSAGE_READY, .version = 0 };
        g_strlcpy(msg.boot_id, "id", sizeof(msg.boot_id));
        g_assert_cmpint(lima_guest_message_format(&msg, line, sizeof(line)), ==, -1);
        msg.version = 1000000000;
        g_assert_cmpint(lima_guest_message_format(&msg, line, sizeof(line)), ==, -1);

        msg = (LimaGuestMessage){ .type = LIMA_GUEST_MESSAGE_INOTIFY };
        g_strlcpy(msg.path, "relative", sizeof(msg.path));
        g_assert_cmpint(lima_guest_message_format(&msg, line, sizeof(line)), ==, -1);
        msg.path[0] = '\0';
        g_assert_cmpint(lima_guest_message_format(&msg, line, sizeof(line)), ==, -1);
        msg.event = (LimaGuestInotifyEvent)42;
        g_strlcpy(msg.path, "/a", sizeof(msg.path));
        g_assert_cmpint(lima_guest_message_format(&msg, line, sizeof(line)), ==, -1);

        /* A path that only fits the wire when nothing needs escaping. */
        msg.event = LIMA_GUEST_INOTIFY_MODIFY;
        memset(msg.path, ' ', 2000);
        msg.path[0] = '/';
        msg.path[2000] = '\0';
        g_assert_cmpint(lima_guest_message_format(&msg, line, sizeof(line)), ==, -1);
        memset(msg.path, 'x', 2000);
        msg.path[0] = '/';
        g_assert_cmpint(lima_guest_message_format(&msg, line, sizeof(line)), >, 2000);
}

typedef struct {
        GPtrArray *lines;
} Collected;

static void
collect_line(const gchar *line, gsize len, gpointer user_data)
{
        Collected *c = user_data;
        g_assert_cmpint(line[len], ==, '\0');
        g_ptr_array_add(c->lines, g_strndup(line, len));
}

static void
test_line_buffer_splits_any_chunking(void)
{
        const gchar stream[] = "PING a\n\nINOTIFY MODIFY /x\nPONG b\npartial";

        /* Every split point must give the same lines. */
        for (gsize cut = 0; cut <= strlen(stream); cut++) {
                LimaGuestLineBuffer lb = { 0 };
                Collected c = { g_ptr_array_new_with_free_func(g_free) };

                g_assert_cmpuint(lima_guest_line_buffer_feed(&lb, stream, cut, collect_line, &c),
                                 ==, 0);
                g_assert_cmpuint(lima_guest_line_buffer_feed(
                                     &lb, stream + cut, strlen(stream) - cut, collect_line, &c),
                                 ==, 0);
                g_assert_cmpuint(c.lines->len, ==, 4);
                g_assert_cmpstr(c.lines->pdata[0], ==, "PING a");
                g_assert_cmpstr(c.lines->pdata[1], ==, "");
                g_assert_cmpstr(c.lines->pdata[2], ==, "INOTIFY MODIFY /x");
                g_assert_cmpstr(c.lines->pdata[3], ==, "PONG b");
                g_assert_cmpuint(lb.len, ==, strlen("partial"));
                g_ptr_array_unref(c.lines);
        }
}

static void
test_line_buffer_discards_overlong_lines(void)
{
        LimaGuestLineBuffer lb = { 0 };
        Collected c = { g_ptr_array_new_with_free_func(g_free) };
        g_autofree gchar *max = g_strnfill(LIMA_GUEST_LINE_MAX - 1, 'm');
        g_autofree gchar *over = g_strnfill(LIMA_GUEST_LINE_MAX, 'o');
        g_autofree gchar *huge = g_strnfill(100000, 'h');
        gsize n_discarded = 0;

        /* A line of exactly the limit passes. */
        lima_guest_line_buffer_feed(&lb, max, strlen(max), collect_line, &c);
        lima_guest_line_buffer_feed(&lb, "\n", 1, collect_line, &c);
        /* One byte more is dropped up to its newline, and the next line is intact. */
        g_assert_cmpuint(lima_guest_line_buffer_feed(&lb, over, strlen(over), collect_line, &c), ==,
                         1);
        g_assert_cmpuint(lima_guest_line_buffer_feed(&lb, "tail\nPING a\n", 12, collect_line, &c),
                         ==, 0);
        /* A huge one in small pieces counts once. */
        for (gsize i = 0; i < strlen(huge); i += 1000)
                n_discarded += lima_guest_line_buffer_feed(&lb, huge + i, 1000, collect_line, &c);
        g_assert_cmpuint(n_discarded, ==, 1);
        lima_guest_line_buffer_feed(&lb, "\nPING b\n", 8, collect_line, &c);

        g_assert_cmpuint(c.lines->len, ==, 3);
        g_assert_cmpstr(c.lines->pdata[0], ==, max);
        g_assert_cmpstr(c.lines->pdata[1], ==, "PING a");
        g_assert_cmpstr(c.lines->pdata[2], ==, "PING b");
        g_ptr_array_unref(c.lines);
}

static void
parse_collected_line(const gchar *line, gsize len, gpointer user_data)
{
        LimaGuestMessage msg;
        guint *n_parsed = user_data;

        if (lima_guest_message_parse_n(line, len, &msg) == 0)
                (*n_parsed)++;
}

/* Random bytes, biased towards the ones that matter, must never crash a reader. */
static void
test_random_input_is_survived(void)
{
        static const gchar alphabet[] = "PINGOTFYMDRAE% /0aF\n\r\t\x00\xff";
        LimaGuestLineBuffer lb = { 0 };
        guint n_parsed = 0;

        for (guint round = 0; round < 2000; round++) {
                gsize len = g_test_rand_int_range(0, 6000);
                g_autofree gchar *data = g_malloc(len + 1);
                for (gsize i = 0; i < len; i++)
                        data[i] = g_test_rand_bit()
                                      ? alphabet[g_test_rand_int_range(0, sizeof(alphabet) - 1)]
                                      : (gchar)g_test_rand_int_range(0, 256);
                lima_guest_line_buffer_feed(&lb, data, len, parse_collected_line, &n_parsed);
        }
        lima_guest_line_buffer_feed(&lb, "\nPING ok\n", 9, parse_collected_line, &n_parsed);
        g_assert_cmpuint(n_parsed, >=, 1);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/guest-protocol/percent/round-trip", test_percent_round_trip);
        g_test_add_func("/guest-protocol/percent/every-byte", test_percent_every_byte);
        g_test_add_func("/guest-protocol/percent/exact", test_percent_encoding_is_exact);
        g_test_add_func("/guest-protocol/percent/bad-escapes", test_percent_rejects_bad_escapes);
        g_test_add_func("/guest-protocol/percent/buffer-size", test_percent_respects_buffer_size);
        g_test_add_func("/guest-protocol/parse/every-message", test_parse_accepts_every_message);
        g_test_add_func("/guest-protocol/parse/hostile", test_parse_rejects_hostile_lines);
        g_test_add_func("/guest-protocol/parse/nul", test_parse_rejects_nul);
        g_test_add_func("/guest-protocol/parse/length-limit", test_parse_line_length_limit);
        g_test_add_func("/guest-protocol/format/round-trip", test_format_round_trip);
        g_test_add_func("/guest-protocol/reports", test_reports);
        g_test_add_func("/guest-protocol/format/rejects", test_format_rejects_what_cannot_be_sent);
        g_test_add_func("/guest-protocol/lines/chunking", test_line_buffer_splits_any_chunking);
        g_test_add_func("/guest-protocol/lines/overlong", test_line_buffer_discards_overlong_lines);
        g_test_add_func("/guest-protocol/random-input", test_random_input_is_survived);
        return g_test_run();
}
