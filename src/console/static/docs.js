// openwx API docs page: renders /openwx/openapi.json (the token is the console's, kept in this browser). No CDN.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  let token = localStorage.getItem('openwx.token') || '';

  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
    return e;
  }

  function refName(ref) {
    return ref.replace('#/components/schemas/', '');
  }

  function schemaText(s) {
    if (!s) return '';
    if (s.$ref) return refName(s.$ref);
    if (s.anyOf) return s.anyOf.map(schemaText).join(' | ');
    if (s.type === 'array') return `${schemaText(s.items)}[]`;
    if (s.enum) return s.enum.map((x) => JSON.stringify(x)).join(' | ');
    if (s.const !== undefined) return JSON.stringify(s.const);
    if (Array.isArray(s.type)) return s.type.join(' | ');
    return s.type || 'any';
  }

  function schemaLink(s) {
    if (s && s.$ref) return el('a', { href: `#schema-${refName(s.$ref)}` }, refName(s.$ref));
    if (s && s.anyOf) {
      const span = el('span');
      s.anyOf.forEach((x, i) => {
        if (i) span.append(' | ');
        span.append(schemaLink(x));
      });
      return span;
    }
    return el('code', {}, schemaText(s));
  }

  function paramsTable(params) {
    const t = el('table', {}, el('tr', {}, el('th', {}, 'parameter'), el('th', {}, 'in'), el('th', {}, 'type'), el('th', {}, 'description')));
    for (const p of params) {
      t.append(
        el(
          'tr',
          {},
          el('td', {}, el('code', {}, p.name), p.required ? el('strong', {}, ' *') : null),
          el('td', {}, p.in),
          el('td', {}, schemaText(p.schema)),
          el('td', {}, p.description || ''),
        ),
      );
    }
    return t;
  }

  function operation(path, method, op) {
    const box = el('details', { class: 'op', id: op.operationId, 'data-testid': 'operation' });
    box.append(
      el('summary', {}, el('span', { class: `method ${method}` }, method.toUpperCase()), ' ', el('code', {}, path), ' ', el('span', { class: 'hint' }, op.summary || '')),
    );
    if (op.description) box.append(el('p', {}, op.description));
    if (op.security && op.security.length === 0) box.append(el('p', { class: 'hint' }, 'public: no token needed'));
    if (op.parameters && op.parameters.length) box.append(paramsTable(op.parameters));
    if (op.requestBody) {
      box.append(el('p', {}, 'Body: ', el('code', {}, Object.keys(op.requestBody.content).join(', ')), ' — ', op.requestBody.description || ''));
    }
    const r = el('table', {}, el('tr', {}, el('th', {}, 'status'), el('th', {}, 'description'), el('th', {}, 'content')));
    for (const [status, resp] of Object.entries(op.responses || {})) {
      const cell = el('td');
      for (const [type, media] of Object.entries(resp.content || {})) {
        cell.append(el('div', {}, el('code', {}, type), ' ', type === 'application/json' ? schemaLink(media.schema) : ''));
      }
      r.append(el('tr', {}, el('td', {}, status), el('td', {}, resp.description || ''), cell));
    }
    box.append(r);
    return box;
  }

  function render(doc) {
    const main = $('doc');
    main.textContent = '';
    $('version').textContent = `OpenAPI ${doc.openapi} · v${doc.info.version}`;
    main.append(el('p', {}, doc.info.description || ''));
    const byTag = new Map();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const tag = (op.tags && op.tags[0]) || 'other';
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag).push([path, method, op]);
      }
    }
    for (const [tag, ops] of byTag) {
      const sec = el('section', {}, el('h2', {}, tag));
      for (const [path, method, op] of ops) sec.append(operation(path, method, op));
      main.append(sec);
    }
    const schemas = el('section', {}, el('h2', {}, 'schemas'));
    for (const [name, s] of Object.entries(doc.components.schemas)) {
      schemas.append(el('details', { id: `schema-${name}`, class: 'op' }, el('summary', {}, el('code', {}, name), ' ', el('span', { class: 'hint' }, s.description || '')), el('pre', {}, JSON.stringify(s, null, 2))));
    }
    main.append(schemas);
  }

  async function load() {
    const res = await fetch('/openwx/openapi.json', { headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (res.status === 401) {
      $('token-box').hidden = false;
      $('loading').textContent = 'The server needs its access token.';
      return;
    }
    render(await res.json());
  }

  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    token = $('token').value.trim();
    localStorage.setItem('openwx.token', token);
    $('token-box').hidden = true;
    load();
  });
  load().catch((e) => {
    $('loading').textContent = `Could not load the document: ${e.message}`;
  });
})();
