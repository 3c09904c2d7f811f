/**
 * Login over the web protocol (shared/spec/wechat-web-protocol.md §2): jslogin → QR → login long-poll
 * (408/201/200/400/500/202) → webwxnewloginpage, and push login (webwxpushloginurl → poll). Bounded: at most
 * `maxQrAttempts` QR codes and `maxLoginRefusedRetries` new attempts after a ret≠0 (e.g. 1203), never an endless loop.
 */
import { owxError, isOpenwxError } from '../errors.ts';
import { LOGIN_APPID, LoginCode } from '../wire/constants.ts';
import { hostFamily } from '../wire/hosts.ts';
import { notTimestamp } from '../wire/ids.ts';
import { parseLoginPoll, parseQRLogin } from '../wire/jsvars.ts';
import { parseLoginPage } from '../wire/loginpage.ts';
import { Path } from '../wire/paths.ts';
import type { PushLoginResponse } from '../wire/types.ts';
import { Backoff } from './backoff.ts';
import type { Timers } from './clock.ts';
import { safeUrl, type Logger } from './logger.ts';
import type { ClientOptions } from './options.ts';
import type { QrImage, QrPresenter } from './qr.ts';
import type { Session } from './session.ts';
import type { HttpTransport } from './transport.ts';
import { retrying } from './retry.ts';
import { expectStatus } from './wx-response.ts';

export interface LoginHooks {
  /** A new QR is ready (state scaning, input_qrcode). */
  onQrcode(img: QrImage): void;
  /** The QR expired without a confirmation (qrcode_expire). */
  onQrcodeExpire(): void;
  /** The phone scanned the QR, or shows the push-login prompt (state confirming). */
  onScanned(): void;
  /** The phone cancelled: back to scaning. */
  onCancelled(): void;
  /** webwxnewloginpage answered ret≠0 (login -1 + message). */
  onRefused(ret: number, message: string): void;
}

export interface LoginFlowDeps {
  transport: HttpTransport;
  session: Session;
  options: ClientOptions;
  logger: Logger;
  timers: Timers;
  qr: QrPresenter;
  hooks: LoginHooks;
  signal: AbortSignal;
}

type PollOutcome =
  | { kind: 'confirmed'; redirectUri: string }
  | { kind: 'expired' }
  | { kind: 'cancelled' }
  | { kind: 'failed'; reason: string };

type PageOutcome = { ok: true } | { ok: false; ret: number; message: string };

export class LoginFlow {
  /** jQuery's `_` cache-buster: page-load ms, +1 per call. */
  #tick = Date.now();
  readonly #d: LoginFlowDeps;
  readonly #backoff: Backoff;

  constructor(d: LoginFlowDeps) {
    this.#d = d;
    this.#backoff = new Backoff({ baseMs: d.options.backoffBaseMs, maxMs: d.options.backoffMaxMs });
  }

  get #o(): ClientOptions {
    return this.#d.options;
  }

  /** QR login until keys are in the session. Throws OWX_ERR_QR_LIMIT / OWX_ERR_LOGIN_FORBIDDEN / abort reasons. */
  async qrLogin(): Promise<void> {
    const { transport, qr, hooks, logger } = this.#d;
    transport.family = hostFamily(this.#o.pageHost);
    let qrCount = 0;
    let refused = 0;
    for (;;) {
      this.#checkAborted();
      if (qrCount >= this.#o.maxQrAttempts) {
        qr.remove();
        logger.error({ qrCount }, `no QR code was confirmed after ${qrCount} attempts; giving up (setting maxQrAttempts)`);
        throw owxError('OWX_ERR_QR_LIMIT', [qrCount]);
      }
      const uuid = await this.#jslogin();
      qrCount++;
      const img = await qr.present(uuid, this.#d.signal);
      hooks.onQrcode(img);
      const out = await this.#poll(uuid, 'qr');
      if (out.kind === 'confirmed') {
        const page = await this.#newLoginPage(out.redirectUri);
        if (page.ok) {
          qr.remove();
          return;
        }
        refused++;
        hooks.onRefused(page.ret, page.message);
        logger.error(
          { ret: page.ret, attempt: refused, maxRetries: this.#o.maxLoginRefusedRetries, desktopMode: this.#o.desktopMode },
          `WeChat refused web login (ret ${page.ret}): "${page.message}". ` +
            (page.ret === 1203
              ? 'WeChat does not allow this account to log in to web WeChat (new or restricted accounts). '
              : '') +
            (this.#o.desktopMode
              ? 'UOS desktop mode is on; if WeChat rotated the UOS values, set uosHeaders.clientVersion/extspam.'
              : 'Desktop (UOS) mode is off; turning it on (desktopMode) lets many such accounts log in.'),
        );
        if (refused > this.#o.maxLoginRefusedRetries) {
          qr.remove();
          throw owxError('OWX_ERR_LOGIN_FORBIDDEN', [page.ret, page.message], { ret: page.ret });
        }
        continue;
      }
      if (out.kind === 'expired') {
        logger.info('QR code expired; making a new one');
        hooks.onQrcodeExpire();
      } else if (out.kind === 'cancelled') {
        logger.info('login cancelled on the phone; making a new QR code');
        hooks.onCancelled();
      } else {
        logger.warn({ reason: out.reason }, 'login poll failed; making a new QR code');
      }
    }
  }

  /**
   * Push login: asks the phone to confirm (webwxpushloginurl with the last uin), then polls. True when the
   * session keys are in place; false when the server or the user declined (the caller falls back to a QR).
   */
  async pushLogin(uin: string): Promise<boolean> {
    const { transport, logger } = this.#d;
    let uuid: string | undefined;
    try {
      const res = await transport.request({
        name: 'webwxpushloginurl',
        role: 'page',
        path: Path.pushLoginUrl,
        query: [['uin', uin], ...(this.#o.desktopMode ? ([['mod', 'desktop']] as [string, string][]) : [])],
        signal: this.#d.signal,
      });
      await expectStatus(res, 'webwxpushloginurl');
      const body = await res.json<PushLoginResponse>();
      if (String(body.ret) !== '0' || !body.uuid) {
        logger.info({ ret: body.ret, msg: body.msg }, 'push login not available; falling back to a QR code');
        return false;
      }
      uuid = body.uuid;
    } catch (err) {
      if (this.#d.signal.aborted) throw err;
      logger.info({ err: (err as Error).message }, 'push login request failed; falling back to a QR code');
      return false;
    }
    logger.info('push login: confirm the login on your phone');
    this.#d.hooks.onScanned();
    const out = await this.#poll(uuid, 'push');
    if (out.kind !== 'confirmed') {
      logger.info({ outcome: out.kind }, 'push login not confirmed; falling back to a QR code');
      return false;
    }
    const page = await this.#newLoginPage(out.redirectUri);
    if (!page.ok) {
      this.#d.hooks.onRefused(page.ret, page.message);
      logger.error({ ret: page.ret }, `WeChat refused the push login (ret ${page.ret}): "${page.message}"`);
      return false;
    }
    return true;
  }

  async #jslogin(): Promise<string> {
    const { transport } = this.#d;
    const redirect = `https://${transport.family.page}${Path.newLoginPage}${this.#o.desktopMode ? '?mod=desktop' : ''}`;
    return this.#retrying('jslogin', async () => {
      const res = await transport.request({
        name: 'jslogin',
        role: 'login',
        path: Path.jslogin,
        query: [
          ['appid', LOGIN_APPID],
          ['redirect_uri', redirect],
          ['fun', 'new'],
          ['lang', this.#o.lang],
          ['_', this.#tick++],
        ],
        signal: this.#d.signal,
      });
      await expectStatus(res, 'jslogin');
      const a = parseQRLogin(await res.text());
      if (a.code !== 200 || !a.uuid) throw owxError('OWX_ERR_WX_BAD_RESPONSE', ['jslogin', `QRLogin.code ${a.code} ${a.error ?? ''}`]);
      return a.uuid;
    });
  }

  async #poll(uuid: string, mode: 'qr' | 'push'): Promise<PollOutcome> {
    const { transport, logger } = this.#d;
    let tip = 1;
    let waits = 0;
    let errors = 0;
    const maxWaits = mode === 'push' ? Math.max(1, this.#o.qrExpireAfterPolls || 5) : this.#o.qrExpireAfterPolls;
    for (;;) {
      this.#checkAborted();
      let code: number;
      let redirectUri: string | undefined;
      try {
        const res = await transport.request({
          name: 'login',
          role: 'login',
          path: Path.login,
          query: [
            ['loginicon', 'true'],
            ['uuid', { raw: uuid }],
            ['tip', tip],
            ['r', notTimestamp()],
            ['_', this.#tick++],
          ],
          timeoutMs: this.#o.loginPollTimeoutMs,
          signal: this.#d.signal,
        });
        await expectStatus(res, 'login');
        const a = parseLoginPoll(await res.text());
        code = a.code;
        redirectUri = a.redirectUri;
        errors = 0;
      } catch (err) {
        if (this.#d.signal.aborted) throw this.#d.signal.reason ?? err;
        errors++;
        // a stuck long-poll (client timeout) is a normal "nothing yet"
        if (isOpenwxError(err, 'OWX_ERR_TIMEOUT')) {
          errors = 0;
          code = LoginCode.WAITING;
        } else {
          logger.warn({ err: (err as Error).message, errors }, 'login poll failed');
          if (errors > this.#o.requestRetries) return { kind: 'failed', reason: (err as Error).message };
          await this.#d.timers.sleep(this.#backoff.next(), this.#d.signal);
          continue;
        }
      }
      tip = 0;
      switch (code) {
        case LoginCode.WAITING:
          waits++;
          if (maxWaits > 0 && waits >= maxWaits) return { kind: 'expired' };
          break;
        case LoginCode.SCANNED:
          waits = 0;
          logger.info('QR code scanned; confirm the login on the phone');
          this.#d.hooks.onScanned();
          break;
        case LoginCode.CONFIRMED:
          if (!redirectUri) return { kind: 'failed', reason: 'code 200 without redirect_uri' };
          return { kind: 'confirmed', redirectUri };
        case LoginCode.CANCELLED:
          return { kind: 'cancelled' };
        case LoginCode.EXPIRED:
          return { kind: 'expired' };
        case LoginCode.SERVER_ERROR:
          return { kind: 'failed', reason: 'login poll server exception (500)' };
        default:
          logger.warn({ code }, 'unknown login poll code');
          errors++;
          if (errors > this.#o.requestRetries) return { kind: 'failed', reason: `code ${code}` };
          await this.#d.timers.sleep(this.#backoff.next(), this.#d.signal);
      }
    }
  }

  async #newLoginPage(redirectUri: string): Promise<PageOutcome> {
    const { transport, session, logger } = this.#d;
    const u = new URL(redirectUri);
    const uos = this.#o.uosHeaders;
    const headers: Record<string, string> = this.#o.desktopMode
      ? { 'client-version': uos.clientVersion, extspam: uos.extspam, referer: uos.referer }
      : { referer: `https://${u.host}/` };
    const a = await this.#retrying('webwxnewloginpage', async () => {
      const res = await transport.request({
        name: 'webwxnewloginpage',
        role: 'page',
        path: Path.newLoginPage,
        url: redirectUri,
        query: [['fun', 'new'], ['version', 'v2'], ...(this.#o.desktopMode ? ([['mod', 'desktop']] as [string, string][]) : [])],
        headers,
        followRedirects: false,
        signal: this.#d.signal,
      });
      // With the UOS headers the server answers 301 with the XML body and no Location.
      await expectStatus(res, 'webwxnewloginpage', [301, 302]);
      return parseLoginPage(await res.text());
    });
    if (a.ret !== 0) return { ok: false, ret: a.ret, message: a.message };
    transport.family = hostFamily(u.host);
    session.skey = a.skey ?? '';
    session.sid = a.wxsid ?? transport.cookie('wxsid') ?? '';
    session.uin = a.wxuin ?? transport.cookie('wxuin') ?? '';
    session.passTicket = a.pass_ticket ?? '';
    if (!session.hasKeys()) {
      throw owxError('OWX_ERR_LOGIN_FAILED', ['webwxnewloginpage answered ret 0 without skey/wxsid/wxuin']);
    }
    if (a.redirecturl) logger.info({ redirecturl: safeUrl(a.redirecturl) }, 'webwxnewloginpage asked for a redirect (ignored)');
    logger.info({ host: transport.family.page }, 'login confirmed');
    return { ok: true };
  }

  /** Runs `fn`, retrying network errors, HTTP errors and garbage answers with backoff (requestRetries times). */
  async #retrying<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.#checkAborted();
    const o = this.#o;
    try {
      return await retrying(name, {
        retries: o.requestRetries, baseMs: o.backoffBaseMs, maxMs: o.backoffMaxMs, timers: this.#d.timers, logger: this.#d.logger,
        signal: this.#d.signal,
      }, fn);
    } catch (err) {
      if (this.#d.signal.aborted) throw this.#d.signal.reason ?? err;
      if (isOpenwxError(err)) throw err;
      throw owxError('OWX_ERR_LOGIN_FAILED', [`${name}: ${(err as Error).message}`], { cause: err });
    }
  }

  #checkAborted(): void {
    if (this.#d.signal.aborted) throw this.#d.signal.reason ?? owxError('OWX_ERR_LOGIN_CANCELLED', ['stopped']);
  }
}
