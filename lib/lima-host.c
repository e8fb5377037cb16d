#include "lima-host.h"

#include <pwd.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

const gchar *
lima_host_find_sftp_server(void)
{
        static const gchar *const candidates[] = {
                "/usr/lib/openssh/sftp-server",
                "/usr/libexec/sftp-server",
                "/usr/libexec/openssh/sftp-server",
                "/usr/lib/ssh/sftp-server",
                "/usr/lib/sftp-server",
                NULL,
        };
        for (guint i = 0; candidates[i] != NULL; i++) {
                if (g_file_test(candidates[i], G_FILE_TEST_IS_EXECUTABLE))
                        return candidates[i];
        }
        return NULL;
}

const gchar *
lima_host_arch_from_machine(const gchar *machine)
{
        if (g_strcmp0(machine, "amd64") == 0)
                return "x86_64";
        if (g_strcmp0(machine, "arm64") == 0)
                return "aarch64";
        if (g_str_has_prefix(machine, "armv7"))
                return "armv7l";
        return machine;
}

gboolean
lima_host_is_valid_user_name(const gchar *name)
{
        /* ^[a-z_][a-z0-9_-]*$, and not "admin" (taken in many guest images), as Lima. */
        if (name == NULL || !(g_ascii_islower(name[0]) || name[0] == '_') ||
            g_str_equal(name, "admin"))
                return FALSE;
        for (const gchar *c = name; *c; c++) {
                if (!g_ascii_islower(*c) && !g_ascii_isdigit(*c) && *c != '_' && *c != '-')
                        return FALSE;
        }
        return strlen(name) <= 32;
}

static LimaHost *
lima_host_new(const gchar *instance_name, const gchar *instance_dir, guint uid,
              const struct passwd *pw, const gchar *home)
{
        LimaHost *host = g_new0(LimaHost, 1);
        struct utsname un;
        glong pages = sysconf(_SC_PHYS_PAGES);
        glong page_size = sysconf(_SC_PAGESIZE);

        host->instance_name = g_strdup(instance_name);
        host->instance_dir = g_strdup(instance_dir);
        host->uid = uid;
        host->user = g_strdup(pw != NULL        ? pw->pw_name
                              : uid == getuid() ? g_get_user_name()
                                                : "lima");
        host->user_comment =
            g_strdup(pw != NULL && pw->pw_gecos != NULL ? pw->pw_gecos : g_get_real_name());
        /* Keep only the full name of a GECOS field ("Name,room,phone"). */
        if (strchr(host->user_comment, ',') != NULL)
                *strchr(host->user_comment, ',') = '\0';
        host->home = g_strdup(home);
        /* The guest gets a user like the host's; root (or a name Linux would refuse) cannot
         * be that user, so it becomes Lima's fallback user. */
        if (host->uid == 0 || !lima_host_is_valid_user_name(host->user)) {
                g_free(host->user);
                host->user = g_strdup("lima");
                host->uid = 1000;
        }
        if (uname(&un) == 0) {
                host->arch = g_strdup(lima_host_arch_from_machine(un.machine));
                host->os = g_strdup(un.sysname);
        } else {
                host->arch = g_strdup("x86_64");
                host->os = g_strdup("Linux");
        }
        host->cpus = g_get_num_processors();
        host->memory = pages > 0 && page_size > 0 ? (guint64)pages * (guint64)page_size : 0;
        host->tmpdir = g_strdup(g_get_tmp_dir());
        host->sftp_server = g_strdup(lima_host_find_sftp_server());
        return host;
}

LimaHost *
lima_host_new_from_system(const gchar *instance_name, const gchar *instance_dir)
{
        return lima_host_new(instance_name, instance_dir, getuid(), getpwuid(getuid()),
                             g_get_home_dir());
}

LimaHost *
lima_host_new_for_uid(const gchar *instance_name, const gchar *instance_dir, guint uid)
{
        struct passwd *pw = getpwuid(uid);
        /* No account: a home nobody has, so "~" expands to nothing anyone owns. */
        return lima_host_new(instance_name, instance_dir, uid, pw,
                             pw != NULL ? pw->pw_dir : "/nonexistent");
}

void
lima_host_free(LimaHost *host)
{
        if (host == NULL)
                return;
        g_free(host->instance_name);
        g_free(host->instance_dir);
        g_free(host->existing_version);
        g_free(host->user);
        g_free(host->user_comment);
        g_free(host->home);
        g_free(host->arch);
        g_free(host->tmpdir);
        g_free(host->sftp_server);
        g_free(host->os);
        g_free(host);
}
