/**
 * Which requests a web browser may make to the API on the operator's behalf (docs/security.md, "Browser requests"
 * and "Host names"). Pure functions over request headers; src/api/guard.ts applies them to every route.
 *
 * - **Host names** (DNS rebinding): a page of `http://evil.example:3000` whose name the attacker re-points at
 *   127.0.0.1 reaches the API same-origin, but its requests carry `Host: evil.example:3000`. Accepted Host names:
 *   `localhost`, any IP literal (an IP cannot be re-pointed: a page whose origin is an IP address is served by
 *   whoever holds that address), the listen host, and the `allowed_hosts` setting (`name` for any port,
 *   `name:port` for one). A request without Host (HTTP/1.0) carries no name to check.
 * - **Cross-site requests** (CSRF): a browser says where a request comes from in `Sec-Fetch-Site` (every current
 *   browser) and, for CORS and POST requests, `Origin`. `same-origin` and `none` (typed URL, bookmark) pass;
 *   `cross-site` and `same-site` (another port of the same host, e.g. a dev server on localhost:8080) pass only
 *   with an `Origin` in the CORS allow-list, or as a top-level GET navigation to a public page (a link to the
 *   console). Without `Sec-Fetch-Site` (an older browser), an `Origin` must be our own (the Host) or CORS-listed.
 *   Scripts send neither header and pass.
 */
import { isIP } from 'node:net';
import { owxError } from '../errors.ts';

/** Host header → lower-case name (IPv6 without brackets, no trailing dot) and port (null when absent). */
export function parseHost(host: string): { name: string; port: number | null } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+(?:%[\w.-]+)?)\]|([\w.-]+))(?::(\d{1,5}))?$/.exec(host.trim());
  if (!m) return null;
  const name = (m[1] ?? m[2]!).toLowerCase().replace(/\.$/, '');
  if (m[1] !== undefined && isIP(m[1].replace(/%.*$/, '')) !== 6) return null;
  return { name, port: m[3] !== undefined ? Number(m[3]) : null };
}

export interface HostRule {
  name: string;
  /** null = any port. */
  port: number | null;
}

/** `allowed_hosts` entries (`name`, `name:port`, `[v6]:port`) as rules; OWX_ERR_CONFIG on one that is not a host. */
export function hostRules(entries: readonly string[]): HostRule[] {
  return entries.map((e) => {
    const h = parseHost(e);
    if (!h || !h.name) throw owxError('OWX_ERR_CONFIG', [`allowed_hosts: expected host names like proxy.example.com or proxy.example.com:8443, got ${JSON.stringify(e)}`]);
    return h;
  });
}

/**
 * Null when `Host` may be served; else the reason. `listenHosts` are the configured listen addresses (names among
 * them are accepted; wildcard and IP addresses are covered by the IP-literal rule).
 */
export function hostRefusal(host: string | undefined, listenHosts: readonly string[], allowed: readonly HostRule[]): string | null {
  if (host === undefined) return null;
  const h = parseHost(host);
  if (!h) return `Host ${JSON.stringify(host.slice(0, 100))} is not a host name`;
  if (h.name === 'localhost' || isIP(h.name.replace(/%.*$/, '')) !== 0) return null;
  if (listenHosts.some((l) => l.toLowerCase().replace(/\.$/, '') === h.name)) return null;
  if (allowed.some((r) => r.name === h.name && (r.port === null || r.port === h.port))) return null;
  return `Host ${h.name} is not served here: add it to allowed_hosts (--allowed-host) when a reverse proxy or DNS name leads to this server`;
}

export interface BrowserRequest {
  method: string;
  host: string | undefined;
  origin: string | undefined;
  secFetchSite: string | undefined;
  secFetchMode: string | undefined;
  /** The route is a public page (console, docs, health): a top-level navigation to it from elsewhere is fine. */
  publicRoute: boolean;
}

export interface OriginPolicy {
  /** CORS allow-list (lower-case origins); `*` allows every origin. */
  corsOrigins: readonly string[];
}

/** The origin of this server as a browser names it, when `origin` uses the Host we were reached by. */
function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const o = new URL(origin);
    if (o.protocol !== 'http:' && o.protocol !== 'https:') return false;
    return o.host === new URL(`${o.protocol}//${host}`).host;
  } catch {
    return false;
  }
}

/** Null when the request may be served; else why a browser must not make it (answered 403). */
export function crossSiteRefusal(r: BrowserRequest, p: OriginPolicy): string | null {
  const origin = r.origin;
  const listed = origin !== undefined && (p.corsOrigins.includes('*') || p.corsOrigins.includes(origin.toLowerCase()));
  const site = r.secFetchSite?.toLowerCase();
  if (site !== undefined) {
    if (site === 'same-origin' || site === 'none') return null;
    if (listed) return null;
    const navigation = r.secFetchMode?.toLowerCase() === 'navigate' && (r.method === 'GET' || r.method === 'HEAD');
    if (navigation && r.publicRoute) return null;
    return `a ${site} request from a web page (${origin !== undefined ? `Origin ${origin.slice(0, 200)}` : `Sec-Fetch-Site ${site}`}) is not accepted: list the page's origin in cors_origins to allow it`;
  }
  if (origin === undefined || listed || isOwnOrigin(origin, r.host)) return null;
  return `a request from the web page ${origin.slice(0, 200)} is not accepted: list its origin in cors_origins to allow it`;
}
