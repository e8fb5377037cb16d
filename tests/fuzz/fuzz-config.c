/* libFuzzer target: any bytes through the whole config road (parse, type, fill, validate,
 * write back). Must never crash, hang or leak; bad input only ever makes diagnostics. */
#include <stdint.h>

#include "lima-config-fill.h"
#include "lima-config-validate.h"
#include "lima-config.h"

static LimaHost *
fuzz_host(void)
{
        LimaHost *host = g_new0(LimaHost, 1);
        host->instance_name = g_strdup("fuzz");
        host->instance_dir = g_strdup("/nonexistent/fuzz");
        host->user = g_strdup("fuzz");
        host->user_comment = g_strdup("Fuzz");
        host->home = g_strdup("/nonexistent/home");
        host->uid = 1000;
        host->arch = g_strdup("x86_64");
        host->cpus = 2;
        host->memory = 8ull << 30;
        host->tmpdir = g_strdup("/tmp");
        host->sftp_server = g_strdup("/usr/lib/openssh/sftp-server");
        host->os = g_strdup("Linux");
        return host;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(LimaHost) host = fuzz_host();
        g_autoptr(LimaDiagnostics) diags = lima_diagnostics_new("fuzz.yaml");
        g_autoptr(LimaConfig) cfg = NULL;
        g_autofree gchar *out = NULL;

        /* base: is left unresolved: the fuzzer must not read files. */
        cfg = lima_config_load_data((const gchar *)data, size, "fuzz.yaml", diags, NULL);
        if (cfg == NULL)
                return 0;
        g_ptr_array_set_size(cfg->base, 0);
        lima_config_fill(cfg, NULL, NULL, host, diags);
        lima_config_validate(cfg, host, diags);
        out = lima_config_to_yaml(cfg, NULL);
        return 0;
}
