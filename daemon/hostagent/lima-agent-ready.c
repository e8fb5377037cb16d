#include "lima-agent-ready.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#include "lima-ssh-config.h"

#define LIMA_READY_MOUNT_WAIT_SEC 60
/* After the guest said sshd listens, how long the one ssh check may retry. */
#define LIMA_READY_SSH_CHECK_SEC 30
/* Non-empty lines of serial.log in a boot timeout's error, and bytes kept of each. */
#define LIMA_READY_SERIAL_TAIL_LINES 8
#define LIMA_READY_SERIAL_LINE_MAX   160

/* 9p and virtiofs are mounted by the guest's boot script; reverse-sshfs comes later, from
 * the host, once this check is over. */
static gboolean
lima_ready_mounted_by_guest(const LimaConfig *cfg)
{
        return g_strcmp0(cfg->mount_type.value, "9p") == 0 ||
               g_strcmp0(cfg->mount_type.value, "virtiofs") == 0;
}

/* Under the lock. */
static void
lima_ready_reset_reports(LimaAgentReady *ready, const gchar *boot_id)
{
        g_free(ready->boot_id);
        ready->boot_id = g_strdup(boot_id);
        for (guint i = 0; i < LIMA_GUEST_BOOT_N_PHASES; i++) {
                ready->phase_state[i] = 0;
                g_clear_pointer(&ready->phase_reason[i], g_free);
        }
        g_clear_pointer(&ready->mount_reports, g_hash_table_unref);
        ready->mount_reports = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

void
lima_agent_ready_clear(LimaAgentReady *ready)
{
        g_clear_pointer(&ready->ssh_config, g_free);
        g_clear_pointer(&ready->states, g_ptr_array_unref);
        g_clear_pointer(&ready->errors, g_ptr_array_unref);
        g_mutex_lock(&ready->lock);
        lima_ready_reset_reports(ready, NULL);
        g_clear_pointer(&ready->mount_reports, g_hash_table_unref);
        g_mutex_unlock(&ready->lock);
}

void
lima_agent_ready_report(LimaAgentReady *ready, const gchar *boot_id, const LimaGuestMessage *msg)
{
        g_mutex_lock(&ready->lock);
        /* A report of another boot than the last ones: the guest rebooted, start afresh. */
        if (ready->mount_reports == NULL || g_strcmp0(ready->boot_id, boot_id) != 0)
                lima_ready_reset_reports(ready, boot_id);
        if (msg->type == LIMA_GUEST_MESSAGE_BOOT) {
                ready->phase_state[msg->phase] = msg->ok ? 1 : -1;
                g_free(ready->phase_reason[msg->phase]);
                ready->phase_reason[msg->phase] = msg->ok ? NULL : g_strdup(msg->reason);
                if (msg->ok)
                        g_message("guest boot: %s done",
                                  lima_guest_boot_phase_to_string(msg->phase));
                else
                        g_message("guest boot: %s failed: %s",
                                  lima_guest_boot_phase_to_string(msg->phase), msg->reason);
        } else if (msg->type == LIMA_GUEST_MESSAGE_MOUNT) {
                g_hash_table_replace(ready->mount_reports, g_strdup(msg->path),
                                     msg->ok ? NULL : g_strdup(msg->reason));
        }
        g_cond_broadcast(&ready->changed);
        g_mutex_unlock(&ready->lock);
}

/* The last non-empty lines of serial.log on one line, joined by " | ": an error stays one
 * line (limad shows the last lines of a dead agent's log), control bytes dropped. */
static gchar *
lima_ready_serial_tail(const gchar *path)
{
        g_autofree gchar *text = NULL;
        g_auto(GStrv) lines = NULL;
        g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GString) out = g_string_new(NULL);
        guint n;

        if (path == NULL || !g_file_get_contents(path, &text, NULL, NULL))
                return g_strdup(_("(no serial log)"));
        lines = g_strsplit(text, "\n", -1);
        n = g_strv_length(lines);
        for (guint i = n; i > 0 && kept->len < LIMA_READY_SERIAL_TAIL_LINES; i--) {
                g_autofree gchar *valid = g_utf8_make_valid(lines[i - 1], -1);
                g_autoptr(GString) clean = g_string_new(NULL);
                for (const gchar *c = valid; *c != '\0'; c++) {
                        if ((guchar)*c >= 0x20 && *c != 0x7f)
                                g_string_append_c(clean, *c);
                }
                g_strstrip(clean->str);
                if (clean->str[0] == '\0')
                        continue;
                /* g_utf8_substring reads past the end when asked for more than is there. */
                g_ptr_array_add(kept, g_utf8_substring(clean->str, 0,
                                                       MIN(g_utf8_strlen(clean->str, -1),
                                                           LIMA_READY_SERIAL_LINE_MAX)));
        }
        for (guint i = kept->len; i > 0; i--) {
                if (out->len > 0)
                        g_string_append(out, " | ");
                g_string_append(out, g_ptr_array_index(kept, i - 1));
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static guint
lima_ready_report_timeout(void)
{
        const gchar *env = g_getenv("LIMA_BOOT_REPORT_TIMEOUT");
        guint64 value = 0;

        if (env != NULL && g_ascii_string_to_unsigned(env, 10, 1, 86400, &value, NULL))
                return (guint)value;
        return LIMA_READY_REPORT_TIMEOUT_SEC;
}

/* The first phase, in the order the agent does them, that has not been reported. Under the
 * lock. */
static LimaGuestBootPhase
lima_ready_pending_phase(LimaAgentReady *ready)
{
        for (guint i = 0; i < LIMA_GUEST_BOOT_N_PHASES; i++) {
                if (ready->phase_state[i] == 0)
                        return (LimaGuestBootPhase)i;
        }
        return LIMA_GUEST_BOOT_N_PHASES;
}

/* Under the lock: the mounts' states from the reports. */
static void
lima_ready_states_from_reports(LimaAgentReady *ready)
{
        for (guint i = 0; i < ready->cfg->mounts->len; i++) {
                const LimaMount *m = g_ptr_array_index(ready->cfg->mounts, i);
                gpointer reason = NULL;
                if (!lima_ready_mounted_by_guest(ready->cfg))
                        continue;
                g_free(ready->states->pdata[i]);
                if (!g_hash_table_lookup_extended(ready->mount_reports, m->mount_point.value, NULL,
                                                  &reason)) {
                        ready->states->pdata[i] = g_strdup("failed");
                        ready->errors->pdata[i] =
                            g_strdup(_("the guest agent did not report this mount"));
                } else if (reason != NULL) {
                        ready->states->pdata[i] = g_strdup("failed");
                        ready->errors->pdata[i] = g_strdup_printf(
                            _("mounting failed in the guest: %s"), (const gchar *)reason);
                } else {
                        ready->states->pdata[i] = g_strdup("mounted");
                }
        }
}

static gboolean
lima_ready_wait_native(LimaWorker *worker, LimaAgentReady *ready, GError **error)
{
        const gchar *const probe[] = { "true", NULL };
        gint64 start = g_get_monotonic_time();
        guint timeout = lima_ready_report_timeout();
        gint64 report_deadline = start + (gint64)timeout * G_USEC_PER_SEC;
        LimaGuestBootPhase shown = LIMA_GUEST_BOOT_N_PHASES + 1;
        LimaGuestBootPhase pending;
        gint64 ssh_deadline;
        g_autoptr(GError) last = NULL;

        g_mutex_lock(&ready->lock);
        if (ready->mount_reports == NULL)
                lima_ready_reset_reports(ready, NULL);
        while ((pending = lima_ready_pending_phase(ready)) < LIMA_GUEST_BOOT_DONE &&
               ready->phase_state[LIMA_GUEST_BOOT_PLAN] >= 0 &&
               ready->phase_state[LIMA_GUEST_BOOT_USER] >= 0) {
                gint64 now = g_get_monotonic_time();
                gint64 limit =
                    pending <= LIMA_GUEST_BOOT_MOUNTS ? report_deadline : ready->deadline;
                if (lima_worker_cancelled(worker)) {
                        g_mutex_unlock(&ready->lock);
                        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                            _("stopped while booting"));
                        return FALSE;
                }
                if (now > limit) {
                        g_autofree gchar *tail = lima_ready_serial_tail(ready->serial_log);
                        g_mutex_unlock(&ready->lock);
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                    _("the guest did not finish booting: its agent reported "
                                      "nothing for phase \"%s\" within %d s (native boot; "
                                      "see `journalctl -u lima-native-boot` in the guest, or "
                                      "serial.log); the serial log ends with: %s"),
                                    lima_guest_boot_phase_to_string(pending),
                                    (int)((limit - start) / G_USEC_PER_SEC), tail);
                        return FALSE;
                }
                if (pending != shown) {
                        shown = pending;
                        lima_worker_progress(worker, "boot", 0.5 + 0.08 * pending,
                                             _("waiting for the guest agent: %s (%d s)"),
                                             lima_guest_boot_phase_to_string(pending),
                                             (int)((now - start) / G_USEC_PER_SEC));
                }
                g_cond_wait_until(&ready->changed, &ready->lock,
                                  MIN(now + G_USEC_PER_SEC / 2, limit + 1));
        }
        for (guint p = LIMA_GUEST_BOOT_PLAN; p <= LIMA_GUEST_BOOT_USER; p++) {
                if (ready->phase_state[p] < 0) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                                    _("the guest's native boot failed in phase \"%s\": %s"),
                                    lima_guest_boot_phase_to_string((LimaGuestBootPhase)p),
                                    ready->phase_reason[p]);
                        g_mutex_unlock(&ready->lock);
                        return FALSE;
                }
        }
        /* Running with failed provisioning, as the cloud-init route does; the log says so. */
        if (ready->phase_state[LIMA_GUEST_BOOT_PROVISION] < 0)
                g_warning("guest provisioning: %s", ready->phase_reason[LIMA_GUEST_BOOT_PROVISION]);
        ready->states = g_ptr_array_new_with_free_func(g_free);
        ready->errors = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < ready->cfg->mounts->len; i++) {
                g_ptr_array_add(ready->states, g_strdup("pending"));
                g_ptr_array_add(ready->errors, NULL);
        }
        lima_ready_states_from_reports(ready);
        g_mutex_unlock(&ready->lock);

        /* sshd listens; the one ssh check: the instance key works. */
        lima_worker_progress(worker, "boot", 0.95, _("the guest reported ready; checking ssh"));
        ssh_deadline = g_get_monotonic_time() + LIMA_READY_SSH_CHECK_SEC * G_USEC_PER_SEC;
        while (!lima_ssh_run(ready->ssh_config, ready->name, probe, NULL, &last)) {
                if (lima_worker_cancelled(worker)) {
                        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                            _("stopped while booting"));
                        return FALSE;
                }
                if (g_get_monotonic_time() > ssh_deadline) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                                    _("the guest reported ready, but ssh with the instance key "
                                      "fails (%s); see serial.log"),
                                    last->message);
                        return FALSE;
                }
                g_clear_error(&last);
                g_usleep(G_USEC_PER_SEC / 4);
        }
        ready->boot_seconds = (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
        lima_worker_progress(worker, "boot", 0.98, _("the guest was ready after %.1f s"),
                             ready->boot_seconds);
        return TRUE;
}

gboolean
lima_agent_ready_run(LimaWorker *worker, gpointer data, GError **error)
{
        LimaAgentReady *ready = data;
        const gchar *const probe[] = { "true", NULL };
        const gchar *const boot_done[] = { "test", "-e", "/run/lima-boot-done", NULL };
        gint64 start = g_get_monotonic_time();
        gint64 mounts_deadline;
        g_autoptr(GError) last = NULL;
        guint pending;

        if (ready->native)
                return lima_ready_wait_native(worker, ready, error);
        while (TRUE) {
                g_clear_error(&last);
                if (lima_ssh_run(ready->ssh_config, ready->name, probe, NULL, &last))
                        break;
                if (lima_worker_cancelled(worker)) {
                        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                            _("stopped while booting"));
                        return FALSE;
                }
                if (g_get_monotonic_time() > ready->deadline) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                    _("the guest's sshd did not answer in time (last: %s); see "
                                      "serial.log"),
                                    last->message);
                        return FALSE;
                }
                lima_worker_progress(worker, "boot", 0.5, _("waiting for the guest's sshd (%d s)"),
                                     (int)((g_get_monotonic_time() - start) / G_USEC_PER_SEC));
                g_usleep(G_USEC_PER_SEC);
        }
        ready->boot_seconds = (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
        lima_worker_progress(worker, "boot", 0.8, _("sshd answered after %.1f s"),
                             ready->boot_seconds);

        /* The seed's boot script mounts and provisions, then leaves this marker. */
        while (!lima_ssh_run(ready->ssh_config, ready->name, boot_done, NULL, NULL)) {
                if (lima_worker_cancelled(worker)) {
                        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                            _("stopped while booting"));
                        return FALSE;
                }
                if (g_get_monotonic_time() > ready->deadline) {
                        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                            _("the guest's boot scripts did not finish in "
                                              "time; see /var/log/cloud-init-output.log in the "
                                              "guest"));
                        return FALSE;
                }
                lima_worker_progress(worker, "provision", 0.85,
                                     _("waiting for cloud-init and the boot scripts (%d s)"),
                                     (int)((g_get_monotonic_time() - start) / G_USEC_PER_SEC));
                g_usleep(2 * G_USEC_PER_SEC);
        }
        ready->states = g_ptr_array_new_with_free_func(g_free);
        ready->errors = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < ready->cfg->mounts->len; i++) {
                g_ptr_array_add(ready->states, g_strdup("pending"));
                g_ptr_array_add(ready->errors, NULL);
        }
        /* The guest's boot script mounts them; it may run a little after sshd is up. */
        mounts_deadline = g_get_monotonic_time() + LIMA_READY_MOUNT_WAIT_SEC * G_USEC_PER_SEC;
        do {
                pending = 0;
                for (guint i = 0; i < ready->cfg->mounts->len; i++) {
                        const LimaMount *m = g_ptr_array_index(ready->cfg->mounts, i);
                        const gchar *const check[] = { "mountpoint", "-q", m->mount_point.value,
                                                       NULL };
                        if (g_str_equal(g_ptr_array_index(ready->states, i), "mounted"))
                                continue;
                        if (!lima_ready_mounted_by_guest(ready->cfg))
                                break;
                        if (lima_ssh_run(ready->ssh_config, ready->name, check, NULL, NULL)) {
                                g_free(ready->states->pdata[i]);
                                ready->states->pdata[i] = g_strdup("mounted");
                        } else {
                                pending++;
                        }
                }
                if (pending > 0) {
                        lima_worker_progress(worker, "mounts", 0.9, _("waiting for %u mount(s)"),
                                             pending);
                        g_usleep(G_USEC_PER_SEC);
                }
        } while (pending > 0 && g_get_monotonic_time() < mounts_deadline &&
                 !lima_worker_cancelled(worker));
        for (guint i = 0; i < ready->cfg->mounts->len; i++) {
                const LimaMount *m = g_ptr_array_index(ready->cfg->mounts, i);
                if (!lima_ready_mounted_by_guest(ready->cfg) ||
                    !g_str_equal(g_ptr_array_index(ready->states, i), "pending"))
                        continue;
                g_free(ready->states->pdata[i]);
                ready->states->pdata[i] = g_strdup("failed");
                ready->errors->pdata[i] = g_strdup_printf(
                    _("%s is not mounted in the guest after %d s; see `journalctl` in the "
                      "guest and serial.log"),
                    m->mount_point.value, LIMA_READY_MOUNT_WAIT_SEC);
        }
        return TRUE;
}
