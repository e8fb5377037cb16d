#include "lima-paths.h"

gchar *
lima_paths_home(void)
{
        const gchar *env = g_getenv("LIMA_HOME");
        if (env != NULL && *env != '\0')
                return g_strdup(env);
        return g_build_filename(g_get_home_dir(), ".lima", NULL);
}

gchar *
lima_paths_instance_file(const gchar *lima_home, const gchar *name, const gchar *file)
{
        return g_build_filename(lima_home, name, file, NULL);
}

gchar *
lima_paths_keys_home(const gchar *lima_home, gboolean system_mode, guint uid)
{
        g_autofree gchar *uid_text = g_strdup_printf("%u", uid);
        if (!system_mode)
                return g_strdup(lima_home);
        return g_build_filename(lima_home, LIMA_PATHS_KEYS_DIR, uid_text, NULL);
}

gchar *
lima_paths_cache_home(void)
{
        const gchar *env = g_getenv("LIMA_CACHE_HOME");
        if (env != NULL && *env != '\0')
                return g_strdup(env);
        return g_build_filename(g_get_user_cache_dir(), "lima", NULL);
}

gchar *
lima_paths_download_dir(const gchar *cache_home, const gchar *url)
{
        g_autofree gchar *hex = g_compute_checksum_for_string(G_CHECKSUM_SHA256, url, -1);
        return g_build_filename(cache_home, "download", "by-url-sha256", hex, NULL);
}
