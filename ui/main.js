// Data Connector window. Talks to Rust only through Tauri commands (see src-tauri/src/commands.rs);
// the HTTP server does not need to be running for anything here except Workspace itself.
'use strict';

(() => {
  const $ = (selector) => document.querySelector(selector);
  const $$ = (selector) => Array.from(document.querySelectorAll(selector));

  const KIND_LABELS = { sqlite: 'SQLite', mysql: 'MySQL / MariaDB', postgres: 'PostgreSQL', snowflake: 'Snowflake', duckdb: 'DuckDB' };
  const DEFAULT_PORTS = { mysql: 3306, postgres: 5432 };
  const AUTH_LABELS = { snowflake: 'password', snowflake_jwt: 'key pair', oauth: 'OAuth', programmatic_access_token: 'access token' };
  const POLL_MS = 2000;
  const LOG_LIMIT = 200;

  const state = {
    view: 'server',
    status: null,
    settings: null,
    connections: [],
    connectionsSignature: null,
    editing: null,
    apiKeyChange: { action: 'keep' },
    seenLog: null,
    serverBusy: false,
  };

  // ---- plumbing ------------------------------------------------------------------------

  async function call(command, args) {
    try {
      return await window.__TAURI__.core.invoke(command, args || {});
    } catch (error) {
      if (error && typeof error === 'object' && 'message' in error) throw error;
      throw { message: String(error), field: null };
    }
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('data-')) node.setAttribute(key, value);
      else node.setAttribute(key, value === true ? '' : value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function toast(message, kind) {
    const node = el('div', { class: 'toast' + (kind === 'err' ? ' err' : ''), role: kind === 'err' ? 'alert' : 'status', text: message });
    $('#toasts').append(node);
    setTimeout(() => node.remove(), kind === 'err' ? 8000 : 3000);
  }

  async function busy(button, work) {
    button.classList.add('busy');
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      return await work();
    } finally {
      button.classList.remove('busy');
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }

  function setFieldError(input, message, messageNode) {
    const target = messageNode || document.getElementById(input.id + '-msg');
    if (target) target.textContent = message || '';
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  async function copyText(text, input) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (_) {
      // Older WebKit builds refuse the async clipboard outside secure contexts; select and copy instead.
      input.focus();
      input.select();
      document.execCommand('copy');
    }
    toast('Copied to the clipboard');
  }

  function formatTime(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    const sameDay = date.toDateString() === new Date().toDateString();
    const time = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    return sameDay ? time : date.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + time;
  }

  function formatDuration(ms) {
    if (ms < 1) return '< 1 ms';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
    return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
  }

  // ---- navigation ----------------------------------------------------------------------

  function showView(name) {
    state.view = name;
    for (const button of $$('.nav-item')) {
      if (button.dataset.view === name) button.setAttribute('aria-current', 'page');
      else button.removeAttribute('aria-current');
    }
    for (const section of $$('.view')) section.hidden = section.id !== 'view-' + name;
    $('#main').scrollTop = 0;
    if (name === 'activity') loadLog();
    if (name === 'connections') loadConnections();
    if (name === 'queries') showQueries();
  }

  function initNav() {
    const items = $$('.nav-item');
    items.forEach((button, index) => {
      button.addEventListener('click', () => showView(button.dataset.view));
      button.addEventListener('keydown', (event) => {
        const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
        if (!step) return;
        event.preventDefault();
        items[(index + step + items.length) % items.length].focus();
      });
    });
    document.addEventListener('keydown', (event) => {
      if (!(event.ctrlKey || event.metaKey) || event.altKey || document.querySelector('dialog[open]')) return;
      const target = items[Number(event.key) - 1];
      if (target) {
        event.preventDefault();
        showView(target.dataset.view);
        target.focus();
      }
    });
  }

  // ---- server --------------------------------------------------------------------------

  function renderStatus(status) {
    state.status = status;
    const running = status.running;
    const line = $('#status-line');
    const side = $('#side-status');
    for (const node of [line, side]) {
      node.classList.toggle('is-running', running);
      node.classList.toggle('is-error', !running && !!status.error);
    }
    if (running) {
      const since = status.since ? ' since ' + formatTime(status.since) : '';
      $('#status-text').textContent = 'Running on ' + status.url + since + (status.api_key ? ' · API key required' : '');
      side.querySelector('.side-status-text').textContent = 'Running on port ' + status.port;
      $('#workspace-url').value = status.workspace_url;
      if (document.activeElement !== $('#port')) $('#port').value = String(status.port);
    } else {
      $('#status-text').textContent = status.error ? 'Stopped: ' + status.error : 'Stopped';
      side.querySelector('.side-status-text').textContent = status.error ? 'Server stopped (error)' : 'Server stopped';
    }
    $('#port').readOnly = running;
    $('#recommend-port').disabled = running;
    $('#start').hidden = running;
    $('#stop').hidden = !running;
    $('#connect-card').hidden = !running;
    $('#api-key-note').hidden = !status.api_key;
    $('#idle-card').hidden = running;
  }

  function portProblem(text) {
    const value = text.trim();
    if (!value) return 'Enter a port, or press Recommend Port.';
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
      return '"' + value + '" is not a port. Enter a number from 1 to 65535.';
    }
    return '';
  }

  async function startServer() {
    const input = $('#port');
    const problem = portProblem(input.value);
    setFieldError(input, problem, $('#port-msg'));
    if (problem) {
      input.focus();
      return;
    }
    state.serverBusy = true;
    try {
      const status = await busy($('#start'), () => call('start_server', { port: input.value.trim() }));
      renderStatus(status);
      $('#stop').focus();
    } catch (error) {
      setFieldError(input, error.message, $('#port-msg'));
      input.focus();
    } finally {
      state.serverBusy = false;
    }
  }

  async function stopServer() {
    state.serverBusy = true;
    try {
      renderStatus(await busy($('#stop'), () => call('stop_server')));
      $('#start').focus();
    } catch (error) {
      toast(error.message, 'err');
    } finally {
      state.serverBusy = false;
    }
  }

  async function pollStatus() {
    if (state.serverBusy) return;
    try {
      const status = await call('server_status');
      if (!state.serverBusy) renderStatus(status);
    } catch (_) {
      // The next poll tries again; a failing status call has nothing useful to show.
    }
  }

  function initServer() {
    const input = $('#port');
    $('#recommend-port').addEventListener('click', async () => {
      try {
        input.value = String(await call('recommend_port'));
        setFieldError(input, '', $('#port-msg'));
        $('#start').focus();
      } catch (error) {
        setFieldError(input, error.message, $('#port-msg'));
      }
    });
    $('#start').addEventListener('click', startServer);
    $('#stop').addEventListener('click', stopServer);
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !input.readOnly) startServer();
    });
    input.addEventListener('input', () => setFieldError(input, '', $('#port-msg')));
    $('#copy-url').addEventListener('click', () => copyText($('#workspace-url').value, $('#workspace-url')));
    $('#open-workspace').addEventListener('click', async (event) => {
      // Keep the window on the app: Workspace opens in the user's browser.
      event.preventDefault();
      try {
        await call('open_workspace');
      } catch (error) {
        toast(error.message, 'err');
      }
    });
  }

  // ---- connections ---------------------------------------------------------------------

  function connectionSummary(c) {
    switch (c.kind) {
      case 'sqlite':
        return c.path;
      case 'duckdb':
        return c.path || 'in memory (reads local files)';
      case 'mysql':
      case 'postgres':
        return c.user + '@' + c.host + ':' + c.port + (c.database ? '/' + c.database : '');
      case 'snowflake': {
        const extras = [c.warehouse, c.database && c.database + (c.schema ? '.' + c.schema : '')].filter(Boolean);
        const auth = AUTH_LABELS[c.authenticator] || (c.has_private_key ? 'key pair' : c.has_oauth_token ? 'OAuth' : c.has_pat ? 'access token' : 'password');
        return c.user + '@' + c.account + ' · ' + auth + (extras.length ? ' · ' + extras.join(' · ') : '');
      }
      default:
        return '';
    }
  }

  function renderConnections() {
    const list = $('#conn-list');
    list.replaceChildren();
    const count = state.connections.length;
    $('#conn-empty').hidden = count > 0;
    list.hidden = count === 0;
    const badge = $('#nav-conn-count');
    badge.hidden = count === 0;
    badge.textContent = String(count);
    for (const c of state.connections) {
      const result = el('p', { class: 'conn-result', role: 'status' });
      const testButton = el('button', { type: 'button', class: 'btn small', 'data-action': 'test', 'aria-label': 'Test ' + c.name, text: 'Test' });
      const editButton = el('button', { type: 'button', class: 'btn small', 'data-action': 'edit', 'aria-label': 'Edit ' + c.name, text: 'Edit' });
      const deleteButton = el('button', { type: 'button', class: 'btn small ghost-danger', 'data-action': 'delete', 'aria-label': 'Delete ' + c.name, text: 'Delete' });
      testButton.addEventListener('click', () => testConnection(c, testButton, result));
      editButton.addEventListener('click', () => openConnDialog(c));
      deleteButton.addEventListener('click', () => confirmDelete(c));
      list.append(
        el('article', { class: 'conn', 'data-name': c.name },
          el('div', { class: 'conn-main' },
            el('div', { class: 'conn-title' },
              el('h3', { text: c.name }),
              el('span', { class: 'badge kind', text: KIND_LABELS[c.kind] || c.kind }),
              c.read_only ? el('span', { class: 'badge', text: 'Read-only' }) : el('span', { class: 'badge warn', text: 'Writes allowed' })),
            el('p', { class: 'conn-detail mono', title: connectionSummary(c), text: connectionSummary(c) }),
            result),
          el('div', { class: 'conn-actions' }, testButton, editButton, deleteButton)));
    }
  }

  async function loadConnections(quiet) {
    try {
      const connections = await call('list_connections');
      // Re-rendering would wipe the test results shown on the cards, so only do it on change.
      const signature = JSON.stringify(connections);
      if (signature === state.connectionsSignature) return;
      state.connectionsSignature = signature;
      state.connections = connections;
      renderConnections();
    } catch (error) {
      if (!quiet) toast('Could not load the connections: ' + error.message, 'err');
    }
  }

  async function testConnection(c, button, result) {
    result.className = 'conn-result';
    result.textContent = 'Connecting…';
    try {
      const report = await busy(button, () => call('test_connection', { name: c.name }));
      result.className = 'conn-result ok';
      result.textContent = 'Connected · ' + report.server_version + ' · ' + formatDuration(report.latency_ms);
      showWarnings(result, report.warnings);
    } catch (error) {
      result.className = 'conn-result err';
      result.textContent = error.message;
    }
  }

  // What the login can do beyond reading (the server's privilege warnings), under a card's result.
  function showWarnings(result, warnings) {
    if (!warnings || !warnings.length) return;
    result.append(el('ul', { class: 'conn-warnings' }, ...warnings.map((w) => el('li', { text: w }))));
  }

  // ---- connection dialog ---------------------------------------------------------------

  const dialog = $('#conn-dialog');

  function selectedKind() {
    const checked = $('input[name="kind"]:checked');
    return checked ? checked.value : 'sqlite';
  }

  function updateKindFields() {
    const kind = selectedKind();
    for (const group of $$('.kind-fields')) group.hidden = !group.dataset.kinds.split(' ').includes(kind);
    if (DEFAULT_PORTS[kind]) $('#f-port').placeholder = String(DEFAULT_PORTS[kind]);
    updateAuthFields();
  }

  function updateAuthFields() {
    const auth = $('#f-auth').value;
    for (const group of $$('.auth-fields')) group.hidden = group.dataset.auth !== auth;
  }

  function secretPlaceholder(c, field, fallback) {
    return c && c['has_' + field] ? 'Saved in keyring' : fallback || '';
  }

  function openConnDialog(c) {
    state.editing = c || null;
    const form = $('#conn-form');
    form.reset();
    $('#conn-error').hidden = true;
    $('#conn-status').textContent = '';
    $('#conn-title').textContent = c ? 'Edit ' + c.name : 'Add connection';
    $('#conn-save').textContent = c ? 'Save changes' : 'Save connection';
    for (const radio of $$('input[name="kind"]')) {
      radio.checked = radio.value === (c ? c.kind : 'sqlite');
      radio.disabled = !!c;
    }
    const v = (value) => (value === null || value === undefined ? '' : String(value));
    $('#f-name').value = c ? c.name : '';
    $('#f-read-only').checked = c ? !!c.read_only : true;
    if (c && c.kind === 'sqlite') $('#f-path').value = v(c.path);
    $('#f-duck-path').value = c && c.kind === 'duckdb' ? v(c.path) : '';
    if (c && (c.kind === 'mysql' || c.kind === 'postgres')) {
      $('#f-host').value = v(c.host);
      $('#f-port').value = v(c.port);
      $('#f-user').value = v(c.user);
      $('#f-database').value = v(c.database);
      $('#f-tls').value = c.tls || 'prefer';
      $('#f-ca-file').value = v(c.ca_file);
      const ssh = c.ssh || {};
      $('#f-ssh-host').value = v(ssh.host);
      $('#f-ssh-port').value = v(ssh.port);
      $('#f-ssh-user').value = v(ssh.user);
      $('.ssh-tunnel').open = !!c.ssh;
    }
    // The pinned bastion key, for the user to compare with what their administrator publishes.
    const hostKey = c && c.ssh && c.ssh.host_key;
    $('#f-ssh-host-key').hidden = !hostKey;
    $('#f-ssh-host-key').textContent = hostKey ? 'Bastion host key (pinned): ' + hostKey : '';
    if (c && c.kind === 'snowflake') {
      $('#f-account').value = v(c.account);
      $('#f-sf-user').value = v(c.user);
      $('#f-auth').value = c.authenticator || (c.has_private_key ? 'snowflake_jwt' : c.has_oauth_token ? 'oauth' : c.has_pat ? 'programmatic_access_token' : 'snowflake');
      $('#f-role').value = v(c.role);
      $('#f-warehouse').value = v(c.warehouse);
      $('#f-sf-database').value = v(c.database);
      $('#f-schema').value = v(c.schema);
      $('#f-base-url').value = v(c.base_url);
      $('.advanced').open = !!c.base_url;
    }
    $('#f-password').placeholder = secretPlaceholder(c, 'password');
    $('#f-ssh-password').placeholder = secretPlaceholder(c, 'ssh_password');
    $('#f-ssh-key').placeholder = secretPlaceholder(c, 'ssh_private_key', '-----BEGIN OPENSSH PRIVATE KEY-----');
    $('#f-ssh-passphrase').placeholder = secretPlaceholder(c, 'ssh_passphrase');
    $('#f-sf-password').placeholder = secretPlaceholder(c, 'password');
    $('#f-passcode').placeholder = secretPlaceholder(c, 'passcode', 'Only if MFA asks for one');
    $('#f-private-key').placeholder = secretPlaceholder(c, 'private_key', '-----BEGIN PRIVATE KEY-----');
    $('#f-passphrase').placeholder = secretPlaceholder(c, 'private_key_passphrase');
    $('#f-token').placeholder = secretPlaceholder(c, 'oauth_token');
    $('#f-pat').placeholder = secretPlaceholder(c, 'pat');
    $('#secret-note').hidden = !c || c.kind === 'sqlite' || c.kind === 'duckdb';
    updateKindFields();
    dialog.showModal();
    (c ? $('#f-name') : $('input[name="kind"]:checked')).focus();
  }

  function closeConnDialog() {
    dialog.close();
    state.editing = null;
  }

  // Builds what the core expects: settings, plus secrets only where the user typed one (an empty
  // secret on edit keeps the stored one).
  function connectionPayload() {
    const kind = selectedKind();
    const text = (id) => $(id).value.trim();
    const optional = (id) => text(id) || null;
    const payload = { kind, read_only: $('#f-read-only').checked };
    const secret = (field, id) => {
      const value = $(id).value;
      if (value.trim()) payload[field] = ['private_key', 'oauth_token', 'pat'].includes(field) ? value.trim() : value;
    };
    const missing = [];
    const need = (id, label) => {
      if (!text(id)) missing.push([id, label]);
    };
    need('#f-name', 'a name');
    if (kind === 'sqlite') {
      need('#f-path', 'the database file');
      payload.path = text('#f-path');
    } else if (kind === 'duckdb') {
      payload.path = optional('#f-duck-path');
    } else if (kind === 'mysql' || kind === 'postgres') {
      need('#f-host', 'the host');
      need('#f-user', 'the user');
      const port = text('#f-port');
      if (port && (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535)) {
        return { error: 'The port must be a number from 1 to 65535.', focus: '#f-port' };
      }
      payload.host = text('#f-host');
      payload.port = port ? Number(port) : DEFAULT_PORTS[kind];
      payload.user = text('#f-user');
      payload.database = optional('#f-database');
      payload.tls = $('#f-tls').value;
      payload.ca_file = optional('#f-ca-file');
      secret('password', '#f-password');
      const sshHost = text('#f-ssh-host');
      if (sshHost) {
        need('#f-ssh-user', 'the SSH user');
        const sshPort = text('#f-ssh-port');
        if (sshPort && (!/^\d+$/.test(sshPort) || Number(sshPort) < 1 || Number(sshPort) > 65535)) {
          return { error: 'The SSH port must be a number from 1 to 65535.', focus: '#f-ssh-port' };
        }
        // Without host_key: the server keeps the pinned key for the same bastion.
        payload.ssh = { host: sshHost, port: sshPort ? Number(sshPort) : 22, user: text('#f-ssh-user') };
        secret('ssh_password', '#f-ssh-password');
        secret('ssh_private_key', '#f-ssh-key');
        secret('ssh_passphrase', '#f-ssh-passphrase');
      } else {
        payload.ssh = null;
      }
    } else if (kind === 'snowflake') {
      need('#f-account', 'the account identifier');
      need('#f-sf-user', 'the user');
      const auth = $('#f-auth').value;
      payload.account = text('#f-account');
      payload.user = text('#f-sf-user');
      payload.authenticator = auth;
      payload.role = optional('#f-role');
      payload.warehouse = optional('#f-warehouse');
      payload.database = optional('#f-sf-database');
      payload.schema = optional('#f-schema');
      payload.base_url = optional('#f-base-url');
      const stored = state.editing || {};
      if (auth === 'snowflake') {
        if (!stored.has_password) need('#f-sf-password', 'the password');
        secret('password', '#f-sf-password');
        secret('passcode', '#f-passcode');
      } else if (auth === 'snowflake_jwt') {
        if (!stored.has_private_key) need('#f-private-key', 'the private key');
        secret('private_key', '#f-private-key');
        secret('private_key_passphrase', '#f-passphrase');
      } else if (auth === 'programmatic_access_token') {
        if (!stored.has_pat) need('#f-pat', 'the programmatic access token');
        secret('pat', '#f-pat');
      } else {
        if (!stored.has_oauth_token) need('#f-token', 'the OAuth token');
        secret('oauth_token', '#f-token');
      }
    }
    if (missing.length) {
      return { error: 'Enter ' + missing.map((m) => m[1]).join(', ') + '.', focus: missing[0][0] };
    }
    const name = text('#f-name');
    return { payload, name };
  }

  async function saveConnection(event) {
    event.preventDefault();
    const errorBox = $('#conn-error');
    errorBox.hidden = true;
    const built = connectionPayload();
    if (built.error) {
      errorBox.textContent = built.error;
      errorBox.hidden = false;
      $(built.focus).focus();
      return;
    }
    const editing = state.editing;
    $('#conn-status').textContent = 'Connecting to check the settings…';
    try {
      await busy($('#conn-save'), () => editing
        ? call('update_connection', { name: editing.name, patch: Object.assign({ name: built.name }, built.payload) })
        : call('create_connection', { input: Object.assign({ name: built.name }, built.payload) }));
      closeConnDialog();
      toast('Saved “' + built.name + '”');
      await loadConnections();
      await warnAfterSave(built.name);
    } catch (error) {
      $('#conn-status').textContent = '';
      errorBox.textContent = error.message;
      errorBox.hidden = false;
      errorBox.focus();
    }
  }

  // A saved login that can do more than read is flagged on its card right away.
  async function warnAfterSave(name) {
    let report;
    try {
      report = await call('test_connection', { name });
    } catch (_) {
      return;
    }
    if (!report.warnings || !report.warnings.length) return;
    const card = [...$$('article.conn')].find((node) => node.dataset.name === name);
    const result = card && card.querySelector('.conn-result');
    // A test the user started meanwhile shows the same warnings under its own result.
    if (result && !result.textContent) {
      result.className = 'conn-result';
      result.textContent = 'This login can do more than read:';
      showWarnings(result, report.warnings);
    }
    toast('“' + name + '” uses a login that can do more than read; see its card');
  }

  function initConnDialog() {
    $('#add-conn').addEventListener('click', () => openConnDialog(null));
    $('#add-conn-empty').addEventListener('click', () => openConnDialog(null));
    $('#conn-form').addEventListener('submit', saveConnection);
    $('#conn-cancel').addEventListener('click', closeConnDialog);
    $('#conn-close').addEventListener('click', closeConnDialog);
    $('#conn-error').tabIndex = -1;
    // Esc closes the dialog natively; forget what was being edited either way.
    dialog.addEventListener('close', () => {
      state.editing = null;
    });
    for (const radio of $$('input[name="kind"]')) radio.addEventListener('change', updateKindFields);
    $('#f-auth').addEventListener('change', updateAuthFields);
    $('#browse-sqlite').addEventListener('click', async () => {
      try {
        const path = await call('pick_sqlite_file');
        if (path) {
          $('#f-path').value = path;
          if (!$('#f-name').value.trim()) {
            const base = path.split(/[\\/]/).pop().replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9_. -]/g, '-');
            $('#f-name').value = base.replace(/^[ .]+/, '').slice(0, 64);
          }
        }
      } catch (error) {
        toast(error.message, 'err');
      }
    });
    for (const [button, command] of [['#browse-duck-file', 'pick_duckdb_file'], ['#browse-duck-folder', 'pick_duckdb_folder']]) {
      $(button).addEventListener('click', async () => {
        try {
          const path = await call(command);
          if (path) $('#f-duck-path').value = path;
        } catch (error) {
          toast(error.message, 'err');
        }
      });
    }
    $('#load-key').addEventListener('click', async () => {
      try {
        const key = await call('pick_private_key');
        if (key) $('#f-private-key').value = key;
      } catch (error) {
        toast(error.message, 'err');
      }
    });
  }

  // ---- delete confirmation -------------------------------------------------------------

  const confirmDialog = $('#confirm-dialog');
  let pendingDelete = null;

  function confirmDelete(c) {
    pendingDelete = c;
    $('#confirm-title').textContent = 'Delete “' + c.name + '”?';
    $('#confirm-text').textContent =
      'Its saved queries go too, and its secrets are removed from the keyring. Workspace widgets that use it stop working.';
    confirmDialog.showModal();
    $('#confirm-cancel').focus();
  }

  function initConfirm() {
    $('#confirm-cancel').addEventListener('click', () => confirmDialog.close());
    $('#confirm-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      const c = pendingDelete;
      if (!c) return;
      try {
        await busy($('#confirm-ok'), () => call('delete_connection', { name: c.name }));
        confirmDialog.close();
        toast('Deleted “' + c.name + '”');
        await loadConnections();
      } catch (error) {
        confirmDialog.close();
        toast(error.message, 'err');
      }
    });
    confirmDialog.addEventListener('close', () => {
      pendingDelete = null;
    });
  }

  // ---- queries -------------------------------------------------------------------------
  // Saved queries go through the HTTP API's own handlers in-process (src-tauri/src/queries.rs),
  // so the window checks and stores them exactly as Workspace and the API do.

  const PARAM_TYPES = ['text', 'number', 'date', 'boolean'];
  const DISPLAY_LABELS = { table: 'Table', chart: 'Chart', metric: 'Metric' };
  const PARAM_PATTERN = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

  const queries = { list: [], editing: null, signature: null };

  function queryDisplayType(q) {
    return (q.display && q.display.type) || 'table';
  }

  function renderQueryList() {
    const list = $('#q-list');
    const count = queries.list.length;
    list.replaceChildren(...queries.list.map((q) => {
      const parameters = Array.isArray(q.parameters) ? q.parameters.length : 0;
      const item = el('button', {
        type: 'button', class: 'query-item', role: 'listitem', 'data-id': String(q.id),
        'aria-current': queries.editing && queries.editing.id === q.id ? 'true' : null,
      },
      el('span', { class: 'query-name', title: q.name, text: q.name }),
      el('span', { class: 'query-meta' },
        el('span', { text: q.connection }),
        el('span', { class: 'badge kind', text: DISPLAY_LABELS[queryDisplayType(q)] || queryDisplayType(q) }),
        parameters ? el('span', { class: 'badge', text: parameters === 1 ? '1 parameter' : parameters + ' parameters' }) : null));
      item.addEventListener('click', () => openQuery(q));
      return item;
    }));
    $('#q-empty').hidden = count > 0;
    list.hidden = count === 0;
    const badge = $('#nav-query-count');
    badge.hidden = count === 0;
    badge.textContent = String(count);
  }

  async function loadQueries(quiet) {
    try {
      const list = await call('list_queries');
      const signature = JSON.stringify(list);
      if (signature === queries.signature) return;
      queries.signature = signature;
      queries.list = list;
      // The query being edited may have been changed or deleted elsewhere (the API, the CLI).
      if (queries.editing && !list.some((q) => q.id === queries.editing.id)) queries.editing = null;
      renderQueryList();
    } catch (error) {
      if (!quiet) toast('Could not load the saved queries: ' + error.message, 'err');
    }
  }

  function fillConnectionChoices(selected) {
    const select = $('#q-connection');
    const names = state.connections.map((c) => c.name);
    if (selected && !names.includes(selected)) names.push(selected);
    select.replaceChildren(
      el('option', { value: '', text: names.length ? 'Choose a connection' : 'Add a connection first' }),
      ...names.map((name) => el('option', { value: name, text: name })));
    select.value = selected || (names.length === 1 ? names[0] : '');
  }

  function paramRow(p) {
    const spec = p || {};
    const type = el('select', { class: 'p-type', 'aria-label': 'Type' },
      ...PARAM_TYPES.map((t) => el('option', { value: t, text: t })));
    type.value = PARAM_TYPES.includes(spec.type) ? spec.type : 'text';
    const defaultText = Array.isArray(spec.default) ? spec.default.join(',') : spec.default === undefined || spec.default === null ? '' : String(spec.default);
    const options = Array.isArray(spec.options)
      ? spec.options.map((o) => (o && typeof o === 'object' ? o.value : o)).join(', ')
      : '';
    const remove = el('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Remove parameter ' + (spec.name || '') },
      el('span', { text: '×' }));
    const row = el('tr', { 'data-param-row': '' },
      el('td', {}, el('input', { class: 'p-name', value: spec.name || '', spellcheck: 'false', autocomplete: 'off', 'aria-label': 'Name', placeholder: 'ticker' })),
      el('td', {}, type),
      el('td', {}, el('input', { class: 'p-label', value: spec.label || '', autocomplete: 'off', 'aria-label': 'Label' })),
      el('td', {}, el('input', { class: 'p-default', value: defaultText, spellcheck: 'false', autocomplete: 'off', 'aria-label': 'Default', placeholder: spec.type === 'date' ? '$currentDate-1M' : '' })),
      el('td', {}, el('input', { class: 'p-options', value: options, spellcheck: 'false', autocomplete: 'off', 'aria-label': 'Options' })),
      el('td', {}, el('input', { class: 'p-multiple', type: 'checkbox', checked: !!spec.multiple, 'aria-label': 'Multiple values' })),
      el('td', {}, el('input', { class: 'p-value', spellcheck: 'false', autocomplete: 'off', 'aria-label': 'Preview value', placeholder: 'default' })),
      el('td', {}, remove));
    // Descriptions and options_sql have no column here; keep them through an edit.
    if (spec.description) row.dataset.description = spec.description;
    if (spec.options_sql) row.dataset.optionsSql = spec.options_sql;
    remove.addEventListener('click', () => {
      row.remove();
      updateParamsEmpty();
    });
    return row;
  }

  function updateParamsEmpty() {
    const any = $('#q-params').children.length > 0;
    $('#q-params-wrap').hidden = !any;
    $('#q-params-empty').hidden = any;
  }

  function addParamRow(spec) {
    const row = paramRow(spec);
    $('#q-params').append(row);
    updateParamsEmpty();
    return row;
  }

  // Adds a row for each {{name}} the SQL uses and no row declares. A plain scan: the server's
  // lexer decides what really is a parameter (not inside a string or comment) when it saves.
  function detectParams() {
    const declared = new Set($$('#q-params .p-name').map((input) => input.value.trim()));
    let added = 0;
    for (const match of $('#q-sql').value.matchAll(PARAM_PATTERN)) {
      const name = match[1];
      if (declared.has(name)) continue;
      declared.add(name);
      addParamRow({ name, type: /date|day|from$|to$|start|end/i.test(name) ? 'date' : 'text' });
      added += 1;
    }
    setFieldError($('#q-sql'), '', $('#q-params-msg'));
    if (!added) $('#q-params-msg').textContent = declared.size ? '' : 'The SQL has no {{name}} parameters.';
  }

  // A default or option as the type's JSON value; text the type cannot read stays text, for the
  // server to refuse with a message naming the parameter.
  function typedValue(type, text) {
    if (type === 'number' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return Number(text);
    if (type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
    return text;
  }

  function readParameters() {
    return $$('#q-params tr[data-param-row]').map((row) => {
      const value = (selector) => row.querySelector(selector).value.trim();
      const type = value('.p-type');
      const spec = { name: value('.p-name'), type };
      if (value('.p-label')) spec.label = value('.p-label');
      if (row.dataset.description) spec.description = row.dataset.description;
      const multiple = row.querySelector('.p-multiple').checked;
      const fallback = value('.p-default');
      if (fallback) {
        spec.default = multiple
          ? fallback.split(',').map((part) => typedValue(type, part.trim())).filter((v) => v !== '')
          : typedValue(type, fallback);
      }
      const options = value('.p-options').split(',').map((part) => part.trim()).filter(Boolean);
      if (options.length) spec.options = options.map((option) => typedValue(type, option));
      if (row.dataset.optionsSql) spec.options_sql = row.dataset.optionsSql;
      if (multiple) spec.multiple = true;
      return spec;
    });
  }

  // What the preview binds: the values typed in the rows; empty ones take the defaults.
  function readPreviewValues() {
    const values = {};
    for (const row of $$('#q-params tr[data-param-row]')) {
      const name = row.querySelector('.p-name').value.trim();
      const value = row.querySelector('.p-value').value.trim();
      if (name && value) values[name] = value;
    }
    return values;
  }

  function selectedDisplay() {
    const checked = $('input[name="q-display"]:checked');
    return checked ? checked.value : 'table';
  }

  function updateDisplayFields() {
    const type = selectedDisplay();
    for (const group of $$('.display-fields')) group.hidden = group.dataset.display !== type;
  }

  function readDisplay() {
    const type = selectedDisplay();
    const text = (selector) => $(selector).value.trim();
    if (type === 'chart') {
      return {
        type, chart_type: text('#q-chart-type'), x: text('#q-chart-x'),
        y: text('#q-chart-y').split(',').map((part) => part.trim()).filter(Boolean),
      };
    }
    if (type === 'metric') {
      const display = { type, value: text('#q-metric-value') };
      if (text('#q-metric-label')) display.label = text('#q-metric-label');
      if (text('#q-metric-delta')) display.delta = text('#q-metric-delta');
      return display;
    }
    return { type: 'table' };
  }

  function showDisplay(display) {
    const d = display || { type: 'table' };
    for (const radio of $$('input[name="q-display"]')) radio.checked = radio.value === (d.type || 'table');
    $('#q-chart-type').value = d.chart_type || 'line';
    $('#q-chart-x').value = d.x || '';
    $('#q-chart-y').value = Array.isArray(d.y) ? d.y.join(', ') : d.y || '';
    $('#q-metric-value').value = d.value || '';
    $('#q-metric-label').value = d.label || '';
    $('#q-metric-delta').value = d.delta || '';
    updateDisplayFields();
  }

  function positiveInteger(selector) {
    const text = $(selector).value.trim();
    return /^\d+$/.test(text) && Number(text) > 0 ? Number(text) : null;
  }

  function showQueryStatus(text, kind) {
    const status = $('#q-status');
    status.className = 'form-status' + (kind ? ' ' + kind : '');
    status.textContent = text;
  }

  function clearPreview() {
    $('#q-preview-area').hidden = true;
    $('#q-preview-error').hidden = true;
    $('#q-preview-grid').hidden = true;
    $('#q-preview-status').textContent = '';
  }

  function openQuery(q) {
    queries.editing = q || null;
    $('#q-editor-title').textContent = q ? 'Edit “' + q.name + '”' : 'New query';
    $('#q-delete').hidden = !q;
    $('#q-save').textContent = q ? 'Save changes' : 'Save';
    $('#q-name').value = q ? q.name : '';
    fillConnectionChoices(q ? q.connection : '');
    $('#q-description').value = q ? q.description || '' : '';
    $('#q-sql').value = q ? q.sql : '';
    $('#q-params').replaceChildren();
    for (const spec of (q && q.parameters) || []) addParamRow(spec);
    updateParamsEmpty();
    showDisplay(q && q.display);
    $('#q-category').value = q && q.category ? q.category : '';
    $('#q-refresh').value = q && q.refresh_interval ? String(q.refresh_interval) : '';
    $('#q-row-limit').value = q && q.row_limit ? String(q.row_limit) : '';
    for (const id of ['#q-name', '#q-connection', '#q-sql']) setFieldError($(id), '');
    $('#q-params-msg').textContent = '';
    showQueryStatus('');
    clearPreview();
    renderQueryList();
  }

  function queryProblems() {
    const problems = [
      ['#q-name', $('#q-name').value.trim() ? '' : 'Give the query a name; Workspace lists the widget by it.'],
      ['#q-connection', $('#q-connection').value ? '' : 'Choose the connection it runs on.'],
      ['#q-sql', $('#q-sql').value.trim() ? '' : 'Write the SQL.'],
    ];
    for (const [selector, message] of problems) setFieldError($(selector), message);
    const first = problems.find(([, message]) => message);
    if (first) $(first[0]).focus();
    return !!first;
  }

  function readQuery() {
    const draft = {
      connection: $('#q-connection').value,
      name: $('#q-name').value.trim(),
      sql: $('#q-sql').value,
      description: $('#q-description').value.trim(),
      parameters: readParameters(),
      display: readDisplay(),
    };
    // A cleared setting is sent as null so that saving an edit clears it too.
    draft.category = $('#q-category').value.trim() || null;
    draft.refresh_interval = positiveInteger('#q-refresh');
    draft.row_limit = positiveInteger('#q-row-limit');
    return draft;
  }

  async function saveQuery(event) {
    event.preventDefault();
    showQueryStatus('');
    if (queryProblems()) return;
    const editing = queries.editing;
    try {
      const saved = await busy($('#q-save'), () => call('save_query', { id: editing ? editing.id : null, query: readQuery() }));
      // The form already shows what was saved; keep it and the preview, and mark it saved.
      queries.editing = saved;
      $('#q-editor-title').textContent = 'Edit “' + saved.name + '”';
      $('#q-delete').hidden = false;
      $('#q-save').textContent = 'Save changes';
      queries.signature = null;
      await loadQueries(true);
      renderQueryList();
      showQueryStatus((editing ? 'Saved. ' : 'Saved as widget #' + saved.id + '. ') + 'Workspace shows it on its next refresh.', 'ok');
    } catch (error) {
      showQueryStatus(error.message, 'err');
    }
  }

  function cellText(value) {
    if (value === null || value === undefined) return 'NULL';
    if (typeof value === 'object') return JSON.stringify(value);
    return String(value);
  }

  function renderPreview(result) {
    $('#q-preview-head').replaceChildren(...result.columns.map((c) =>
      el('th', { scope: 'col', title: c.db_type }, c.name, c.db_type ? el('small', { text: c.db_type.toLowerCase() }) : null)));
    $('#q-preview-body').replaceChildren(...result.rows.map((row) => el('tr', {},
      ...row.map((value) => el('td', {
        class: value === null ? 'null' : typeof value === 'number' ? 'num' : null,
        title: cellText(value),
        text: cellText(value),
      })))));
    const rows = result.rows.length;
    const count = result.truncated ? 'First ' + rows + ' rows' : rows === 1 ? '1 row' : rows.toLocaleString() + ' rows';
    $('#q-preview-status').textContent = count + ' · ' + formatDuration(result.elapsed_ms);
    $('#q-preview-grid').hidden = result.columns.length === 0;
    $('#q-columns').replaceChildren(...result.columns.map((c) => el('option', { value: c.name })));
  }

  async function previewQuery() {
    setFieldError($('#q-connection'), $('#q-connection').value ? '' : 'Choose the connection it runs on.');
    if (!$('#q-connection').value) return;
    const area = $('#q-preview-area');
    area.hidden = false;
    $('#q-preview-error').hidden = true;
    $('#q-preview-status').textContent = 'Running…';
    try {
      const result = await busy($('#q-preview'), () => call('preview_query', {
        connection: $('#q-connection').value,
        sql: $('#q-sql').value,
        parameters: readParameters(),
        values: readPreviewValues(),
      }));
      renderPreview(result);
    } catch (error) {
      $('#q-preview-grid').hidden = true;
      $('#q-preview-status').textContent = '';
      const banner = $('#q-preview-error');
      banner.textContent = error.message;
      banner.hidden = false;
    }
  }

  function initQueries() {
    $('#q-new').addEventListener('click', () => {
      openQuery(null);
      $('#q-name').focus();
    });
    $('#q-form').addEventListener('submit', saveQuery);
    $('#q-preview').addEventListener('click', previewQuery);
    $('#q-detect').addEventListener('click', detectParams);
    $('#q-param-add').addEventListener('click', () => addParamRow().querySelector('.p-name').focus());
    for (const radio of $$('input[name="q-display"]')) radio.addEventListener('change', updateDisplayFields);
    for (const id of ['#q-name', '#q-connection', '#q-sql']) {
      $(id).addEventListener('input', () => setFieldError($(id), ''));
    }
    $('#q-sql').addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        previewQuery();
      }
    });
    const confirmDialog = $('#q-confirm-dialog');
    $('#q-delete').addEventListener('click', () => {
      if (!queries.editing) return;
      $('#q-confirm-title').textContent = 'Delete “' + queries.editing.name + '”?';
      confirmDialog.showModal();
      $('#q-confirm-cancel').focus();
    });
    $('#q-confirm-cancel').addEventListener('click', () => confirmDialog.close());
    $('#q-confirm-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      const q = queries.editing;
      if (!q) return;
      try {
        await busy($('#q-confirm-ok'), () => call('delete_query', { id: q.id }));
        confirmDialog.close();
        toast('Deleted “' + q.name + '”');
        openQuery(null);
        await loadQueries();
      } catch (error) {
        confirmDialog.close();
        showQueryStatus(error.message, 'err');
      }
    });
  }

  async function showQueries() {
    // The connection list feeds the editor's choices.
    await loadConnections(true);
    const chosen = $('#q-connection').value || (queries.editing && queries.editing.connection);
    fillConnectionChoices(chosen);
    await loadQueries();
  }

  // ---- activity ------------------------------------------------------------------------

  function resultCell(entry) {
    const cell = el('td', { class: 'result' });
    if (entry.outcome === 'ok') cell.append(el('span', { class: 'badge ok', text: 'OK' }));
    else if (entry.outcome === 'truncated') cell.append(el('span', { class: 'badge warn', text: 'Row cap reached' }));
    else {
      const label = entry.outcome.charAt(0).toUpperCase() + entry.outcome.slice(1);
      cell.append(el('span', { class: 'badge err', text: label }));
    }
    if (entry.error) cell.append(el('div', { class: 'err-text', text: entry.error }));
    return cell;
  }

  // Who ran a query, in words; unknown sources show as they are.
  const SOURCE_LABELS = {
    api: 'API',
    cli: 'Command line',
    workspace: 'Workspace',
    widget: 'Workspace widget',
    app: 'Desktop app',
    mcp: 'AI agent (MCP)',
  };

  function sourceLabel(source) {
    return SOURCE_LABELS[source] || source;
  }

  function renderLog(entries) {
    const body = $('#log-body');
    const first = state.seenLog === null;
    const seen = state.seenLog || new Set();
    body.replaceChildren(...entries.map((entry) => el('tr', { class: !first && !seen.has(entry.id) ? 'fresh' : null, 'data-id': String(entry.id) },
      el('td', { class: 'time', title: entry.at, text: formatTime(entry.at) }),
      el('td', { title: entry.source, text: sourceLabel(entry.source) }),
      el('td', { text: entry.connection }),
      el('td', { class: 'sql', title: entry.sql, text: entry.sql.replace(/\s+/g, ' ').trim() }),
      el('td', { class: 'num', text: entry.rows.toLocaleString() }),
      el('td', { class: 'num', text: formatDuration(entry.duration_ms) }),
      resultCell(entry))));
    state.seenLog = new Set(entries.map((entry) => entry.id));
    $('#log-card').hidden = entries.length === 0;
    $('#log-empty').hidden = entries.length > 0;
  }

  async function loadLog() {
    try {
      renderLog(await call('activity', { limit: LOG_LIMIT }));
    } catch (error) {
      toast('Could not load the activity: ' + error.message, 'err');
    }
  }

  // ---- settings ------------------------------------------------------------------------

  function renderApiKeyState() {
    const set = state.settings.api_key_set;
    const change = state.apiKeyChange.action;
    const editing = change === 'set';
    let text;
    if (change === 'remove') text = 'The API key will be removed when you save.';
    else if (set) text = 'An API key is set. Requests without it in the X-API-KEY header are refused, including Workspace\'s Data Connectors page, which cannot send it: list your OpenBB user id below, or use Apps → Connect backend.';
    else text = 'No API key. Workspace and the origins above can call the server without one.';
    $('#api-key-state').textContent = text;
    $('#api-key-actions').hidden = editing;
    $('#api-key-editor').hidden = !editing;
    $('#api-key-set').textContent = change === 'remove' ? 'Keep the key' : set ? 'Replace key…' : 'Set API key…';
    $('#api-key-remove').hidden = !set || change === 'remove';
  }

  function renderSettings(view) {
    state.settings = view;
    state.apiKeyChange = { action: 'keep' };
    $('#s-start-on-open').checked = view.start_on_open;
    $('#s-close-to-tray').checked = view.close_to_tray;
    $('#s-tls').checked = Boolean(view.tls);
    $('#s-default-rows').value = String(view.default_rows);
    $('#s-default-rows').max = String(view.max_rows);
    $('#s-timeout').value = String(view.timeout_secs);
    $('#s-timeout').max = String(view.max_timeout_secs);
    $('#s-origins').value = view.allowed_origins.join('\n');
    $('#s-workspace-lite').checked = WORKSPACE_LITE.every((o) => view.allowed_origins.includes(o));
    $('#s-workspace-users').value = (view.workspace_users || []).join('\n');
    $('#s-default-origins').textContent = view.default_origins.join(' and ');
    $('#s-data-dir').textContent = view.data_dir;
    $('#s-secret-store').textContent = view.secret_store;
    $('#s-api-key').value = '';
    renderApiKeyState();
  }

  // Self-hosted Workspace Lite's origins: one toggle adds or removes both (server flag
  // --workspace-lite does the same on the command line).
  const WORKSPACE_LITE = ['http://localhost:8080', 'http://localhost:3000'];

  function toggleWorkspaceLite() {
    const lines = $('#s-origins').value.split('\n').map((line) => line.trim()).filter(Boolean);
    const others = lines.filter((line) => !WORKSPACE_LITE.includes(line.replace(/\/+$/, '')));
    $('#s-origins').value = ($('#s-workspace-lite').checked ? others.concat(WORKSPACE_LITE) : others).join('\n');
  }

  const SETTINGS_FIELDS = {
    allowed_origins: '#s-origins',
    default_rows: '#s-default-rows',
    timeout_secs: '#s-timeout',
    api_key: '#s-api-key',
    workspace_users: '#s-workspace-users',
  };

  function clearSettingsErrors() {
    for (const selector of Object.values(SETTINGS_FIELDS)) setFieldError($(selector), '');
  }

  async function saveSettings(event) {
    event.preventDefault();
    clearSettingsErrors();
    const status = $('#settings-status');
    status.className = 'form-status';
    status.textContent = '';
    const number = (selector) => {
      const value = $(selector).value.trim();
      return /^\d+$/.test(value) ? Number(value) : 0;
    };
    let apiKey = state.apiKeyChange;
    if (apiKey.action === 'set') apiKey = { action: 'set', value: $('#s-api-key').value.trim() };
    const input = {
      allowed_origins: $('#s-origins').value.split('\n').map((line) => line.trim()).filter(Boolean),
      default_rows: number('#s-default-rows'),
      timeout_secs: number('#s-timeout'),
      start_on_open: $('#s-start-on-open').checked,
      close_to_tray: $('#s-close-to-tray').checked,
      tls: $('#s-tls').checked,
      api_key: apiKey,
      workspace_users: $('#s-workspace-users').value.split('\n').map((line) => line.trim()).filter(Boolean),
    };
    try {
      const saved = await busy($('#settings-save'), () => call('save_settings', { input }));
      renderSettings(saved.settings);
      renderStatus(saved.status);
      status.className = 'form-status ok';
      status.textContent = saved.restarted ? 'Saved. The server restarted with the new settings.' : 'Saved.';
    } catch (error) {
      const selector = error.field && SETTINGS_FIELDS[error.field];
      if (selector) {
        setFieldError($(selector), error.message);
        $(selector).focus();
      } else {
        status.className = 'form-status err';
        status.textContent = error.message;
      }
    }
  }

  function generateKey() {
    const bytes = new Uint8Array(24);
    crypto.getRandomValues(bytes);
    return 'dc_' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function initSettings() {
    $('#settings-form').addEventListener('submit', saveSettings);
    // Changing trust stores only ever happens on this click (the user's consent).
    $('#s-trust-ca').addEventListener('click', async () => {
      const out = $('#s-trust-ca-status');
      try {
        const lines = await busy($('#s-trust-ca'), () => call('install_local_ca'));
        out.className = 'form-status ok';
        out.textContent = lines.join(' ');
      } catch (error) {
        out.className = 'form-status err';
        out.textContent = error.message;
      }
    });
    $('#s-workspace-lite').addEventListener('change', toggleWorkspaceLite);
    $('#s-origins').addEventListener('input', () => {
      const lines = $('#s-origins').value.split('\n').map((line) => line.trim().replace(/\/+$/, ''));
      $('#s-workspace-lite').checked = WORKSPACE_LITE.every((o) => lines.includes(o));
    });
    $('#api-key-set').addEventListener('click', () => {
      if (state.apiKeyChange.action === 'remove') {
        state.apiKeyChange = { action: 'keep' };
        renderApiKeyState();
        return;
      }
      state.apiKeyChange = { action: 'set' };
      renderApiKeyState();
      $('#s-api-key').focus();
    });
    $('#api-key-remove').addEventListener('click', () => {
      state.apiKeyChange = { action: 'remove' };
      renderApiKeyState();
      $('#api-key-set').focus();
    });
    $('#api-key-cancel').addEventListener('click', () => {
      state.apiKeyChange = { action: 'keep' };
      $('#s-api-key').value = '';
      $('#s-api-key').type = 'password';
      setFieldError($('#s-api-key'), '');
      renderApiKeyState();
      $('#api-key-set').focus();
    });
    $('#api-key-generate').addEventListener('click', () => {
      const input = $('#s-api-key');
      input.value = generateKey();
      input.type = 'text';
      setFieldError(input, '');
    });
    $('#api-key-copy').addEventListener('click', () => {
      const input = $('#s-api-key');
      if (input.value) copyText(input.value, input);
    });
  }

  // ---- this computer: start on login, updates --------------------------------------------
  // Kept apart from the settings form: these act at once instead of on Save.

  async function loadStartOnLogin() {
    const box = $('#s-start-on-login');
    try {
      box.checked = await call('start_on_login');
      box.disabled = false;
    } catch (error) {
      box.disabled = true;
      setFieldError(box, error.message, $('#s-start-on-login-msg'));
    }
  }

  async function toggleStartOnLogin() {
    const box = $('#s-start-on-login');
    const wanted = box.checked;
    setFieldError(box, '', $('#s-start-on-login-msg'));
    box.disabled = true;
    try {
      box.checked = await call('set_start_on_login', { enabled: wanted });
      toast(box.checked ? 'Data Connector will start when you log in' : 'Data Connector will not start on login');
    } catch (error) {
      box.checked = !wanted;
      setFieldError(box, error.message, $('#s-start-on-login-msg'));
    } finally {
      box.disabled = false;
    }
  }

  function showUpdateStatus(text, kind) {
    const status = $('#update-status');
    status.className = 'form-status' + (kind ? ' ' + kind : '');
    status.textContent = text;
  }

  function showUpdateFound(found) {
    const install = $('#update-install');
    install.hidden = !found.available;
    if (found.available) {
      install.textContent = 'Install version ' + found.available;
      const notes = found.notes ? ' ' + found.notes : '';
      showUpdateStatus('Version ' + found.available + ' is available (you have ' + found.current + ').' + notes);
      $('#update-banner-text').textContent = 'Data Connector ' + found.available + ' is available.';
    } else {
      showUpdateStatus('You have the latest version (' + found.current + ').', 'ok');
    }
    $('#update-banner').hidden = !found.available;
  }

  // quiet: the check on opening. It says something only when there is an update, so being
  // offline (or a build without an update source) never nags.
  async function checkForUpdate(quiet) {
    try {
      const found = quiet
        ? await call('check_for_update')
        : await busy($('#update-check'), () => call('check_for_update'));
      showUpdateFound(found);
    } catch (error) {
      if (!quiet) showUpdateStatus(error.message, 'err');
    } finally {
      // Lets a test (or anyone inspecting the page) know the check on opening has finished.
      if (quiet) document.body.dataset.updateCheck = 'done';
    }
  }

  async function installUpdate() {
    showUpdateStatus('Downloading and verifying the update…');
    try {
      const done = await busy($('#update-install'), () => call('install_update'));
      $('#update-install').hidden = true;
      $('#update-banner').hidden = true;
      showUpdateStatus('Version ' + done.version + ' is installed. Restart Data Connector to use it.', 'ok');
    } catch (error) {
      showUpdateStatus(error.message, 'err');
    }
  }

  function initSystem(version) {
    $('#update-version').textContent = 'This is version ' + version + '.';
    $('#s-start-on-login').addEventListener('change', toggleStartOnLogin);
    $('#update-check').addEventListener('click', () => checkForUpdate(false));
    $('#update-install').addEventListener('click', installUpdate);
    $('#update-banner-open').addEventListener('click', () => {
      showView('settings');
      $('#update-install').focus();
    });
    loadStartOnLogin();
    checkForUpdate(true);
  }

  // ---- start ---------------------------------------------------------------------------

  async function init() {
    if (!window.__TAURI__ || !window.__TAURI__.core) {
      const fatal = $('#fatal');
      fatal.textContent = 'This page is the Data Connector app window. Start it with data-connector-app.';
      fatal.hidden = false;
      return;
    }
    initNav();
    initServer();
    initConnDialog();
    initConfirm();
    initSettings();
    initQueries();
    const initial = await call('initial_state');
    if (initial.fatal) {
      const fatal = $('#fatal');
      fatal.textContent = initial.fatal;
      fatal.hidden = false;
    }
    renderSettings(initial.settings);
    $('#port').value = String(initial.settings.port);
    renderStatus(initial.status);
    for (const notice of initial.notices) toast(notice, 'err');
    initSystem(initial.version);
    await Promise.all([loadConnections(), loadLog(), loadQueries(true)]);
    openQuery(null);
    setInterval(pollStatus, POLL_MS);
    setInterval(() => {
      if (document.hidden) return;
      if (state.view === 'activity') loadLog();
      // Workspace and the API add connections too; keep the list current.
      if (state.view === 'connections') loadConnections(true);
      // The API and the CLI save queries too.
      if (state.view === 'queries') loadQueries(true);
    }, POLL_MS);
    document.body.dataset.ready = 'true';
  }

  init().catch((error) => {
    const fatal = $('#fatal');
    fatal.textContent = 'The window could not start: ' + (error && error.message ? error.message : String(error));
    fatal.hidden = false;
  });
})();
