/**
 * MsgType 49 (app messages) → Message fields (shared/spec/mojo-weixin-reference.md §4.1, §4.3):
 * file (6) → media `file`; link (5) → `app` with Mojo's 4-line content; transfer (2000) / red packet (2001) →
 * `payment`; any other AppMsgType that carries a title or link → `app` with Mojo's 2-line content; else `unknown`.
 */
import { parseAppMsg, type AppMsg } from '../wire/appmsg.ts';
import { AppMsgType } from '../wire/constants.ts';
import { htmlDecode } from '../wire/content.ts';
import type { RawMessage } from '../wire/types.ts';
import { normalizeName } from './names.ts';
import type { Message } from './types.ts';

type Fields = Partial<Message> & Pick<Message, 'format' | 'content'>;

const or = (v: string | undefined): string => (v ? v : '未知');

/** Mojo's four-line link content. */
export function appContent4(m: Pick<Message, 'app_title' | 'app_desc' | 'app_name' | 'app_url'>): string {
  return `[应用分享]标题：${or(m.app_title)}\n[应用分享]描述：${or(m.app_desc)}\n[应用分享]应用：${or(m.app_name)}\n[应用分享]链接：${or(m.app_url)}`;
}

/** Mojo's two-line content for other inner types and XML parse failures. */
export function appContent2(m: Pick<Message, 'app_title' | 'app_url'>): string {
  return `[应用分享]标题：${m.app_title ?? ''}\n[应用分享]链接：${m.app_url ?? ''}`;
}

export function decodeAppFields(raw: RawMessage, body: string): Fields {
  const app = parseAppMsg(body);
  const type = raw.AppMsgType || app?.type || 0;
  const fileTitle = normalizeName(raw.FileName);
  const base = { app_type: type } as const;
  if (type === AppMsgType.ATTACH) {
    const mediaId = raw.MediaId || app?.attach.attachid || raw.MsgId;
    return {
      ...base, format: 'media', media_type: 'file', media_code: 6, media_id: `${mediaId}:6`,
      media_name: fileTitle || app?.title || '', media_size: raw.FileSize || String(app?.attach.totallen ?? ''),
      content: '[文件]',
    };
  }
  if (type === AppMsgType.TRANSFERS || type === AppMsgType.RED_ENVELOPES) return payment(type, app, fileTitle);
  if (!app) {
    if (!fileTitle && !raw.Url) {
      return { ...base, format: 'unknown', raw_type: raw.MsgType, raw_content: htmlDecode(body), content: '[未知消息]' };
    }
    const m = { app_title: fileTitle, app_url: htmlDecode(raw.Url) };
    return { ...base, format: 'app', ...m, content: appContent2(m) };
  }
  const fields = {
    app_id: app.appid, app_title: app.title || fileTitle, app_desc: app.des, app_name: app.appname,
    app_url: app.url || app.dataurl || htmlDecode(raw.Url),
  };
  if (type === AppMsgType.URL) return { ...base, format: 'app', ...fields, content: appContent4(fields) };
  if (!fields.app_title && !fields.app_url) {
    return { ...base, format: 'unknown', raw_type: raw.MsgType, raw_content: htmlDecode(body), content: '[未知消息]' };
  }
  return { ...base, format: 'app', ...fields, ...quoteFields(app), content: appContent2(fields) };
}

/** A quote's (AppMsgType 57) quoted message: openwx extras beside the two-line app content. */
function quoteFields(app: AppMsg): Partial<Message> {
  const r = app.refer;
  if (!r || !r.svrid) return {};
  return { quote_id: r.svrid, quote_sender: r.chatusr || r.fromusr, quote_name: r.displayname, quote_content: r.content };
}

function payment(type: number, app: AppMsg | null, fileTitle: string): Fields {
  const des = app?.des || fileTitle;
  const label = type === AppMsgType.TRANSFERS ? '转账' : '红包';
  const f: Fields = { app_type: type, format: 'payment', content: `[${label}](${des})`, app_title: app?.title || fileTitle, app_desc: des };
  if (app?.wcpay) {
    f.payment_fee = app.wcpay.feedesc;
    f.payment_memo = app.wcpay.pay_memo;
    f.payment_id = app.wcpay.transferid;
    f.payment_subtype = app.wcpay.paysubtype;
  }
  return f;
}
