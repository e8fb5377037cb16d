/* lima_image_fetch (local files, file:// URLs, http downloads into the cache) and
 * lima_image_select. Downloads come from a server the test runs on 127.0.0.1. */
#include <errno.h>
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lima-error.h"
#include "lima-image-cache.h"
#include "lima-paths.h"
#include "test-image-util.h"

#define TEST_DATA "limad test image payload\n"

typedef struct {
        gchar *dir;   /* scratch: served files and the cache */
        gchar *cache; /* dir/cache */
        gchar *www;   /* dir/www, what the server serves */
        TestHttpServer *server;
} Fixture;

static void
fixture_setup(Fixture *fx, gconstpointer user_data)
{
        fx->dir = test_image_tmpdir();
        fx->cache = g_build_filename(fx->dir, "cache", NULL);
        fx->www = g_build_filename(fx->dir, "www", NULL);
        g_assert_cmpint(g_mkdir(fx->www, 0700), ==, 0);
        g_free(test_image_write(fx->www, "image.img", TEST_DATA, strlen(TEST_DATA)));
        fx->server = test_http_server_new(fx->www);
}

static void
fixture_teardown(Fixture *fx, gconstpointer user_data)
{
        test_http_server_free(fx->server);
        test_image_rm_rf(fx->dir);
        g_free(fx->dir);
        g_free(fx->cache);
        g_free(fx->www);
}

static gchar *
digest_of(GChecksumType type, const gchar *data, gsize len)
{
        g_autofree gchar *hex = g_compute_checksum_for_data(type, (const guchar *)data, len);
        return g_strdup_printf("%s:%s", type == G_CHECKSUM_SHA256 ? "sha256" : "sha512", hex);
}

static LimaFile *
file_new(const gchar *location, const gchar *digest)
{
        LimaFile *file = g_new0(LimaFile, 1);
        lima_string_set(&file->location, location, NULL);
        if (digest != NULL)
                lima_string_set(&file->digest, digest, NULL);
        return file;
}

static void
file_free(LimaFile *file)
{
        lima_string_clear(&file->location);
        lima_string_clear(&file->digest);
        lima_string_clear(&file->arch);
        g_free(file);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LimaFile, file_free)

static gchar *
fetch(Fixture *fx, const gchar *location, const gchar *digest, GError **error)
{
        g_autoptr(LimaFile) file = file_new(location, digest);
        return lima_image_fetch(fx->cache, file, NULL, NULL, NULL, error);
}

static gboolean
cache_is_empty(Fixture *fx)
{
        g_autofree gchar *by_url = g_build_filename(fx->cache, "download", "by-url-sha256", NULL);
        g_autoptr(GDir) dir = g_dir_open(by_url, 0, NULL);
        return dir == NULL || g_dir_read_name(dir) == NULL;
}

/* The one folder of the cache for url, which holds only what it should. */
static void
assert_cache_entry(Fixture *fx, const gchar *url, const gchar *algo)
{
        g_autofree gchar *dir = lima_paths_download_dir(fx->cache, url);
        g_autofree gchar *url_file = g_build_filename(dir, "url", NULL);
        g_autofree gchar *data_file = g_build_filename(dir, "data", NULL);
        g_autofree gchar *stored_url = NULL;
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const gchar *name;

        g_assert_nonnull(d);
        g_assert_true(g_file_get_contents(url_file, &stored_url, NULL, NULL));
        g_assert_cmpstr(stored_url, ==, url);
        g_assert_true(g_file_test(data_file, G_FILE_TEST_IS_REGULAR));
        while ((name = g_dir_read_name(d)) != NULL) {
                g_autofree gchar *digest_name =
                    algo != NULL ? g_strdup_printf("%s.digest", algo) : NULL;
                if (!g_str_equal(name, "url") && !g_str_equal(name, "data") &&
                    g_strcmp0(name, digest_name) != 0)
                        g_error("unexpected file in the cache: %s", name);
        }
}

static void
test_fetch_path(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *src = g_build_filename(fx->www, "image.img", NULL);
        g_autofree gchar *digest = digest_of(G_CHECKSUM_SHA256, TEST_DATA, strlen(TEST_DATA));
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = fetch(fx, src, digest, &error);

        g_assert_no_error(error);
        g_assert_cmpstr(path, ==, src);
        g_assert_true(cache_is_empty(fx));
}

static void
test_fetch_file_url(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *src = g_build_filename(fx->www, "image.img", NULL);
        g_autofree gchar *uri = g_filename_to_uri(src, NULL, NULL);
        g_autofree gchar *digest = digest_of(G_CHECKSUM_SHA256, TEST_DATA, strlen(TEST_DATA));
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = fetch(fx, uri, digest, &error);

        g_assert_no_error(error);
        g_assert_cmpstr(path, ==, src);
        g_assert_true(cache_is_empty(fx));
}

static void
test_fetch_relative_path(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *cwd = g_get_current_dir();
        g_autofree gchar *src = g_build_filename(fx->www, "image.img", NULL);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = NULL;

        g_assert_cmpint(g_chdir(fx->www), ==, 0);
        path = fetch(fx, "image.img", NULL, &error);
        g_assert_cmpint(g_chdir(cwd), ==, 0);
        g_assert_no_error(error);
        g_assert_cmpstr(path, ==, src);
}

static void
test_fetch_sha512(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *src = g_build_filename(fx->www, "image.img", NULL);
        g_autofree gchar *digest = digest_of(G_CHECKSUM_SHA512, TEST_DATA, strlen(TEST_DATA));
        g_autofree gchar *upper = g_ascii_strup(digest, -1);
        g_autofree gchar *url = test_http_server_url(fx->server, "image.img");
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = fetch(fx, src, digest, &error);
        g_autofree gchar *cached = NULL;

        g_assert_no_error(error);
        g_assert_cmpstr(path, ==, src);
        /* The algorithm is lower case by the config's rule; the hex digits may be either. */
        memcpy(upper, "sha512", 6);
        cached = fetch(fx, url, upper, &error);
        g_assert_no_error(error);
        g_assert_true(g_str_has_suffix(cached, "/data"));
        assert_cache_entry(fx, url, "sha512");
}

static void
test_fetch_local_wrong_digest(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *src = g_build_filename(fx->www, "image.img", NULL);
        g_autofree gchar *right = digest_of(G_CHECKSUM_SHA256, TEST_DATA, strlen(TEST_DATA));
        g_autofree gchar *wrong = digest_of(G_CHECKSUM_SHA256, "other", 5);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = fetch(fx, src, wrong, &error);

        g_assert_null(path);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, wrong));
        g_assert_nonnull(strstr(error->message, right));
        g_assert_nonnull(strstr(error->message, "fix the digest"));
        g_assert_true(cache_is_empty(fx));
}

static void
test_fetch_local_errors(Fixture *fx, gconstpointer user_data)
{
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = fetch(fx, "/nonexistent/limad/image.img", NULL, &error);

        g_assert_null(path);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_NOT_FOUND);
        g_clear_error(&error);

        path = fetch(fx, fx->www, NULL, &error);
        g_assert_null(path);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
        g_clear_error(&error);

        path = fetch(fx, "file://otherhost/image.img", NULL, &error);
        g_assert_null(path);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
        g_clear_error(&error);

        path = fetch(fx, "ftp://example.org/image.img", NULL, &error);
        g_assert_null(path);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_UNSUPPORTED);
        g_clear_error(&error);

        path = fetch(fx, "/etc/hostname", "md5:0123", &error);
        g_assert_null(path);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
        g_clear_error(&error);

        path = fetch(fx, "", NULL, &error);
        g_assert_null(path);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_INVALID_CONFIG);
}

typedef struct {
        guint calls;
        guint64 last_done;
        guint64 last_total;
        gboolean monotonic;
} Progress;

static void
progress_cb(guint64 done, guint64 total, const gchar *message, gpointer user_data)
{
        Progress *p = user_data;

        g_assert_nonnull(message);
        if (done < p->last_done)
                p->monotonic = FALSE;
        p->calls++;
        p->last_done = done;
        p->last_total = total;
}

static void
test_fetch_http(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *url = test_http_server_url(fx->server, "image.img");
        g_autofree gchar *digest = digest_of(G_CHECKSUM_SHA256, TEST_DATA, strlen(TEST_DATA));
        g_autofree gchar *dir = lima_paths_download_dir(fx->cache, url);
        g_autofree gchar *expected = g_build_filename(dir, "data", NULL);
        g_autofree gchar *digest_file = g_build_filename(dir, "sha256.digest", NULL);
        g_autofree gchar *stored_digest = NULL;
        g_autofree gchar *contents = NULL;
        g_autoptr(LimaFile) file = file_new(url, digest);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = NULL;
        g_autofree gchar *again = NULL;
        Progress progress = { .monotonic = TRUE };
        GStatBuf st;

        path = lima_image_fetch(fx->cache, file, progress_cb, &progress, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(path, ==, expected);
        g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
        g_assert_cmpstr(contents, ==, TEST_DATA);
        assert_cache_entry(fx, url, "sha256");
        /* Lima's digest file: the digest alone, so Lima trusts our downloads and we its. */
        g_assert_true(g_file_get_contents(digest_file, &stored_digest, NULL, NULL));
        g_assert_cmpstr(stored_digest, ==, digest);
        g_assert_cmpint(g_stat(dir, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0700);
        g_assert_cmpuint(progress.calls, >=, 1);
        g_assert_true(progress.monotonic);
        g_assert_cmpuint(progress.last_done, ==, strlen(TEST_DATA));
        g_assert_cmpuint(progress.last_total, ==, strlen(TEST_DATA));
        g_assert_cmpint(g_atomic_int_get(&fx->server->requests), ==, 1);

        /* From the cache: the server is gone. */
        test_http_server_stop(fx->server);
        again = lima_image_fetch(fx->cache, file, NULL, NULL, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(again, ==, expected);
}

static void
test_fetch_http_no_digest(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *url = test_http_server_url(fx->server, "image.img");
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = fetch(fx, url, NULL, &error);
        g_autofree gchar *again = NULL;

        g_assert_no_error(error);
        assert_cache_entry(fx, url, NULL);
        test_http_server_stop(fx->server);
        again = fetch(fx, url, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(again, ==, path);
}

static void
test_fetch_http_wrong_digest(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *url = test_http_server_url(fx->server, "image.img");
        g_autofree gchar *right = digest_of(G_CHECKSUM_SHA256, TEST_DATA, strlen(TEST_DATA));
        g_autofree gchar *wrong = digest_of(G_CHECKSUM_SHA256, "other", 5);
        g_autofree gchar *dir = lima_paths_download_dir(fx->cache, url);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = fetch(fx, url, wrong, &error);

        g_assert_null(path);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, url));
        g_assert_nonnull(strstr(error->message, wrong));
        g_assert_nonnull(strstr(error->message, right));
        g_assert_nonnull(strstr(error->message, "nothing was cached"));
        g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
        g_assert_true(cache_is_empty(fx));

        /* With the right digest it downloads afresh. */
        g_clear_error(&error);
        path = fetch(fx, url, right, &error);
        g_assert_no_error(error);
        assert_cache_entry(fx, url, "sha256");
        g_assert_cmpint(g_atomic_int_get(&fx->server->requests), ==, 2);
}

static void
test_fetch_http_errors(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *missing = test_http_server_url(fx->server, "missing.img");
        g_autofree gchar *refused = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = fetch(fx, missing, NULL, &error);

        g_assert_null(path);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, "HTTP 404"));
        g_assert_true(cache_is_empty(fx));
        g_clear_error(&error);

        test_http_server_stop(fx->server);
        refused = test_http_server_url(fx->server, "image.img");
        path = fetch(fx, refused, NULL, &error);
        g_assert_null(path);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, refused));
        g_assert_true(cache_is_empty(fx));
}

static void
test_fetch_http_redirect(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *url = test_http_server_url(fx->server, "redirect/image.img");
        g_autofree gchar *digest = digest_of(G_CHECKSUM_SHA256, TEST_DATA, strlen(TEST_DATA));
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = fetch(fx, url, digest, &error);

        g_assert_no_error(error);
        g_assert_true(g_str_has_suffix(path, "/data"));
        /* Cached under the URL the config names, not where it led. */
        assert_cache_entry(fx, url, "sha256");
        g_assert_cmpint(g_atomic_int_get(&fx->server->requests), ==, 2);
}

static void
test_fetch_cache_tampered(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *url = test_http_server_url(fx->server, "image.img");
        g_autofree gchar *digest = digest_of(G_CHECKSUM_SHA256, TEST_DATA, strlen(TEST_DATA));
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = fetch(fx, url, digest, &error);
        g_autofree gchar *again = NULL;
        g_autofree gchar *contents = NULL;

        g_assert_no_error(error);
        test_http_server_stop(fx->server);
        g_usleep(10 * G_TIME_SPAN_MILLISECOND); /* so the mtime moves on coarse clocks */
        g_assert_true(g_file_set_contents(path, "tampered", -1, NULL));
        again = fetch(fx, url, digest, &error);
        g_assert_null(again);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, "cached copy"));
        g_assert_nonnull(strstr(error->message, digest));
        /* The cached file is left alone: disks may be built on it. */
        g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
        g_assert_cmpstr(contents, ==, "tampered");
}

static void
test_fetch_cache_verify_once(Fixture *fx, gconstpointer user_data)
{
        g_autofree gchar *url = test_http_server_url(fx->server, "image.img");
        g_autofree gchar *digest = digest_of(G_CHECKSUM_SHA256, TEST_DATA, strlen(TEST_DATA));
        g_autofree gchar *dir = lima_paths_download_dir(fx->cache, url);
        g_autofree gchar *digest_file = g_build_filename(dir, "sha256.digest", NULL);
        g_autoptr(LimaFile) file = file_new(url, digest);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = fetch(fx, url, digest, &error);
        g_autofree gchar *again = NULL;
        Progress progress = { .monotonic = TRUE };
        GStatBuf data_st;
        GStatBuf digest_st;

        g_assert_no_error(error);
        test_http_server_stop(fx->server);

        /* Trusted digest file: no hashing, so no progress. */
        again = lima_image_fetch(fx->cache, file, progress_cb, &progress, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(progress.calls, ==, 0);
        g_clear_pointer(&again, g_free);

        /* Without it (a cache from an older Lima): hashed once, then trusted again. */
        g_assert_cmpint(g_unlink(digest_file), ==, 0);
        again = lima_image_fetch(fx->cache, file, progress_cb, &progress, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(progress.calls, >=, 1);
        g_assert_cmpuint(progress.last_done, ==, strlen(TEST_DATA));
        g_assert_cmpint(g_stat(path, &data_st), ==, 0);
        g_assert_cmpint(g_stat(digest_file, &digest_st), ==, 0);
        g_assert_cmpint(data_st.st_mtim.tv_sec, ==, digest_st.st_mtim.tv_sec);
        g_assert_cmpint(data_st.st_mtim.tv_nsec, ==, digest_st.st_mtim.tv_nsec);
}

static void
cancel_cb(guint64 done, guint64 total, const gchar *message, gpointer user_data)
{
        g_cancellable_cancel(user_data);
}

static void
test_fetch_cancelled(Fixture *fx, gconstpointer user_data)
{
        gsize len = 8u << 20;
        g_autofree gchar *big = g_malloc0(len);
        g_autofree gchar *url = test_http_server_url(fx->server, "big.img");
        g_autoptr(GCancellable) cancellable = g_cancellable_new();
        g_autoptr(LimaFile) file = file_new(url, NULL);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = NULL;

        /* Before it starts. */
        g_cancellable_cancel(cancellable);
        path = lima_image_fetch(fx->cache, file, NULL, NULL, cancellable, &error);
        g_assert_null(path);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
        g_assert_true(cache_is_empty(fx));
        g_clear_error(&error);

        /* While it runs: the first progress report cancels. */
        g_free(test_image_write(fx->www, "big.img", big, len));
        g_cancellable_reset(cancellable);
        path = lima_image_fetch(fx->cache, file, cancel_cb, cancellable, cancellable, &error);
        g_assert_null(path);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
        g_assert_true(cache_is_empty(fx));
}

/* A 64 MiB local check takes long enough to see the ~10 Hz limit. */
static void
test_fetch_progress_rate(Fixture *fx, gconstpointer user_data)
{
        gsize len = 64u << 20;
        g_autofree gchar *data = g_malloc0(len);
        g_autofree gchar *src = test_image_write(fx->dir, "big.img", data, len);
        g_autofree gchar *digest = digest_of(G_CHECKSUM_SHA512, data, len);
        g_autoptr(LimaFile) file = file_new(src, digest);
        g_autoptr(GError) error = NULL;
        g_autofree gchar *path = NULL;
        Progress progress = { .monotonic = TRUE };
        gint64 start = g_get_monotonic_time();
        gdouble seconds;

        path = lima_image_fetch(fx->cache, file, progress_cb, &progress, NULL, &error);
        seconds = (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
        g_assert_no_error(error);
        g_test_message("sha512 of 64 MiB: %.2f s, %u progress calls", seconds, progress.calls);
        g_assert_cmpuint(progress.calls, >=, 1);
        g_assert_cmpuint(progress.calls, <=, (guint)(seconds * 10) + 2);
        g_assert_true(progress.monotonic);
        g_assert_cmpuint(progress.last_done, ==, len);
        g_assert_cmpuint(progress.last_total, ==, len);
}

static LimaImage *
image_new(const gchar *location, const gchar *arch)
{
        LimaImage *img = g_new0(LimaImage, 1);
        lima_string_set(&img->file.location, location, NULL);
        if (arch != NULL)
                lima_string_set(&img->file.arch, arch, NULL);
        return img;
}

static void
image_free(LimaImage *img)
{
        lima_string_clear(&img->file.location);
        lima_string_clear(&img->file.arch);
        g_free(img);
}

static void
test_select(void)
{
        g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func((GDestroyNotify)image_free);
        g_autoptr(GPtrArray) none = g_ptr_array_new();
        g_autoptr(GError) error = NULL;
        const LimaImage *img;

        g_ptr_array_add(images, image_new("https://example.org/amd64-a.img", "x86_64"));
        g_ptr_array_add(images, image_new("https://example.org/arm64.img", "aarch64"));
        g_ptr_array_add(images, image_new("https://example.org/amd64-b.img", "x86_64"));

        img = lima_image_select(images, "x86_64", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(img->file.location.value, ==, "https://example.org/amd64-a.img");
        img = lima_image_select(images, "aarch64", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(img->file.location.value, ==, "https://example.org/arm64.img");

        img = lima_image_select(images, "riscv64", &error);
        g_assert_null(img);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_NOT_FOUND);
        g_assert_nonnull(strstr(error->message, "riscv64"));
        g_assert_nonnull(strstr(error->message, "x86_64, aarch64"));
        g_clear_error(&error);

        img = lima_image_select(none, "x86_64", &error);
        g_assert_null(img);
        g_assert_error(error, LIMA_ERROR, LIMA_ERROR_NOT_FOUND);
}

int
main(int argc, char **argv)
{
        /* Downloads from 127.0.0.1 must not go through a proxy of the environment. */
        const gchar *proxies[] = { "http_proxy",  "https_proxy", "HTTP_PROXY",
                                   "HTTPS_PROXY", "ALL_PROXY",   "all_proxy" };

        for (guint i = 0; i < G_N_ELEMENTS(proxies); i++)
                g_unsetenv(proxies[i]);
        g_test_init(&argc, &argv, NULL);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
        ADD("/image/fetch/path", test_fetch_path);
        ADD("/image/fetch/file-url", test_fetch_file_url);
        ADD("/image/fetch/relative-path", test_fetch_relative_path);
        ADD("/image/fetch/sha512", test_fetch_sha512);
        ADD("/image/fetch/local-wrong-digest", test_fetch_local_wrong_digest);
        ADD("/image/fetch/local-errors", test_fetch_local_errors);
        ADD("/image/fetch/http", test_fetch_http);
        ADD("/image/fetch/http-no-digest", test_fetch_http_no_digest);
        ADD("/image/fetch/http-wrong-digest", test_fetch_http_wrong_digest);
        ADD("/image/fetch/http-errors", test_fetch_http_errors);
        ADD("/image/fetch/http-redirect", test_fetch_http_redirect);
        ADD("/image/fetch/cache-tampered", test_fetch_cache_tampered);
        ADD("/image/fetch/cache-verify-once", test_fetch_cache_verify_once);
        ADD("/image/fetch/cancelled", test_fetch_cancelled);
        ADD("/image/fetch/progress-rate", test_fetch_progress_rate);
#undef ADD
        g_test_add_func("/image/select", test_select);
        return g_test_run();
}
