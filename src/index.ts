/**
 * openwx as a library: `import { Weixin } from 'openwx'`.
 *
 *   const client = new Weixin({ dataDir: './data' });
 *   client.load('ShowMsg');
 *   client.on('receive_message', (msg) => { if (msg.content === 'ping') void client.sendMessage(msg.sender_id!, 'pong'); });
 *   await client.run();
 */
export { Weixin, type WeixinOptions, type LoadOptions, type Target } from './weixin.ts';
export { Account, type AccountDeps } from './client/account.ts';
export { parseClientOptions, ClientOptionsSchema, type ClientOptions, type ClientOptionsInput } from './client/options.ts';
export type {
  WxClient, ClientEvents, ClientEventName, SendResult, MediaInput, UploadedMedia, Avatar, Query, DurabilityBarrier,
} from './client/interface.ts';
export type { MediaRef } from './client/outbound.ts';
export type {
  User, Friend, Group, GroupBasic, Member, Message, ClientState, MessageType, MessageClass, MessageFormat, MediaType, Sex, Category,
} from './model/types.ts';
export { STATES } from './model/types.ts';
export { OpenwxError, ErrorDefs, owxError, isOpenwxError, type ErrorCode } from './errors.ts';
export { PluginRegistry, type Plugin, type PluginEntry } from './plugins/registry.ts';
export { builtinPlugins } from './plugins/builtin.ts';
export { ShowMsg, formatMessage, type ShowMsgData } from './plugins/show-msg.ts';
export { startOpenwx, startController, Host, type OpenwxHandle, type StartOpenwxOptions, type OpenwxOptions, type HostOptions, type AccountFactory } from './host/index.ts';
export type { Delivery, Report, ReportMedia, DeliveredResponse } from './delivery/sink.ts';
