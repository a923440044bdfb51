#include "capabilities.hpp"

namespace virtkit::testdriver {

namespace {

void appendTopology(std::string &xml, const NodeInfo &node)
{
    if (node.cells.empty())
        return;
    xml += "    <topology>\n      <cells num='" + std::to_string(node.cells.size()) + "'>\n";
    for (std::size_t i = 0; i < node.cells.size(); ++i) {
        const NumaCell &cell = node.cells[i];
        xml += "        <cell id='" + std::to_string(i) + "'>\n";
        xml += "          <memory unit='KiB'>" + std::to_string(cell.memoryKiB) + "</memory>\n";
        xml += "          <cpus num='" + std::to_string(cell.cpus.size()) + "'>\n";
        for (const HostCpu &cpu : cell.cpus)
            xml += "            <cpu id='" + std::to_string(cpu.id) + "' socket_id='" + std::to_string(cpu.socket) +
                   "' die_id='0' cluster_id='0' core_id='" + std::to_string(cpu.core) + "' siblings='" +
                   cpu.siblings + "'/>\n";
        xml += "          </cpus>\n        </cell>\n";
    }
    xml += "      </cells>\n    </topology>\n";
}

void appendGuest(std::string &xml, const char *osType)
{
    xml += "  <guest>\n";
    xml += "    <os_type>" + std::string(osType) + "</os_type>\n";
    xml += "    <arch name='i686'>\n";
    xml += "      <wordsize>32</wordsize>\n";
    xml += "      <emulator>/usr/bin/test-hv</emulator>\n";
    xml += "      <domain type='test'/>\n";
    xml += "    </arch>\n";
    xml += "    <features>\n      <pae/>\n      <nonpae/>\n    </features>\n";
    xml += "  </guest>\n\n";
}

}  // namespace

std::string capabilitiesXml(const NodeInfo &node)
{
    std::string xml = "<capabilities>\n\n  <host>\n";
    xml += "    <cpu>\n      <arch>i686</arch>\n      <features>\n        <pae/>\n        <nonpae/>\n"
           "      </features>\n    </cpu>\n";
    appendTopology(xml, node);
    xml += "    <secmodel>\n      <model>testSecurity</model>\n      <doi></doi>\n    </secmodel>\n";
    xml += "  </host>\n\n";
    appendGuest(xml, "hvm");
    appendGuest(xml, "xen");
    xml += "</capabilities>\n";
    return xml;
}

}  // namespace virtkit::testdriver
