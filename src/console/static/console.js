// openwx web console: plain JS, no framework, no CDN. It talks to the same API as every client, with the same
// token (entered once, kept in this browser's localStorage).
(() => {
  'use strict';
  const I18N = {
    zh: {
      forgetToken: '忘记令牌', tokenPrompt: '访问令牌', save: '保存', docs: 'API 文档',
      tokenHint: '服务器需要访问令牌（--token）。令牌只保存在本浏览器中。', tokenWrong: '令牌不对，请重新输入。',
      scanTitle: '扫码登录', scanHint: '用手机微信扫描二维码并确认登录。二维码过期后会自动刷新。',
      statusTitle: '状态', user: '帐号', uptime: '运行时间', outbox: '待上报', contacts: '联系人',
      contactsTitle: '好友和群', searchPlaceholder: '搜索', friends: '好友', groups: '群',
      messagesTitle: '最近消息', noTarget: '先在左侧选择好友或群', sendPlaceholder: '输入消息', send: '发送',
      to: '发给', sent: '已发送', failed: '发送失败', offline: '连接中断，正在重连…', none: '没有匹配的联系人',
      counts: (f, g) => `${f} 个好友，${g} 个群`, lang: 'English',
      accountsTitle: '帐号', startPlaceholder: '新帐号名', start: '启动', stopAccount: '停止', noAccounts: '还没有帐号：输入名字启动一个。',
      states: { init: '初始化', loading: '加载中', scaning: '等待扫码', confirming: '等待确认', updating: '更新联系人', running: '在线', stop: '已停止' },
      onebotTitle: 'OneBot 连接', obVersion: '版本', obTransport: '方式', obWhere: '地址', obState: '状态',
      obTransports: { http: 'HTTP 接口', ws: '正向 WebSocket', ws_reverse: '反向 WebSocket', webhook: 'Webhook', http_post: 'HTTP 上报' },
      obStates: { listening: '监听中', open: '已连接', connecting: '连接中', down: '已断开，等待重连', 'waiting for login': '等待登录', active: '上报中', idle: '等待第一个事件' },
      obConnections: (n) => `${n} 个连接`, obWaiting: (n) => `${n} 条待发`, obDead: (n) => `${n} 条死信`,
    },
    en: {
      forgetToken: 'Forget token', tokenPrompt: 'Access token', save: 'Save', docs: 'API docs',
      tokenHint: 'The server needs an access token (--token). It is kept in this browser only.', tokenWrong: 'Wrong token, please enter it again.',
      scanTitle: 'Scan to log in', scanHint: 'Scan the QR code with WeChat on your phone and confirm. An expired code refreshes by itself.',
      statusTitle: 'Status', user: 'Account', uptime: 'Uptime', outbox: 'Outbox', contacts: 'Contacts',
      contactsTitle: 'Friends and groups', searchPlaceholder: 'Search', friends: 'Friends', groups: 'Groups',
      messagesTitle: 'Latest messages', noTarget: 'Pick a friend or group on the left first', sendPlaceholder: 'Type a message', send: 'Send',
      to: 'To', sent: 'Sent', failed: 'Send failed', offline: 'Connection lost, reconnecting…', none: 'No matching contact',
      counts: (f, g) => `${f} friends, ${g} groups`, lang: '中文',
      accountsTitle: 'Accounts', startPlaceholder: 'new account name', start: 'Start', stopAccount: 'Stop', noAccounts: 'No account yet: enter a name to start one.',
      states: { init: 'init', loading: 'loading', scaning: 'waiting for scan', confirming: 'waiting for confirm', updating: 'loading contacts', running: 'online', stop: 'stopped' },
      onebotTitle: 'OneBot connections', obVersion: 'Version', obTransport: 'Transport', obWhere: 'Where', obState: 'State',
      obTransports: { http: 'HTTP actions', ws: 'forward WebSocket', ws_reverse: 'reverse WebSocket', webhook: 'webhook', http_post: 'http_post' },
      obStates: { listening: 'listening', open: 'open', connecting: 'connecting', down: 'down, reconnecting', 'waiting for login': 'waiting for login', active: 'active', idle: 'idle until the first event' },
      obConnections: (n) => `${n} connected`, obWaiting: (n) => `${n} waiting`, obDead: (n) => `${n} dead letters`,
    },
  };
  const MAX_SHOWN = 500;
  const MAX_MESSAGES = 200;
  const REFRESH_MS = 3000;
  const RECONNECT_MS = 2000;

  const $ = (id) => document.getElementById(id);
  let lang = localStorage.getItem('openwx.lang') || ((navigator.language || '').startsWith('zh') ? 'zh' : 'en');
  let token = localStorage.getItem('openwx.token') || '';
  let tab = 'friends';
  let contacts = { friends: [], groups: [] };
  let contactsState = null;
  let target = null;
  let lastState = null;
  let qrUrl = null;
  let qrStamp = null;
  let started = false;
  let streaming = false;
  /** Under the Controller: the accounts, and the one shown (every request names it with client=). */
  let controller = false;
  let accounts = [];
  let current = decodeURIComponent((location.hash.match(/client=([^&]+)/) || [])[1] || '') || null;
  let streamAbort = null;
  const seen = new Set();
  const t = (k) => I18N[lang][k];

  class AuthError extends Error {}

  function applyLang() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
    $('lang').textContent = t('lang');
    if (target) showTarget();
    if (lastState) showState(lastState);
    renderContacts();
    renderOneBot();
  }

  function askToken(wrong) {
    $('token-box').hidden = false;
    $('token-error').textContent = wrong ? t('tokenWrong') : '';
    $('token').focus();
  }

  /** The shown account's requests carry client=NAME (the Controller's; a single account ignores it). */
  function forAccount(path) {
    if (!controller || !current || /^\/console\/api\/accounts|^\/openwx\/(start|stop|check)_client/.test(path)) return path;
    return `${path}${path.includes('?') ? '&' : '?'}client=${encodeURIComponent(current)}`;
  }

  async function api(path, opts = {}) {
    const headers = { ...(opts.headers || {}) };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(forAccount(path), { ...opts, headers });
    if (res.status === 401) {
      askToken(token !== '');
      throw new AuthError('auth');
    }
    return res;
  }

  function fmtUptime(s) {
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    return `${d ? d + 'd ' : ''}${h}h ${m}m ${Math.floor(s % 60)}s`;
  }

  function showState(s) {
    lastState = s;
    const el = $('state');
    el.textContent = t('states')[s] || s;
    el.className = `pill ${s}`;
    el.dataset.state = s;
  }

  async function showQr(stamp) {
    if (stamp === qrStamp) return;
    const res = await api(`/openwx/get_qrcode?t=${encodeURIComponent(stamp)}`);
    if (!res.ok) return; // logged in meanwhile; the next overview hides the box
    const blob = await res.blob();
    if (qrUrl) URL.revokeObjectURL(qrUrl);
    qrUrl = URL.createObjectURL(blob);
    const img = $('qr');
    img.src = qrUrl;
    img.dataset.qrcode = stamp;
    qrStamp = stamp;
  }

  async function refreshAccounts() {
    const r = await (await api('/console/api/accounts')).json();
    controller = r.controller;
    accounts = r.accounts;
    $('accounts').hidden = !controller;
    if (!controller) return;
    if (current && !accounts.some((a) => a.client === current)) current = null;
    if (!current && accounts.length) current = accounts[0].client;
    const ul = $('account-list');
    ul.textContent = '';
    if (!accounts.length) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = t('noAccounts');
      ul.append(li);
    }
    for (const a of accounts) {
      const li = document.createElement('li');
      li.dataset.client = a.client;
      li.dataset.state = a.state;
      if (a.client === current) li.className = 'selected';
      const name = document.createElement('span');
      name.textContent = a.user ? `${a.client} (${a.user})` : a.client;
      const pill = document.createElement('span');
      pill.className = `pill ${a.state}`;
      pill.textContent = t('states')[a.state] || a.state;
      const stop = document.createElement('button');
      stop.type = 'button';
      stop.textContent = t('stopAccount');
      stop.dataset.testid = 'stop-account';
      stop.addEventListener('click', async (e) => {
        e.stopPropagation();
        await api(`/openwx/stop_client?client=${encodeURIComponent(a.client)}`, { method: 'POST' });
        if (current === a.client) switchTo(null);
        await refreshAccounts();
      });
      li.append(name, pill, stop);
      li.addEventListener('click', () => switchTo(a.client));
      ul.append(li);
    }
  }

  /** Shows another account: its overview, contacts, messages and live events. */
  function switchTo(name) {
    if (name === current) return;
    current = name;
    location.hash = name ? `client=${encodeURIComponent(name)}` : '';
    contacts = { friends: [], groups: [] };
    contactsState = null;
    target = null;
    qrStamp = null;
    $('target').textContent = t('noTarget');
    $('send-button').disabled = true;
    $('send-result').textContent = '';
    $('messages').textContent = '';
    seen.clear();
    renderContacts();
    if (streamAbort) streamAbort.abort();
    refreshAccounts().then(() => start()).catch(() => undefined);
  }

  async function refreshOverview() {
    if (controller && !current) return;
    const o = await (await api('/console/api/overview')).json();
    if (typeof o.state !== 'string') return; // the account went away meanwhile
    showState(o.state);
    $('account').textContent = o.account;
    $('user-name').textContent = o.user ? o.user.displayname : '—';
    $('uptime').textContent = fmtUptime(o.uptime);
    $('outbox').textContent = o.outbox === null ? '—' : String(o.outbox);
    $('counts').textContent = t('counts')(o.friends, o.groups);
    $('login').hidden = o.qrcode === null;
    if (o.qrcode !== null) await showQr(o.qrcode);
    else qrStamp = null;
    if (o.state === 'running' && contactsState !== 'running') await loadContacts();
    contactsState = o.state;
    await refreshOneBot();
  }

  /** The OneBot panel: each endpoint of the shown account (served paths as full URLs of this page's origin). */
  let oneBot = null;
  function renderOneBot() {
    const box = $('onebot');
    box.hidden = !oneBot || !oneBot.enabled;
    const body = $('onebot-list');
    body.textContent = '';
    if (box.hidden) return;
    for (const e of oneBot.endpoints) {
      const tr = document.createElement('tr');
      tr.dataset.version = e.version;
      tr.dataset.transport = e.transport;
      tr.dataset.state = e.state;
      const origin = e.transport === 'ws' ? location.origin.replace(/^http/, 'ws') : location.origin;
      const where = e.url.startsWith('/') ? `${origin}${e.url}` : e.url;
      const extra = [];
      if (typeof e.connections === 'number') extra.push(t('obConnections')(e.connections));
      if (typeof e.waiting === 'number') extra.push(t('obWaiting')(e.waiting));
      if (e.dead) extra.push(t('obDead')(e.dead));
      const cells = [`v${e.version}`, t('obTransports')[e.transport] || e.transport, where, [t('obStates')[e.state] || e.state, ...extra].join(' · ')];
      cells.forEach((text, i) => {
        const td = document.createElement('td');
        td.textContent = text;
        if (i === 2) td.className = 'where';
        if (i === 3) td.className = 'state';
        tr.append(td);
      });
      body.append(tr);
    }
  }

  async function refreshOneBot() {
    if (controller && !current) return;
    const res = await api('/console/api/onebot');
    if (!res.ok) return;
    oneBot = await res.json();
    renderOneBot();
  }

  async function loadContacts() {
    const [f, g] = await Promise.all([
      api('/openwx/get_friend_info').then((r) => r.json()),
      api('/openwx/get_group_basic_info').then((r) => r.json()),
    ]);
    contacts = { friends: Array.isArray(f) ? f : [], groups: Array.isArray(g) ? g : [] };
    renderContacts();
  }

  function renderContacts() {
    const q = $('search').value.trim().toLowerCase();
    const ul = $('contact-list');
    ul.textContent = '';
    let shown = 0;
    for (const c of contacts[tab]) {
      const hay = `${c.displayname} ${c.name || ''} ${c.markname || ''} ${c.account || ''} ${c.id}`.toLowerCase();
      if (q && !hay.includes(q)) continue;
      if (++shown > MAX_SHOWN) break;
      const li = document.createElement('li');
      li.textContent = c.displayname || c.name || c.id;
      li.dataset.id = c.id;
      if (c.category && c.category !== '好友') {
        const s = document.createElement('small');
        s.textContent = c.category;
        li.append(s);
      }
      if (target && target.id === c.id) li.className = 'selected';
      li.addEventListener('click', () => {
        target = { id: c.id, name: c.displayname || c.name || c.id, kind: tab === 'groups' ? 'group' : 'friend' };
        showTarget();
        renderContacts();
      });
      ul.append(li);
    }
    if (shown === 0 && contacts[tab].length > 0) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = t('none');
      ul.append(li);
    }
  }

  function showTarget() {
    $('target').textContent = `${t('to')}: ${target.name}`;
    $('send-button').disabled = false;
  }

  function addMessage(m) {
    if (m.id) {
      if (seen.has(m.id)) return;
      seen.add(m.id);
    }
    const li = document.createElement('li');
    li.className = m.class === 'send' ? 'send' : 'recv';
    li.dataset.id = m.id;
    const meta = document.createElement('span');
    meta.className = 'meta';
    const time = new Date(Number(m.time) * 1000 || Date.now()).toLocaleTimeString();
    const who = m.class === 'send' ? `→ ${m.group || m.receiver || ''}` : `${m.group ? m.group + ' / ' : ''}${m.sender || ''}`;
    meta.textContent = `${time} ${who}`;
    const body = document.createElement('span');
    body.className = 'content';
    body.textContent = m.content;
    li.append(meta, body);
    const ol = $('messages');
    ol.append(li);
    while (ol.children.length > MAX_MESSAGES) {
      seen.delete(ol.firstChild.dataset.id);
      ol.firstChild.remove();
    }
    ol.scrollTop = ol.scrollHeight;
  }

  function handleEvent(ev, payload) {
    if (ev === 'message') addMessage(payload);
    else if (ev === 'state') {
      showState(payload.state);
      refreshOverview().catch(() => undefined);
    } else if (ev === 'qrcode') refreshOverview().catch(() => undefined);
    else if (ev === 'contacts' && lastState === 'running') loadContacts().catch(() => undefined);
  }

  // Live events: fetch-based server-sent events (EventSource cannot send the Authorization header).
  // `onOpen` runs once the server holds the stream (its first event has arrived).
  async function stream(onOpen) {
    if (streaming) return onOpen();
    streaming = true;
    try {
      for (;;) {
        try {
          if (controller && !current) return onOpen && onOpen();
          streamAbort = new AbortController();
          const res = await api('/console/api/stream', { headers: { accept: 'text/event-stream' }, signal: streamAbort.signal });
          if (!res.ok) throw new Error(`stream: HTTP ${res.status}`);
          $('offline').hidden = true;
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buf = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buf += value;
            let i;
            while ((i = buf.indexOf('\n\n')) >= 0) {
              const block = buf.slice(0, i);
              buf = buf.slice(i + 2);
              let ev = 'message';
              let data = '';
              for (const line of block.split('\n')) {
                if (line.startsWith('event: ')) ev = line.slice(7);
                else if (line.startsWith('data: ')) data += line.slice(6);
              }
              if (!data) continue;
              handleEvent(ev, JSON.parse(data));
              if (onOpen) {
                onOpen();
                onOpen = null;
              }
            }
          }
        } catch (e) {
          if (e instanceof AuthError) {
            if (onOpen) onOpen();
            return;
          }
          if (e && e.name === 'AbortError') continue; // another account is shown: follow it at once
        }
        $('offline').hidden = false;
        await new Promise((r) => setTimeout(r, RECONNECT_MS));
      }
    } finally {
      streaming = false;
    }
  }

  $('send-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const content = $('send-text').value;
    if (!target || !content.trim()) return;
    const route = target.kind === 'group' ? 'send_group_message' : 'send_friend_message';
    $('send-button').disabled = true;
    try {
      const res = await api(`/openwx/${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: target.id, content }),
      });
      const r = await res.json();
      const out = $('send-result');
      out.textContent = r.code === 0 ? `${t('sent')} (${r.msg_id})` : `${t('failed')}: ${r.status}`;
      out.dataset.code = String(r.code);
      if (r.code === 0) $('send-text').value = '';
    } catch (err) {
      if (!(err instanceof AuthError)) $('send-result').textContent = `${t('failed')}: ${err.message}`;
    } finally {
      $('send-button').disabled = false;
    }
  });
  $('search').addEventListener('input', renderContacts);
  for (const b of document.querySelectorAll('.tab')) {
    b.addEventListener('click', () => {
      tab = b.dataset.tab;
      for (const x of document.querySelectorAll('.tab')) x.classList.toggle('active', x === b);
      renderContacts();
    });
  }
  $('lang').addEventListener('click', () => {
    lang = lang === 'zh' ? 'en' : 'zh';
    localStorage.setItem('openwx.lang', lang);
    applyLang();
  });
  $('logout-token').addEventListener('click', () => {
    localStorage.removeItem('openwx.token');
    token = '';
    location.reload();
  });
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    token = $('token').value.trim();
    localStorage.setItem('openwx.token', token);
    $('token-box').hidden = true;
    start();
  });

  $('start-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = $('start-name').value.trim();
    if (!name) return;
    try {
      const r = await (await api(`/openwx/start_client?client=${encodeURIComponent(name)}`, { method: 'POST' })).json();
      const out = $('start-result');
      out.textContent = r.status;
      out.dataset.code = String(r.code);
      if (r.code === 0) {
        $('start-name').value = '';
        await refreshAccounts();
        switchTo(name);
      }
    } catch (err) {
      if (!(err instanceof AuthError)) $('start-result').textContent = err.message;
    }
  });

  async function start() {
    try {
      await refreshAccounts();
      await refreshOverview();
      // Live first, then the history: nothing falls between the two (addMessage skips ids already shown).
      await new Promise((resolve) => void stream(resolve));
      if (!controller || current) {
        const recent = await (await api('/console/api/recent')).json();
        const ol = $('messages');
        const live = [...ol.children];
        ol.textContent = '';
        seen.clear();
        for (const m of recent) addMessage(m);
        for (const li of live) {
          if (li.dataset.id && seen.has(li.dataset.id)) continue;
          seen.add(li.dataset.id);
          ol.append(li);
        }
      }
    } catch (e) {
      if (e instanceof AuthError) return; // the token box is shown; submitting it calls start() again
      throw e;
    }
    if (!started) {
      started = true;
      setInterval(() => {
        refreshAccounts().then(refreshOverview).catch(() => undefined);
      }, REFRESH_MS);
    }
  }
  applyLang();
  start().catch(() => {
    $('offline').hidden = false;
  });
})();
