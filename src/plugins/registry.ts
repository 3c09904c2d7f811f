/**
 * Named plugins for `Weixin#load(name, data)` (Mojo's `$client->load("ShowMsg")`). A plugin is a function receiving
 * the client and its data. A registry is an object owned by whoever hosts clients (each Weixin has one; the
 * Controller gives its accounts the host's): no module state, no registration as an import side effect. It holds
 * code (name → function), never per-account state.
 */
import type { WxClient } from '../client/interface.ts';

export type Plugin<D = any, C extends WxClient = any> = (client: C, data: D) => void | Promise<void>;

export interface PluginEntry {
  fn: Plugin;
  /** Higher runs first (Mojo: ShowMsg 100, Openwx 98). */
  priority: number;
}

const PLUGIN_NAME = /^[A-Za-z][\w-]*$/;

export class PluginRegistry {
  readonly #plugins = new Map<string, PluginEntry>();

  /** Adds (or replaces) a named plugin. Chainable. */
  register(name: string, fn: Plugin, priority = 0): this {
    if (!PLUGIN_NAME.test(name)) throw new TypeError(`bad plugin name: ${name}`);
    this.#plugins.set(name, { fn, priority });
    return this;
  }

  get(name: string): PluginEntry | undefined {
    return this.#plugins.get(name);
  }

  names(): string[] {
    return [...this.#plugins.keys()].sort();
  }
}
