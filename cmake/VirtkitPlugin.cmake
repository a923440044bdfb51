# virtkit_add_plugin(<id> SOURCES ...
#                    [URI_SCHEMES scheme...] [VERSION v] [DESCRIPTION text] [ABI_MIN_MINOR n]
#                    [MANIFEST <file.yaml.in>] [OUTPUT_DIR dir] [NO_INSTALL])
#
# Builds a plugin as a MODULE library named libvirtkit-<id>.so with hidden
# visibility and a version script that exports only virtkit_plugin_entry,
# links nothing of the core, and writes its manifest <id>.yaml beside it.
#
# The manifest is generated from URI_SCHEMES (default: <id>), VERSION (default:
# PROJECT_VERSION), DESCRIPTION and ABI_MIN_MINOR (default 0), unless MANIFEST
# names a template, which may use @VIRTKIT_PLUGIN_ID@, @VIRTKIT_PLUGIN_LIBRARY@,
# @VIRTKIT_PLUGIN_VERSION@, @VIRTKIT_PLUGIN_ABI_MAJOR@.
#
# This one file serves both the virtkit tree and the installed SDK (the SDK's
# VirtKitConfig.cmake includes its installed copy), so in-tree and third-party
# plugins are built the same way.  Whoever includes it may set first:
#   VIRTKIT_PLUGIN_HEADER       plugin.h to read the ABI version from
#   VIRTKIT_PLUGIN_OUTPUT_DIR   where plugins are built (default <build>/plugins)
#   VIRTKIT_PLUGIN_INSTALL_DIR  where they are installed (default <libdir>/virtkit/plugins)
include_guard(GLOBAL)
include(GNUInstallDirs)

set(VIRTKIT_PLUGIN_VERSION_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/plugin.map")
if(NOT DEFINED VIRTKIT_PLUGIN_HEADER)
  set(VIRTKIT_PLUGIN_HEADER "${CMAKE_CURRENT_LIST_DIR}/../plugin-api/include/virtkit/plugin.h")
endif()
if(NOT DEFINED VIRTKIT_PLUGIN_INSTALL_DIR)
  set(VIRTKIT_PLUGIN_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/virtkit/plugins")
endif()

# The ABI version comes from the header itself, so a manifest can never
# disagree with the descriptor the same build compiles.
foreach(part MAJOR MINOR)
  file(STRINGS "${VIRTKIT_PLUGIN_HEADER}" _virtkit_abi_line
       REGEX "^#define VIRTKIT_PLUGIN_ABI_${part} [0-9]+")
  string(REGEX REPLACE "^#define VIRTKIT_PLUGIN_ABI_${part} ([0-9]+).*" "\\1"
         VIRTKIT_PLUGIN_ABI_${part} "${_virtkit_abi_line}")
  if(NOT VIRTKIT_PLUGIN_ABI_${part} MATCHES "^[0-9]+$")
    message(FATAL_ERROR "cannot read VIRTKIT_PLUGIN_ABI_${part} from ${VIRTKIT_PLUGIN_HEADER}")
  endif()
endforeach()

# YAML double-quoted scalar.
function(_virtkit_yaml_quote out text)
  string(REPLACE "\\" "\\\\" text "${text}")
  string(REPLACE "\"" "\\\"" text "${text}")
  set(${out} "\"${text}\"" PARENT_SCOPE)
endfunction()

function(virtkit_add_plugin id)
  cmake_parse_arguments(P "NO_INSTALL" "MANIFEST;OUTPUT_DIR;VERSION;DESCRIPTION;ABI_MIN_MINOR"
                        "SOURCES;URI_SCHEMES" ${ARGN})
  if(P_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "virtkit_add_plugin(${id}): unknown arguments ${P_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT id MATCHES "^[A-Za-z0-9_.-]+$")
    message(FATAL_ERROR "virtkit_add_plugin(${id}): an id may use only letters, digits, '_', '-' and '.'")
  endif()
  set(target "virtkit-plugin-${id}")
  if(NOT P_OUTPUT_DIR)
    if(DEFINED VIRTKIT_PLUGIN_OUTPUT_DIR)
      set(P_OUTPUT_DIR "${VIRTKIT_PLUGIN_OUTPUT_DIR}")
    else()
      set(P_OUTPUT_DIR "${CMAKE_BINARY_DIR}/plugins")
    endif()
  endif()
  if(NOT P_VERSION)
    set(P_VERSION "${PROJECT_VERSION}")
  endif()
  if(NOT P_VERSION)
    message(FATAL_ERROR "virtkit_add_plugin(${id}): give VERSION or a project(... VERSION x.y.z)")
  endif()
  if(NOT P_URI_SCHEMES)
    set(P_URI_SCHEMES "${id}")
  endif()
  if(NOT DEFINED P_ABI_MIN_MINOR)
    set(P_ABI_MIN_MINOR 0)
  endif()

  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE virtkit::plugin-api)
  set_target_properties(${target} PROPERTIES
    PREFIX "lib" OUTPUT_NAME "virtkit-${id}"
    LIBRARY_OUTPUT_DIRECTORY "${P_OUTPUT_DIR}"
    C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${target} PRIVATE
    "LINKER:--version-script=${VIRTKIT_PLUGIN_VERSION_SCRIPT}" "LINKER:--no-undefined")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${VIRTKIT_PLUGIN_VERSION_SCRIPT}")

  set(VIRTKIT_PLUGIN_ID "${id}")
  set(VIRTKIT_PLUGIN_LIBRARY "libvirtkit-${id}.so")
  set(VIRTKIT_PLUGIN_VERSION "${P_VERSION}")
  set(manifest "${P_OUTPUT_DIR}/${id}.yaml")
  if(P_MANIFEST)
    configure_file("${P_MANIFEST}" "${manifest}" @ONLY)
  else()
    string(JOIN ", " schemes ${P_URI_SCHEMES})
    _virtkit_yaml_quote(version "${P_VERSION}")
    set(text "manifest_version: 1\nid: ${id}\nlibrary: ${VIRTKIT_PLUGIN_LIBRARY}\nversion: ${version}\n")
    string(APPEND text "abi: { major: ${VIRTKIT_PLUGIN_ABI_MAJOR}, min_minor: ${P_ABI_MIN_MINOR} }\n")
    string(APPEND text "uri_schemes: [${schemes}]\n")
    if(P_DESCRIPTION)
      _virtkit_yaml_quote(description "${P_DESCRIPTION}")
      string(APPEND text "description: ${description}\n")
    endif()
    file(CONFIGURE OUTPUT "${manifest}" CONTENT "${text}" @ONLY)
  endif()
  # Packaging turns the manifest's abi.min_minor into a package dependency.
  file(STRINGS "${manifest}" min_minor_line REGEX "min_minor: *[0-9]+")
  string(REGEX REPLACE ".*min_minor: *([0-9]+).*" "\\1" min_minor "${min_minor_line}")
  set_property(GLOBAL PROPERTY VIRTKIT_PLUGIN_ABI_MIN_MINOR_${id} "${min_minor}")

  if(NOT P_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION "${VIRTKIT_PLUGIN_INSTALL_DIR}" COMPONENT plugin-${id})
    install(FILES "${manifest}" DESTINATION "${VIRTKIT_PLUGIN_INSTALL_DIR}" COMPONENT plugin-${id})
  endif()
endfunction()
