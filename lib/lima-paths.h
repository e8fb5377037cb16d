/*
 * Where things live, in Lima's layout: $LIMA_HOME (default ~/.lima) holds one folder per
 * instance and _config/; downloads are cached by the sha256 of their URL.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Files inside an instance folder. */
#define LIMA_FILE_CONFIG     "lima.yaml"
#define LIMA_FILE_VERSION    "lima-version"
#define LIMA_FILE_OWNER      "owner-uid"
#define LIMA_FILE_CIDATA     "cidata.iso"
#define LIMA_FILE_DIFFDISK   "diffdisk"
#define LIMA_FILE_KERNEL     "kernel"
#define LIMA_FILE_INITRD     "initrd"
#define LIMA_FILE_QEMU_PID   "qemu.pid"
#define LIMA_FILE_HA_PID     "ha.pid"
#define LIMA_FILE_HA_SOCK    "ha.sock"
#define LIMA_FILE_HA_STDOUT  "ha.stdout.log"
#define LIMA_FILE_HA_STDERR  "ha.stderr.log"
#define LIMA_FILE_SERIAL_LOG "serial.log"
#define LIMA_FILE_QMP_SOCK   "qmp.sock"
#define LIMA_FILE_GA_SOCK    "ga.sock"
#define LIMA_FILE_SSH_CONFIG "ssh.config"

/* limad --system's instances (--state-dir overrides), one folder per instance, owned by its
 * owner; _keys/UID/ holds each owner's SSH key pair. */
#define LIMA_PATHS_SYSTEM_HOME "/var/lib/lima"
#define LIMA_PATHS_KEYS_DIR    "_keys"

/* $LIMA_HOME, or ~/.lima. */
gchar *lima_paths_home(void);
/* $LIMA_HOME/NAME/FILE (FILE may be NULL for the folder). */
gchar *lima_paths_instance_file(const gchar *lima_home, const gchar *name, const gchar *file);
/* Where an owner's SSH key pair lives: lima_home itself for limad --user (Lima's
 * _config/user), lima_home/_keys/UID for --system. */
gchar *lima_paths_keys_home(const gchar *lima_home, gboolean system_mode, guint uid);
/* $LIMA_CACHE_HOME, or $XDG_CACHE_HOME/lima (~/.cache/lima). */
gchar *lima_paths_cache_home(void);
/* CACHE/download/by-url-sha256/HEX: the folder for one download (data, url). */
gchar *lima_paths_download_dir(const gchar *cache_home, const gchar *url);

G_END_DECLS
