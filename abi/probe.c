/* The ABI probe: a tiny shared object whose one exported function reaches
 * every boundary type of <virtkit/plugin.h>, so libabigail's abidw can record
 * their layout (members, offsets, sizes, enumerator values) from DWARF. */
#include <virtkit/plugin.h>

VIRTKIT_PLUGIN_EXPORT void virtkit_abi_probe(virtkit_error *error, virtkit_domain_ident *ident,
                                             virtkit_domain_info *info, virtkit_event *event,
                                             virtkit_host_services *host, virtkit_driver_ops *ops,
                                             virtkit_plugin_descriptor *descriptor, virtkit_plugin_entry_fn entry,
                                             virtkit_error_code code, virtkit_domain_state state,
                                             virtkit_event_kind kind, virtkit_lifecycle_event lifecycle,
                                             virtkit_log_level level);

VIRTKIT_PLUGIN_EXPORT void virtkit_abi_probe(virtkit_error *error, virtkit_domain_ident *ident,
                                             virtkit_domain_info *info, virtkit_event *event,
                                             virtkit_host_services *host, virtkit_driver_ops *ops,
                                             virtkit_plugin_descriptor *descriptor, virtkit_plugin_entry_fn entry,
                                             virtkit_error_code code, virtkit_domain_state state,
                                             virtkit_event_kind kind, virtkit_lifecycle_event lifecycle,
                                             virtkit_log_level level)
{
    (void)error, (void)ident, (void)info, (void)event, (void)host, (void)ops, (void)descriptor, (void)entry;
    (void)code, (void)state, (void)kind, (void)lifecycle, (void)level;
}
