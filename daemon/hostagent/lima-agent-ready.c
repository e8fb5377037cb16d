#include "lima-agent-ready.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "lima-ssh-config.h"

#define LIMA_READY_MOUNT_WAIT_SEC 60

void
lima_agent_ready_clear(LimaAgentReady *ready)
{
        g_clear_pointer(&ready->ssh_config, g_free);
        g_clear_pointer(&ready->states, g_ptr_array_unref);
        g_clear_pointer(&ready->errors, g_ptr_array_unref);
}

/* 9p and virtiofs are mounted by the guest's boot script; reverse-sshfs comes later, from
 * the host, once this check is over. */
static gboolean
lima_ready_mounted_by_guest(const LimaConfig *cfg)
{
        return g_strcmp0(cfg->mount_type.value, "9p") == 0 ||
               g_strcmp0(cfg->mount_type.value, "virtiofs") == 0;
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
