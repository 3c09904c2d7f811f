import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRawMessage, rawMessageJson } from '../../src/wire/rawmessage.ts';
import { fixtureJson } from '../helpers/fixtures.ts';

test('buildRawMessage reproduces every AddMsgList entry of the qjesus capture (keys, order, types, values)', () => {
  const sync = fixtureJson('webwxsync-emoji47-status51-video43-text1.qjesus.json');
  for (const m of sync.AddMsgList) {
    const built = buildRawMessage({
      MsgId: m.MsgId, FromUserName: m.FromUserName, ToUserName: m.ToUserName, MsgType: m.MsgType, CreateTime: m.CreateTime,
      Content: m.Content, StatusNotifyCode: m.StatusNotifyCode, StatusNotifyUserName: m.StatusNotifyUserName,
      ImgHeight: m.ImgHeight, ImgWidth: m.ImgWidth, PlayLength: m.PlayLength,
    });
    assert.deepEqual(Object.keys(built), Object.keys(m));
    assert.deepEqual(built, m, `MsgType ${m.MsgType}`);
  }
});

test('defaults follow the captures: Status 4 for 10000/10002, ImgStatus 2 for image/emoticon/link', () => {
  const base = { MsgId: '1', FromUserName: '@a', ToUserName: '@b', CreateTime: 1 };
  assert.equal(buildRawMessage({ ...base, MsgType: 10000 }).Status, 4);
  assert.equal(buildRawMessage({ ...base, MsgType: 10002 }).Status, 4);
  assert.equal(buildRawMessage({ ...base, MsgType: 1 }).Status, 3);
  assert.equal(buildRawMessage({ ...base, MsgType: 3 }).ImgStatus, 2);
  assert.equal(buildRawMessage({ ...base, MsgType: 49, AppMsgType: 5 }).ImgStatus, 2);
  assert.equal(buildRawMessage({ ...base, MsgType: 49, AppMsgType: 6 }).ImgStatus, 1);
  const r = buildRawMessage({ ...base, MsgType: 37, RecommendInfo: { UserName: '@x', Ticket: 't' }, AppInfo: { AppID: 'wx1' } });
  assert.equal(r.RecommendInfo.UserName, '@x');
  assert.equal(r.RecommendInfo.QQNum, 0);
  assert.deepEqual(r.AppInfo, { AppID: 'wx1', Type: 0 });
});

test('rawMessageJson writes NewMsgId with the exact digits of MsgId', () => {
  const m = buildRawMessage({ MsgId: '3009511950433684462', FromUserName: '@a', ToUserName: '@b', MsgType: 1, CreateTime: 1 });
  assert.notEqual(String(m.NewMsgId), m.MsgId);
  const json = rawMessageJson({ AddMsgList: [m] });
  assert.ok(json.includes('"NewMsgId":3009511950433684462'));
  assert.equal(JSON.parse(json).AddMsgList[0].MsgId, m.MsgId);
});
