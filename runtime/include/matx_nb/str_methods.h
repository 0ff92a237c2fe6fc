// Methods of str (code points, Unicode tables from unicodedata) and bytes, one
// header per part (builtins/): str.h (case, search, split, join), str_edit.h
// (strip, replace, padding), bytes.h, codecs.h. Each includes the one before it.
#pragma once
#include "builtins/codecs.h"
