/* Shared by the cidata tests: a pinned host, a resolved config, temp dirs, plans. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "lima-cidata.h"
#include "lima-config-resolve.h"
#include "lima-diagnostics.h"
#include "test-host.h"

#define TEST_IMAGES "images:\n- location: https://example.org/debian.qcow2\n  arch: x86_64\n"
#define TEST_KEY                                                                                   \
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEx4mpleKeyOnlyForTestsxxxxxxxxxxxxxxxxxxxx lima"

/* A resolved, validated config; fails the test on any config error. */
static inline LimaConfig *
test_config_new(const gchar *yaml, const gchar *home)
{
        g_autoptr(LimaHost) host = test_host_new_at(home);
        g_autoptr(LimaDiagnostics) diags = lima_diagnostics_new("dev.yaml");
        g_autoptr(GError) error = NULL;
        LimaConfig *cfg =
            lima_config_resolve(yaml, strlen(yaml), "dev.yaml", host, NULL, diags, &error);

        g_assert_no_error(error);
        g_assert_nonnull(cfg);
        for (guint i = 0; i < diags->items->len; i++) {
                LimaDiagnostic *d = g_ptr_array_index(diags->items, i);
                g_test_message("%s", d->text);
                g_assert_cmpint(d->severity, !=, LIMA_DIAGNOSTIC_ERROR);
        }
        return cfg;
}

/* A temp dir removed (with everything in it) by test_tmpdir_free. */
static inline gchar *
test_tmpdir_new(void)
{
        g_autoptr(GError) error = NULL;
        gchar *dir = g_dir_make_tmp("limad-cidata-test-XXXXXX", &error);
        g_assert_no_error(error);
        return dir;
}

static inline void
test_remove_tree(const gchar *path)
{
        GStatBuf st;
        if (g_lstat(path, &st) != 0)
                return;
        if (S_ISDIR(st.st_mode)) {
                g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
                const gchar *name;
                g_chmod(path, 0700);
                while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
                        g_autofree gchar *child = g_build_filename(path, name, NULL);
                        test_remove_tree(child);
                }
                g_rmdir(path);
        } else {
                g_unlink(path);
        }
}

static inline void
test_tmpdir_free(gchar *dir)
{
        if (dir == NULL)
                return;
        test_remove_tree(dir);
        g_free(dir);
}

typedef gchar TestTmpdir;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestTmpdir, test_tmpdir_free)

/* A directory under root, made for a mount location. */
static inline gchar *
test_mkdir(const gchar *root, const gchar *name)
{
        gchar *path = g_build_filename(root, name, NULL);
        g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
        return path;
}

static inline LimaCidataPlan
test_plan(const LimaConfig *cfg, const gchar *name, const gchar *const *keys)
{
        LimaCidataPlan plan = { 0 };
        plan.config = cfg;
        plan.instance_name = name;
        plan.ssh_public_keys = keys;
        return plan;
}
