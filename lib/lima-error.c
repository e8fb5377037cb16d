#include "lima-error.h"

G_DEFINE_QUARK(lima - error - quark, lima_error)
