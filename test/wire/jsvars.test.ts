import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeLoginPoll, encodeQRLogin, encodeSyncCheck, parseJsVars, parseLoginPoll, parseQRLogin, parseSyncCheck,
  JsVarsParseError,
} from '../../src/wire/jsvars.ts';
import { fixtureText, httpExchanges } from '../helpers/fixtures.ts';

test('jslogin answers of the captures parse, and the encoder reproduces their bytes', () => {
  const [ex] = httpExchanges('http-jslogin.qjesus.txt');
  const body = ex!.body.trim();
  const a = parseQRLogin(body);
  assert.equal(a.code, 200);
  assert.equal(a.uuid, 'gbyKnbsmqQ==');
  assert.equal(encodeQRLogin(200, 'gbyKnbsmqQ=='), body);
  const wx2 = parseQRLogin(fixtureText('jslogin-response.wx2-2019.txt'));
  assert.equal(wx2.code, 200);
  assert.ok(wx2.uuid && wx2.uuid.endsWith('=='));
});

test('login poll answers: 408, 201 with avatar, 200 with redirect (newline variant), 400', () => {
  const ex = httpExchanges('http-login.qjesus.txt');
  const bodies = ex.map((e) => e.body.trim());
  assert.deepEqual(parseLoginPoll(bodies[0]!), { code: 408 });
  assert.equal(encodeLoginPoll({ code: 408 }), bodies[0]);
  const scanned = parseLoginPoll(bodies[1]!);
  assert.equal(scanned.code, 201);
  assert.ok(scanned.userAvatar?.startsWith('data:img/jpg;base64,'));
  assert.equal(encodeLoginPoll(scanned), bodies[1]);
  const ok = parseLoginPoll(bodies[2]!);
  assert.equal(ok.code, 200);
  assert.match(ok.redirectUri!, /^https:\/\/wx\.qq\.com\/cgi-bin\/mmwebwx-bin\/webwxnewloginpage\?ticket=/);
  const seq = fixtureText('login-poll-sequence.wx2-2019.txt');
  const wx2 = /window\.code=200;\nwindow\.redirect_uri="[^"]+";/.exec(seq)![0];
  const p = parseLoginPoll(wx2);
  assert.equal(p.code, 200);
  assert.equal(encodeLoginPoll(p), wx2);
  assert.equal(parseLoginPoll('window.code=400;').code, 400);
});

test('synccheck answers parse and re-encode byte for byte', () => {
  const [ex] = httpExchanges('http-synccheck.qjesus.txt');
  const body = ex!.body.trim().split('\n')[0]!.replace(/ .*$/, '');
  assert.deepEqual(parseSyncCheck(body), { retcode: 0, selector: 0 });
  assert.equal(encodeSyncCheck({ retcode: 0, selector: 0 }), body);
  assert.deepEqual(parseSyncCheck('window.synccheck={retcode:"1101",selector:"0"}'), { retcode: 1101, selector: 0 });
});

test('garbage never evaluates and fails with a typed error', () => {
  assert.throws(() => parseJsVars('alert(1)'), JsVarsParseError);
  assert.throws(() => parseSyncCheck('<html>502 Bad Gateway</html>'), JsVarsParseError);
  assert.throws(() => parseLoginPoll('window.code="x";'), JsVarsParseError);
  assert.throws(() => parseJsVars('window.a = "unterminated'), JsVarsParseError);
});
