# SystemC (with TLM-2.0) from the system's pkg-config files, behind one imported target.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SPRINT_SYSTEMC REQUIRED IMPORTED_TARGET systemc>=2.3.3)
if(NOT TARGET SystemC::systemc)
    add_library(SystemC::systemc INTERFACE IMPORTED GLOBAL)
    target_link_libraries(SystemC::systemc INTERFACE PkgConfig::SPRINT_SYSTEMC)
endif()
