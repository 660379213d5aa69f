// Address map constants are header-only; this unit keeps the platform library non-empty.
#include "platforms/components/address_map.h"
