/**
 * webwxnewloginpage `<error>` XML. Source: shared/spec/wechat-web-protocol.md §2.3; fixtures webwxnewloginpage-*.xml.
 */
import { XMLParser } from 'fast-xml-parser';

export interface LoginPageAnswer {
  ret: number;
  message: string;
  skey?: string;
  wxsid?: string;
  wxuin?: string;
  /** Already URL-encoded, exactly as in the XML. */
  pass_ticket?: string;
  isgrayscale?: string;
  redirecturl?: string;
}

const parser = new XMLParser({ parseTagValue: false, trimValues: false, processEntities: true });

export class LoginPageParseError extends Error {
  constructor(message: string, readonly input: string) {
    super(message);
    this.name = 'LoginPageParseError';
  }
}

export function parseLoginPage(body: string): LoginPageAnswer {
  const text = body.trim();
  if (!text.startsWith('<error>')) throw new LoginPageParseError('not an <error> document', text.slice(0, 200));
  let doc: { error?: Record<string, unknown> };
  try {
    doc = parser.parse(text) as { error?: Record<string, unknown> };
  } catch (e) {
    throw new LoginPageParseError(`bad XML: ${(e as Error).message}`, text.slice(0, 200));
  }
  const e = doc.error;
  if (!e || typeof e !== 'object') throw new LoginPageParseError('empty <error>', text.slice(0, 200));
  const str = (k: string): string | undefined => (e[k] === undefined ? undefined : String(e[k]));
  const ret = Number(str('ret'));
  if (!Number.isFinite(ret)) throw new LoginPageParseError('no <ret>', text.slice(0, 200));
  const out: LoginPageAnswer = { ret, message: str('message') ?? '' };
  for (const k of ['skey', 'wxsid', 'wxuin', 'pass_ticket', 'isgrayscale', 'redirecturl'] as const) {
    const v = str(k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Single-line XML in the element order of the 2018–2019 captures. */
export function encodeLoginPage(a: LoginPageAnswer): string {
  let x = `<error><ret>${a.ret}</ret><message>${esc(a.message)}</message>`;
  if (a.ret === 0) {
    x += `<skey>${a.skey ?? ''}</skey><wxsid>${a.wxsid ?? ''}</wxsid><wxuin>${a.wxuin ?? ''}</wxuin>`;
    x += `<pass_ticket>${a.pass_ticket ?? ''}</pass_ticket><isgrayscale>${a.isgrayscale ?? '1'}</isgrayscale>`;
  }
  if (a.redirecturl !== undefined) x += `<redirecturl>${esc(a.redirecturl)}</redirecturl>`;
  return `${x}</error>`;
}
