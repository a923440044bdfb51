# Debian packages with CPack, one per install component (docs/packaging.md):
#   virtkit-core          the core library; Provides: virtkit-plugin-abi-<major> (= <major>.<minor>)
#   virtkit-cli           bin/virtkit; Depends: virtkit-core
#   virtkit-daemon        sbin/virtkitd and its systemd units; Depends: virtkit-core
#   virtkit-sdk           headers, CMake package, pkg-config, examples, virtkit-driver-check
#   virtkit-plugin-<id>   one per plugin component, found automatically;
#                         Depends: virtkit-plugin-abi-<major> (>= <major>.<min minor>)
# The ABI major is in the package *name* of the virtual package, so a plugin
# built for another major can never be installed beside this core.
#
#   cpack -G DEB --config <build>/CPackConfig.cmake
#
# The package list is computed after the whole tree is configured (deferred),
# so a plugin added later gets its package without touching this file.
include_guard(GLOBAL)

set(VIRTKIT_PACKAGE_ABI "virtkit-plugin-abi-${VIRTKIT_PLUGIN_ABI_MAJOR}")
option(VIRTKIT_DEB_SHLIBDEPS "Compute library dependencies of the .deb files with dpkg-shlibdeps" ON)

function(_virtkit_configure_packaging)
  get_cmake_property(components COMPONENTS)
  list(REMOVE_ITEM components Unspecified)

  set(CPACK_PACKAGE_NAME virtkit)
  set(CPACK_PACKAGE_VENDOR virtkit)
  set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
  set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "virtkit: ${PROJECT_DESCRIPTION}")
  set(CPACK_PACKAGE_CONTACT "virtkit maintainers <virtkit@localhost>")
  set(CPACK_GENERATOR DEB)
  set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(CPACK_COMPONENTS_ALL ${components})
  set(CPACK_DEB_COMPONENT_INSTALL ON)
  set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
  set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
  set(CPACK_DEBIAN_PACKAGE_SECTION admin)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ${VIRTKIT_DEB_SHLIBDEPS})
  # The core library is in another package: let dpkg-shlibdeps find it there.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${PROJECT_BINARY_DIR}/${CMAKE_INSTALL_LIBDIR}")

  set(CPACK_COMPONENT_CORE_DESCRIPTION "virtkit core library: connections, domain XML, events, plugin loader")
  set(CPACK_DEBIAN_CORE_PACKAGE_PROVIDES "${VIRTKIT_PACKAGE_ABI} (= ${VIRTKIT_PLUGIN_ABI_MAJOR}.${VIRTKIT_PLUGIN_ABI_MINOR})")
  set(CPACK_DEBIAN_CORE_PACKAGE_SECTION libs)
  set(CPACK_COMPONENT_CLI_DESCRIPTION "virtkit command line tool (virsh's look and feel)")
  set(CPACK_COMPONENT_CLI_DEPENDS core)
  set(CPACK_COMPONENT_DAEMON_DESCRIPTION
      "virtkitd: owns the driver connections and serves them over UNIX sockets and TLS (systemd units included)")
  set(CPACK_COMPONENT_REMOTE_DESCRIPTION
      "virtkit remote driver: reaches virtkitd over its UNIX sockets, TLS, TCP or ssh (loaded on demand by the core)")
  set(CPACK_COMPONENT_REMOTE_DEPENDS core)
  set(CPACK_DEBIAN_REMOTE_PACKAGE_SECTION libs)
  set(CPACK_COMPONENT_DAEMON_DEPENDS core remote)  # p2p migration speaks to the other daemon
  set(CPACK_DEBIAN_DAEMON_PACKAGE_SECTION admin)
  set(CPACK_COMPONENT_SDK_DESCRIPTION
      "virtkit driver SDK: plugin ABI headers, C++ helper, CMake and pkg-config files, examples, virtkit-driver-check")
  set(CPACK_COMPONENT_SDK_DEPENDS core)
  set(CPACK_DEBIAN_SDK_PACKAGE_SECTION libdevel)

  foreach(component IN LISTS components)
    string(TOUPPER "${component}" upper)
    set(CPACK_DEBIAN_${upper}_PACKAGE_NAME "virtkit-${component}")
    if(component MATCHES "^plugin-(.+)$")
      set(id "${CMAKE_MATCH_1}")
      get_property(min_minor GLOBAL PROPERTY VIRTKIT_PLUGIN_ABI_MIN_MINOR_${id})
      if(min_minor STREQUAL "")
        set(min_minor 0)
      endif()
      set(CPACK_COMPONENT_${upper}_DESCRIPTION "virtkit '${id}' driver plugin")
      set(CPACK_DEBIAN_${upper}_PACKAGE_DEPENDS
          "${VIRTKIT_PACKAGE_ABI} (>= ${VIRTKIT_PLUGIN_ABI_MAJOR}.${min_minor})")
      set(CPACK_DEBIAN_${upper}_PACKAGE_ENHANCES "virtkit-cli")
    endif()
  endforeach()

  include(CPack)
endfunction()

cmake_language(DEFER DIRECTORY "${PROJECT_SOURCE_DIR}" CALL _virtkit_configure_packaging)
