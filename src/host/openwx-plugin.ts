/**
 * The named plugin `Openwx` for `Weixin#load("Openwx", {listen, post_api, …})` (Mojo's
 * `$client->load("Openwx", data => {...})`, priority 98). It starts the API while the client is loading, before
 * login, as Mojo does. If the API cannot start (address in use, bad setting) the client stops, as Mojo's did.
 * The handle is closed (reports flushed) when the client stops.
 */
import type { Weixin } from '../weixin.ts';
import { startOpenwx, type OpenwxHandle, type StartOpenwxOptions } from './index.ts';

export interface OpenwxPluginData extends Partial<StartOpenwxOptions> {
  /** Receives the running API (its URLs, check_event queue, close()). */
  onStart?: (handle: OpenwxHandle) => void;
}

export async function openwxPlugin(client: Weixin, data: OpenwxPluginData = {}): Promise<void> {
  const { onStart, ...o } = data;
  let handle: OpenwxHandle;
  try {
    // The outbox and the message history live in the client's data folder (openwx.db), unless told otherwise.
    handle = await startOpenwx(client, { ...o, dataDir: o.dataDir ?? client.options.dataDir, logger: o.logger ?? client.logger });
  } catch (err) {
    client.logger.error({ err }, 'Openwx API could not start; stopping the client');
    await client.stop(`Openwx: ${(err as Error)?.message ?? String(err)}`);
    throw err;
  }
  client.logger.info({ urls: handle.urls }, 'Openwx API listening');
  client.once('stop', () => {
    handle.close().catch((err: unknown) => client.logger.warn({ err }, 'Openwx API close failed'));
  });
  onStart?.(handle);
}
