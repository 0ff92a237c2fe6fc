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
// Not here: json.h, host_any.h and session.h (C++ hosts include them; generated
// code does not need them, and every header costs compile time).
