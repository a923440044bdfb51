# virtkit_add_plugin(<id> SOURCES ... [MANIFEST <file.yaml.in>] [OUTPUT_DIR dir] [NO_INSTALL])
#
# Builds a plugin as a MODULE library named libvirtkit-<id>.so with hidden
# visibility and a version script that exports only virtkit_plugin_entry,
# links nothing of the core, and writes its manifest <id>.yaml beside it.
# The manifest template may use @VIRTKIT_PLUGIN_ID@, @VIRTKIT_PLUGIN_LIBRARY@,
# @VIRTKIT_PLUGIN_VERSION@, @VIRTKIT_PLUGIN_ABI_MAJOR@.
set(VIRTKIT_PLUGIN_VERSION_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/plugin.map")

function(virtkit_add_plugin id)
  cmake_parse_arguments(P "NO_INSTALL" "MANIFEST;OUTPUT_DIR" "SOURCES" ${ARGN})
  set(target "virtkit-plugin-${id}")
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR "${VIRTKIT_PLUGIN_OUTPUT_DIR}")
  endif()
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE virtkit::plugin-api)
  set_target_properties(${target} PROPERTIES
    PREFIX "lib" OUTPUT_NAME "virtkit-${id}"
    LIBRARY_OUTPUT_DIRECTORY "${P_OUTPUT_DIR}"
    C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${target} PRIVATE
    "LINKER:--version-script=${VIRTKIT_PLUGIN_VERSION_SCRIPT}" "LINKER:--no-undefined")
  set(VIRTKIT_PLUGIN_ID "${id}")
  set(VIRTKIT_PLUGIN_LIBRARY "libvirtkit-${id}.so")
  set(VIRTKIT_PLUGIN_VERSION "${PROJECT_VERSION}")
  set(VIRTKIT_PLUGIN_ABI_MAJOR 1)
  if(P_MANIFEST)
    configure_file("${P_MANIFEST}" "${P_OUTPUT_DIR}/${id}.yaml" @ONLY)
  endif()
  if(NOT P_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION "${VIRTKIT_PLUGIN_INSTALL_DIR}" COMPONENT plugin-${id})
    if(P_MANIFEST)
      install(FILES "${P_OUTPUT_DIR}/${id}.yaml" DESTINATION "${VIRTKIT_PLUGIN_INSTALL_DIR}" COMPONENT plugin-${id})
    endif()
  endif()
endfunction()
