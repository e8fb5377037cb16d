/*
 * The native first boot (lima-guestagent boot): what cloud-init does for limad, done in C from
 * the seed's boot plan (LIMA_GUEST_BOOT_PLAN_FILE, written by limad beside user-data), with each
 * step reported as a BOOT or MOUNT line (lima-guest-protocol.h).
 *
 * Plan format: one directive a line, fields separated by single spaces, every field
 * percent-encoded as in the wire format; lines starting with '#' and empty lines are skipped.
 *   LIMAD-BOOT-PLAN 1                          first line: the format's version
 *   HOSTNAME <name>
 *   USER <name> <uid> <home> <shell> [<gecos>]
 *   KEY <authorized_keys line>                 one or more
 *   MOUNT <9p|virtiofs> <tag> <options> <mount-point>
 * Anything else, or a directive with the wrong fields, rejects the whole plan: nothing is done
 * and BOOT plan failed says which line.
 */
#pragma once

#include <sys/types.h>

#define LIMA_GUEST_BOOT_PLAN_FILE     "lima-boot-plan"
#define LIMA_GUEST_BOOT_PLAN_VERSION  1
#define LIMA_GUEST_BOOT_PLAN_MAX_KEYS 64
#define LIMA_GUEST_BOOT_PLAN_MAX      256 /* mounts */
/* Virtiofs mounts added while running, kept by the host agent on the guest's disk. */
#define LIMA_GUEST_RUNTIME_MOUNTS "/var/lib/lima-runtime-mounts"

typedef struct {
        char *type, *tag, *options, *mount_point;
} LimaGuestBootMount;

typedef struct {
        char *hostname;
        char *user, *home, *shell, *gecos;
        unsigned long uid;
        char *keys[LIMA_GUEST_BOOT_PLAN_MAX_KEYS];
        unsigned int n_keys;
        LimaGuestBootMount mounts[LIMA_GUEST_BOOT_PLAN_MAX];
        unsigned int n_mounts;
} LimaGuestBootPlan;

/* Parses a plan's text (NUL-terminated). 0 on success; -1 with a message in error. */
int lima_guest_boot_plan_parse(const char *text, LimaGuestBootPlan *plan, char *error,
                               size_t error_size);
void lima_guest_boot_plan_clear(LimaGuestBootPlan *plan);

/* Forks the native boot of the seed mounted at seed_dir. Returns the read end of a pipe that
 * carries its report lines (formatted BOOT/MOUNT messages), and the child's pid; or -1. */
int lima_guest_boot_start(const char *seed_dir, pid_t *pid);

/* 1 when something listens on TCP port 22 (from /proc/net/tcp and tcp6). */
int lima_guest_sshd_listens(void);
