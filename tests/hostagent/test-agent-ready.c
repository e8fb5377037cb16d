/* The native route's wait (lima-agent-ready.c) on reports fed as the event loop would: a
 * guest that never reports fails by name with the serial log's tail, a failed step fails at
 * once with its reason, a slow provisioning waits for the start's own deadline, and a new boot
 * id forgets the reports of the boot before. No guest, no ssh: these paths end before it. */
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "lima-agent-ready.h"

typedef struct {
        gchar *dir;
        gchar *serial;
        LimaConfig cfg;
        LimaAgentReady ready;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        g_autoptr(GString) log = g_string_new(NULL);
        g_autoptr(GError) error = NULL;

        f->dir = g_dir_make_tmp("test-agent-ready-XXXXXX", &error);
        g_assert_no_error(error);
        f->serial = g_build_filename(f->dir, "serial.log", NULL);
        for (guint i = 1; i <= 40; i++)
                g_string_append_printf(log, "serial line %u\r\n", i);
        g_file_set_contents(f->serial, log->str, -1, &error);
        g_assert_no_error(error);
        f->ready.cfg = &f->cfg;
        f->ready.name = "vm";
        f->ready.native = TRUE;
        f->ready.serial_log = f->serial;
        f->ready.deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
        g_setenv("LIMA_BOOT_REPORT_TIMEOUT", "1", TRUE);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        lima_agent_ready_clear(&f->ready);
        g_unlink(f->serial);
        g_rmdir(f->dir);
        g_free(f->serial);
        g_free(f->dir);
}

static void
feed(Fixture *f, const gchar *boot_id, const gchar *line)
{
        LimaGuestMessage msg;

        g_assert_cmpint(lima_guest_message_parse(line, &msg), ==, 0);
        lima_agent_ready_report(&f->ready, boot_id, &msg);
}

static void
test_never_reports(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        gint64 start = g_get_monotonic_time();

        g_assert_false(lima_agent_ready_run(NULL, &f->ready, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
        g_test_message("%s", error->message);
        g_assert_nonnull(strstr(error->message, "reported nothing for phase \"plan\""));
        g_assert_nonnull(strstr(error->message, "serial log ends with: serial line 33 | "));
        g_assert_true(g_str_has_suffix(error->message, "serial line 39 | serial line 40"));
        g_assert_null(strstr(error->message, "serial line 32"));
        /* One line: limad shows the last lines of a dead agent's log. */
        g_assert_null(strchr(error->message, '\n'));
        g_assert_null(strchr(error->message, '\r'));
        g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);
}

static void
test_stops_in_mounts(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        feed(f, "b1", "BOOT plan ok");
        feed(f, "b1", "BOOT user ok");
        feed(f, "b1", "BOOT sshd ok");
        g_assert_false(lima_agent_ready_run(NULL, &f->ready, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
        g_assert_nonnull(strstr(error->message, "phase \"mounts\""));
}

static void
test_failed_user_fails_at_once(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        g_setenv("LIMA_BOOT_REPORT_TIMEOUT", "100", TRUE);
        feed(f, "b1", "BOOT plan ok");
        feed(f, "b1", "BOOT user failed useradd%20exited%20with%209");
        g_assert_false(lima_agent_ready_run(NULL, &f->ready, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, "phase \"user\": useradd exited with 9"));
}

/* Provisioning may take longer than the report timeout: it waits for the start's deadline. */
static void
test_provisioning_gets_the_start_deadline(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        gint64 start = g_get_monotonic_time();

        f->ready.deadline = start + 3 * G_USEC_PER_SEC;
        for (guint i = 0; i < 4; i++) {
                static const gchar *const lines[] = { "BOOT plan ok", "BOOT user ok",
                                                      "BOOT sshd ok", "BOOT mounts ok" };
                feed(f, "b1", lines[i]);
        }
        g_assert_false(lima_agent_ready_run(NULL, &f->ready, &error));
        g_assert_nonnull(strstr(error->message, "phase \"provision\""));
        g_assert_cmpint(g_get_monotonic_time() - start, >=, 3 * G_USEC_PER_SEC);
}

/* Reports of an earlier boot do not count for a new one. */
static void
test_new_boot_forgets_the_old_one(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        feed(f, "b1", "BOOT plan ok");
        feed(f, "b1", "BOOT user failed old");
        feed(f, "b2", "BOOT plan ok");
        g_assert_false(lima_agent_ready_run(NULL, &f->ready, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
        g_assert_nonnull(strstr(error->message, "phase \"user\""));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add("/agent-ready/never-reports", Fixture, NULL, fixture_setup, test_never_reports,
                   fixture_teardown);
        g_test_add("/agent-ready/stops-in-mounts", Fixture, NULL, fixture_setup,
                   test_stops_in_mounts, fixture_teardown);
        g_test_add("/agent-ready/failed-user", Fixture, NULL, fixture_setup,
                   test_failed_user_fails_at_once, fixture_teardown);
        g_test_add("/agent-ready/provisioning-deadline", Fixture, NULL, fixture_setup,
                   test_provisioning_gets_the_start_deadline, fixture_teardown);
        g_test_add("/agent-ready/new-boot", Fixture, NULL, fixture_setup,
                   test_new_boot_forgets_the_old_one, fixture_teardown);
        return g_test_run();
}
