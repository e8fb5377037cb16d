/* Shared by the QEMU tests: configs from YAML, and a real QEMU that dies with the test. */
#pragma once

#include <gio/gio.h>
#include <glib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "lima-config-resolve.h"
#include "lima-diagnostics.h"
#include "test-host.h"

static inline LimaHost *
test_qemu_host_new(void)
{
        return test_host_new_at("/home/alice");
}

/* The filled config of yaml; any config error fails the test. */
static inline LimaConfig *
test_qemu_config(const gchar *yaml)
{
        g_autoptr(LimaHost) host = test_qemu_host_new();
        g_autoptr(LimaDiagnostics) diags = lima_diagnostics_new("test.yaml");
        g_autoptr(GError) error = NULL;
        g_autoptr(LimaConfig) cfg =
            lima_config_resolve(yaml, strlen(yaml), "test.yaml", host, NULL, diags, &error);

        g_assert_no_error(error);
        if (!lima_diagnostics_check(diags, &error))
                g_error("%s\n%s", error->message, yaml);
        return g_steal_pointer(&cfg);
}

static inline gchar *
test_qemu_find(const gchar *name)
{
        gchar *path = g_find_program_in_path(name);
        if (path == NULL) {
                g_autofree gchar *why = g_strdup_printf("%s is not installed", name);
                g_test_skip(why);
        }
        return path;
}

static inline void
test_qemu_child_setup(gpointer data)
{
        /* QEMU goes when the test goes, even when an assertion aborts it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static inline GPid
test_qemu_spawn(GPtrArray *argv)
{
        g_autoptr(GError) error = NULL;
        GPid pid = 0;
        g_autofree gchar *line = NULL;

        if (argv->len == 0 || argv->pdata[argv->len - 1] != NULL)
                g_ptr_array_add(argv, NULL);
        line = g_strjoinv(" ", (gchar **)argv->pdata);
        g_test_message("spawning %s", line);
        g_spawn_async(NULL, (gchar **)argv->pdata, NULL,
                      G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, test_qemu_child_setup,
                      NULL, &pid, &error);
        g_assert_no_error(error);
        return pid;
}

/* The exit status once pid has exited within timeout_ms; kills it and fails otherwise. */
static inline gint
test_qemu_wait(GPid pid, guint timeout_ms)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
        int status = 0;

        while (waitpid(pid, &status, WNOHANG) == 0) {
                if (g_get_monotonic_time() > deadline) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        g_error("QEMU %d did not exit within %u ms", pid, timeout_ms);
                }
                g_usleep(20 * 1000);
        }
        return status;
}

/* A TCP port on 127.0.0.1 nobody listens on right now. */
static inline guint16
test_qemu_free_port(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GSocket) sock =
            g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
        g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
        g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
        g_autoptr(GSocketAddress) bound = NULL;

        g_assert_no_error(error);
        g_socket_bind(sock, any, FALSE, &error);
        g_assert_no_error(error);
        bound = g_socket_get_local_address(sock, &error);
        g_assert_no_error(error);
        return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

static inline void
test_qemu_rm_rf(const gchar *path)
{
        g_autoptr(GFile) file = g_file_new_for_path(path);
        g_autoptr(GFileEnumerator) children = g_file_enumerate_children(
            file, G_FILE_ATTRIBUTE_STANDARD_NAME, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
        GFileInfo *info;

        while (children != NULL &&
               (info = g_file_enumerator_next_file(children, NULL, NULL)) != NULL) {
                g_autoptr(GFileInfo) owned = info;
                (void)owned; /* only frees info */
                g_autofree gchar *child = g_build_filename(path, g_file_info_get_name(info), NULL);
                test_qemu_rm_rf(child);
        }
        g_file_delete(file, NULL, NULL);
}
