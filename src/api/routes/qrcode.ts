/**
 * get_qrcode: the login QR image of the request's account while one waits to be scanned (for scripts; the
 * Controller's `get_qrcode?client=NAME` is this route for that account). No QR waiting: HTTP 404 JSON.
 */
import { owxError } from '../../errors.ts';
import { rawRoute } from '../account-route.ts';
import { Failure } from '../responses.ts';

function isPng(b: Buffer): boolean {
  return b.length > 4 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
}

export const QRCODE_ROUTE = rawRoute({
  name: 'get_qrcode',
  doc: {
    summary: 'The login QR code image while one waits to be scanned (for scripts)',
    description:
      'JPEG as WeChat serves it (PNG when it was rendered locally). No QR waiting: HTTP 404 JSON code -1. ' +
      'Under the Controller, `client=NAME` names the account (code 1 when missing or unknown).',
    tag: 'operations',
    responses: {
      200: { description: 'the QR image', raw: ['image/jpeg', 'image/png'] },
      404: { description: 'no login QR code is waiting (code -1)', json: Failure },
    },
  },
  handler: async (ctx, _req, reply) => {
    const data = await ctx.qrcode();
    if (!data) throw owxError('OWX_ERR_NO_QRCODE', [ctx.client.state]);
    return reply.type(isPng(data) ? 'image/png' : 'image/jpeg').header('cache-control', 'no-cache').send(data);
  },
});
