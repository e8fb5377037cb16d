/* Waiting for a booting guest, on the worker thread. The cloud-init route polls over ssh: sshd
 * answering with the instance key, the boot scripts' marker, then every 9p/virtiofs mount.
 * The native route waits for the guest agent's reports (BOOT/MOUNT, lima-guest-protocol.h),
 * which the event loop hands over with lima_agent_ready_report(), and makes one ssh check at
 * the end: the key works. */
#pragma once

#include "lima-agent-worker.h"
#include "lima-config.h"
#include "lima-guest-protocol.h"

/* The native route: how long the guest may take to report that its user, sshd and mounts are
 * ready, from the start of the wait (QEMU just started). A guest that has not by then fails
 * the start, naming the phase it stopped in, with the serial log's tail. Provisioning scripts
 * (BOOT provision) may take longer, up to the start's own deadline. LIMA_BOOT_REPORT_TIMEOUT
 * (seconds) overrides it, for tests. */
#define LIMA_READY_REPORT_TIMEOUT_SEC 300

G_BEGIN_DECLS

typedef struct {
        /* in */
        const LimaConfig *cfg;
        const gchar *name;
        gchar *ssh_config;
        gint64 deadline;         /* monotonic µs */
        gboolean native;         /* wait for the guest agent's reports, not ssh */
        const gchar *serial_log; /* its tail goes into a timeout's error */
        /* Reports, written by the event loop, read by the worker: under lock. */
        GMutex lock;
        GCond changed;
        gchar *boot_id;                                /* the boot they belong to */
        gint phase_state[LIMA_GUEST_BOOT_N_PHASES];    /* 0 not yet, 1 ok, -1 failed */
        gchar *phase_reason[LIMA_GUEST_BOOT_N_PHASES]; /* when failed */
        GHashTable *mount_reports;                     /* mount point → NULL or reason */
        /* out: one per cfg->mounts, "mounted" or "failed" with the reason */
        GPtrArray *states; /* gchar* */
        GPtrArray *errors; /* gchar* or NULL */
        gdouble boot_seconds;
} LimaAgentReady;

/* On the event loop: a report from the guest agent (see LimaGuestLinkReportFunc). */
void lima_agent_ready_report(LimaAgentReady *ready, const gchar *boot_id,
                             const LimaGuestMessage *msg);
gboolean lima_agent_ready_run(LimaWorker *worker, gpointer data, GError **error);
void lima_agent_ready_clear(LimaAgentReady *ready);

G_END_DECLS
