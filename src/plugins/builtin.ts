/** A new registry holding openwx's named plugins: ShowMsg (priority 100) and Openwx (the HTTP API, 98), as Mojo. */
import { openwxPlugin } from '../host/openwx-plugin.ts';
import { PluginRegistry } from './registry.ts';
import { ShowMsg } from './show-msg.ts';

export function builtinPlugins(): PluginRegistry {
  return new PluginRegistry().register('ShowMsg', ShowMsg as never, 100).register('Openwx', openwxPlugin as never, 98);
}
