# The ABI guard: compares <virtkit/plugin.h> with the committed baseline of its
# ABI major (abi/plugin-abi-<major>.<minor>.xml + .defines), using libabigail.
#
#   cmake -DMODE=check|baseline -DHEADER_DIR=<dir holding virtkit/plugin.h>
#         -DBASELINE_DIR=<abi dir> -DWORK_DIR=<scratch dir> -DCC=<C compiler>
#         -DABIDW=<abidw> -DABIDIFF=<abidiff> -P check-abi.cmake
#
# What passes (docs/abi.md, "How the guard works"):
#   - the same ABI as the newest baseline of this major;
#   - members or slots appended at the end of structs, enumerators and
#     #defines added, *and* VIRTKIT_PLUGIN_ABI_MINOR raised above the baseline's.
# Everything else fails: removed, reordered, renamed or retyped members or
# slots, changed enumerator or #define values, a minor that went backwards.
# A new major needs a new baseline (MODE=baseline writes it).
cmake_minimum_required(VERSION 3.25)

foreach(var MODE HEADER_DIR BASELINE_DIR WORK_DIR CC ABIDW ABIDIFF)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "check-abi: -D${var}=... is required")
  endif()
endforeach()
foreach(tool ABIDW ABIDIFF)
  if(NOT EXISTS "${${tool}}")
    message(FATAL_ERROR "check-abi: ${tool} not found ('${${tool}}'); install Debian's abigail-tools")
  endif()
endforeach()

set(header "${HEADER_DIR}/virtkit/plugin.h")
file(STRINGS "${header}" header_defines REGEX "^#define VIRTKIT_[A-Z0-9_]+ ")
foreach(line IN LISTS header_defines)
  if(line MATCHES "^#define (VIRTKIT_PLUGIN_ABI_(MAJOR|MINOR)) ([0-9]+)")
    set(${CMAKE_MATCH_1} "${CMAKE_MATCH_3}")
  endif()
endforeach()
if(NOT DEFINED VIRTKIT_PLUGIN_ABI_MAJOR OR NOT DEFINED VIRTKIT_PLUGIN_ABI_MINOR)
  message(FATAL_ERROR "check-abi: ${header} defines no VIRTKIT_PLUGIN_ABI_MAJOR/MINOR")
endif()
set(major "${VIRTKIT_PLUGIN_ABI_MAJOR}")
set(minor "${VIRTKIT_PLUGIN_ABI_MINOR}")

# #defines that are part of the contract: every one but the version itself,
# "NAME value" with the comment stripped.
set(defines "")
foreach(line IN LISTS header_defines)
  if(line MATCHES "^#define (VIRTKIT_[A-Z0-9_]+) +([^/]*[^/ ])")
    set(define_name "${CMAKE_MATCH_1}")
    set(define_value "${CMAKE_MATCH_2}")
    if(NOT define_name MATCHES "^VIRTKIT_PLUGIN_ABI_")
      string(APPEND defines "${define_name} ${define_value}\n")
    endif()
  endif()
endforeach()

# Compile the probe (relative paths keep the build machine out of the XML).
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
configure_file("${CMAKE_CURRENT_LIST_DIR}/probe.c" "${WORK_DIR}/probe.c" COPYONLY)
execute_process(
  COMMAND "${CC}" -std=c99 -shared -fPIC -g -O0 -fvisibility=hidden -I "${HEADER_DIR}" -o probe.so probe.c
  WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check-abi: the ABI probe does not compile against ${header}:\n${err}")
endif()
execute_process(
  COMMAND "${ABIDW}" --no-corpus-path --no-comp-dir-path --no-show-locs --out-file current.xml probe.so
  WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check-abi: abidw failed:\n${err}")
endif()

if(MODE STREQUAL "baseline")
  configure_file("${WORK_DIR}/current.xml" "${BASELINE_DIR}/plugin-abi-${major}.${minor}.xml" COPYONLY)
  file(WRITE "${BASELINE_DIR}/plugin-abi-${major}.${minor}.defines" "${defines}")
  message(STATUS "check-abi: wrote baseline ${BASELINE_DIR}/plugin-abi-${major}.${minor}.xml; commit it")
  return()
endif()

# The newest baseline of this major.
file(GLOB baselines "${BASELINE_DIR}/plugin-abi-${major}.*.xml")
set(base_minor -1)
foreach(file IN LISTS baselines)
  if(file MATCHES "plugin-abi-${major}\\.([0-9]+)\\.xml$" AND CMAKE_MATCH_1 GREATER base_minor)
    set(base_minor "${CMAKE_MATCH_1}")
  endif()
endforeach()
if(base_minor EQUAL -1)
  message(FATAL_ERROR "check-abi: no baseline for ABI major ${major} in ${BASELINE_DIR}. A new major "
                      "needs one: run `cmake --build <build> --target abi-baseline` and commit "
                      "abi/plugin-abi-${major}.${minor}.xml and .defines (docs/abi.md)")
endif()
set(base "${BASELINE_DIR}/plugin-abi-${major}.${base_minor}")
if(minor LESS base_minor)
  message(FATAL_ERROR "check-abi: plugin.h says ABI ${major}.${minor}, older than the baseline ${major}.${base_minor}")
endif()

# 1. #defines: each baseline one keeps its value.
file(STRINGS "${base}.defines" base_defines)
set(broken_defines "")
foreach(line IN LISTS base_defines)
  string(FIND "${defines}" "${line}\n" at)
  if(at EQUAL -1)
    string(APPEND broken_defines "  ${line}\n")
  endif()
endforeach()
if(broken_defines)
  message(FATAL_ERROR "check-abi: ABI break against ${major}.${base_minor} without a major bump: these "
                      "#defines were removed or changed:\n${broken_defines}")
endif()

# 2. Layout: cut each struct of the current ABI back to the baseline's members
#    and size; what is left must be identical to the baseline.  So appended
#    members pass, and any change among the old ones (order, name, type,
#    function-pointer signature) fails.
file(READ "${base}.xml" base_xml)
file(READ "${WORK_DIR}/current.xml" xml)
string(REGEX MATCHALL "<class-decl name='[a-z_]+' size-in-bits='[0-9]+'" base_structs "${base_xml}")
foreach(head IN LISTS base_structs)
  string(REGEX MATCH "name='([a-z_]+)' size-in-bits='([0-9]+)'" _ "${head}")
  set(name "${CMAKE_MATCH_1}")
  set(base_size "${CMAKE_MATCH_2}")
  # members of the struct in the baseline
  string(FIND "${base_xml}" "<class-decl name='${name}' " start)
  string(SUBSTRING "${base_xml}" ${start} -1 rest)
  string(FIND "${rest}" "</class-decl>" end)
  string(SUBSTRING "${rest}" 0 ${end} block)
  string(REGEX MATCHALL "</data-member>" members "${block}")
  list(LENGTH members keep)
  string(REGEX MATCHALL "var-decl name='[a-z_0-9]+'" base_names "${block}")
  string(REGEX REPLACE "var-decl name='([a-z_0-9]+)'" "\\1" base_names "${base_names}")
  # the same struct in the current ABI, truncated after `keep` members
  string(FIND "${xml}" "<class-decl name='${name}' " start)
  if(start EQUAL -1)
    message(FATAL_ERROR "check-abi: ABI break: struct ${name} of ABI ${major}.${base_minor} is gone")
  endif()
  string(SUBSTRING "${xml}" 0 ${start} before)
  string(SUBSTRING "${xml}" ${start} -1 rest)
  string(FIND "${rest}" "</class-decl>" end)
  string(SUBSTRING "${rest}" ${end} -1 after)
  string(SUBSTRING "${rest}" 0 ${end} block)
  set(cut 0)
  foreach(i RANGE 1 ${keep})
    if(keep EQUAL 0)
      break()
    endif()
    string(SUBSTRING "${block}" ${cut} -1 tail)
    string(FIND "${tail}" "</data-member>" next)
    if(next EQUAL -1)
      message(FATAL_ERROR "check-abi: ABI break: struct ${name} has fewer members than in ABI ${major}.${base_minor}")
    endif()
    math(EXPR cut "${cut} + ${next} + 14")
  endforeach()
  string(SUBSTRING "${block}" 0 ${cut} block)
  # abidiff forgives renames (same layout); the SDK's source compatibility does not.
  string(REGEX MATCHALL "var-decl name='[a-z_0-9]+'" names "${block}")
  string(REGEX REPLACE "var-decl name='([a-z_0-9]+)'" "\\1" names "${names}")
  if(NOT names STREQUAL base_names)
    message(FATAL_ERROR "check-abi: ABI break: the members of struct ${name} were renamed or reordered:\n"
                        "  ABI ${major}.${base_minor}: ${base_names}\n  now: ${names}")
  endif()
  string(REGEX REPLACE "size-in-bits='[0-9]+'" "size-in-bits='${base_size}'" block "${block}")
  set(xml "${before}${block}\n    ${after}")
endforeach()
file(WRITE "${WORK_DIR}/current-cut.xml" "${xml}")
execute_process(COMMAND "${ABIDIFF}" "${base}.xml" current-cut.xml
  WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc OUTPUT_VARIABLE report ERROR_VARIABLE report)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check-abi: ABI break against ${major}.${base_minor} without a major bump "
                      "(abidiff, appended members ignored):\n${report}")
endif()

# 3. Growth needs a minor bump.
execute_process(COMMAND "${ABIDIFF}" "${base}.xml" current.xml
  WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc OUTPUT_VARIABLE report ERROR_VARIABLE report)
string(REGEX MATCHALL "VIRTKIT_[A-Z0-9_]+ [^\n]*\n" new_defines "${defines}")
list(LENGTH new_defines defines_now)
list(LENGTH base_defines defines_then)
if((NOT rc EQUAL 0 OR defines_now GREATER defines_then) AND minor EQUAL base_minor)
  message(FATAL_ERROR "check-abi: plugin.h grew (members, slots or #defines appended) but "
                      "VIRTKIT_PLUGIN_ABI_MINOR is still ${minor}: raise it, note the change in "
                      "docs/abi.md and annotate the new slots /* ABI ${major}.N */:\n${report}")
endif()
if(minor GREATER base_minor)
  message(STATUS "check-abi: ABI ${major}.${minor} extends baseline ${major}.${base_minor} compatibly; "
                 "add its baseline with `cmake --build <build> --target abi-baseline`")
else()
  message(STATUS "check-abi: ABI ${major}.${minor} matches the baseline")
endif()
