/**
 * Host family derived from the page host chosen by the login redirect (official confFactory, 2016-09 → 2022).
 * Source: shared/spec/wechat-web-protocol.md §1.1.
 */
import type { HostRole } from './paths.ts';

export interface HostFamily {
  page: string;
  login: string;
  file: string;
  push: string;
}

/** The QR image and its payload URL always live on this host. */
export const QR_HOST = 'login.weixin.qq.com';
/** The page host a login starts on. */
export const DEFAULT_PAGE_HOST = 'wx.qq.com';

export function hostFamily(pageHost: string): HostFamily {
  const page = pageHost.toLowerCase();
  const prefixed = (p: string) => ({ page, login: `login.${p}`, file: `file.${p}`, push: `webpush.${p}` });
  if (page === 'wx2.qq.com' || page === 'wx8.qq.com') return prefixed(page);
  if (page.endsWith('qq.com')) return { ...prefixed('wx.qq.com'), page };
  if (page === 'web2.wechat.com') return prefixed(page);
  if (page.endsWith('wechat.com')) return { ...prefixed('web.wechat.com'), page };
  return { page, login: 'login.weixin.qq.com', file: 'file.wx.qq.com', push: 'webpush.weixin.qq.com' };
}

export function hostFor(family: HostFamily, role: HostRole): string {
  return family[role];
}
