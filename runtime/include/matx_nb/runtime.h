// The one header generated code includes (compiled once into a precompiled
// header). It pulls in the whole runtime: values, containers, operators,
// builtins, Any and the host ABI. No Python or third-party headers.
#pragma once
#define MATX_NB_RUNTIME_VERSION "0.1.0"

#include <cstdint>
#include <limits>

#include "object.h"
#include "error.h"
#include "str.h"
#include "containers.h"
#include "ops.h"
#include "builtins.h"
#include "abi.h"
#include "any.h"
#include "format.h"
#include "stack.h"
#include "opt.h"
#include "exc.h"
#include "instance.h"
#include "prebuilt.h"
// What generated code commonly includes besides: in the precompiled header, these
// cost a library that uses them no parse (<functional>, for lambdas passed as
// keys, and gen.h cost 0.1-0.3 s of g++ each outside it, and little inside).
#include <functional>
#include "live.h"
#include "gen.h"
#include "table.h"
#include "mutate.h"
// Not here: dyn.h (Any's operations: it brings the NDArray module, and every
// library would pay for it), json.h, host_any.h and session.h (C++ hosts include
// them), and the modules (mod/*.h), some of which need system libraries.
