#include "lima-cidata.h"

#include <glib/gi18n.h>
#include <string.h>

#include "lima-error.h"
#include "lima-guest-protocol.h"
#include "lima-instance-name.h"
#include "lima-iso9660.h"
#include "lima-size.h"
#include "lima-yaml.h"

#define LIMA_CIDATA_PER_BOOT_HOOK     "/var/lib/cloud/scripts/per-boot/00-lima.boot.sh"
#define LIMA_CIDATA_GUESTAGENT_DEVICE "/dev/virtio-ports/" LIMA_CIDATA_GUESTAGENT_PORT

/* cloud-init runs this at every boot; it hands over to boot.sh on the seed, so what runs is
 * always what the current seed says. The mount options are Lima's: root-only, executable. */
static const gchar lima_cidata_hook[] =
    "#!/bin/sh\n"
    "set -eu\n"
    "LIMA_CIDATA_MNT=" LIMA_CIDATA_GUEST_MOUNT "\n"
    "LIMA_CIDATA_DEV=/dev/disk/by-label/" LIMA_CIDATA_LABEL "\n"
    "mkdir -p -m 700 \"${LIMA_CIDATA_MNT}\"\n"
    "if ! mountpoint -q \"${LIMA_CIDATA_MNT}\"; then\n"
    "  mount -o ro,mode=0700,dmode=0700,overriderockperm,exec,uid=0 \"${LIMA_CIDATA_DEV}\" "
    "\"${LIMA_CIDATA_MNT}\"\n"
    "fi\n"
    "export LIMA_CIDATA_MNT\n"
    "exec \"${LIMA_CIDATA_MNT}\"/boot.sh\n";

/* Runs the boot/ scripts and the provisioning scripts, as Lima's boot.sh does, at every boot:
 * provisioning scripts must be idempotent (Lima's rule too). */
static const gchar lima_cidata_boot_sh[] =
    "#!/bin/sh\n"
    "set -eu\n"
    "\n"
    "INFO() {\n"
    "\techo \"LIMA $(date -Iseconds)| $*\"\n"
    "}\n"
    "WARNING() {\n"
    "\techo \"LIMA $(date -Iseconds)| WARNING: $*\"\n"
    "}\n"
    "\n"
    "# KEY=VALUE lines, exported whole: values may contain spaces.\n"
    "lima_load_env() {\n"
    "\t[ -f \"$1\" ] || return 0\n"
    "\twhile IFS= read -r line; do\n"
    "\t\tcase \"$line\" in\n"
    "\t\t\"\" | \"#\"*) ;;\n"
    "\t\t*) export \"$line\" ;;\n"
    "\t\tesac\n"
    "\tdone <\"$1\"\n"
    "}\n"
    "lima_load_env \"${LIMA_CIDATA_MNT}\"/lima.env\n"
    "lima_load_env \"${LIMA_CIDATA_MNT}\"/param.env\n"
    "lima_load_env \"${LIMA_CIDATA_MNT}\"/etc_environment\n"
    "install -m 0644 \"${LIMA_CIDATA_MNT}\"/lima.env /etc/lima.env\n"
    "\n"
    "CODE=0\n"
    "lima_run() {\n"
    "\tINFO \"Executing $*\"\n"
    "\tif ! \"$@\"; then\n"
    "\t\tWARNING \"Failed to execute $*\"\n"
    "\t\tCODE=1\n"
    "\tfi\n"
    "}\n"
    "\n"
    "for f in \"${LIMA_CIDATA_MNT}\"/boot/*.sh \"${LIMA_CIDATA_MNT}\"/provision.dependency/* \\\n"
    "\t\"${LIMA_CIDATA_MNT}\"/provision.system/*; do\n"
    "\t# The native route: the guest agent runs this script, it is already up.\n"
    "\tif [ -n \"${LIMA_CIDATA_NATIVE:-}\" ] && [ \"${f##*/}\" = 25-guestagent.sh ]; then\n"
    "\t\tcontinue\n"
    "\tfi\n"
    "\tif [ -f \"$f\" ]; then\n"
    "\t\tlima_run \"$f\"\n"
    "\tfi\n"
    "done\n"
    "\n"
    "# User scripts run from the user's home: the seed is readable by root only.\n"
    "USER_SCRIPT=\"${LIMA_CIDATA_HOME}/.lima-user-script\"\n"
    "set --\n"
    "params=$(grep -o '^PARAM_[^=]*' \"${LIMA_CIDATA_MNT}\"/param.env | paste -sd , -) || :\n"
    "if [ -n \"$params\" ]; then\n"
    "\tset -- \"--preserve-env=${params}\"\n"
    "fi\n"
    "for f in \"${LIMA_CIDATA_MNT}\"/provision.user/*; do\n"
    "\tif [ -f \"$f\" ]; then\n"
    "\t\tcp \"$f\" \"${USER_SCRIPT}\"\n"
    "\t\tchown \"${LIMA_CIDATA_USER}\" \"${USER_SCRIPT}\"\n"
    "\t\tchmod 755 \"${USER_SCRIPT}\"\n"
    "\t\tlima_run sudo -iu \"${LIMA_CIDATA_USER}\" \"$@\" \"${USER_SCRIPT}\"\n"
    "\t\trm -f \"${USER_SCRIPT}\"\n"
    "\tfi\n"
    "done\n"
    "\n"
    "# Tells the host agent (over ssh) that this boot's provisioning is over.\n"
    "cp \"${LIMA_CIDATA_MNT}\"/meta-data /run/lima-boot-done\n"
    "INFO \"Exiting with code $CODE\"\n"
    "exit \"$CODE\"\n";

/* env: from lima.yaml for every login; the block an earlier boot wrote is replaced. */
static const gchar lima_cidata_etc_environment_sh[] =
    "#!/bin/sh\n"
    "set -eu\n"
    "touch /etc/environment\n"
    "sed -i '/^# BEGIN limad env$/,/^# END limad env$/d' /etc/environment\n"
    "if [ -s \"${LIMA_CIDATA_MNT}\"/etc_environment ]; then\n"
    "\t{\n"
    "\t\techo '# BEGIN limad env'\n"
    "\t\tcat \"${LIMA_CIDATA_MNT}\"/etc_environment\n"
    "\t\techo '# END limad env'\n"
    "\t} >>/etc/environment\n"
    "fi\n";

/* Installs the guest agent from the seed at every boot, so a new limad updates it. */
static const gchar lima_cidata_guestagent_sh[] =
    "#!/bin/sh\n"
    "set -eu\n"
    "install -D -m 0755 \"${LIMA_CIDATA_MNT}\"/lima-guestagent /usr/local/bin/lima-guestagent\n"
    "install -D -m 0644 \"${LIMA_CIDATA_MNT}\"/lima-guestagent.service \\\n"
    "\t/etc/systemd/system/lima-guestagent.service\n"
    "systemctl daemon-reload\n"
    "systemctl enable lima-guestagent.service\n"
    "# --no-block: the unit waits for its virtio port, boot must not.\n"
    "systemctl restart --no-block lima-guestagent.service\n";

/* The device unit name is the systemd-escaped port path; the port name has no '-' to escape. */
static const gchar lima_cidata_guestagent_unit[] =
    "[Unit]\n"
    "Description=limad guest agent\n"
    "# The host agent talks to the guest agent over this virtio-serial port only.\n"
    "BindsTo=dev-virtio\\x2dports-" LIMA_CIDATA_GUESTAGENT_PORT ".device\n"
    "After=dev-virtio\\x2dports-" LIMA_CIDATA_GUESTAGENT_PORT ".device\n"
    "\n"
    "[Service]\n"
    "EnvironmentFile=-/etc/lima.env\n"
    "ExecStart=/usr/local/bin/lima-guestagent daemon --virtio-port " LIMA_CIDATA_GUESTAGENT_DEVICE
    "\n"
    "Restart=always\n"
    "RestartSec=2\n"
    "\n"
    "[Install]\n"
    "WantedBy=multi-user.target\n";

static const gchar lima_cidata_mount_script_head[] =
    "#!/bin/sh\n"
    "# Made by limad from lima.yaml's mounts. Plain mount(8) calls, not fstab lines, so mount\n"
    "# points with spaces need no \\040 escaping (Lima #5136, #2235).\n"
    "set -u\n"
    "CODE=0\n"
    "\n"
    "# A mount point that exists stays as it is: under a read-only parent mount (a writable\n"
    "# ~/src inside the read-only ~) it cannot be changed, and needs not be.\n"
    "lima_mkdir() {\n"
    "\tif [ -d \"$1\" ]; then\n"
    "\t\treturn 0\n"
    "\tfi\n"
    "\tmkdir -p \"$1\" && chown \"${LIMA_CIDATA_USER}\" \"$1\"\n"
    "}\n"
    "\n"
    "# $1 type, $2 tag, $3 options, $4 mount point\n"
    "lima_mount() {\n"
    "\tif mountpoint -q \"$4\"; then\n"
    "\t\treturn 0\n"
    "\tfi\n"
    "\tif ! lima_mkdir \"$4\" || ! mount -t \"$1\" -o \"$3\" \"$2\" \"$4\"; then\n"
    "\t\techo \"LIMA| WARNING: cannot mount $2 on $4\" >&2\n"
    "\t\treturn 1\n"
    "\tfi\n"
    "}\n"
    "\n";

/* virtiofs mounts added while the instance runs stay plugged in QEMU across a guest reboot,
 * but this seed cannot change while it runs: the host agent keeps their list on the guest's
 * disk (tag, options, mount point, tab-separated) and this mounts them again. A list left
 * from an earlier run is harmless: its mounts are in lima.yaml now (mounted above) or their
 * devices are gone. */
static const gchar lima_cidata_runtime_mounts[] =
    "if [ -r " LIMA_CIDATA_RUNTIME_MOUNTS " ]; then\n"
    "\tmodprobe virtiofs 2>/dev/null || :\n"
    "\twhile IFS='\t' read -r tag options mount_point || [ -n \"$tag\" ]; do\n"
    "\t\t[ -n \"$tag\" ] || continue\n"
    "\t\tlima_mount virtiofs \"$tag\" \"$options\" \"$mount_point\" || :\n"
    "\tdone < " LIMA_CIDATA_RUNTIME_MOUNTS "\n"
    "fi\n";

gchar *
lima_cidata_hostname(const gchar *instance_name)
{
        gchar *hostname = g_strconcat("lima-", instance_name, NULL);
        g_strdelimit(hostname, "._", '-');
        return hostname;
}

static gboolean
lima_cidata_is_one_line(const gchar *value)
{
        return value != NULL && strchr(value, '\n') == NULL && strchr(value, '\r') == NULL;
}

static gboolean
lima_cidata_is_env_name(const gchar *name)
{
        if (name == NULL || !(g_ascii_isalpha(*name) || *name == '_'))
                return FALSE;
        for (const gchar *c = name; *c != '\0'; c++) {
                if (!g_ascii_isalnum(*c) && *c != '_')
                        return FALSE;
        }
        return TRUE;
}

static gboolean
lima_cidata_invalid(GError **error, const gchar *what, const gchar *value)
{
        g_set_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG,
                    _("cannot make the cidata seed: %s is missing or invalid (\"%s\"); run "
                      "\"limactl validate\" on the instance's lima.yaml"),
                    what, value != NULL ? value : "");
        return FALSE;
}

/* The values every generator relies on; a filled, validated config passes. */
static gboolean
lima_cidata_check_plan(const LimaCidataPlan *plan, GError **error)
{
        const LimaConfig *cfg = plan->config;

        g_return_val_if_fail(cfg != NULL, FALSE);
        if (!lima_instance_name_validate(plan->instance_name, error))
                return FALSE;
        if (plan->ssh_public_keys == NULL || plan->ssh_public_keys[0] == NULL)
                return lima_cidata_invalid(error, _("an SSH public key"), NULL);
        for (guint i = 0; plan->ssh_public_keys[i] != NULL; i++) {
                if (!lima_cidata_is_one_line(plan->ssh_public_keys[i]) ||
                    *plan->ssh_public_keys[i] == '\0')
                        return lima_cidata_invalid(error, _("an SSH public key"),
                                                   plan->ssh_public_keys[i]);
        }
        if (!lima_cidata_is_one_line(cfg->user_name.value) || *cfg->user_name.value == '\0')
                return lima_cidata_invalid(error, "user.name", cfg->user_name.value);
        if (!cfg->user_uid.set || cfg->user_uid.value < 0)
                return lima_cidata_invalid(error, "user.uid", NULL);
        if (!lima_cidata_is_one_line(cfg->user_home.value) ||
            !g_path_is_absolute(cfg->user_home.value))
                return lima_cidata_invalid(error, "user.home", cfg->user_home.value);
        if (!lima_cidata_is_one_line(cfg->user_shell.value) ||
            !g_path_is_absolute(cfg->user_shell.value))
                return lima_cidata_invalid(error, "user.shell", cfg->user_shell.value);
        if (cfg->user_comment.value != NULL && !lima_cidata_is_one_line(cfg->user_comment.value))
                return lima_cidata_invalid(error, "user.comment", cfg->user_comment.value);
        if (!lima_cidata_is_one_line(cfg->mount_type.value))
                return lima_cidata_invalid(error, "mountType", cfg->mount_type.value);
        for (guint i = 0; i < cfg->mounts->len; i++) {
                LimaMount *m = g_ptr_array_index(cfg->mounts, i);
                const gchar *mp = m->mount_point.value;
                if (!lima_cidata_is_one_line(mp) || !g_path_is_absolute(mp))
                        return lima_cidata_invalid(error, "mounts[].mountPoint", mp);
                if (m->tag == NULL)
                        return lima_cidata_invalid(error, "mounts[] (no tag: not filled)", mp);
        }
        return TRUE;
}

static LimaYamlNode *
lima_cidata_string(const gchar *value)
{
        return lima_yaml_scalar_new(value, TRUE);
}

/* A YAML boolean or number, not a string. */
static LimaYamlNode *
lima_cidata_plain(const gchar *value)
{
        return lima_yaml_scalar_new(value, FALSE);
}

static const gchar *
lima_cidata_provision_mode(LimaYamlNode *provision)
{
        LimaYamlNode *mode = lima_yaml_mapping_get(provision, "mode");
        if (mode == NULL || mode->kind != LIMA_YAML_SCALAR || lima_yaml_node_is_null(mode))
                return "system";
        return mode->scalar;
}

static const gchar *
lima_cidata_provision_script(LimaYamlNode *provision)
{
        LimaYamlNode *script = lima_yaml_mapping_get(provision, "script");
        if (script == NULL || script->kind != LIMA_YAML_SCALAR || *script->scalar == '\0')
                return NULL;
        return script->scalar;
}

static gchar *
lima_cidata_param_env(const LimaCidataPlan *plan, GError **error)
{
        g_autoptr(GString) out = g_string_new(NULL);
        for (guint i = 0; i < plan->config->param->len; i++) {
                LimaKeyValue *kv = g_ptr_array_index(plan->config->param, i);
                const gchar *value = kv->value.value != NULL ? kv->value.value : "";
                if (!lima_cidata_is_env_name(kv->key) || !lima_cidata_is_one_line(value)) {
                        g_autofree gchar *what = g_strdup_printf("param.%s", kv->key);
                        lima_cidata_invalid(error, what, value);
                        return NULL;
                }
                g_string_append_printf(out, "PARAM_%s=%s\n", kv->key, value);
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static gchar *
lima_cidata_etc_environment(const LimaCidataPlan *plan, GError **error)
{
        g_autoptr(GString) out = g_string_new(NULL);
        for (guint i = 0; i < plan->config->env->len; i++) {
                LimaKeyValue *kv = g_ptr_array_index(plan->config->env, i);
                const gchar *value = kv->value.value != NULL ? kv->value.value : "";
                if (!lima_cidata_is_env_name(kv->key) || !lima_cidata_is_one_line(value)) {
                        g_autofree gchar *what = g_strdup_printf("env.%s", kv->key);
                        lima_cidata_invalid(error, what, value);
                        return NULL;
                }
                g_string_append_printf(out, "%s=%s\n", kv->key, value);
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Boot-mode provisioning becomes bootcmd, as in Lima: it runs early, before the seed is
 * mounted, so the params travel inside the command. */
static LimaYamlNode *
lima_cidata_bootcmd(const LimaCidataPlan *plan, GError **error)
{
        g_autoptr(LimaYamlNode) cmds = lima_yaml_sequence_new();
        g_autofree gchar *params = lima_cidata_param_env(plan, error);

        if (params == NULL)
                return NULL;
        for (guint i = 0; i < plan->config->provision->len; i++) {
                LimaYamlNode *p = g_ptr_array_index(plan->config->provision, i);
                const gchar *script = lima_cidata_provision_script(p);
                g_autoptr(GString) cmd = g_string_new(NULL);

                if (!g_str_equal(lima_cidata_provision_mode(p), "boot"))
                        continue;
                if (script == NULL) {
                        g_autofree gchar *what = g_strdup_printf("provision[%u].script", i);
                        lima_cidata_invalid(error, what, NULL);
                        return NULL;
                }
                if (*params != '\0')
                        g_string_append_printf(cmd,
                                               "while IFS= read -r line; do [ -n \"$line\" ] && "
                                               "export \"$line\"; done <<'EOF'\n%sEOF\n",
                                               params);
                g_string_append(cmd, script);
                lima_yaml_sequence_append(cmds, lima_cidata_string(cmd->str));
        }
        return g_steal_pointer(&cmds);
}

static LimaYamlNode *
lima_cidata_user_node(const LimaCidataPlan *plan)
{
        const LimaConfig *cfg = plan->config;
        LimaYamlNode *user = lima_yaml_mapping_new();
        LimaYamlNode *keys = lima_yaml_sequence_new();
        g_autofree gchar *uid = g_strdup_printf("%" G_GINT64_FORMAT, cfg->user_uid.value);

        lima_yaml_mapping_set(user, "name", lima_cidata_string(cfg->user_name.value));
        lima_yaml_mapping_set(user, "uid", lima_cidata_plain(uid));
        if (cfg->user_comment.value != NULL && *cfg->user_comment.value != '\0')
                lima_yaml_mapping_set(user, "gecos", lima_cidata_string(cfg->user_comment.value));
        lima_yaml_mapping_set(user, "homedir", lima_cidata_string(cfg->user_home.value));
        lima_yaml_mapping_set(user, "shell", lima_cidata_string(cfg->user_shell.value));
        lima_yaml_mapping_set(user, "sudo", lima_cidata_string("ALL=(ALL) NOPASSWD:ALL"));
        lima_yaml_mapping_set(user, "lock_passwd", lima_cidata_plain("true"));
        for (guint i = 0; plan->ssh_public_keys[i] != NULL; i++)
                lima_yaml_sequence_append(keys, lima_cidata_string(plan->ssh_public_keys[i]));
        lima_yaml_mapping_set(user, "ssh_authorized_keys", keys);
        return user;
}

gchar *
lima_cidata_user_data(const LimaCidataPlan *plan, GError **error)
{
        g_autoptr(LimaYamlNode) root = lima_yaml_mapping_new();
        g_autoptr(LimaYamlNode) bootcmd = NULL;
        LimaYamlNode *users;
        LimaYamlNode *files;
        LimaYamlNode *hook;
        g_autofree gchar *text = NULL;

        if (!lima_cidata_check_plan(plan, error))
                return NULL;
        bootcmd = lima_cidata_bootcmd(plan, error);
        if (bootcmd == NULL)
                return NULL;

        users = lima_yaml_sequence_new();
        lima_yaml_sequence_append(users, lima_cidata_user_node(plan));
        lima_yaml_mapping_set(root, "users", users);
        /* Without it sudo cannot resolve the guest's own hostname. */
        lima_yaml_mapping_set(root, "manage_etc_hosts", lima_cidata_plain("true"));
        /* Minimal images have no locale-gen; the default locale step would fail cloud-init. */
        lima_yaml_mapping_set(root, "locale", lima_cidata_plain("false"));

        hook = lima_yaml_mapping_new();
        lima_yaml_mapping_set(hook, "path", lima_cidata_string(LIMA_CIDATA_PER_BOOT_HOOK));
        lima_yaml_mapping_set(hook, "owner", lima_cidata_string("root:root"));
        lima_yaml_mapping_set(hook, "permissions", lima_cidata_string("0755"));
        lima_yaml_mapping_set(hook, "content", lima_cidata_string(lima_cidata_hook));
        files = lima_yaml_sequence_new();
        lima_yaml_sequence_append(files, hook);
        lima_yaml_mapping_set(root, "write_files", files);

        if (bootcmd->items->len > 0)
                lima_yaml_mapping_set(root, "bootcmd", g_steal_pointer(&bootcmd));

        text = lima_yaml_emit(root, error);
        if (text == NULL)
                return NULL;
        return g_strconcat("#cloud-config\n", text, NULL);
}

gchar *
lima_cidata_meta_data(const LimaCidataPlan *plan, GError **error)
{
        g_autofree gchar *user_data = lima_cidata_user_data(plan, error);
        g_autoptr(LimaYamlNode) root = NULL;
        g_autofree gchar *digest = NULL;
        g_autofree gchar *iid = NULL;
        g_autofree gchar *hostname = NULL;

        if (user_data == NULL)
                return NULL;
        digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, user_data, -1);
        iid = g_strdup_printf("iid-%s-%.8s", plan->instance_name, digest);
        hostname = lima_cidata_hostname(plan->instance_name);
        root = lima_yaml_mapping_new();
        /* Quoted: a name such as "1e3" must stay a string for cloud-init. */
        lima_yaml_mapping_set(root, "instance-id", lima_cidata_string(iid));
        lima_yaml_mapping_set(root, "local-hostname", lima_cidata_string(hostname));
        return lima_yaml_emit(root, error);
}

static void
lima_cidata_env_line(GString *out, const gchar *key, const gchar *value)
{
        g_string_append_printf(out, "%s=%s\n", key, value != NULL ? value : "");
}

gchar *
lima_cidata_lima_env(const LimaCidataPlan *plan, GError **error)
{
        const LimaConfig *cfg = plan->config;
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree gchar *uid = NULL;
        g_autofree gchar *count = NULL;
        g_autofree gchar *host_home = NULL;
        const gchar *host_home_mount_point = NULL;

        if (!lima_cidata_check_plan(plan, error))
                return NULL;
        if (plan->host_home != NULL)
                host_home = g_canonicalize_filename(plan->host_home, "/");
        uid = g_strdup_printf("%" G_GINT64_FORMAT, cfg->user_uid.value);
        count = g_strdup_printf("%u", cfg->mounts->len);

        lima_cidata_env_line(out, "LIMA_CIDATA_NAME", plan->instance_name);
        lima_cidata_env_line(out, "LIMA_CIDATA_USER", cfg->user_name.value);
        lima_cidata_env_line(out, "LIMA_CIDATA_UID", uid);
        lima_cidata_env_line(out, "LIMA_CIDATA_HOME", cfg->user_home.value);
        for (guint i = 0; i < cfg->mounts->len; i++) {
                LimaMount *m = g_ptr_array_index(cfg->mounts, i);
                if (host_home != NULL && g_strcmp0(m->location.value, host_home) == 0)
                        host_home_mount_point = m->mount_point.value;
        }
        lima_cidata_env_line(out, "LIMA_CIDATA_HOSTHOME_MOUNTPOINT", host_home_mount_point);
        lima_cidata_env_line(out, "LIMA_CIDATA_MOUNTS", count);
        for (guint i = 0; i < cfg->mounts->len; i++) {
                LimaMount *m = g_ptr_array_index(cfg->mounts, i);
                g_autofree gchar *key = g_strdup_printf("LIMA_CIDATA_MOUNTS_%u_MOUNTPOINT", i);
                lima_cidata_env_line(out, key, m->mount_point.value);
        }
        lima_cidata_env_line(out, "LIMA_CIDATA_MOUNTTYPE", cfg->mount_type.value);
        lima_cidata_env_line(out, "LIMA_CIDATA_VMTYPE", cfg->vm_type.value);
        lima_cidata_env_line(out, "LIMA_CIDATA_VIRTIO_PORT",
                             plan->guestagent_path != NULL ? LIMA_CIDATA_GUESTAGENT_DEVICE : "");
        return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Lima's options: the access mode, then for 9p the transport settings, and nofail so a missing
 * device does not fail the boot. */
static gchar *
lima_cidata_mount_options(const LimaMount *m, const gchar *fstype, GError **error)
{
        const gchar *access = m->writable.value ? "rw" : "ro";
        guint64 msize = 0;

        if (g_str_equal(fstype, "virtiofs"))
                return g_strdup_printf("%s,nofail", access);
        if (m->ninep_msize.value == NULL || !lima_size_parse(m->ninep_msize.value, &msize)) {
                lima_cidata_invalid(error, "mounts[].9p.msize", m->ninep_msize.value);
                return NULL;
        }
        if (m->ninep_protocol_version.value == NULL || m->ninep_cache.value == NULL ||
            strpbrk(m->ninep_protocol_version.value, ", \n") != NULL ||
            strpbrk(m->ninep_cache.value, ", \n") != NULL) {
                lima_cidata_invalid(error, "mounts[].9p", m->mount_point.value);
                return NULL;
        }
        return g_strdup_printf(
            "trans=virtio,version=%s,msize=%" G_GUINT64_FORMAT ",cache=%s,%s,nofail",
            m->ninep_protocol_version.value, msize, m->ninep_cache.value, access);
}

gchar *
lima_cidata_mount_script(const LimaCidataPlan *plan, GError **error)
{
        const LimaConfig *cfg = plan->config;
        g_autoptr(GString) out = g_string_new(lima_cidata_mount_script_head);
        const gchar *type;
        gboolean kernel_mounts;

        if (!lima_cidata_check_plan(plan, error))
                return NULL;
        type = cfg->mount_type.value != NULL ? cfg->mount_type.value : "";
        kernel_mounts = g_str_equal(type, "9p") || g_str_equal(type, "virtiofs");
        /* Some kernels do not load the 9p transport or virtiofs on demand. */
        if (cfg->mounts->len > 0 && g_str_equal(type, "9p"))
                g_string_append(out, "modprobe 9pnet_virtio 2>/dev/null || :\n");
        if (cfg->mounts->len > 0 && g_str_equal(type, "virtiofs"))
                g_string_append(out, "modprobe virtiofs 2>/dev/null || :\n");

        for (guint i = 0; i < cfg->mounts->len; i++) {
                LimaMount *m = g_ptr_array_index(cfg->mounts, i);
                g_autofree gchar *mount_point = g_shell_quote(m->mount_point.value);

                if (!kernel_mounts) {
                        /* reverse-sshfs: the host agent mounts later, as the user. wsl2: the
                         * mount points are made the same way, harmlessly. */
                        g_string_append_printf(out, "lima_mkdir %s || CODE=1\n", mount_point);
                } else {
                        g_autofree gchar *options = lima_cidata_mount_options(m, type, error);
                        g_autofree gchar *q_options = NULL;
                        g_autofree gchar *q_tag = NULL;
                        if (options == NULL)
                                return NULL;
                        q_options = g_shell_quote(options);
                        q_tag = g_shell_quote(m->tag);
                        g_string_append_printf(out, "lima_mount %s %s %s %s || CODE=1\n", type,
                                               q_tag, q_options, mount_point);
                }
        }
        if (g_str_equal(type, "virtiofs"))
                g_string_append(out, lima_cidata_runtime_mounts);
        g_string_append(out, "exit \"$CODE\"\n");
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
lima_cidata_plan_field(GString *out, const gchar *value)
{
        gsize size = strlen(value) * 3 + 1;
        g_autofree gchar *encoded = g_malloc(size);

        lima_guest_percent_encode(value, strlen(value), encoded, size);
        g_string_append_c(out, ' ');
        g_string_append(out, encoded);
}

gchar *
lima_cidata_boot_plan(const LimaCidataPlan *plan, GError **error)
{
        const LimaConfig *cfg = plan->config;
        g_autoptr(GString) out = g_string_new("LIMAD-BOOT-PLAN 1\n");
        g_autofree gchar *hostname = NULL;
        g_autofree gchar *uid = NULL;
        const gchar *type;

        if (!lima_cidata_check_plan(plan, error))
                return NULL;
        hostname = lima_cidata_hostname(plan->instance_name);
        uid = g_strdup_printf("%" G_GINT64_FORMAT, cfg->user_uid.value);
        g_string_append(out, "# Read by lima-guestagent boot (the native route); format in "
                             "guest/lima-guest-boot.h.\nHOSTNAME");
        lima_cidata_plan_field(out, hostname);
        g_string_append(out, "\nUSER");
        lima_cidata_plan_field(out, cfg->user_name.value);
        lima_cidata_plan_field(out, uid);
        lima_cidata_plan_field(out, cfg->user_home.value);
        lima_cidata_plan_field(out, cfg->user_shell.value);
        if (cfg->user_comment.value != NULL && *cfg->user_comment.value != '\0')
                lima_cidata_plan_field(out, cfg->user_comment.value);
        g_string_append_c(out, '\n');
        for (guint i = 0; plan->ssh_public_keys[i] != NULL; i++) {
                g_string_append(out, "KEY");
                lima_cidata_plan_field(out, plan->ssh_public_keys[i]);
                g_string_append_c(out, '\n');
        }
        type = cfg->mount_type.value != NULL ? cfg->mount_type.value : "";
        /* reverse-sshfs is the host agent's; boot.sh makes its mount points. */
        if (g_str_equal(type, "9p") || g_str_equal(type, "virtiofs")) {
                for (guint i = 0; i < cfg->mounts->len; i++) {
                        LimaMount *m = g_ptr_array_index(cfg->mounts, i);
                        g_autofree gchar *options = lima_cidata_mount_options(m, type, error);
                        if (options == NULL)
                                return NULL;
                        g_string_append(out, "MOUNT");
                        lima_cidata_plan_field(out, type);
                        lima_cidata_plan_field(out, m->tag);
                        lima_cidata_plan_field(out, options);
                        lima_cidata_plan_field(out, m->mount_point.value);
                        g_string_append_c(out, '\n');
                }
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static gboolean
lima_cidata_add_provision_files(const LimaCidataPlan *plan, GPtrArray *files, GError **error)
{
        for (guint i = 0; i < plan->config->provision->len; i++) {
                LimaYamlNode *p = g_ptr_array_index(plan->config->provision, i);
                const gchar *mode = lima_cidata_provision_mode(p);
                const gchar *script = lima_cidata_provision_script(p);
                g_autofree gchar *path = NULL;

                /* ansible: runs on the host, not from here. */
                if (g_str_equal(mode, "ansible"))
                        continue;
                /* boot: in user-data's bootcmd for cloud-init; a file for the native route,
                 * which runs it with the params in its environment. */
                if (g_str_equal(mode, "boot") && script != NULL) {
                        path = g_strdup_printf("provision.boot/%08u", i);
                        g_ptr_array_add(files, lima_iso_file_new_text(path, script, 0755));
                        continue;
                }
                if (g_str_equal(mode, "boot"))
                        continue;
                if (!g_str_equal(mode, "system") && !g_str_equal(mode, "user") &&
                    !g_str_equal(mode, "dependency")) {
                        g_set_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED,
                                    _("provision[%u]: mode \"%s\" is not supported by limad yet; "
                                      "do the same from a \"system\" script"),
                                    i, mode);
                        return FALSE;
                }
                if (script == NULL) {
                        g_autofree gchar *what = g_strdup_printf("provision[%u].script", i);
                        return lima_cidata_invalid(error, what, NULL);
                }
                /* Zero-padded index: the boot script runs them in the order written. */
                path = g_strdup_printf("provision.%s/%08u", mode, i);
                g_ptr_array_add(files, lima_iso_file_new_text(path, script, 0755));
        }
        return TRUE;
}

static gboolean
lima_cidata_add_guestagent(const LimaCidataPlan *plan, GPtrArray *files, GError **error)
{
        g_autoptr(GMappedFile) mapped = NULL;
        g_autoptr(GBytes) bytes = NULL;

        if (plan->guestagent_path == NULL)
                return TRUE;
        mapped = g_mapped_file_new(plan->guestagent_path, FALSE, error);
        if (mapped == NULL) {
                g_prefix_error(error, _("cannot read the guest agent: "));
                return FALSE;
        }
        bytes = g_mapped_file_get_bytes(mapped);
        g_ptr_array_add(files, lima_iso_file_new("lima-guestagent", bytes, 0755));
        g_ptr_array_add(files, lima_iso_file_new_text("lima-guestagent.service",
                                                      lima_cidata_guestagent_unit, 0644));
        g_ptr_array_add(files, lima_iso_file_new_text("boot/25-guestagent.sh",
                                                      lima_cidata_guestagent_sh, 0755));
        return TRUE;
}

GPtrArray *
lima_cidata_files(const LimaCidataPlan *plan, GError **error)
{
        g_autoptr(GPtrArray) files =
            g_ptr_array_new_with_free_func((GDestroyNotify)lima_iso_file_free);
        g_autofree gchar *user_data = lima_cidata_user_data(plan, error);
        g_autofree gchar *meta_data = NULL;
        g_autofree gchar *lima_env = NULL;
        g_autofree gchar *param_env = NULL;
        g_autofree gchar *etc_environment = NULL;
        g_autofree gchar *mounts = NULL;
        g_autofree gchar *boot_plan = NULL;

        if (user_data == NULL)
                return NULL;
        boot_plan = lima_cidata_boot_plan(plan, error);
        if (boot_plan == NULL)
                return NULL;
        meta_data = lima_cidata_meta_data(plan, error);
        if (meta_data == NULL)
                return NULL;
        lima_env = lima_cidata_lima_env(plan, error);
        if (lima_env == NULL)
                return NULL;
        param_env = lima_cidata_param_env(plan, error);
        if (param_env == NULL)
                return NULL;
        etc_environment = lima_cidata_etc_environment(plan, error);
        if (etc_environment == NULL)
                return NULL;
        mounts = lima_cidata_mount_script(plan, error);
        if (mounts == NULL)
                return NULL;

        g_ptr_array_add(files, lima_iso_file_new_text("meta-data", meta_data, 0644));
        g_ptr_array_add(files, lima_iso_file_new_text("user-data", user_data, 0644));
        g_ptr_array_add(files, lima_iso_file_new_text("lima-boot-plan", boot_plan, 0644));
        g_ptr_array_add(files, lima_iso_file_new_text("lima.env", lima_env, 0644));
        g_ptr_array_add(files, lima_iso_file_new_text("param.env", param_env, 0644));
        g_ptr_array_add(files, lima_iso_file_new_text("etc_environment", etc_environment, 0644));
        g_ptr_array_add(files, lima_iso_file_new_text("boot.sh", lima_cidata_boot_sh, 0755));
        g_ptr_array_add(files, lima_iso_file_new_text("boot/05-lima-mounts.sh", mounts, 0755));
        g_ptr_array_add(files, lima_iso_file_new_text("boot/07-etc-environment.sh",
                                                      lima_cidata_etc_environment_sh, 0755));
        if (!lima_cidata_add_guestagent(plan, files, error) ||
            !lima_cidata_add_provision_files(plan, files, error))
                return NULL;
        return g_steal_pointer(&files);
}

gboolean
lima_cidata_write(const LimaCidataPlan *plan, const gchar *iso_path, GError **error)
{
        g_autoptr(GPtrArray) files = lima_cidata_files(plan, error);
        if (files == NULL)
                return FALSE;
        return lima_iso9660_write(files, LIMA_CIDATA_LABEL, iso_path, error);
}
