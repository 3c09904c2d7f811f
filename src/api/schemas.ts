/**
 * The parameters of every Openwx route, as zod schemas. The server merges query, urlencoded form, multipart text
 * fields and JSON body into one string map; each route validates it with its schema here. The same schemas will
 * generate the OpenAPI document, so every parameter is declared (with a description) even where the route only
 * forwards it. Unknown parameters are dropped, as Mojo-Weixin ignores them (search routes keep them all).
 */
import { z } from 'zod';

const text = (description: string) => z.string().describe(description).optional();
const required = (description: string) => z.string({ error: 'is required' }).min(1, 'must not be empty').describe(description);

/** Perl truthiness, as Mojo reads `async`: "" and "0" are false. */
const perlFlag = (description: string) =>
  z
    .string()
    .transform((v) => !(v === '' || v === '0' || v.toLowerCase() === 'false'))
    .describe(description)
    .optional();

const seconds = (description: string, max: number) =>
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

const content = text('text to send');
const async = perlFlag('when true, answer at once (`request already in execution`) and send in the background');

export const S = {
  none: z.object({}),
  send_friend_message: z.object({ ...friendTarget, content, ...mediaParams, async }),
  send_group_message: z.object({ ...groupTarget, content, ...mediaParams, async }),
  consult: z.object({
    ...friendTarget,
    content,
    ...mediaParams,
    timeout: seconds('seconds to wait for the reply (default 30)', 600),
  }),
  search: z.record(z.string(), z.string()).describe('any attribute of the object; all given ones must be equal'),
  create_group: z.object({
    friends: text('comma-separated friend ids'),
    friend: text('same as friends'),
    displayname: text('topic of the new group'),
  }),
  invite_friend: z.object({
    ...groupTarget,
    friends: text('comma-separated friend ids'),
    friend: text('same as friends'),
  }),
  kick_group_member: z.object({
    ...groupTarget,
    members: text('comma-separated member ids'),
    member: text('same as members'),
  }),
  set_friend_markname: z.object({ ...friendTarget, new_markname: z.string({ error: 'is required' }).describe('new remark name ("" clears it)') }),
  set_markname: z.object({
    ...friendTarget,
    group_id: text('with id: the group of the member whose remark is set'),
    new_markname: z.string({ error: 'is required' }).describe('new remark name ("" clears it)'),
  }),
  set_group_displayname: z.object({ ...groupTarget, new_displayname: required('new group name') }),
  make_friend: z.object({ id: required('id of a group member'), verify: text('greeting sent with the request') }),
  accept_friend_request: z.object({
    id: required('id from the friend_request event'),
    displayname: text('display name from the friend_request event'),
    ticket: required('ticket from the friend_request event'),
  }),
  stick: z.object({
    id: required('friend or group id'),
    op: z.enum(['0', '1'], { error: 'expected 0 (unpin) or 1 (pin)' }).describe('1 pin (default), 0 unpin').optional(),
  }),
  revoke_message: z.object({
    id: text('the `id` a send returned (`<MsgID>:<ToUserName>`), or the MsgID of any sent message in the history'),
  }),
  get_dead_letters: z.object({
    limit: z
      .string()
      .regex(/^\d{1,7}$/, 'expected a whole number 1-1000')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 1000, 'expected a whole number 1-1000')
      .describe('most dead letters listed, oldest first (default 100, max 1000)')
      .optional(),
  }),
  replay_dead_letters: z.object({
    event_id: text('comma-separated event ids (`X-Openwx-Event-Id`) to replay; absent = every dead letter'),
  }),
  get_avatar: z.object({
    ...friendTarget,
    id: text('id of the user, a friend, a group, or (with group_id) a member'),
    group_id: text('group of the member given by id'),
  }),
  upload_media: z.object({ ...mediaParams }),
} as const;

export type Params<K extends keyof typeof S> = z.output<(typeof S)[K]>;

/** One readable line for a zod failure: `timeout: expected a number of seconds, up to 600`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const path = i.path.join('.');
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join('; ');
}
