// The flow view's page (README, "Flow view"): reads /flows/stream with the bearer token and keeps
// a tree of associations and their destinations. Every text from the server goes in through
// textContent, never as markup: a destination's name is whatever a client sent.
'use strict';

(() => {
  const associations = new Map(); // id → { data, received (performance.now() when it came) }
  const $ = (id) => document.getElementById(id);
  let token = '';

  function setState(state, text) {
    document.body.dataset.state = state;
    $('status').textContent = text;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  const number = new Intl.NumberFormat('en');

  function bytes(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
    if (n < 1024 * 1024 * 1024) return `${(n / 1048576).toFixed(1)} MiB`;
    return `${(n / 1073741824).toFixed(2)} GiB`;
  }

  function traffic(t) {
    return `${number.format(t.datagrams)} dg / ${bytes(t.bytes)}`;
  }

  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
    return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
  }

  // A duration that moves with time until the next event: the server sends changes only, so the
  // page advances ages (up) and idle time left (down) itself.
  function clock(className, seconds, direction, received, prefix = '', suffix = '') {
    const node = el('span', `${className} num`);
    if (seconds === null || seconds === undefined) {
      node.textContent = `${prefix}—${suffix}`;
      return node;
    }

    node.dataset.seconds = String(seconds);
    node.dataset.direction = String(direction);
    node.dataset.received = String(received);
    node.dataset.prefix = prefix;
    node.dataset.suffix = suffix;
    tickOne(node, performance.now());
    return node;
  }

  function tickOne(node, now) {
    const elapsed = (now - Number(node.dataset.received)) / 1000;
    const value = Number(node.dataset.seconds) + Number(node.dataset.direction) * elapsed;
    node.textContent = `${node.dataset.prefix}${duration(value)}${node.dataset.suffix}`;
  }

  function tickAll() {
    const now = performance.now();
    for (const node of document.querySelectorAll('[data-seconds]')) tickOne(node, now);
    for (const mark of document.querySelectorAll('.mark[data-ago]')) {
      const ago = Number(mark.dataset.ago) + (now - Number(mark.dataset.received)) / 1000;
      mark.classList.toggle('fresh', ago < 10);
    }
  }

  function errorCell(error, received) {
    const cell = el('td', 'error');
    if (!error) {
      cell.append(el('span', 'none', 'none'));
      return cell;
    }

    const mark = el('span', `mark kind-${/^[a-z-]+$/.test(error.kind) ? error.kind : 'unknown'}`, error.kind);
    mark.dataset.kind = error.kind;
    mark.dataset.ago = String(error.agoSeconds);
    mark.dataset.received = String(received);
    mark.title = error.errno;
    cell.append(mark, ' ');
    const details = [error.errno];
    if (error.icmp) details.push(`icmp ${error.icmp}`);
    if (error.icmp6) details.push(`icmp6 ${error.icmp6}`);
    if (error.from) details.push(`from ${error.from}`);
    if (error.mtu) details.push(`mtu ${error.mtu}`);
    if (error.receivedTtl) details.push(`rttl ${error.receivedTtl}`);
    cell.append(el('span', null, `${details.join(' ')} · `), clock('ago', error.agoSeconds, 1, received, '', ' ago'), el('span', 'num', ` · ×${number.format(error.count)}`));
    if (error.agoSeconds < 10) mark.classList.add('fresh');
    return cell;
  }

  function render(entry) {
    const a = entry.data;
    const section = el('section', 'association');
    section.dataset.associationId = String(a.id);
    section.dataset.search = [
      `#${a.id}`, a.user || '', a.controlPeer, a.clientUdp || '', a.relay,
      ...a.destinations.flatMap((d) => [d.destination, d.address]),
    ].join(' ').toLowerCase();

    const head = el('div', 'head');
    head.append(el('span', 'id', `#${a.id}`));
    if (a.user) head.append(el('span', 'user', a.user));
    const where = el('span');
    where.append(el('span', 'label', 'control '), a.controlPeer, el('span', 'label', ' · client udp '), a.clientUdp || '—',
      el('span', 'label', ' · relay '), a.relay, el('span', 'label', ' · out port '), a.outboundPort === null ? '—' : String(a.outboundPort));
    head.append(where, el('span', 'label', `${a.mode} · ${a.filtering}`));
    head.append(clock('age', a.ageSeconds, 1, entry.received, 'age '), clock('idle', a.idleLeftSeconds, -1, entry.received, 'idle left '));
    const counters = el('span', 'num');
    counters.append(el('span', 'label', 'from client '), traffic(a.fromClient), el('span', 'label', ' · to client '), traffic(a.toClient));
    if (a.inboundRelayed) counters.append(el('span', 'label', ' · unsolicited '), number.format(a.inboundRelayed));
    head.append(counters);
    const drops = Object.entries(a.drops);
    if (drops.length) head.append(el('span', 'drops num', `drops: ${drops.map(([k, v]) => `${k} ${number.format(v)}`).join(', ')}`));
    const end = el('button', 'end', 'End');
    end.type = 'button';
    end.dataset.end = String(a.id);
    end.title = 'End this association: its client reads CLOSING reason=admin';
    head.append(end);
    section.append(head);

    if (a.destinations.length) {
      const table = el('table', 'destinations');
      const header = el('tr');
      for (const h of ['destination', 'address', 'ttl', 'sent', 'received', 'last seen', 'last error']) header.append(el('th', null, h));
      table.append(header);
      for (const d of a.destinations) {
        const row = el('tr');
        row.dataset.destination = d.destination;
        row.append(
          el('td', null, d.map ? `${d.destination} (map ${d.map})` : d.destination),
          el('td', null, d.address),
          el('td', 'num', d.ttl === null ? 'default' : d.ttl),
          el('td', 'num', traffic(d.sent)),
          el('td', 'num', traffic(d.received)));
        const seen = el('td');
        seen.append(clock('seen', d.lastSeenSeconds, 1, entry.received, '', ' ago'));
        row.append(seen, errorCell(d.lastError, entry.received));
        table.append(row);
      }

      section.append(table);
    } else {
      section.append(el('p', 'none head', 'no destination yet'));
    }

    applyFilter(section);
    return section;
  }

  function applyFilter(section) {
    const words = $('filter').value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    section.hidden = !words.every((w) => section.dataset.search.includes(w));
  }

  function upsert(data, received) {
    const entry = { data, received };
    associations.set(data.id, entry);
    const main = $('flows');
    const fresh = render(entry);
    const old = main.querySelector(`section[data-association-id="${data.id}"]`);
    if (old) {
      if (old.classList.contains('ending')) fresh.classList.add('ending');
      old.replaceWith(fresh);
      return;
    }

    // In id order, as the server sends them.
    const after = [...main.children].find((s) => Number(s.dataset.associationId) > data.id);
    main.insertBefore(fresh, after || null);
  }

  function remove(id) {
    associations.delete(id);
    const old = $('flows').querySelector(`section[data-association-id="${id}"]`);
    if (old) old.remove();
  }

  function summarize(total, at) {
    const shown = associations.size < total ? `${associations.size} of ` : '';
    $('summary').textContent = `${shown}${total} association${total === 1 ? '' : 's'} · ${new Date(at).toLocaleTimeString()}`;
    $('summary').dataset.at = at; // the server's time of the tick shown
    $('empty').hidden = associations.size > 0;
  }

  function onEvent(name, payload) {
    const received = performance.now();
    if (name === 'snapshot') {
      associations.clear();
      $('flows').replaceChildren();
      for (const a of payload.associations) upsert(a, received);
    } else if (name === 'changes') {
      for (const id of payload.removed) remove(id);
      for (const a of payload.upserted) upsert(a, received);
    } else {
      return;
    }

    summarize(payload.total, payload.at);
  }

  // Server-sent events read through fetch rather than EventSource: EventSource cannot send an
  // Authorization header, and the token must not travel in a URL (logs, history).
  async function stream() {
    const response = await fetch('/flows/stream', { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
    if (response.status === 401) {
      return 'unauthorized';
    }

    if (!response.ok || !response.body) {
      throw new Error(`${response.status} ${(await response.text()).trim()}`);
    }

    setState('live', 'live');
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return 'ended';
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) name = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }

        if (data) onEvent(name, JSON.parse(data));
      }
    }
  }

  async function run() {
    setState('connecting', 'connecting…');
    for (;;) {
      let outcome;
      try {
        outcome = await stream();
      } catch (e) {
        outcome = `error: ${e.message}`;
      }

      if (outcome === 'unauthorized') {
        showLogin('the server refused this token');
        return;
      }

      setState('reconnecting', `reconnecting (${outcome})`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  async function end(button) {
    const id = Number(button.dataset.end);
    const entry = associations.get(id);
    const who = entry && entry.data.user ? ` (${entry.data.user})` : '';
    if (!window.confirm(`End association #${id}${who}? Its client reads CLOSING reason=admin.`)) return;
    button.disabled = true;
    const response = await fetch(`/flows/${id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
    if (response.ok) {
      const section = button.closest('section');
      if (section) section.classList.add('ending');
    } else {
      button.disabled = false;
      $('status').textContent = `ending #${id}: ${response.status} ${(await response.text()).trim()}`;
    }
  }

  function showLogin(error) {
    sessionStorage.removeItem('flows-token');
    setState('login', 'token needed');
    $('login').hidden = false;
    $('login-error').textContent = error || '';
    $('token').focus();
  }

  function start() {
    // The token may come in the fragment (#token=…), which browsers never send to a server; it is
    // then kept for this tab only and taken out of the address bar.
    const fromFragment = new URLSearchParams(location.hash.slice(1)).get('token');
    if (fromFragment) {
      sessionStorage.setItem('flows-token', fromFragment);
      history.replaceState(null, '', location.pathname);
    }

    token = sessionStorage.getItem('flows-token') || '';
    $('login').addEventListener('submit', (event) => {
      event.preventDefault();
      token = $('token').value.trim();
      sessionStorage.setItem('flows-token', token);
      $('login').hidden = true;
      run();
    });
    $('filter').addEventListener('input', () => {
      for (const section of $('flows').children) applyFilter(section);
    });
    $('flows').addEventListener('click', (event) => {
      const button = event.target.closest('button[data-end]');
      if (button) end(button);
    });
    setInterval(tickAll, 1000);
    if (token) run();
    else showLogin('');
  }

  start();
})();
