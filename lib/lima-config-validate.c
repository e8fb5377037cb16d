#include "lima-config-validate.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "lima-size.h"
#include "lima-version.h"

static const gchar *const lima_vm_types[] = { "qemu", "vz", "wsl2", NULL };
static const gchar *const lima_os_types[] = { "Linux", "Darwin", "FreeBSD", NULL };
static const gchar *const lima_arch_types[] = { "x86_64",  "aarch64", "armv7l", "ppc64le",
                                                "riscv64", "s390x",   NULL };
static const gchar *const lima_mount_types[] = { "reverse-sshfs", "9p", "virtiofs", "wsl2", NULL };
static const gchar *const lima_9p_security_models[] = { "passthrough", "mapped-xattr",
                                                        "mapped-file", "none", NULL };
static const gchar *const lima_9p_protocol_versions[] = { "9p2000", "9p2000.u", "9p2000.L", NULL };
static const gchar *const lima_9p_caches[] = { "none", "loose", "fscache", "mmap", NULL };
static const gchar *const lima_sftp_drivers[] = { "builtin", "openssh-sftp-server", "", NULL };
static const gchar *const lima_reserved_mount_points[] = { "/",     "/bin", "/dev",  "/etc",
                                                           "/home", "/opt", "/sbin", "/tmp",
                                                           "/usr",  "/var", NULL };
static const gchar *const lima_provision_modes[] = { "system",     "user",    "boot", "data",
                                                     "dependency", "ansible", "yq",   NULL };

/* "a", "b" or "c" */
static gchar *
lima_validate_choices(const gchar *const *choices)
{
        g_autoptr(GString) out = g_string_new(NULL);
        guint n = g_strv_length((gchar **)choices);
        for (guint i = 0; i < n; i++) {
                if (i > 0)
                        g_string_append(out, i + 1 == n ? " or " : ", ");
                g_string_append_printf(out, "\"%s\"", choices[i]);
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
lima_validate_enum(LimaDiagnostics *diags, const LimaString *s, const gchar *path,
                   const gchar *const *choices)
{
        g_autofree gchar *list = NULL;
        if (s->value == NULL || g_strv_contains(choices, s->value))
                return;
        list = lima_validate_choices(choices);
        lima_diagnostics_error(diags, s->node, path, _("must be %s, got \"%s\""), list, s->value);
}

static void
lima_validate_size(LimaDiagnostics *diags, const LimaString *s, const gchar *path)
{
        guint64 bytes;
        if (s->value == NULL) {
                lima_diagnostics_error(diags, s->node, path, _("must be set"));
                return;
        }
        if (!lima_size_parse(s->value, &bytes))
                lima_diagnostics_error(diags, s->node, path,
                                       _("\"%s\" is not a size; write e.g. \"4GiB\" or "
                                         "\"512MiB\""),
                                       s->value);
}

static void
lima_validate_port(LimaDiagnostics *diags, LimaYamlNode *node, const gchar *path, gint64 port)
{
        if (port < 0)
                lima_diagnostics_error(diags, node, path, _("must be > 0"));
        else if (port == 0)
                lima_diagnostics_error(diags, node, path, _("must be set"));
        else if (port == 22)
                lima_diagnostics_error(diags, node, path, _("must not be 22"));
        else if (port > 65535)
                lima_diagnostics_error(diags, node, path, _("must be < 65536"));
}

static void
lima_validate_mount_location(LimaMount *m, const gchar *path, LimaDiagnostics *diags)
{
        g_autofree gchar *p = g_strdup_printf("%s.location", path);
        const gchar *loc = m->location.value;
        GStatBuf st;

        if (loc == NULL || !g_path_is_absolute(loc))
                return; /* reported while filling */
        if (g_stat(loc, &st) != 0) {
                int saved = errno;
                if (saved == ENOENT)
                        lima_diagnostics_warning(diags, m->location.node, p,
                                                 _("refers to a non-existent directory: \"%s\"; "
                                                   "it is created when the instance starts"),
                                                 loc);
                else
                        lima_diagnostics_error(diags, m->location.node, p,
                                               _("refers to an inaccessible path: \"%s\": %s"), loc,
                                               g_strerror(saved));
                return;
        }
        if (!S_ISDIR(st.st_mode)) {
                lima_diagnostics_error(diags, m->location.node, p,
                                       _("refers to a non-directory path: \"%s\"; mount its "
                                         "directory instead"),
                                       loc);
                return;
        }
        if (access(loc, R_OK | X_OK) != 0)
                lima_diagnostics_error(diags, m->location.node, p,
                                       _("refers to an inaccessible path: \"%s\": %s"), loc,
                                       g_strerror(errno));
        else if (m->writable.value && access(loc, W_OK) != 0)
                lima_diagnostics_error(diags,
                                       m->writable.node ? m->writable.node : m->location.node, p,
                                       _("\"%s\" is not writable by you, so it cannot be a "
                                         "writable mount: %s"),
                                       loc, g_strerror(errno));
}

static void
lima_validate_mount_point(LimaMount *m, const gchar *path, const gchar *guest_home,
                          LimaDiagnostics *diags)
{
        g_autofree gchar *p = g_strdup_printf("%s.mountPoint", path);
        const gchar *mp = m->mount_point.value;
        LimaYamlNode *where = m->mount_point.node ? m->mount_point.node : m->location.node;
        g_autofree gchar *clean = NULL;

        if (mp == NULL)
                return;
        if (mp[0] == '~') {
                lima_diagnostics_error(diags, where, p,
                                       _("must not start with \"~\": there is no tilde "
                                         "expansion for guest paths; use \"{{.Home}}\""));
                return;
        }
        if (!g_path_is_absolute(mp)) {
                lima_diagnostics_error(diags, where, p,
                                       _("must be an absolute path in the guest, got \"%s\""), mp);
                return;
        }
        clean = g_canonicalize_filename(mp, "/");
        if (g_strv_contains(lima_reserved_mount_points, clean))
                lima_diagnostics_error(diags, where, p,
                                       _("must not be a system path such as /etc or /usr, got "
                                         "\"%s\"; mount it under another path, e.g. /mnt%s"),
                                       mp, clean);
        else if (guest_home != NULL && g_strcmp0(clean, guest_home) == 0)
                lima_diagnostics_error(diags, where, p,
                                       _("is the reserved internal home directory \"%s\"; "
                                         "mount it elsewhere"),
                                       guest_home);
        if (strchr(mp, '\n') != NULL || strchr(mp, '\t') != NULL)
                lima_diagnostics_error(diags, where, p, _("must not contain newlines or tabs"));
}

static void
lima_validate_mount_options(LimaMount *m, const gchar *path, LimaDiagnostics *diags)
{
        g_autofree gchar *p_sm = g_strdup_printf("%s.9p.securityModel", path);
        g_autofree gchar *p_pv = g_strdup_printf("%s.9p.protocolVersion", path);
        g_autofree gchar *p_msize = g_strdup_printf("%s.9p.msize", path);
        g_autofree gchar *p_cache = g_strdup_printf("%s.9p.cache", path);
        g_autofree gchar *p_driver = g_strdup_printf("%s.sshfs.sftpDriver", path);
        g_autofree gchar *p_qs = g_strdup_printf("%s.virtiofs.queueSize", path);
        guint64 msize;

        lima_validate_enum(diags, &m->ninep_security_model, p_sm, lima_9p_security_models);
        lima_validate_enum(diags, &m->ninep_protocol_version, p_pv, lima_9p_protocol_versions);
        lima_validate_enum(diags, &m->ninep_cache, p_cache, lima_9p_caches);
        lima_validate_enum(diags, &m->sshfs_sftp_driver, p_driver, lima_sftp_drivers);
        if (m->ninep_msize.value != NULL) {
                if (!lima_size_parse(m->ninep_msize.value, &msize))
                        lima_diagnostics_error(diags, m->ninep_msize.node, p_msize,
                                               _("\"%s\" is not a size; write e.g. \"128KiB\""),
                                               m->ninep_msize.value);
                else if (msize < 4096)
                        lima_diagnostics_error(diags, m->ninep_msize.node, p_msize,
                                               _("\"%s\" is below the 4KiB minimum"),
                                               m->ninep_msize.value);
        }
        if (m->virtiofs_queue_size.set) {
                gint64 qs = m->virtiofs_queue_size.value;
                /* QEMU's vhost-user-fs takes a power of two up to VIRTQUEUE_MAX_SIZE. */
                if (qs <= 0 || qs > 1024 || (qs & (qs - 1)) != 0)
                        lima_diagnostics_error(diags, m->virtiofs_queue_size.node, p_qs,
                                               _("must be a power of two from 1 to 1024, got %lld"),
                                               (long long)qs);
        }
}

void
lima_mount_validate(LimaMount *m, const gchar *path, const gchar *mount_type,
                    const gchar *guest_home, LimaDiagnostics *diags)
{
        lima_validate_mount_location(m, path, diags);
        lima_validate_mount_point(m, path, guest_home, diags);
        lima_validate_mount_options(m, path, diags);
}

static void
lima_validate_mounts(LimaConfig *cfg, LimaDiagnostics *diags)
{
        for (guint i = 0; i < cfg->mounts->len; i++) {
                LimaMount *m = g_ptr_array_index(cfg->mounts, i);
                g_autofree gchar *path = g_strdup_printf("mounts[%u]", i);
                lima_mount_validate(m, path, cfg->mount_type.value, cfg->user_home.value, diags);
        }
}

static gboolean
lima_validate_mount_type_unsupported(LimaConfig *cfg, const gchar *type)
{
        for (guint i = 0; i < cfg->mount_types_unsupported->len; i++) {
                LimaString *s = g_ptr_array_index(cfg->mount_types_unsupported, i);
                if (g_strcmp0(s->value, type) == 0)
                        return TRUE;
        }
        return FALSE;
}

/* Which VM and mount types this host can run at all. */
static void
lima_validate_host(LimaConfig *cfg, const LimaHost *host, LimaDiagnostics *diags)
{
        const gchar *vm = cfg->vm_type.value;
        const gchar *mt = cfg->mount_type.value;
        gboolean linux_host = g_strcmp0(host->os, "Linux") == 0;

        if (g_strcmp0(vm, "vz") == 0 && linux_host)
                lima_diagnostics_error(diags, cfg->vm_type.node, "vmType",
                                       _("\"vz\" needs macOS 13 or later (Apple "
                                         "Virtualization.framework); this host runs Linux: use "
                                         "vmType \"qemu\""));
        if (g_strcmp0(vm, "wsl2") == 0 && linux_host)
                lima_diagnostics_error(diags, cfg->vm_type.node, "vmType",
                                       _("\"wsl2\" needs Windows 10 build 19041 or later; "
                                         "this host runs Linux: use vmType \"qemu\""));
        if (g_strcmp0(mt, "wsl2") == 0 && g_strcmp0(vm, "wsl2") != 0)
                lima_diagnostics_error(diags, cfg->mount_type.node, "mountType",
                                       _("\"wsl2\" works only with vmType \"wsl2\" (Windows 10 "
                                         "build 19041 or later); on this host use "
                                         "\"reverse-sshfs\", \"9p\" or \"virtiofs\""));
        if (g_strcmp0(vm, "wsl2") == 0 && mt != NULL && g_strcmp0(mt, "wsl2") != 0)
                lima_diagnostics_error(diags, cfg->mount_type.node, "mountType",
                                       _("vmType \"wsl2\" takes only mountType \"wsl2\", got "
                                         "\"%s\""),
                                       mt);
        if (g_strcmp0(vm, "vz") == 0 && g_strcmp0(mt, "9p") == 0)
                lima_diagnostics_error(diags, cfg->mount_type.node, "mountType",
                                       _("vmType \"vz\" cannot serve 9p; use \"virtiofs\" or "
                                         "\"reverse-sshfs\""));
}

static void
lima_validate_images(LimaConfig *cfg, LimaDiagnostics *diags)
{
        if (cfg->images->len == 0) {
                lima_diagnostics_error(diags, NULL, "images",
                                       _("must be set: list at least one image location, or "
                                         "start from a template (base: template:debian-12)"));
                return;
        }
        for (guint i = 0; i < cfg->images->len; i++) {
                LimaImage *img = g_ptr_array_index(cfg->images, i);
                const LimaFile *files[] = { &img->file, img->has_kernel ? &img->kernel : NULL,
                                            img->has_initrd ? &img->initrd : NULL };
                const gchar *names[] = { "", ".kernel", ".initrd" };
                for (guint f = 0; f < G_N_ELEMENTS(files); f++) {
                        g_autofree gchar *path = NULL;
                        g_autofree gchar *p_arch = NULL;
                        g_autofree gchar *p_digest = NULL;
                        const gchar *digest;
                        if (files[f] == NULL)
                                continue;
                        path = g_strdup_printf("images[%u]%s.location", i, names[f]);
                        p_arch = g_strdup_printf("images[%u]%s.arch", i, names[f]);
                        p_digest = g_strdup_printf("images[%u]%s.digest", i, names[f]);
                        if (files[f]->location.value == NULL || *files[f]->location.value == '\0')
                                lima_diagnostics_error(diags, img->node, path,
                                                       _("must be set to a URL or a local "
                                                         "path"));
                        lima_validate_enum(diags, &files[f]->arch, p_arch, lima_arch_types);
                        digest = files[f]->digest.value;
                        if (digest != NULL && *digest != '\0') {
                                const gchar *hex = strchr(digest, ':');
                                gsize want = g_str_has_prefix(digest, "sha256:")   ? 64
                                             : g_str_has_prefix(digest, "sha512:") ? 128
                                                                                   : 0;
                                gboolean ok = want > 0 && hex != NULL && strlen(hex + 1) == want;
                                for (const gchar *c = hex != NULL ? hex + 1 : ""; ok && *c; c++)
                                        ok = g_ascii_isxdigit(*c);
                                if (!ok)
                                        lima_diagnostics_error(
                                            diags, files[f]->digest.node, p_digest,
                                            _("\"%s\" is invalid: write \"sha256:\" and 64 hex "
                                              "digits, or \"sha512:\" and 128"),
                                            digest);
                        }
                }
        }
}

static void
lima_validate_provision_and_probes(LimaConfig *cfg, LimaDiagnostics *diags)
{
        g_autofree gchar *modes = lima_validate_choices(lima_provision_modes);
        for (guint i = 0; i < cfg->provision->len; i++) {
                LimaYamlNode *p = g_ptr_array_index(cfg->provision, i);
                LimaYamlNode *mode = lima_yaml_mapping_get(p, "mode");
                LimaYamlNode *script = lima_yaml_mapping_get(p, "script");
                g_autofree gchar *path = g_strdup_printf("provision[%u].mode", i);
                g_autofree gchar *p_script = g_strdup_printf("provision[%u].script", i);
                if (mode != NULL && (mode->kind != LIMA_YAML_SCALAR ||
                                     !g_strv_contains(lima_provision_modes, mode->scalar)))
                        lima_diagnostics_error(diags, mode, path, _("must be one of %s"), modes);
                if (mode != NULL && mode->kind == LIMA_YAML_SCALAR &&
                    g_strv_contains(
                        (const gchar *const[]){ "system", "user", "boot", "dependency", NULL },
                        mode->scalar) &&
                    (script == NULL || script->kind != LIMA_YAML_SCALAR || *script->scalar == '\0'))
                        lima_diagnostics_error(diags, script != NULL ? script : p, p_script,
                                               _("must not be empty"));
        }
        for (guint i = 0; i < cfg->probes->len; i++) {
                LimaYamlNode *p = g_ptr_array_index(cfg->probes, i);
                LimaYamlNode *mode = lima_yaml_mapping_get(p, "mode");
                LimaYamlNode *script = lima_yaml_mapping_get(p, "script");
                g_autofree gchar *path = g_strdup_printf("probes[%u].mode", i);
                g_autofree gchar *p_script = g_strdup_printf("probes[%u].script", i);
                if (mode != NULL &&
                    (mode->kind != LIMA_YAML_SCALAR || g_strcmp0(mode->scalar, "readiness") != 0))
                        lima_diagnostics_error(diags, mode, path, _("can only be \"readiness\""));
                if (script == NULL || script->kind != LIMA_YAML_SCALAR ||
                    !g_str_has_prefix(script->scalar, "#!"))
                        lima_diagnostics_error(diags, script != NULL ? script : p, p_script,
                                               _("must start with a '#!' line"));
        }
}

static void
lima_validate_port_forwards(LimaConfig *cfg, LimaDiagnostics *diags)
{
        static const gchar *const ports[] = { "guestPort", "hostPort", NULL };
        for (guint i = 0; i < cfg->port_forwards->len; i++) {
                LimaYamlNode *pf = g_ptr_array_index(cfg->port_forwards, i);
                LimaYamlNode *proto = lima_yaml_mapping_get(pf, "proto");
                for (guint k = 0; ports[k] != NULL; k++) {
                        LimaYamlNode *v = lima_yaml_mapping_get(pf, ports[k]);
                        g_autofree gchar *path =
                            g_strdup_printf("portForwards[%u].%s", i, ports[k]);
                        gint64 port;
                        if (v == NULL || lima_yaml_node_is_null(v))
                                continue;
                        if (v->kind != LIMA_YAML_SCALAR ||
                            !g_ascii_string_to_signed(v->scalar, 10, G_MININT32, G_MAXINT32, &port,
                                                      NULL)) {
                                lima_diagnostics_error(diags, v, path, _("must be a port number"));
                                continue;
                        }
                        if (port < 0 || port > 65535)
                                lima_diagnostics_error(diags, v, path,
                                                       _("must be between 0 and 65535"));
                }
                if (proto != NULL &&
                    (proto->kind != LIMA_YAML_SCALAR ||
                     !g_strv_contains((const gchar *const[]){ "tcp", "udp", "any", NULL },
                                      proto->scalar))) {
                        g_autofree gchar *path = g_strdup_printf("portForwards[%u].proto", i);
                        lima_diagnostics_error(diags, proto, path,
                                               _("must be \"tcp\", \"udp\", or \"any\""));
                }
        }
}

static void
lima_validate_params(LimaConfig *cfg, LimaDiagnostics *diags)
{
        for (guint i = 0; i < cfg->param->len; i++) {
                LimaKeyValue *kv = g_ptr_array_index(cfg->param, i);
                g_autofree gchar *path = g_strdup_printf("param.%s", kv->key);
                gboolean ok = g_ascii_isalpha(kv->key[0]);
                for (const gchar *c = kv->key; ok && *c; c++)
                        ok = g_ascii_isalnum(*c) || *c == '_';
                if (!ok)
                        lima_diagnostics_error(diags, kv->value.node, path,
                                               _("name does not match ^[a-zA-Z][a-zA-Z0-9_]*$"));
                for (const gchar *c = kv->value.value; c != NULL && *c; c++) {
                        if ((guchar)*c < 0x20 && *c != '\t') {
                                lima_diagnostics_error(diags, kv->value.node, path,
                                                       _("value contains an unprintable "
                                                         "character"));
                                break;
                        }
                }
        }
}

void
lima_config_validate(LimaConfig *cfg, const LimaHost *host, LimaDiagnostics *diags)
{
        g_autofree gchar *vm_types = lima_validate_choices(lima_vm_types);
        g_autofree gchar *os_types = lima_validate_choices(lima_os_types);
        g_autofree gchar *mount_types = lima_validate_choices(lima_mount_types);

        if (cfg->minimum_lima_version.value != NULL) {
                guint a, b, c;
                gboolean pre;
                if (!lima_version_parse(cfg->minimum_lima_version.value, &a, &b, &c, &pre))
                        lima_diagnostics_error(diags, cfg->minimum_lima_version.node,
                                               "minimumLimaVersion",
                                               _("must be a semver value like \"1.0.0\", got "
                                                 "\"%s\""),
                                               cfg->minimum_lima_version.value);
                else if (lima_version_compare(LIMA_COMPAT_VERSION,
                                              cfg->minimum_lima_version.value) < 0)
                        lima_diagnostics_error(
                            diags, cfg->minimum_lima_version.node, "minimumLimaVersion",
                            _("template requires Lima version \"%s\"; this "
                              "is only \"%s\""),
                            cfg->minimum_lima_version.value, LIMA_COMPAT_VERSION);
        }
        if (cfg->vm_type.value != NULL && !g_strv_contains(lima_vm_types, cfg->vm_type.value))
                lima_diagnostics_error(diags, cfg->vm_type.node, "vmType",
                                       _("must be %s, got \"%s\""), vm_types, cfg->vm_type.value);
        if (cfg->os.value != NULL && !g_strv_contains(lima_os_types, cfg->os.value))
                lima_diagnostics_error(diags, cfg->os.node, "os", _("must be %s, got \"%s\""),
                                       os_types, cfg->os.value);
        lima_validate_enum(diags, &cfg->arch, "arch", lima_arch_types);
        lima_validate_images(cfg, diags);
        if (cfg->cpus.set && cfg->cpus.value <= 0)
                lima_diagnostics_error(diags, cfg->cpus.node, "cpus",
                                       _("must be a positive number, got %lld"),
                                       (long long)cfg->cpus.value);
        lima_validate_size(diags, &cfg->memory, "memory");
        lima_validate_size(diags, &cfg->disk, "disk");
        lima_validate_mounts(cfg, diags);
        if (cfg->ssh_local_port.set && cfg->ssh_local_port.value != 0)
                lima_validate_port(diags, cfg->ssh_local_port.node, "ssh.localPort",
                                   cfg->ssh_local_port.value);
        if (cfg->mount_type.value != NULL) {
                if (!g_strv_contains(lima_mount_types, cfg->mount_type.value))
                        lima_diagnostics_error(diags, cfg->mount_type.node, "mountType",
                                               _("must be %s, got \"%s\""), mount_types,
                                               cfg->mount_type.value);
                else if (lima_validate_mount_type_unsupported(cfg, cfg->mount_type.value))
                        lima_diagnostics_error(diags, cfg->mount_type.node, "mountType",
                                               _("must not be one of mountTypesUnsupported, "
                                                 "got \"%s\"; pick another mount type"),
                                               cfg->mount_type.value);
        }
        for (guint i = 0; i < cfg->mount_types_unsupported->len; i++) {
                LimaString *s = g_ptr_array_index(cfg->mount_types_unsupported, i);
                g_autofree gchar *path = g_strdup_printf("mountTypesUnsupported[%u]", i);
                lima_validate_enum(diags, s, path, lima_mount_types);
        }
        lima_validate_host(cfg, host, diags);
        lima_validate_provision_and_probes(cfg, diags);
        lima_validate_port_forwards(cfg, diags);
        lima_validate_params(cfg, diags);
        if (cfg->mount_inotify.value)
                lima_diagnostics_warning(diags, cfg->mount_inotify.node, "mountInotify",
                                         _("is experimental"));
}
