// Which runtime functions a translation unit defines (see below).
#pragma once

// Code compiled once into the runtime archive (libmatx_nb_rt.a, built with the
// precompiled header; toolchain.py). Generated code is compiled with
// MATX_NB_LINKED_RUNTIME and linked with the archive: it sees only the
// declarations of these functions and the extern templates of prebuilt.h, and
// so compiles and optimizes none of their bodies. Every other build (the
// archive itself, C++ hosts, the Python module, generated code before the
// archive exists) is header-only and defines them here, inline.
//   MX_RT          on the declaration and definition of such a function;
//   MX_RT_DEFINE   1 where this translation unit defines their bodies.
// Each library links its own copy, as a header-only build has: nothing is
// shared between libraries.
#if defined(MATX_NB_LINKED_RUNTIME)
#define MX_RT
#define MX_RT_DEFINE 0
#elif defined(MATX_NB_RT_ARCHIVE)
#define MX_RT
#define MX_RT_DEFINE 1
#else
#define MX_RT inline
#define MX_RT_DEFINE 1
#endif

// MX_INLINE on a header function instead of `inline`: a function template with
// one defaulted parameter, called exactly as the plain function. g++ compiles
// the templates a plain inline function's body uses at the end of every
// translation unit that includes it, used or not: through the precompiled
// header, that was two thirds of the time g++ spent on a small library. A
// template's body, and what it uses, is compiled only where a library calls it.
// A function declared ahead of its definition: MX_INLINE on the declaration,
// MX_INLINE_DEF on the definition (a default template argument is given once).
#define MX_INLINE template <class = void> inline
#define MX_INLINE_DEF template <class> inline
