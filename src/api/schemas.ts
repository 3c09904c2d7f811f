/**
 * The parts the Openwx routes' parameter schemas are made of (each route declares its own schema in its file of
 * routes/, account-route.ts). The server merges query, urlencoded form, multipart text fields and JSON body into
 * one string map; each route validates it with its schema. The same schemas generate the OpenAPI document, so every
 * parameter is declared (with a description) even where the route only forwards it. Unknown parameters are dropped,
 * as Mojo-Weixin ignores them (search routes keep them all).
 */
import { z } from 'zod';

export const text = (description: string) => z.string().describe(description).optional();
export const required = (description: string) => z.string({ error: 'is required' }).min(1, 'must not be empty').describe(description);

/** Perl truthiness, as Mojo reads `async`: "" and "0" are false. */
export const perlFlag = (description: string) =>
  z
    .string()
    .transform((v) => !(v === '' || v === '0' || v.toLowerCase() === 'false'))
    .describe(description)
    .optional();

export const seconds = (description: string, max: number) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, `expected a number of seconds, up to ${max}`)
    .transform(Number)
    .refine((n) => n > 0 && n <= max, `expected a number of seconds between 0 and ${max}`)
    .describe(description)
    .optional();

export const friendTarget = {
  id: text('friend id (`@…`, `filehelper`); `@all` on send_friend_message broadcasts to every friend'),
  account: text('friend account (WeChat alias)'),
  displayname: text('friend display name (remark, else nickname)'),
  markname: text('friend remark name'),
};

export const groupTarget = {
  id: text('group id (`@@…`)'),
  displayname: text('group display name'),
};

export const mediaParams = {
  media_id: text('media id returned by an earlier send or upload_media (`<MediaId>:<code>`)'),
  media_path: text('local file path or http(s) URL of the media'),
  media_data: text('media bytes, base64 (a multipart file part named media_data is taken as raw bytes)'),
  media_name: text('file name of the media'),
  media_mime: text('MIME type of the media'),
  media_type: text('image | emoticon | video | microvideo | voice | file'),
  media_ext: text('file extension of the media'),
  media_size: text('size in bytes (needed with media_id for files)'),
  media_mtime: text('modification time (unix seconds)'),
};

export const content = text('text to send');
export const async = perlFlag('when true, answer at once (`request already in execution`) and send in the background');

/** The parameters of a route that takes none (unknown ones are dropped). */
export const NO_PARAMS = z.object({});

/** One readable line for a zod failure: `timeout: expected a number of seconds, up to 600`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const path = i.path.join('.');
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join('; ');
}
