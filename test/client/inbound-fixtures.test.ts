/**
 * The real captured webwxsync payloads go through the client's inbound path (model decoder + contact book) without
 * loss: every AddMsgList entry becomes a message event or a friend request, except status notifies (51), which are
 * protocol notifications. Unknown senders are fetched on first sight; here that fetch fails (no server) and the
 * messages are still delivered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ContactBook } from '../../src/client/contact-book.ts';
import { ContactsApi } from '../../src/client/contacts.ts';
import { Inbound } from '../../src/client/inbound.ts';
import { MediaDownloader } from '../../src/client/media-download.ts';
import { parseClientOptions } from '../../src/client/options.ts';
import { Session } from '../../src/client/session.ts';
import { Timers } from '../../src/client/clock.ts';
import { HttpTransport } from '../../src/client/transport.ts';
import type { Message } from '../../src/model/types.ts';
import type { SyncResponse } from '../../src/wire/types.ts';
import { fixtureJson } from '../helpers/fixtures.ts';

const FILES = [
  'webwxsync-emoji47-status51-video43-text1.qjesus.json',
  'webwxsync-group-text.wx-2015.json',
  'webwxsync-statusnotify51-and-text.wechat4u.json',
  'webwxsync-group-text-modcontact-delcontact.wwdk.jsonc',
];

function setup(selfId: string) {
  const logger = pino({ level: 'silent' });
  const options = parseClientOptions({ dataDir: '/nonexistent', requestRetries: 0, downloadMedia: false, wechatOrigin: 'http://127.0.0.1:1' });
  const transport = new HttpTransport({ userAgent: 'x', pageHost: 'wx.qq.com', wechatOrigin: 'http://127.0.0.1:1', requestTimeoutMs: 2000, logger });
  const session = new Session(true);
  session.selfUser = selfId;
  const book = new ContactBook();
  book.setUser({ UserName: selfId, NickName: 'me', Uin: 1 });
  const signal = new AbortController().signal;
  const timers = new Timers();
  const contacts = new ContactsApi({ transport, session, options, logger, timers, signal: () => signal });
  const downloader = new MediaDownloader({ transport, session, options, logger, signal: () => signal });
  const events: { name: string; args: unknown[] }[] = [];
  const inbound = new Inbound({
    book, contacts, downloader, options, logger,
    emitContacts: (ev) => ev.forEach((e) => events.push({ name: e.event, args: e.args })),
    emitMessage: (m) => events.push({ name: m.class === 'send' ? 'send_message' : 'receive_message', args: [m] }),
    emitFriendRequest: (r) => events.push({ name: 'friend_request', args: [r.id, r.displayname, r.verify, r.ticket] }),
    sentByUs: () => false,
  });
  return { inbound, events, book, close: () => transport.close() };
}

for (const file of FILES) {
  test(`captured sync ${file}: every message is delivered`, async () => {
    const resp = fixtureJson<SyncResponse>(file);
    const self = resp.AddMsgList.find((m) => m.MsgType === 51)?.ToUserName ?? resp.AddMsgList[0]!.ToUserName;
    const { inbound, events, close } = setup(self);
    try {
      await inbound.handleSync({ ...resp, DelContactList: resp.DelContactList ?? [], ModContactList: resp.ModContactList ?? [], AddMsgList: resp.AddMsgList ?? [] });
      const delivered = events.filter((e) => e.name === 'receive_message' || e.name === 'send_message' || e.name === 'friend_request');
      const expected = resp.AddMsgList.filter((m) => m.MsgType !== 51);
      assert.equal(delivered.length, expected.length, JSON.stringify(events.map((e) => e.name)));
      for (const [i, raw] of expected.entries()) {
        const e = delivered[i]!;
        if (e.name === 'friend_request') continue;
        const m = e.args[0] as Message;
        assert.equal(m.id, String(raw.MsgId));
        assert.equal(m.time, raw.CreateTime);
        assert.ok(typeof m.content === 'string' && m.content.length > 0, `content of ${raw.MsgType}`);
        if (raw.FromUserName.startsWith('@@')) {
          assert.equal(m.group_id, raw.FromUserName);
          if (raw.MsgType !== 10000) assert.ok(m.sender_id, 'group sender split from the content');
        }
        if (raw.MsgType === 43) assert.equal(m.media_type, 'video');
        if (raw.MsgType === 47) assert.equal(m.media_type, 'emoticon');
      }
    } finally {
      await close();
    }
  });
}

test('captured single messages of every type decode to one event each', async () => {
  const files = [
    'msg1-text-friend-1.wechaty-web.json', 'msg1-text-friend-2.wechaty-web.json', 'msg10000-friend-added-en.wechaty-web.json',
    'msg10002-revoke.wwdk.json', 'msg37-verifymsg-friend-request.wechaty-web.json', 'msg1-location-submsgtype48.wwdk.jsonc',
    'msg3-image-group.wwdk.jsonc', 'msg34-voice-group.wwdk.jsonc', 'msg37-verifymsg-friend-request.wwdk.jsonc',
    'msg42-card-group.wwdk.jsonc', 'msg43-video.wwdk.jsonc', 'msg47-emoji-group.wwdk.jsonc', 'msg49-appmsg6-file-group.wwdk.jsonc',
  ];
  for (const f of files) {
    const raw = fixtureJson(f);
    const { inbound, events, close } = setup(raw.ToUserName.startsWith('@@') ? '@self' : raw.ToUserName);
    try {
      await inbound.handleSync({ AddMsgList: [raw], ModContactList: [], DelContactList: [] } as unknown as SyncResponse);
      const delivered = events.filter((e) => ['receive_message', 'send_message', 'friend_request'].includes(e.name));
      assert.equal(delivered.length, 1, f);
      if (raw.MsgType === 37) {
        assert.equal(delivered[0]!.name, 'friend_request', f);
        assert.ok(delivered[0]!.args[3], `${f}: ticket`);
      } else {
        const m = delivered[0]!.args[0] as Message;
        assert.notEqual(m.format, 'unknown', f);
      }
    } finally {
      await close();
    }
  }
});

test('a message WeChat delivers twice is reported once', async () => {
  const resp = fixtureJson<SyncResponse>('webwxsync-group-text.wx-2015.json');
  const { inbound, events, close } = setup(resp.AddMsgList[0]!.ToUserName);
  try {
    const once = { ...resp, ModContactList: [], DelContactList: [] };
    await inbound.handleSync(once);
    await inbound.handleSync(once);
    assert.equal(events.filter((e) => e.name === 'receive_message').length, 1);
  } finally {
    await close();
  }
});
