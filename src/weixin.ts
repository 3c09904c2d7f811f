/**
 * `Weixin`: the library face of an Account, shaped like Mojo::Weixin. `new Weixin(options)`, `.load(plugin, data)`,
 * `.run()`, `.stop()`, typed events, `.searchFriend/.searchGroup`, `.sendMessage`, `.sendMedia` and the operations.
 * A plugin is a function `(client, data)`; named plugins ("ShowMsg", "Openwx", …) come from the client's registry
 * (`plugins`: its own copy of the built-in ones unless the host gives its registry).
 */
import { pino } from 'pino';
import { owxError } from './errors.ts';
import { REDACT_PATHS } from './client/logger.ts';
import { Account, type AccountDeps } from './client/account.ts';
import type { MediaInput, Query, SendResult } from './client/interface.ts';
import type { ClientOptionsInput } from './client/options.ts';
import type { MediaRef } from './client/outbound.ts';
import type { Friend, Group, Member } from './model/types.ts';
import { builtinPlugins } from './plugins/builtin.ts';
import type { Plugin, PluginRegistry } from './plugins/registry.ts';

export interface WeixinOptions extends ClientOptionsInput, AccountDeps {
  /** Level of the default logger when no `logger` is given (trace … silent); default OPENWX_LOG_LEVEL or info. */
  logLevel?: string;
  /** The named plugins `load(name)` finds; default a new registry of the built-in ones (ShowMsg, Openwx). */
  plugins?: PluginRegistry;
}

export interface LoadOptions {
  /** Higher runs first (default: the registered priority, else 0). */
  priority?: number;
  /** Run now instead of in the `loading` state of `run()`. */
  callOnLoad?: boolean;
}

/** Anything that names a chat: an id, or a friend/group/member object. */
export type Target = string | Pick<Friend | Group | Member, 'id'>;

interface Loaded {
  name: string;
  fn: Plugin;
  data: unknown;
  priority: number;
  seq: number;
}

export class Weixin extends Account {
  /** Named plugins for `load(name)`: add your own with `plugins.register(name, fn, priority)`. */
  readonly plugins: PluginRegistry;
  readonly #plugins: Loaded[] = [];
  #seq = 0;

  constructor(options: WeixinOptions = {}) {
    const { logger, output, clock, logLevel, plugins, ...clientOptions } = options;
    const log = logger ?? (logLevel ? pino({ level: logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }) : undefined);
    super(clientOptions, { ...(log ? { logger: log } : {}), ...(output !== undefined ? { output } : {}), ...(clock ? { clock } : {}) });
    this.plugins = plugins ?? builtinPlugins();
    this.addLoadingHook(() => this.#callPlugins());
  }

  /** Loads a plugin function, or a registered one by name (`'ShowMsg'`, `'Openwx'`). Chainable. */
  load<D>(plugin: Plugin<D> | string, data?: D, opts: LoadOptions = {}): this {
    let fn: Plugin;
    let name: string;
    let priority = opts.priority ?? 0;
    if (typeof plugin === 'string') {
      const entry = this.plugins.get(plugin);
      if (!entry) throw owxError('OWX_ERR_CONFIG', [`unknown plugin "${plugin}"`]);
      fn = entry.fn;
      name = plugin;
      priority = opts.priority ?? entry.priority;
    } else if (typeof plugin === 'function') {
      fn = plugin as Plugin;
      name = plugin.name || 'anonymous';
    } else {
      throw owxError('OWX_ERR_CONFIG', ['a plugin is a function or a registered name']);
    }
    const entry: Loaded = { name, fn, data, priority, seq: this.#seq++ };
    if (opts.callOnLoad) void this.#call(entry);
    else this.#plugins.push(entry);
    return this;
  }

  async #callPlugins(): Promise<void> {
    const order = [...this.#plugins].sort((a, b) => b.priority - a.priority || a.seq - b.seq);
    for (const p of order) await this.#call(p);
  }

  async #call(p: Loaded): Promise<void> {
    try {
      this.logger.debug({ plugin: p.name }, 'calling plugin');
      await p.fn(this, p.data);
    } catch (err) {
      this.logger.error({ err, plugin: p.name }, `plugin ${p.name} failed`);
    }
  }

  /** The first friend matching every given attribute (Mojo's search_friend in scalar context). */
  searchFriend(q: Query): Friend | undefined {
    return this.searchFriends(q)[0];
  }

  searchGroup(q: Query): Group | undefined {
    return this.searchGroups(q)[0];
  }

  /** Text to a friend, group or member (by object or id). */
  async sendMessage(target: Target, content: string): Promise<SendResult> {
    return this.sendText(idOf(target), content);
  }

  /** Media from a path, URL, bytes, or a `media_id` of an earlier upload. A string is a path or an http(s) URL. */
  override async sendMedia(target: Target, media: MediaInput | MediaRef | string): Promise<SendResult> {
    const m = typeof media === 'string' ? (/^https?:\/\//i.test(media) ? { url: media } : { path: media }) : media;
    return super.sendMedia(idOf(target), m);
  }
}

function idOf(t: Target): string {
  const id = typeof t === 'string' ? t : t?.id;
  if (!id) throw owxError('OWX_ERR_BAD_PARAM', ['no target id']);
  return id;
}
