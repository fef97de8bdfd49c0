#include "lib/hash.h"

__thread bool hash_oom;
