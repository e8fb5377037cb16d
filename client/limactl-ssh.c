/* The root-safe ssh options of limactl-ssh.h. */
#include "limactl-ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lima-host.h"
#include "lima-paths.h"
#include "lima-yaml.h"
#include "limactl-bus.h"

/* Where lima-hostagent keeps the key pair inside the keys home (lima-ssh-keys.c). */
#define LIMACTL_SSH_KEY_FILE "_config/user"
#define LIMACTL_SSH_SOCK     "ssh.sock"
/* Root's copies of other users' keys (limactl_ssh_take_key), on a tmpfs only root writes. */
#define LIMACTL_SSH_ROOT_KEYS "/run/limactl"
#define LIMACTL_SSH_KEY_MAX   (64 * 1024)

void
limactl_ssh_target_free(LimactlSshTarget *t)
{
        if (t == NULL)
                return;
        g_free(t->user);
        g_free(t->identity);
        g_free(t->control_path);
        g_free(t);
}

/* user.name from the config limad validated, else the owner's login name (Lima's default). */
static gchar *
limactl_ssh_user(sd_bus *bus, const LimactlInstance *inst, GError **error)
{
        g_autoptr(sd_bus_message) reply = NULL;
        g_auto(sd_bus_error) e = SD_BUS_ERROR_NULL;
        const char *yaml = NULL;
        g_autoptr(LimaHost) host = NULL;
        int r = sd_bus_call_method(bus, LIMACTL_BUS_NAME, inst->path, LIMACTL_INSTANCE_IFACE,
                                   "GetConfig", &e, &reply, "");

        if (r >= 0 && sd_bus_message_read(reply, "s", &yaml) >= 0 && yaml != NULL) {
                g_autoptr(LimaYamlNode) doc =
                    lima_yaml_parse(yaml, strlen(yaml), "lima.yaml", NULL);
                LimaYamlNode *user = NULL, *name = NULL;
                if (doc != NULL && doc->kind == LIMA_YAML_MAPPING)
                        user = lima_yaml_mapping_get(doc, "user");
                if (user != NULL && user->kind == LIMA_YAML_MAPPING)
                        name = lima_yaml_mapping_get(user, "name");
                if (name != NULL && name->kind == LIMA_YAML_SCALAR && !lima_yaml_node_is_null(name))
                        return g_strdup(name->scalar);
        }
        /* The default as limad fills it: the owner's name, or "lima" for root and names a
         * guest cannot have (lima-host.c). */
        host = lima_host_new_for_uid(inst->name, inst->dir,
                                     limactl_bus_is_system() ? inst->owner_uid : getuid());
        if (host == NULL || host->user == NULL) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED,
                            _("cannot tell the guest user of %s (owner uid %u)"), inst->name,
                            inst->owner_uid);
                return NULL;
        }
        return g_strdup(host->user);
}

/* copy_dir exists, is a folder of ours and no one else may write in it. */
static gboolean
limactl_ssh_private_dir(const gchar *dir, GError **error)
{
        struct stat st;
        if (g_mkdir(dir, 0700) != 0 && errno != EEXIST) {
                int saved = errno;
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED, _("cannot create %s: %s"),
                            dir, g_strerror(saved));
                return FALSE;
        }
        if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
            (st.st_mode & 0022) != 0) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED,
                            _("%s is not a folder only uid %u may write; remove it"), dir,
                            (guint)geteuid());
                return FALSE;
        }
        return TRUE;
}

gboolean
limactl_ssh_take_key(LimactlSshTarget *t, uid_t owner_uid, const gchar *copy_dir, GError **error)
{
        g_autofree gchar *name = g_strdup_printf("key-%u", (guint)owner_uid);
        g_autofree gchar *copy = g_build_filename(copy_dir, name, NULL);
        g_autofree gchar *data = NULL;
        gsize len = 0;
        struct stat st;
        int fd = open(t->identity, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        gboolean ok;

        if (fd < 0) {
                int saved = errno;
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED,
                            _("cannot open the ssh key %s: %s; a link there is refused"),
                            t->identity, g_strerror(saved));
                return FALSE;
        }
        ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == owner_uid &&
             st.st_size <= LIMACTL_SSH_KEY_MAX;
        if (ok) {
                data = g_malloc(LIMACTL_SSH_KEY_MAX + 1);
                for (ssize_t n = 1; n > 0 && len <= LIMACTL_SSH_KEY_MAX; len += (gsize)n) {
                        n = read(fd, data + len, LIMACTL_SSH_KEY_MAX + 1 - len);
                        if (n < 0) {
                                ok = FALSE;
                                break;
                        }
                        if (n == 0)
                                break;
                }
                ok = ok && len <= LIMACTL_SSH_KEY_MAX;
        }
        close(fd);
        if (!ok) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED,
                            _("the ssh key %s is not a regular file of uid %u (at most %u "
                              "bytes); refusing to use it"),
                            t->identity, (guint)owner_uid, (guint)LIMACTL_SSH_KEY_MAX);
                return FALSE;
        }
        if (!limactl_ssh_private_dir(copy_dir, error) ||
            !g_file_set_contents_full(copy, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                      error))
                return FALSE;
        g_free(t->identity);
        t->identity = g_steal_pointer(&copy);
        return TRUE;
}

LimactlSshTarget *
limactl_ssh_target_new(sd_bus *bus, const LimactlInstance *inst, gboolean use_master,
                       GError **error)
{
        g_autoptr(LimactlSshTarget) t = g_new0(LimactlSshTarget, 1);
        g_autofree gchar *lima_home = NULL;
        g_autofree gchar *keys_home = NULL;
        g_autofree gchar *sock = NULL;
        gboolean owner = !limactl_bus_is_system() || inst->owner_uid == getuid();
        struct sockaddr_un addr;
        struct stat st;

        if (inst->dir == NULL || *inst->dir == '\0' || inst->ssh_port == 0) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED,
                            _("limad did not say where %s lives or its ssh port; is it "
                              "running? See `limactl list %s`"),
                            inst->name, inst->name);
                return NULL;
        }
        t->user = limactl_ssh_user(bus, inst, error);
        if (t->user == NULL)
                return NULL;
        t->port = inst->ssh_port;
        lima_home = g_path_get_dirname(inst->dir);
        keys_home = lima_paths_keys_home(lima_home, limactl_bus_is_system(), inst->owner_uid);
        t->identity = g_build_filename(keys_home, LIMACTL_SSH_KEY_FILE, NULL);
        /* A link planted there would hand ssh (maybe root's) another key to sign with. */
        if (lstat(t->identity, &st) == 0 && !S_ISREG(st.st_mode)) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED,
                            _("%s is not a regular file; refusing to use it as the ssh key of "
                              "%s"),
                            t->identity, inst->name);
                return NULL;
        }
        if (access(t->identity, R_OK) != 0) {
                g_set_error(error, LIMACTL_ERROR, LIMACTL_ERROR_FAILED,
                            _("%s belongs to another user: only its owner can open a shell in "
                              "it or copy its files (you cannot read %s)"),
                            inst->name, t->identity);
                return NULL;
        }
        /* Not the owner (root, then): ssh gets the key as it was checked. */
        if (!owner) {
                g_autofree gchar *copies =
                    geteuid() == 0 ? g_strdup(LIMACTL_SSH_ROOT_KEYS)
                                   : g_build_filename(g_get_user_runtime_dir(), "limactl", NULL);
                if (!limactl_ssh_take_key(t, inst->owner_uid, copies, error))
                        return NULL;
        }
        sock = g_build_filename(inst->dir, LIMACTL_SSH_SOCK, NULL);
        if (use_master && owner && strlen(sock) < sizeof(addr.sun_path) && lstat(sock, &st) == 0 &&
            S_ISSOCK(st.st_mode) && st.st_uid == getuid())
                t->control_path = g_steal_pointer(&sock);
        return g_steal_pointer(&t);
}

static void
limactl_ssh_opt(GPtrArray *argv, const gchar *key, const gchar *value)
{
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strconcat(key, "=", value, NULL));
}

void
limactl_ssh_add_options(GPtrArray *argv, const LimactlSshTarget *t)
{
        g_autofree gchar *port = g_strdup_printf("%u", t->port);

        /* No file at all: not ssh.config, not ~/.ssh/config, not /etc/ssh/ssh_config. */
        g_ptr_array_add(argv, g_strdup("-F"));
        g_ptr_array_add(argv, g_strdup("/dev/null"));
        limactl_ssh_opt(argv, "User", t->user);
        limactl_ssh_opt(argv, "Port", port);
        limactl_ssh_opt(argv, "IdentityFile", t->identity);
        limactl_ssh_opt(argv, "IdentitiesOnly", "yes");
        limactl_ssh_opt(argv, "IdentityAgent", "none");
        /* The guest's host keys are new at each first boot, and only reachable here. */
        limactl_ssh_opt(argv, "StrictHostKeyChecking", "no");
        limactl_ssh_opt(argv, "UserKnownHostsFile", "/dev/null");
        limactl_ssh_opt(argv, "NoHostAuthenticationForLocalhost", "yes");
        limactl_ssh_opt(argv, "PreferredAuthentications", "publickey");
        limactl_ssh_opt(argv, "LogLevel", "ERROR");
        limactl_ssh_opt(argv, "ServerAliveInterval", "15");
        limactl_ssh_opt(argv, "ProxyCommand", "none");
        limactl_ssh_opt(argv, "PermitLocalCommand", "no");
        limactl_ssh_opt(argv, "ControlMaster", "no");
        limactl_ssh_opt(argv, "ControlPath", t->control_path != NULL ? t->control_path : "none");
}
