# Included at the end of the top-level directory (the Catch2 main and
# enable_testing exist only there), so paths go through CMAKE_CURRENT_LIST_DIR.
# lxc-tests: definitions, native config and conformance ([lxc]) and real
# containers built from busybox-static ([lxc-real], root only).
file(GLOB LXC_TEST_SOURCES CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/*.cpp")
add_executable(lxc-tests ${LXC_TEST_SOURCES})
target_link_libraries(lxc-tests PRIVATE virtkit-catch-main virtkit-lxc-impl)
add_dependencies(lxc-tests virtkit-lxc-supervisor)
target_compile_definitions(lxc-tests PRIVATE
  VIRTKIT_CONFORMANCE_DIR="${VIRTKIT_CONFORMANCE_DIR}"
  VIRTKIT_LXC_SUPERVISOR_PATH="$<TARGET_FILE:virtkit-lxc-supervisor>"
  VIRTKIT_LXC_TEST_HELPER_SOURCE="${CMAKE_CURRENT_LIST_DIR}")
# The CLI test drives bin/virtkit, which finds the plugin and its supervisor
# as an installed tree would.
add_dependencies(lxc-tests virtkit-plugin-lxc)
if(TARGET virtkit)
  target_compile_definitions(lxc-tests PRIVATE VIRTKIT_CLI_PATH="$<TARGET_FILE:virtkit>")
  add_dependencies(lxc-tests virtkit)
endif()
set_target_properties(lxc-tests PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/tests")
catch_discover_tests(lxc-tests TEST_PREFIX "lxc: ")
