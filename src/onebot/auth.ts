/**
 * The OneBot access token, as both specs use it: `Authorization: Bearer <token>` or an `access_token` query
 * parameter (v11 also takes `Authorization: Token <token>`, go-cqhttp's form). Compared in constant time.
 * v12: a missing or wrong token is HTTP 401. v11: missing 401, wrong 403.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export type AuthResult = 'ok' | 'missing' | 'wrong';

export function checkToken(token: string | undefined, req: FastifyRequest): AuthResult {
  if (!token) return 'ok';
  const want = digest(token);
  const h = req.headers.authorization;
  let given: string | undefined;
  if (typeof h === 'string') given = /^(?:Bearer|Token)\s+(.+)$/i.exec(h)?.[1]?.trim() ?? '';
  else {
    const q = (req.query as Record<string, unknown> | undefined)?.['access_token'];
    const v = Array.isArray(q) ? q[q.length - 1] : q;
    if (typeof v === 'string') given = v;
  }
  if (given === undefined) return 'missing';
  return timingSafeEqual(digest(given), want) ? 'ok' : 'wrong';
}
