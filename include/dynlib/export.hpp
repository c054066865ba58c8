// Which symbols libdynlib exports (docs/internals/visibility.md). libdynlib is compiled with hidden
// visibility: a class or function is visible to programs only if its declaration carries one of these.
//   DYNLIB_API           the public API, the headers of include/dynlib/ (classes, free functions and
//                        every exception class: their type information must be shared, or a program
//                        could not catch them by type).
//   DYNLIB_INTERNAL_API  internals exported for our own components only (the JIT component, the
//                        `dynlib` command, the tests). Not part of the API: they change without notice.
// On ELF the same attribute is right on both sides of the library boundary, so there is no separate
// "building the library" switch. This header includes nothing, so any layer may include it.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define DYNLIB_API __attribute__((visibility("default")))
#else
#define DYNLIB_API
#endif

#define DYNLIB_INTERNAL_API DYNLIB_API
