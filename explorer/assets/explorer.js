// Portico's API explorer: reads the gateway's live OpenAPI document, lists
// its operations, shows each one's parameters and schemas, and sends a
// request to the gateway. No dependencies; everything it loads comes from
// the gateway itself. Text from the document is always set as text, never
// as HTML.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
  const SCHEMA_DEPTH = 6;
  let doc = null;
  let current = null;
  const ops = [];
  const creds = {};

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k.startsWith('data-') || k === 'for') e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  // Schemas.
  function refName(s) { return s && s.$ref ? decodeURIComponent(s.$ref.split('/').pop()) : ''; }
  function resolve(s) {
    for (let i = 0; s && s.$ref && i < 32; i++) {
      s = ((doc.components || {}).schemas || {})[refName(s)];
    }
    return s || {};
  }
  function named(s) {
    if (!s) return '';
    if (s.$ref) return refName(s);
    if (s.allOf && s.allOf.length === 1) return refName(s.allOf[0]);
    return '';
  }
  function typeOf(s) {
    if (!s) return 'any';
    if (s.$ref) return refName(s);
    if (s.type) return Array.isArray(s.type) ? s.type.join(' | ') : s.type;
    const alts = s.anyOf || s.oneOf;
    if (alts) return alts.map(typeOf).join(' | ');
    if (s.allOf) return s.allOf.map(typeOf).filter((t) => t !== 'any').join(' & ') || 'any';
    return 'any';
  }
  function rulesOf(s) {
    const out = [];
    if (!s) return out;
    const keys = ['format', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum',
      'exclusiveMaximum', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'const', 'enum'];
    for (const k of keys) {
      if (s[k] !== undefined) out.push(k + ': ' + (typeof s[k] === 'string' ? s[k] : JSON.stringify(s[k])));
    }
    if (s.not && s.not.enum) out.push('not one of: ' + JSON.stringify(s.not.enum));
    for (const sub of s.allOf || []) if (!sub.$ref) out.push(...rulesOf(sub));
    return out;
  }
  function schemaNode(s, depth, seen) {
    const box = el('div');
    if (!s) return box;
    const name = named(s);
    const r = name ? resolve(s.$ref ? s : s.allOf[0]) : s;
    const line = el('div', {}, el('span', { class: 'type' }, name || typeOf(s)));
    const rules = rulesOf(s).concat(name && s !== r ? rulesOf(r).filter((x) => x.startsWith('enum')) : []);
    if (rules.length) line.append(' ', el('span', { class: 'rules' }, rules.join(', ')));
    box.append(line);
    const desc = s.description || (name ? r.description : '');
    if (desc) box.append(el('div', { class: 'muted' }, desc));
    if (depth >= SCHEMA_DEPTH || (name && seen.has(name))) return box;
    const next = new Set(seen);
    if (name) next.add(name);
    const alts = r.anyOf || r.oneOf;
    if (alts) {
      for (const a of alts) box.append(el('div', { class: 'prop' }, '| ', schemaNode(a, depth + 1, next)));
    }
    if (r.properties) {
      const req = new Set(r.required || []);
      for (const [k, v] of Object.entries(r.properties)) {
        box.append(el('div', { class: 'prop' }, el('strong', {}, k),
          req.has(k) ? el('span', { class: 'required' }, ' *') : null, ': ', schemaNode(v, depth + 1, next)));
      }
    }
    if (r.items) box.append(el('div', { class: 'prop' }, 'items: ', schemaNode(r.items, depth + 1, next)));
    if (r.additionalProperties && typeof r.additionalProperties === 'object') {
      box.append(el('div', { class: 'prop' }, 'values: ', schemaNode(r.additionalProperties, depth + 1, next)));
    }
    return box;
  }
  // example is a JSON value the schema accepts, to start a request body from.
  function example(s, depth, seen) {
    if (!s || depth > SCHEMA_DEPTH) return null;
    const name = named(s);
    if (name && seen.has(name)) return null;
    const next = new Set(seen);
    if (name) next.add(name);
    const r = name ? resolve(s.$ref ? s : s.allOf[0]) : s;
    if (s.const !== undefined) return s.const;
    if (s.enum) return s.enum[0];
    if (r.enum) return r.enum[0];
    const alts = r.anyOf || r.oneOf;
    if (alts) {
      const a = alts.find((x) => !(x.type === 'null'));
      return a ? example(a, depth + 1, next) : null;
    }
    let type = r.type;
    if (Array.isArray(type)) type = type.find((t) => t !== 'null');
    switch (type) {
      case 'object': {
        const o = {};
        for (const [k, v] of Object.entries(r.properties || {})) {
          const ex = example(v, depth + 1, next);
          if (ex !== null) o[k] = ex;
        }
        return o;
      }
      case 'array': return [];
      case 'integer': return s.minimum !== undefined ? s.minimum : 0;
      case 'number': return s.minimum !== undefined ? s.minimum : 0;
      case 'boolean': return false;
      case 'string':
        if (r.format === 'date-time') return new Date(0).toISOString();
        if (r.format === 'int64' || r.format === 'uint64') return '0';
        return '';
      default: return null;
    }
  }

  // The operation list.
  function collect() {
    for (const [path, item] of Object.entries(doc.paths || {})) {
      for (const m of METHODS) {
        if (!item[m]) continue;
        const op = item[m];
        ops.push({ path, method: m.toUpperCase(), op, id: op.operationId || (m + ' ' + path),
          tag: (op.tags || ['other'])[0], params: [...(item.parameters || []), ...(op.parameters || [])] });
      }
    }
    ops.sort((a, b) => a.tag.localeCompare(b.tag) || a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  }
  function renderList() {
    const ul = $('operations');
    ul.replaceChildren();
    let tag = null;
    for (const o of ops) {
      if (o.tag !== tag) {
        tag = o.tag;
        ul.append(el('li', { class: 'tag' }, tag));
      }
      const li = el('li', { class: 'op', 'data-op': o.id, title: o.op.summary || o.id },
        el('span', { class: 'method ' + o.method }, o.method), ' ', o.path);
      li.addEventListener('click', () => { location.hash = encodeURIComponent(o.id); });
      o.li = li;
      ul.append(li);
    }
  }
  function filter(text) {
    text = text.toLowerCase();
    for (const o of ops) {
      const hay = (o.method + ' ' + o.path + ' ' + o.id + ' ' + (o.op.summary || '')).toLowerCase();
      o.li.hidden = text !== '' && !hay.includes(text);
    }
  }

  // Credentials, from the document's security schemes.
  function renderAuth() {
    const schemes = (doc.components || {}).securitySchemes || {};
    const box = $('auth-fields');
    for (const [name, s] of Object.entries(schemes)) {
      let label;
      if (s.type === 'http' || s.type === 'openIdConnect') label = 'Bearer token';
      else if (s.type === 'apiKey') label = s.in + ' ' + s.name;
      else continue; // mutualTLS: the browser presents the certificate
      const input = el('input', { type: 'password', id: 'cred-' + name, autocomplete: 'off' });
      input.addEventListener('input', () => { creds[name] = input.value; });
      box.append(el('label', { for: 'cred-' + name }, name + ' (' + label + '): '), input);
      $('auth').hidden = false;
    }
  }

  function show(o) {
    current = o;
    for (const x of ops) x.li.classList.toggle('selected', x === o);
    $('placeholder').hidden = true;
    $('operation').hidden = false;
    $('op-method').textContent = o.method;
    $('op-method').className = 'method ' + o.method;
    $('op-path').textContent = o.path;
    $('op-grpc').textContent = (o.op['x-portico-grpc-method'] || '') + '  ·  ' + o.id;
    const streaming = o.op['x-portico-streaming'];
    $('op-streaming').hidden = !streaming;
    $('op-streaming').textContent = streaming ? 'Streaming: ' + streaming : '';
    $('op-description').textContent = o.op.description || o.op.summary || '';
    const sec = (o.op.security || []).map((req) => Object.keys(req).join(' + ')).filter(Boolean);
    $('op-security').hidden = sec.length === 0;
    $('op-security').textContent = sec.length ? 'Needs one of: ' + sec.join(', ') : '';

    const tbody = $('params').tBodies[0];
    tbody.replaceChildren();
    for (const p of o.params) {
      const input = el('input', { class: 'param-input', type: 'text', placeholder: p.required ? 'required' : '' });
      input.setAttribute('data-name', p.name);
      input.setAttribute('data-in', p.in);
      const schemaCell = el('td', {}, schemaNode(p.schema, 1, new Set()));
      if (p.description) schemaCell.append(el('div', { class: 'muted' }, p.description));
      tbody.append(el('tr', {}, el('td', {}, el('code', {}, p.name), p.required ? el('span', { class: 'required' }, ' *') : null),
        el('td', {}, p.in), schemaCell, el('td', {}, input)));
    }
    $('params').hidden = o.params.length === 0;
    $('no-params').hidden = o.params.length !== 0;

    const rb = o.op.requestBody;
    $('body-section').hidden = !rb;
    if (rb) {
      const [ct, media] = Object.entries(rb.content || {})[0] || ['application/json', {}];
      $('body-type').textContent = ct;
      $('body-schema').replaceChildren(schemaNode(media.schema, 0, new Set()));
      $('body').value = ct === 'application/json' ? JSON.stringify(example(media.schema, 0, new Set()), null, 2) : '';
    }
    const ok = ((o.op.responses || {})['200'] || {}).content || {};
    const [, okMedia] = Object.entries(ok)[0] || ['', {}];
    $('response-schema').replaceChildren(schemaNode(okMedia.schema, 0, new Set()));
    $('response').hidden = true;
    $('request-line').textContent = '';
  }

  // Try it.
  function requestFor(o) {
    let path = o.path;
    const query = new URLSearchParams();
    const headers = {};
    for (const input of document.querySelectorAll('.param-input')) {
      const name = input.getAttribute('data-name');
      const where = input.getAttribute('data-in');
      const value = input.value;
      const p = o.params.find((x) => x.name === name && x.in === where);
      if (where === 'path') {
        const enc = p && p['x-portico-multi-segment']
          ? value.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(value);
        path = path.replace('{' + name + '}', enc);
      } else if (value !== '') {
        const isArray = p && p.schema && p.schema.type === 'array';
        if (where === 'query') {
          for (const v of isArray ? value.split(',') : [value]) query.append(name, v.trim());
        } else if (where === 'header') {
          headers[name] = value;
        }
      }
    }
    const schemes = (doc.components || {}).securitySchemes || {};
    for (const req of o.op.security || []) {
      for (const name of Object.keys(req)) {
        const s = schemes[name];
        const v = creds[name];
        if (!s || !v) continue;
        if (s.type === 'http' || s.type === 'openIdConnect') headers.Authorization = 'Bearer ' + v;
        else if (s.type === 'apiKey' && s.in === 'header') headers[s.name] = v;
        else if (s.type === 'apiKey' && s.in === 'query') query.append(s.name, v);
      }
    }
    const init = { method: o.method, headers };
    if (o.op.requestBody) {
      const ct = Object.keys(o.op.requestBody.content || {})[0] || 'application/json';
      headers['Content-Type'] = ct === '*/*' ? 'application/octet-stream' : ct;
      init.body = $('body').value;
    }
    const qs = query.toString();
    return { url: path + (qs ? '?' + qs : ''), init };
  }
  function pretty(text) {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not one JSON value */ }
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    try { return lines.map((l) => JSON.stringify(JSON.parse(l), null, 2)).join('\n'); } catch (e) { return text; }
  }
  async function send() {
    const o = current;
    if (!o) return;
    const { url, init } = requestFor(o);
    $('request-line').textContent = o.method + ' ' + url;
    $('response').hidden = false;
    $('response-status').textContent = '...';
    $('response-headers').textContent = '';
    $('response-body').textContent = '';
    const t0 = performance.now();
    try {
      const resp = await fetch(url, init);
      const text = await resp.text();
      $('response-status').textContent = resp.status + ' ' + resp.statusText;
      $('response-time').textContent = Math.round(performance.now() - t0) + ' ms';
      const hs = [];
      resp.headers.forEach((v, k) => { if (k === 'content-type' || k.startsWith('grpc-')) hs.push(k + ': ' + v); });
      $('response-headers').textContent = hs.join('\n');
      $('response-body').textContent = pretty(text);
    } catch (e) {
      $('response-status').textContent = 'request failed';
      $('response-body').textContent = String(e);
    }
  }

  function route() {
    const id = decodeURIComponent(location.hash.slice(1));
    const o = ops.find((x) => x.id === id);
    if (o) show(o);
  }

  async function start() {
    $('send').addEventListener('click', send);
    $('filter').addEventListener('input', (e) => filter(e.target.value));
    window.addEventListener('hashchange', route);
    const url = document.body.getAttribute('data-openapi');
    try {
      const resp = await fetch(url, { headers: { Accept: 'application/json' } });
      if (!resp.ok) throw new Error('GET ' + url + ': ' + resp.status);
      doc = await resp.json();
    } catch (e) {
      $('placeholder').textContent = 'Could not load the API description: ' + e.message;
      return;
    }
    $('doc-info').textContent = doc.info.title + ' ' + doc.info.version + ' · OpenAPI ' + doc.openapi + ' · ' + url;
    collect();
    renderAuth();
    renderList();
    $('placeholder').textContent = ops.length ? ops.length + ' operations. Choose one.' : 'No operations.';
    document.body.setAttribute('data-ready', String(ops.length));
    route();
  }
  start();
})();
