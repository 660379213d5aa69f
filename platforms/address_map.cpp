// Address map constants are header-only; this unit keeps the platform library non-empty.
#include "platforms/address_map.h"
