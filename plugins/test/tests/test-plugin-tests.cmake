# Included at the end of the top-level directory (see ../CMakeLists.txt), so
# paths here go through CMAKE_CURRENT_LIST_DIR.
# Drives the built plugin through its C ABI only: dlopen, entry, init with a
# recording host, then every operation.
file(GLOB TEST_PLUGIN_TEST_SOURCES CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/*.cpp")
add_executable(test-plugin-tests ${TEST_PLUGIN_TEST_SOURCES})
target_link_libraries(test-plugin-tests PRIVATE
  virtkit-catch-main virtkit::plugin-api PkgConfig::LIBXML2 Threads::Threads ${CMAKE_DL_LIBS})
target_compile_definitions(test-plugin-tests PRIVATE
  VIRTKIT_TEST_PLUGIN_PATH="$<TARGET_FILE:virtkit-plugin-test>"
  VIRTKIT_CONFORMANCE_DIR="${VIRTKIT_CONFORMANCE_DIR}")
add_dependencies(test-plugin-tests virtkit-plugin-test)
set_target_properties(test-plugin-tests PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/tests")
catch_discover_tests(test-plugin-tests TEST_PREFIX "test-driver: ")
