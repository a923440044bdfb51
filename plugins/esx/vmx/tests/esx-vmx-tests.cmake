# Included at the end of the top-level directory (see ../CMakeLists.txt), so
# paths go through CMAKE_CURRENT_LIST_DIR.
# esx-vmx-tests: VMX <-> domain XML, against libvirt's vmx2xmldata corpus
# ([conformance]) and against bad input ([vmx-bad-input]).
file(GLOB ESX_VMX_TEST_SOURCES CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/*.cpp")
add_executable(esx-vmx-tests ${ESX_VMX_TEST_SOURCES})
target_link_libraries(esx-vmx-tests PRIVATE virtkit-catch-main virtkit-esx-vmx)
target_compile_definitions(esx-vmx-tests PRIVATE
  VIRTKIT_CONFORMANCE_DIR="${VIRTKIT_CONFORMANCE_DIR}")
set_target_properties(esx-vmx-tests PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/tests")
catch_discover_tests(esx-vmx-tests TEST_PREFIX "esx-vmx: ")
