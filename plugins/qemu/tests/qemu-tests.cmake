# Included at the end of the top-level directory (see ../CMakeLists.txt: the
# Catch2 main and enable_testing exist only there), so paths go through
# CMAKE_CURRENT_LIST_DIR.
# qemu-tests: the backend's parts against fakes ([qemu]) and against a real
# qemu-system-x86_64 ([qemu-real]).
file(GLOB QEMU_TEST_SOURCES CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/*.cpp")
add_executable(qemu-tests ${QEMU_TEST_SOURCES})
target_link_libraries(qemu-tests PRIVATE virtkit-catch-main virtkit-qemu-impl ${CMAKE_DL_LIBS})
target_compile_definitions(qemu-tests PRIVATE
  VIRTKIT_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  VIRTKIT_CONFORMANCE_DIR="${VIRTKIT_CONFORMANCE_DIR}")
if(TARGET virtkit-plugin-qemu)
  target_compile_definitions(qemu-tests PRIVATE VIRTKIT_QEMU_PLUGIN_PATH="$<TARGET_FILE:virtkit-plugin-qemu>")
  add_dependencies(qemu-tests virtkit-plugin-qemu)
endif()
set_target_properties(qemu-tests PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/tests")
if(TARGET qemu-test-guest)  # defined in ../CMakeLists.txt
  add_dependencies(qemu-tests qemu-test-guest)
  target_compile_definitions(qemu-tests PRIVATE VIRTKIT_QEMU_TEST_GUEST="${VIRTKIT_QEMU_TEST_GUEST}")
endif()
catch_discover_tests(qemu-tests TEST_PREFIX "qemu: ")
