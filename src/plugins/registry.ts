/**
 * Named plugins for `Weixin#load(name, data)` (Mojo's `$client->load("ShowMsg")`). A plugin is a function receiving
 * the client and its data. Other parts of openwx add theirs with `registerPlugin` (the API adds "Openwx") without
 * editing the library entry. The registry holds code (name → function), never per-account state.
 */
import type { Weixin } from '../weixin.ts';

export type Plugin<D = any> = (client: Weixin, data: D) => void | Promise<void>;

export interface PluginEntry {
  fn: Plugin;
  /** Higher runs first (Mojo: ShowMsg 100, Openwx 98). */
  priority: number;
}

const plugins = new Map<string, PluginEntry>();

export function registerPlugin(name: string, fn: Plugin, priority = 0): void {
  if (!/^[A-Za-z][\w-]*$/.test(name)) throw new TypeError(`bad plugin name: ${name}`);
  plugins.set(name, { fn, priority });
}

export function getPlugin(name: string): PluginEntry | undefined {
  return plugins.get(name);
}

export function pluginNames(): string[] {
  return [...plugins.keys()].sort();
}
