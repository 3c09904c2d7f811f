/**
 * Login host and login steps: jslogin, the QR image, the login long poll, webwxnewloginpage (cookies, desktop
 * 301, 1203), webwxpushloginurl and webwxlogout. Captures: http-jslogin, http-login, http-qrcode,
 * http-webwxnewloginpage (QJesus 2018, wx2 2019), login-poll-sequence.wx2-2019, webwxlogout.wx-2015.
 */
import type { FastifyInstance } from 'fastify';
import { LOGIN_APPID, LoginCode, Ret } from '../../wire/constants.ts';
import { Path } from '../../wire/paths.ts';
import { encodeLoginPoll, encodeQRLogin } from '../../wire/jsvars.ts';
import { encodeLoginPage } from '../../wire/loginpage.ts';
import type { SandboxCore } from '../core.ts';
import { qrJpeg } from '../qr.ts';
import { solidJpeg, colourFor } from '../media-gen.ts';
import { cookie, originOf, originUrl, query, sendJs, setCookieHeader, waitUntil, type Origin } from '../http-util.ts';
import { wireRoute } from './common.ts';
import type { LoginTicket } from '../login-state.ts';

const HOUR = 3600_000;
const TEN_YEARS = 10 * 365 * 24 * HOUR;

export const FORBIDDEN_MESSAGE =
  '为了你的帐号安全，此微信号已不允许登录网页微信。你可以使用Windows微信或Mac微信在电脑端登录。Windows微信下载地址：https://pc.weixin.qq.com  Mac微信下载地址：https://mac.weixin.qq.com';

/** Where the login redirect sends this client: the world's page host for real-name clients, else back to us. */
function redirectTarget(core: SandboxCore, o: Origin): { redirectOrigin: string; pageHost: string } {
  if (o.realName) return { redirectOrigin: `${o.proto}://${core.opts.pageHost}`, pageHost: core.opts.pageHost };
  return { redirectOrigin: originUrl(o), pageHost: core.opts.pageHost };
}

function pollAnswer(core: SandboxCore, t: LoginTicket, loginIcon: boolean): string {
  if (t.state === 'confirmed') {
    t.reported = 'confirmed';
    return encodeLoginPoll({ code: LoginCode.CONFIRMED, redirectUri: t.redirectUri() });
  }
  if (t.state === 'scanned' && t.reported !== 'scanned') {
    t.reported = 'scanned';
    if (!loginIcon) return encodeLoginPoll({ code: LoginCode.SCANNED });
    const avatar = solidJpeg(96, 96, colourFor(t.user?.identity.id ?? '')).toString('base64');
    return encodeLoginPoll({ code: LoginCode.SCANNED, userAvatar: `data:img/jpg;base64,${avatar}` });
  }
  return encodeLoginPoll({ code: LoginCode.WAITING });
}

export function registerLoginRoutes(app: FastifyInstance, core: SandboxCore): void {
  const js = (code: number) => ({ contentType: 'text/javascript', body: `window.code=${code};` });

  // POST is answered like GET (parameters in the query): wechat4u has always fetched jslogin with POST from the real
  // server (src/core.js getUUID; its test/nock.js records `.post('/jslogin')`).
  wireRoute(app, core, {
    method: ['GET', 'POST'],
    path: Path.jslogin,
    endpoint: 'jslogin',
    faultAnswer: (ret) => ({ contentType: 'text/javascript', body: encodeQRLogin(ret, null, 'fault injected') }),
    handler: (req, reply) => {
      const q = query(req);
      reply.header('cache-control', 'no-cache, must-revalidate');
      // jslogin's documented failure answer is `window.QRLogin.code = 400; window.QRLogin.error = "";` (a Qt client's
      // source comment and a protocol write-up, found with the search tool); its trigger is not documented. The appid
      // is the one parameter checked: every client sends the web appid.
      if (q['appid'] !== LOGIN_APPID) {
        return reply.code(200).header('content-type', 'text/javascript').send(encodeQRLogin(400, null, ''));
      }
      const o = originOf(req);
      const desktop = /[?&]mod=desktop\b/.test(q['redirect_uri'] ?? '');
      const t = core.newTicket({ ...redirectTarget(core, o), lang: q['lang'] || 'zh_CN', desktop });
      // The real answer carries two Content-Type headers, which the framework would merge: write it raw.
      const text = encodeQRLogin(200, t.uuid);
      reply.hijack();
      reply.raw.setHeader('Content-Type', ['text/javascript', 'text/html; charset=gbk']);
      reply.raw.setHeader('Cache-Control', 'no-cache, must-revalidate');
      reply.raw.setHeader('Content-Length', Buffer.byteLength(text));
      reply.raw.writeHead(200);
      reply.raw.end(text);
      return reply;
    },
  });

  wireRoute(app, core, {
    method: 'GET',
    path: `${Path.qrcode}/:uuid`,
    endpoint: 'qrcode',
    faultAnswer: () => ({ status: 404, contentType: 'text/plain', body: '' }),
    handler: (req, reply) => {
      const uuid = (req.params as { uuid: string }).uuid;
      const t = core.tickets.get(uuid);
      if (!t) return reply.code(404).header('content-type', 'text/html').send('');
      core.qrFetched(t);
      return reply.code(200).header('content-type', 'image/jpeg').send(qrJpeg(uuid));
    },
  });

  app.get(`${Path.qrPayload}/:uuid`, (_req, reply) =>
    reply.code(200).header('content-type', 'text/html; charset=utf-8').send('<html><body>openwx sandbox: scan with POST /__sandbox/scan</body></html>'),
  );

  wireRoute(app, core, {
    method: 'GET',
    path: Path.login,
    endpoint: 'login',
    faultAnswer: js,
    handler: async (req, reply) => {
      const q = query(req);
      const t = q['uuid'] ? core.tickets.get(q['uuid']) : undefined;
      if (!t || t.expired) return sendJs(reply, encodeLoginPoll({ code: LoginCode.EXPIRED }));
      core.qrFetched(t);
      const loginIcon = q['loginicon'] === 'true';
      const changed = () => core.closing || t.expired || t.state === 'confirmed' || (t.state === 'scanned' && t.reported !== 'scanned');
      const left = t.expiresAt - Date.now();
      await waitUntil(reply, Math.min(core.opts.longPollMs, left), (w) => t.onChange(w), changed);
      // A wait cut at the QR's expiry with nothing changed is the expiry, even when its timer fired a moment before
      // Date.now() reached expiresAt (the event loop's clock is not the wall clock): 400, not a 408 "keep waiting".
      if (t.expired || (left <= core.opts.longPollMs && !changed())) return sendJs(reply, encodeLoginPoll({ code: LoginCode.EXPIRED }));
      return sendJs(reply, pollAnswer(core, t, loginIcon));
    },
  });

  wireRoute(app, core, {
    method: 'GET',
    path: Path.newLoginPage,
    endpoint: 'webwxnewloginpage',
    faultAnswer: (ret) => ({ contentType: 'text/plain;charset=utf-8', body: encodeLoginPage({ ret, message: '' }) }),
    handler: (req, reply) => {
      const q = query(req);
      const o = originOf(req);
      const desktop = q['mod'] === 'desktop' && req.headers['client-version'] !== undefined && req.headers['extspam'] !== undefined;
      const status = desktop ? 301 : 200;
      reply.header('content-type', 'text/plain;charset=utf-8');
      const t = q['uuid'] ? core.tickets.get(q['uuid']) : undefined;
      if (!t || t.ticket !== q['ticket'] || t.state !== 'confirmed' || (t.session && !t.session.alive)) {
        return reply.code(status).send(encodeLoginPage({ ret: Ret.TICKET_ERROR, message: 'ticket error' }));
      }
      // The user the QR was confirmed as: its world says whether it may log in (unless the sandbox option overrides).
      const u = t.user!;
      const barred = core.opts.loginForbidden ?? u.world.options.loginForbidden ?? false;
      const forbidden = barred && !(desktop && u.world.options.desktopBypassesLoginForbidden !== false);
      if (forbidden) return reply.code(status).send(encodeLoginPage({ ret: Ret.LOGIN_FORBIDDEN, message: FORBIDDEN_MESSAGE }));
      const s = core.redeem(t);
      const session = [
        ['wxuin', String(s.uin)],
        ['wxsid', s.sid],
        ['wxloadtime', String(s.loadTime)],
        ['mm_lang', t.init.lang],
      ] as const;
      const cookies = [
        ...session.map(([name, value]) => setCookieHeader(o, { name, value, scope: 'page', maxAgeMs: 12 * HOUR })),
        setCookieHeader(o, { name: 'webwx_data_ticket', value: s.dataTicket, scope: 'parent', maxAgeMs: 12 * HOUR }),
        setCookieHeader(o, { name: 'webwxuvid', value: s.uvid, scope: 'page', maxAgeMs: TEN_YEARS }),
        setCookieHeader(o, { name: 'webwx_auth_ticket', value: s.authTicket, scope: 'page', maxAgeMs: TEN_YEARS }),
      ];
      reply.header('set-cookie', cookies);
      return reply.code(status).send(
        encodeLoginPage({ ret: 0, message: '', skey: s.skey, wxsid: s.sid, wxuin: String(s.uin), pass_ticket: s.passTicket, isgrayscale: '1' }),
      );
    },
  });

  wireRoute(app, core, {
    method: 'GET',
    path: Path.pushLoginUrl,
    endpoint: 'webwxpushloginurl',
    faultAnswer: (ret) => ({ contentType: 'text/plain', body: JSON.stringify({ ret: String(ret), msg: 'fault injected' }) }),
    handler: (req, reply) => {
      const q = query(req);
      reply.header('content-type', 'text/plain');
      // A push login is for the user whose uin it names, once that user has logged in before.
      const u = core.userByUin(q['uin'] ?? '');
      if (!u || !u.everLoggedIn) {
        return reply.code(200).send(JSON.stringify({ ret: '1', msg: 'param error' }));
      }
      const o = originOf(req);
      const target = o.realName ? { redirectOrigin: `${o.proto}://${o.hostname}`, pageHost: o.hostname } : redirectTarget(core, o);
      const t = core.newTicket({ ...target, lang: q['lang'] || 'zh_CN', desktop: q['mod'] === 'desktop', pushLogin: true }, u);
      return reply.code(200).send(JSON.stringify({ ret: '0', msg: 'all ok', uuid: t.uuid }));
    },
  });

  wireRoute(app, core, {
    method: ['GET', 'POST'],
    path: Path.logout,
    endpoint: 'webwxlogout',
    faultAnswer: () => ({ contentType: 'text/html', body: '' }),
    handler: (req, reply) => {
      // The session the form's `sid` (official client, Mojo-Weixin) or the `wxsid` cookie (wechat4u, itchat: no form)
      // names ends; the `uin` field is not compared (no capture shows it checked).
      const form = (req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? req.body : {}) as Record<string, unknown>;
      for (const sid of [form['sid'], cookie(req, 'wxsid')]) {
        const s = typeof sid === 'string' ? core.sessionBySid(sid) : undefined;
        if (s?.alive) {
          core.endSession(s, 'logout');
          break;
        }
      }
      return reply.code(200).header('content-type', 'text/html').send('');
    },
  });
}
