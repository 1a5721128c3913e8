// The libyaml C API (event parser), exposed to Swift as the CYaml module.
#ifndef RINGSPEC_CYAML_SHIM_H
#define RINGSPEC_CYAML_SHIM_H
#include <yaml.h>
#endif
