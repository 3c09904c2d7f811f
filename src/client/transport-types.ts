/**
 * The contract of the client's one network door (implemented by `HttpTransport` in transport.ts) and the session
 * keys every protocol step needs. Everything in src/client talks to WeChat only through a Transport.
 */
import type { Readable } from 'node:stream';
import type { HostRole } from '../wire/paths.ts';
import type { BaseRequest } from '../wire/types.ts';
import type { HostFamily } from '../wire/hosts.ts';

/** A query value sent verbatim (where the official client concatenates without encoding, e.g. `skey=@crypt_…`). */
export interface RawQueryValue {
  raw: string;
}

export interface TransportRequest {
  /** Which host of the family: the transport maps it to the real name (or to `wechat.origin`). */
  role: HostRole;
  /** Path, e.g. `Path.sync` from wire/paths.ts. */
  path: string;
  /** A real host name instead of the role's (e.g. the QR host `login.weixin.qq.com`). */
  host?: string;
  /** An absolute real-name URL (e.g. the login `redirect_uri`); replaces role/host/path, `query` is appended. */
  url?: string;
  /** Query params in order; values are sent URL-encoded exactly once (pre-encode where the protocol double-encodes). */
  query?: [string, string | number | RawQueryValue][];
  method?: 'GET' | 'POST';
  /** JSON body (sent as `application/json;charset=UTF-8`). */
  json?: unknown;
  /** Form body (urlencoded). Multipart uploads give `body` (a MultipartBody). */
  form?: Record<string, string>;
  /** A body given as bytes (e.g. a `MultipartBody` of wire/multipart.ts): sent as it iterates, without copying. */
  body?: RawBody;
  headers?: Record<string, string>;
  /** Abort after this long (default per role: long polls ~35 s, others ~20 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Name used in logs, errors and metrics (`webwxsync`, `synccheck`, …). */
  name: string;
  /** Follow redirects (default true). A redirect without `Location` is returned as is either way. */
  followRedirects?: boolean;
}

/**
 * Bytes in pieces with their exact total length (sent as Content-Length) and content type. Iterated once per send
 * (again after a redirect that keeps the body), each piece written to the socket as it is.
 */
export interface RawBody extends Iterable<Uint8Array> {
  readonly contentType: string;
  readonly length: number;
}

export interface TransportResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Final URL after redirects (the real-name URL, not the origin override). */
  url: string;
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
  buffer(): Promise<Buffer>;
  stream(): Readable;
}

export interface Transport {
  request(req: TransportRequest): Promise<TransportResponse>;
  /** The host family in use (from the login redirect). */
  family: HostFamily;
  /** A cookie value for the page host (e.g. `webwx_data_ticket`, `wxuin`). */
  cookie(name: string): string | undefined;
  /** Serialisable cookie jar state for session persistence. */
  exportCookies(): unknown;
  importCookies(state: unknown): void;
  clearCookies(): void;
  close(): Promise<void>;
}

/** Keys of a logged-in session, as webwxnewloginpage returned them. */
export interface SessionKeys {
  uin: string;
  sid: string;
  skey: string;
  /** Still URL-encoded, exactly as in the XML. */
  passTicket: string;
}

/** What outbound steps need from the session: keys, a fresh BaseRequest, the user's own UserName. */
export interface SessionContext {
  keys(): SessionKeys;
  /** A new BaseRequest (fresh DeviceID) with Uin as a number. */
  baseRequest(): BaseRequest;
  selfUserName(): string;
  /** Desktop (UOS) mode: adds `mod=desktop` where the official client does. */
  desktopMode(): boolean;
}
