# Included at the end of the top-level directory (see ../CMakeLists.txt), so
# paths go through CMAKE_CURRENT_LIST_DIR.
# esx-tests: the vSphere client and the plugin against VMware's own simulator
# (govmomi's vcsim, built here from Debian's golang-github-vmware-govmomi-dev
# with Debian's Go), plus fakes for what vcsim cannot do on cue.
set(ESX_TEST_DIR "${PROJECT_BINARY_DIR}/tests/esx")
find_program(VIRTKIT_GO_EXECUTABLE go)
set(VIRTKIT_GOVMOMI_PATH "/usr/share/gocode" CACHE PATH "GOPATH holding github.com/vmware/govmomi")
set(ESX_GO_TOOLS "")
if(VIRTKIT_GO_EXECUTABLE AND EXISTS "${VIRTKIT_GOVMOMI_PATH}/src/github.com/vmware/govmomi/simulator")
  foreach(tool vcsim govmomi-list)
    file(GLOB tool_sources "${CMAKE_CURRENT_LIST_DIR}/${tool}/*.go")
    add_custom_command(
      OUTPUT "${ESX_TEST_DIR}/${tool}"
      COMMAND ${CMAKE_COMMAND} -E env GOPATH=${VIRTKIT_GOVMOMI_PATH} GO111MODULE=off
              GOCACHE=${ESX_TEST_DIR}/gocache
              ${VIRTKIT_GO_EXECUTABLE} build -o "${ESX_TEST_DIR}/${tool}" .
      WORKING_DIRECTORY "${CMAKE_CURRENT_LIST_DIR}/${tool}"
      DEPENDS ${tool_sources}
      COMMENT "Building ${tool} (Go, govmomi) for the esx tests"
      VERBATIM)
    list(APPEND ESX_GO_TOOLS "${ESX_TEST_DIR}/${tool}")
  endforeach()
  add_custom_target(esx-go-tools DEPENDS ${ESX_GO_TOOLS})
  set(ESX_VCSIM "${ESX_TEST_DIR}/vcsim")
  set(ESX_GOVMOMI_LIST "${ESX_TEST_DIR}/govmomi-list")
else()
  message(STATUS "esx tests: Go or govmomi not found; the tests against vcsim will skip")
  set(ESX_VCSIM "")
  set(ESX_GOVMOMI_LIST "")
endif()

file(GLOB ESX_TEST_SOURCES CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/*.cpp")
add_executable(esx-tests ${ESX_TEST_SOURCES})
target_link_libraries(esx-tests PRIVATE virtkit-catch-main virtkit-esx-impl virtkit::core ${CMAKE_DL_LIBS})
target_compile_definitions(esx-tests PRIVATE
  VIRTKIT_ESX_VCSIM="${ESX_VCSIM}"
  VIRTKIT_ESX_GOVMOMI_LIST="${ESX_GOVMOMI_LIST}"
  VIRTKIT_ESX_CLI="$<TARGET_FILE:virtkit>"
  VIRTKIT_ESX_PLUGIN_PATH="$<TARGET_FILE:virtkit-plugin-esx>"
  VIRTKIT_BUILD_DIR="${PROJECT_BINARY_DIR}")
if(TARGET esx-go-tools)
  add_dependencies(esx-tests esx-go-tools)
endif()
add_dependencies(esx-tests virtkit-plugin-esx virtkit)
set_target_properties(esx-tests PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/tests")
catch_discover_tests(esx-tests TEST_PREFIX "esx: ")
