# `cmake --install build --prefix P`: the lrbench binary (apps/), the built-in configs and suites, the public
# headers a plugin needs, and the CMake package (find_package(lrbench) -> lrbench::plugin).
include(CMakePackageConfigHelpers)
set(LRB_PUBLIC_HEADERS core/batch.h core/config.h core/errors.h core/registry.h core/plugin_abi.h
    models/classifier.h threats/threat.h threats/victim.h trainers/trainer.h datasets/dataset.h)
foreach(h ${LRB_PUBLIC_HEADERS})
  get_filename_component(dir ${h} DIRECTORY)
  install(FILES ${h} DESTINATION include/lrbench/${dir})
endforeach()
install(FILES ${PROJECT_BINARY_DIR}/gen/lrb_version.h DESTINATION include/lrbench)
# A plugin must see the fmt lrbench was built with ahead of the torch wheel's own (CMakeLists.txt, fmt-first).
if(LRB_FMT_INCLUDE)
  install(CODE "set(d \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/include/lrbench/fmt-first\")
                file(MAKE_DIRECTORY \"\${d}\")
                file(CREATE_LINK \"${LRB_FMT_INCLUDE}/fmt\" \"\${d}/fmt\" SYMBOLIC)")
endif()
install(FILES cmake/plugin_stamp.cpp DESTINATION share/lrbench)
install(DIRECTORY experiments/conf/ DESTINATION share/lrbench/conf)
install(DIRECTORY experiments/suites/ DESTINATION share/lrbench/suites)

configure_package_config_file(cmake/lrbenchConfig.cmake.in ${PROJECT_BINARY_DIR}/lrbenchConfig.cmake
                              INSTALL_DESTINATION lib/cmake/lrbench)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/lrbenchConfigVersion.cmake COMPATIBILITY ExactVersion)
install(FILES ${PROJECT_BINARY_DIR}/lrbenchConfig.cmake ${PROJECT_BINARY_DIR}/lrbenchConfigVersion.cmake
        DESTINATION lib/cmake/lrbench)
