/* libFuzzer target: any bytes through the whole config road (parse, type, fill, validate,
 * write back). Must never crash, hang or leak; bad input only ever makes diagnostics. */
#include <stdint.h>

#include "lima-config-fill.h"
#include "lima-config-validate.h"
#include "lima-config.h"
#include "test-host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* A home that does not exist: mount checks must not depend on this machine. */
        g_autoptr(LimaHost) host = test_host_new_at("/nonexistent/home");
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
