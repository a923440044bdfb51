// Hardened libxml2 parsing.  Each parse has its own parser context and error
// handler, so parses on different threads never see each other's errors and
// nothing is printed to stderr.
#include "xml_document.hpp"

#include <virtkit/error.hpp>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlsave.h>

#include <mutex>

namespace virtkit::xml {

namespace {

#if LIBXML_VERSION >= 21200
using ErrorArg = const xmlError *;
#else
using ErrorArg = xmlError *;
#endif

// What one parse reported: the first error and any entity declaration.
struct Diagnostics {
    std::string firstError;
    long errorLine = 0;
    std::string entityName;
    long entityLine = 0;
};

void onError(void *userData, ErrorArg error) {
    auto *const ctxt = static_cast<xmlParserCtxt *>(userData);
    // Both the context's handler and the thread's (ThreadHandlerGuard) pass
    // the parser context as user data.
    auto *const diag = ctxt != nullptr && ctxt->_private != nullptr ? static_cast<Diagnostics *>(ctxt->_private)
                                                                   : nullptr;
    if (diag == nullptr || error == nullptr || error->level < XML_ERR_ERROR || !diag->firstError.empty())
        return;
    std::string message = error->message != nullptr ? error->message : "unknown libxml2 error";
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    diag->firstError = message;
    diag->errorLine = error->line;
}

// Stands in for the thread's global handlers while we parse, for errors that
// libxml2 raises without a context; restores the caller's handlers after.
class ThreadHandlerGuard {
public:
    explicit ThreadHandlerGuard(xmlParserCtxt *ctxt)
        : structured_(xmlStructuredError), structuredCtx_(xmlStructuredErrorContext),
          generic_(xmlGenericError), genericCtx_(xmlGenericErrorContext) {
        xmlSetStructuredErrorFunc(ctxt, onError);
        xmlSetGenericErrorFunc(nullptr, ignoreGeneric);
    }
    ~ThreadHandlerGuard() {
        xmlSetStructuredErrorFunc(structuredCtx_, structured_);
        xmlSetGenericErrorFunc(genericCtx_, generic_);
    }
    ThreadHandlerGuard(const ThreadHandlerGuard &) = delete;
    ThreadHandlerGuard &operator=(const ThreadHandlerGuard &) = delete;

private:
    static void ignoreGeneric(void *, const char *, ...) {}
    xmlStructuredErrorFunc structured_;
    void *structuredCtx_;
    xmlGenericErrorFunc generic_;
    void *genericCtx_;
};

// Any <!ENTITY> is refused outright: without declarations there is nothing
// to expand, so entity-expansion bombs cannot start.
void recordEntity(void *userData, const xmlChar *name) {
    auto *const ctxt = static_cast<xmlParserCtxt *>(userData);
    auto *const diag = static_cast<Diagnostics *>(ctxt->_private);
    if (diag->entityName.empty()) {
        diag->entityName = name != nullptr ? reinterpret_cast<const char *>(name) : "";
        diag->entityLine = ctxt->input != nullptr ? ctxt->input->line : 0;
    }
    xmlStopParser(ctxt);
}
void onEntityDecl(void *userData, const xmlChar *name, int, const xmlChar *, const xmlChar *, xmlChar *) {
    recordEntity(userData, name);
}
void onUnparsedEntityDecl(void *userData, const xmlChar *name, const xmlChar *, const xmlChar *,
                          const xmlChar *) {
    recordEntity(userData, name);
}

struct ParserCtxtFree {
    void operator()(xmlParserCtxt *ctxt) const noexcept { xmlFreeParserCtxt(ctxt); }
};

// An entity reference left in the tree (an undeclared entity) would be
// written back verbatim; refuse it rather than guess its meaning.
const xmlNode *findEntityRef(const xmlNode *node) {
    for (; node != nullptr; node = node->next) {
        if (node->type == XML_ENTITY_REF_NODE)
            return node;
        if (node->type == XML_ELEMENT_NODE)
            if (const xmlNode *found = findEntityRef(node->children))
                return found;
    }
    return nullptr;
}

}  // namespace

void initLibrary() {
    static std::once_flag once;
    std::call_once(once, [] { xmlInitParser(); });
}

DocPtr parseHardened(const std::string &text, const std::string &what, std::size_t maxBytes) {
    initLibrary();
    if (text.empty())
        throw Error(VIRTKIT_ERR_XML, what + " is empty");
    if (text.size() > maxBytes)
        throw Error(VIRTKIT_ERR_XML, what + " is " + std::to_string(text.size()) + " bytes, more than the limit of " +
                                         std::to_string(maxBytes) + " bytes");

    const std::unique_ptr<xmlParserCtxt, ParserCtxtFree> ctxt(xmlNewParserCtxt());
    if (!ctxt || ctxt->sax == nullptr)
        throw Error(VIRTKIT_ERR_INTERNAL, "cannot create an XML parser context (out of memory?)");
    Diagnostics diag;
    ctxt->_private = &diag;
    ctxt->sax->serror = onError;
    ctxt->sax->entityDecl = onEntityDecl;
    ctxt->sax->unparsedEntityDecl = onUnparsedEntityDecl;
    const ThreadHandlerGuard guard(ctxt.get());

    // Deliberately absent: XML_PARSE_NOENT (entity substitution),
    // XML_PARSE_DTDLOAD/DTDATTR/DTDVALID (no DTD) and XML_PARSE_HUGE (keep
    // libxml2's limits on node size and depth).
    const int options = XML_PARSE_NONET | XML_PARSE_BIG_LINES;
    DocPtr doc(xmlCtxtReadMemory(ctxt.get(), text.data(), static_cast<int>(text.size()), nullptr, nullptr, options));

    if (!diag.entityName.empty())
        throw Error(VIRTKIT_ERR_XML, what + " at line " + std::to_string(diag.entityLine) + " declares the entity '" +
                                         diag.entityName +
                                         "': DOCTYPE entity declarations are refused (they allow entity-expansion "
                                         "attacks such as the 'billion laughs' XML bomb)");
    if (!diag.firstError.empty())
        throw Error(VIRTKIT_ERR_XML,
                    "malformed " + what + " at line " + std::to_string(diag.errorLine) + ": " + diag.firstError);
    if (!doc || ctxt->wellFormed == 0)
        throw Error(VIRTKIT_ERR_XML, "malformed " + what + ": the parser gave up without saying why");
    if (const xmlNode *ref = findEntityRef(doc->children))
        throw Error(VIRTKIT_ERR_XML, what + " at line " + std::to_string(lineOf(ref->parent)) +
                                         " refers to the undeclared entity '&" +
                                         reinterpret_cast<const char *>(ref->name) + ";'");
    if (xmlDocGetRootElement(doc.get()) == nullptr)
        throw Error(VIRTKIT_ERR_XML, "malformed " + what + ": there is no root element");
    return doc;
}

std::string serialize(const xmlDoc &doc) {
    initLibrary();
    const std::unique_ptr<xmlBuffer, decltype(&xmlBufferFree)> buffer(xmlBufferCreate(), xmlBufferFree);
    if (!buffer)
        throw Error(VIRTKIT_ERR_INTERNAL, "cannot allocate an XML output buffer");
    xmlSaveCtxt *const save = xmlSaveToBuffer(buffer.get(), "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
    if (save == nullptr)
        throw Error(VIRTKIT_ERR_INTERNAL, "cannot start XML serialisation");
    const long written = xmlSaveDoc(save, const_cast<xmlDoc *>(&doc));
    const int closed = xmlSaveClose(save);  // flushes into the buffer
    if (written < 0 || closed < 0)
        throw Error(VIRTKIT_ERR_INTERNAL, "cannot serialise the XML document");
    std::string out(reinterpret_cast<const char *>(xmlBufferContent(buffer.get())),
                    static_cast<std::size_t>(xmlBufferLength(buffer.get())));
    if (out.empty() || out.back() != '\n')
        out += '\n';
    return out;
}

long lineOf(const xmlNode *node) { return node != nullptr ? xmlGetLineNo(node) : 0; }

std::string contentOf(const xmlNode *node) {
    if (node == nullptr)
        return {};
    xmlChar *const content = xmlNodeGetContent(node);
    if (content == nullptr)
        return {};
    std::string out(reinterpret_cast<const char *>(content));
    xmlFree(content);
    return out;
}

}  // namespace virtkit::xml
