// The website chat widget: the page the loader frames (/widget/ID), same-origin with the visitor
// API (/widget/v1/ID/...), so the strict CSP's connect-src 'self' holds. It keeps the visitor token
// in this origin's localStorage (a reload, or another page of the site, continues the chat), shows
// the conversation from the API and follows the visitor's live feed by WebSocket, or by long-polling
// where WebSockets are blocked. Every text goes in with textContent (el()), never as markup.
import { el } from '../dom.js';
import en from './i18n/en.js';
import ja from './i18n/ja.js';

const account = decodeURIComponent(location.pathname.split('/')[2] ?? '');
const api = `/widget/v1/${encodeURIComponent(account)}`;
const storageKey = `bridge-widget:${account}`;
const catalogue = (navigator.language || '').toLowerCase().startsWith('ja') ? ja : en;
const language = catalogue === ja ? 'ja' : 'en';
const t = (key, values = {}) => (catalogue[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
const $ = (selector) => document.querySelector(selector);
/** The largest image the bridge takes from a visitor (WebchatAdapter.maxImageBytes). */
const maxImageBytes = 5 << 20;

const state = { token: null, seq: 0, messages: new Map(), images: new Map(), reported: new Set(), open: false, socketFailures: 0, socket: null, typing: false, typingSentAt: 0 };

/** The origin of the page that embeds this one: what the session is checked against. */
function pageOrigin() {
  if (location.ancestorOrigins?.length) return location.ancestorOrigins[location.ancestorOrigins.length - 1];
  try { return document.referrer ? new URL(document.referrer).origin : ''; } catch { return ''; }
}

/** The token kept in this frame's storage, or (where the browser blocks third-party storage) the
 *  copy the loader keeps on the site and hands over in the URL's fragment. */
function storedToken() {
  try {
    const own = localStorage.getItem(storageKey);
    if (own) return own;
  } catch { /* third-party storage blocked */ }
  return new URLSearchParams(location.hash.slice(1)).get('t');
}

async function call(method, path, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (state.token) headers['X-Visitor-Token'] = state.token;
  const response = await fetch(api + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(data.error?.message ?? response.statusText), { status: response.status, code: data.error?.code, retryAfter: response.headers.get('Retry-After') });
  return data;
}

function notice(text) {
  const node = $('.notice');
  node.textContent = text ?? '';
  node.hidden = !text;
}

function translate() {
  document.documentElement.lang = language;
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-label]')) node.setAttribute('aria-label', t(node.dataset.i18nLabel));
  for (const node of document.querySelectorAll('[data-i18n-placeholder]')) node.setAttribute('placeholder', t(node.dataset.i18nPlaceholder));
  for (const node of document.querySelectorAll('[data-i18n-title]')) node.setAttribute('title', t(node.dataset.i18nTitle));
}

function render() {
  const list = $('.messages');
  const items = [...state.messages.values()].sort((a, b) => a.id - b.id);
  list.replaceChildren(...items.map((message) => el('li', { class: `bubble ${message.direction === 'in' ? 'mine' : 'theirs'}`, attrs: { 'data-id': message.id } },
    el('span', { class: 'visually-hidden', text: (message.direction === 'in' ? t('you') : t('agent')) + ': ' }),
    message.image ? picture(message) : null,
    message.text ? el('span', { class: 'text', text: message.text }) : null)));
  list.lastElementChild?.scrollIntoView({ block: 'end' });
  // Once someone answered, the visitor may rate the chat.
  $('.rate').hidden = !items.some((message) => message.direction === 'out');
  report();
}

/** An image of the conversation: fetched with the token (an <img> cannot send it) and shown from a
 *  blob: URL, kept for the page's life so re-rendering does not fetch it again. */
function picture(message) {
  if (state.images.get(message.id)?.failed) return el('span', { class: 'text', text: t('image.missing') });
  const img = el('img', { class: 'image', attrs: { alt: t('image'), 'data-image': message.id } });
  const known = state.images.get(message.id);
  if (known?.url) img.src = known.url;
  else if (!known) loadImage(message.id, 0);
  return img;
}

async function loadImage(id, attempt) {
  state.images.set(id, { loading: true });
  try {
    const response = await fetch(`${api}/messages/${id}/image`, { headers: { 'X-Visitor-Token': state.token } });
    // A visitor's own image is still being stored for a moment after it was sent: ask again.
    if ((response.status === 409 || response.status === 429) && attempt < 20) {
      setTimeout(() => loadImage(id, attempt + 1), 500 * (attempt + 1));
      return;
    }
    if (!response.ok) throw new Error(String(response.status));
    const url = URL.createObjectURL(await response.blob());
    state.images.set(id, { url });
    for (const img of document.querySelectorAll(`img[data-image="${id}"]`)) img.src = url;
  } catch {
    state.images.set(id, { failed: true });
    for (const img of document.querySelectorAll(`img[data-image="${id}"]`)) img.replaceWith(el('span', { class: 'text', text: t('image.missing') }));
  }
}

/** Sends the image the visitor picked: checked here for size only (the bridge reads its type from
 *  its bytes and refuses anything else). */
async function sendImage() {
  const input = $('#image');
  const file = input.files?.[0];
  input.value = '';
  if (!file) return;
  if (file.size > maxImageBytes) { notice(t('image.tooLarge', { megabytes: maxImageBytes >> 20 })); return; }
  const button = $('.attach');
  button.disabled = true;
  try {
    const response = await fetch(`${api}/images?id=i-${crypto.randomUUID()}`, {
      method: 'POST', headers: { 'Content-Type': 'application/octet-stream', 'X-Visitor-Token': state.token }, body: file });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new Error(data.error?.message ?? ''), { status: response.status, retryAfter: response.headers.get('Retry-After') });
    notice('');
    await fetchNew();
  } catch (error) {
    notice(error.status === 429 ? t('limited', { seconds: error.retryAfter ?? 1 })
      : error.status === 413 ? t('image.tooLarge', { megabytes: maxImageBytes >> 20 })
      : error.status === 415 ? t('image.notImage') : t('failed'));
  } finally {
    button.disabled = false;
  }
}

/** The messages after the newest shown (what the visitor just sent, before the feed brings it). */
async function fetchNew() {
  const since = Math.max(0, ...state.messages.keys());
  const added = await call('GET', `/messages?after=${since}`);
  for (const message of added.messages) apply(message);
  render();
}

/** Shows the chat's place in the queue while nobody has it (nothing once an agent has it). */
function showQueue(queue) {
  const node = $('.queue');
  node.textContent = queue ? t('queue', { position: queue.position, minutes: queue.waitMinutes }) : '';
  node.hidden = !queue;
}

/** Shows or hides "Support is typing…". */
function showTyping(typing) {
  state.typing = typing;
  const node = $('.typing');
  node.textContent = typing ? t('typing', { name: t('agent') }) : '';
  node.hidden = !typing;
}

/** Tells the agents the visitor is typing, at most every 3 s (each report holds for 6 s). */
function typed() {
  const now = Date.now();
  if (now - state.typingSentAt < 3000 || !$('#text').value.trim()) return;
  state.typingSentAt = now;
  if (state.socket?.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify({ type: 'typing' }));
  else call('POST', '/typing').catch(() => {});
}

async function rate(event) {
  const button = event.currentTarget;
  try {
    await call('POST', '/rating', { rating: button.dataset.rating });
    for (const other of document.querySelectorAll('.rate button')) other.setAttribute('aria-pressed', String(other === button));
    $('.rate-thanks').hidden = false;
  } catch {
    notice(t('failed'));
  }
}

function apply(message) {
  state.messages.set(message.id, message);
}

/** Tells the bridge which replies the visitor was shown (and read, when the chat is open in view). */
function report() {
  const read = state.open && document.visibilityState === 'visible';
  for (const message of state.messages.values()) {
    if (message.direction !== 'out' || !message.ref) continue;
    const status = read ? 'read' : 'delivered';
    const key = `${message.ref}:${status}`;
    if (state.reported.has(key) || message.status === status || message.status === 'read') continue;
    state.reported.add(key);
    call('POST', '/messages', { type: 'receipt', id: `r-${crypto.randomUUID()}`, messageId: message.ref, status }).catch(() => state.reported.delete(key));
  }
}

function handle(event) {
  if (event.type === 'message' && event.message) apply(event.message);
  if (event.type === 'typing') showTyping(event.typing === true);
  if (event.type === 'queue') showQueue(event.queue);
  if (event.seq) state.seq = Math.max(state.seq, event.seq);
}

async function reload() {
  const conversation = await call('GET', '/messages');
  state.messages.clear();
  for (const message of conversation.messages) apply(message);
  state.seq = conversation.seq;
  render();
}

function connect() {
  if (state.socketFailures >= 3) { poll(); return; }
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(`${scheme}//${location.host}${api}/live?token=${encodeURIComponent(state.token)}&after=${state.seq}`);
  state.socket = socket;
  let opened = false;
  socket.addEventListener('open', () => { opened = true; state.socketFailures = 0; notice(''); });
  socket.addEventListener('message', async (frame) => {
    const event = JSON.parse(frame.data);
    if (event.type === 'resync') { await reload(); return; }
    handle(event);
    if (event.type === 'message') render();
  });
  socket.addEventListener('close', () => {
    state.socket = null;
    if (!opened) state.socketFailures += 1;
    setTimeout(connect, opened ? 1000 : 2000 * state.socketFailures);
  });
}

/** Long-polling, where the WebSocket cannot connect: the same feed, asked again from `next`. */
async function poll() {
  for (;;) {
    try {
      const page = await call('GET', `/events?after=${state.seq}&wait=25&typing=${state.typing}`);
      if (page.resync) await reload();
      showTyping(page.typing === true);
      showQueue(page.queue);
      for (const event of page.events) handle(event);
      state.seq = Math.max(state.seq, page.next);
      if (page.events.length) render();
      notice('');
    } catch {
      notice(t('unreachable'));
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
  }
}

async function send(event) {
  event.preventDefault();
  const field = $('#text');
  const text = field.value;
  if (!text.trim()) return;
  const button = $('.send');
  button.disabled = true;
  try {
    await call('POST', '/messages', { id: `m-${crypto.randomUUID()}`, text });
    field.value = '';
    state.typingSentAt = 0;
    notice('');
    await fetchNew();
  } catch (error) {
    notice(error.status === 429 ? t('limited', { seconds: error.retryAfter ?? 1 }) : t('failed'));
  } finally {
    button.disabled = false;
    field.focus();
  }
}

/** The business hours as lines: weekday names in the visitor's language, periods as given. */
function showHours(hours) {
  const list = $('.hours');
  $('.away-hours-title').hidden = !hours;
  if (!hours) return;
  $('.away-hours-title').textContent = t('away.hours', { zone: hours.timeZone });
  const days = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
  const name = new Intl.DateTimeFormat(language, { weekday: 'short', timeZone: 'UTC' });
  list.replaceChildren(...days.filter((day) => hours.weekly[day]?.length).map((day) =>
    el('li', { text: `${name.format(new Date(Date.UTC(2024, 0, 1 + days.indexOf(day))))} ${hours.weekly[day].map((p) => p.join('–')).join(', ')}` })));
}

async function leaveMessage(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    const email = form.email.value.trim();
    const left = await call('POST', '/offline', { id: `o-${crypto.randomUUID()}`, name: form.name.value, email, text: form.text.value });
    keepEmail(email);
    form.hidden = true;
    $('.away-thanks').hidden = false;
    // The address joins the visitor to the customer who has it only once they type the code mailed to it.
    const confirm = $('.confirm');
    confirm.dataset.email = email;
    confirm.hidden = !left.confirmationSent;
    notice('');
    await reload();
  } catch (error) {
    notice(error.status === 429 ? t('limited', { seconds: error.retryAfter ?? 1 }) : t('failed'));
  } finally {
    button.disabled = false;
  }
}

/** The code mailed to the offline form's address, typed back: the visitor is that address's owner. */
async function confirmAddress(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    await call('POST', '/confirm', { email: form.dataset.email, code: form.code.value.trim() });
    form.hidden = true;
    $('.confirm-done').hidden = false;
    notice('');
  } catch (error) {
    notice(error.status === 429 ? t('limited', { seconds: error.retryAfter ?? 1 }) : error.code === 'wrong_code' ? t('confirm.wrong') : t('failed'));
  } finally {
    button.disabled = false;
  }
}

/** The address the visitor last gave (the offline form or a transcript), to fill in next time. */
const emailKey = `${storageKey}:email`;
function keptEmail() {
  try { return localStorage.getItem(emailKey) ?? ''; } catch { return ''; }
}
function keepEmail(address) {
  try { localStorage.setItem(emailKey, address); } catch { /* storage blocked: typed again next time */ }
}

/** Opens or closes the "e-mail me this chat" form, filled with the address the visitor gave. */
function toggleTranscript() {
  const open = $('.transcript').hidden;
  $('.transcript').hidden = !open;
  $('.mail').setAttribute('aria-expanded', String(open));
  $('.transcript-status').textContent = '';
  if (!open) return;
  const field = $('#transcript-email');
  if (!field.value) field.value = keptEmail();
  field.focus();
}

async function sendTranscript(event) {
  event.preventDefault();
  const field = $('#transcript-email');
  const status = $('.transcript-status');
  const button = $('.transcript-send');
  button.disabled = true;
  status.textContent = '';
  try {
    await call('POST', '/transcript', { email: field.value.trim(), language });
    keepEmail(field.value.trim());
    status.textContent = t('transcript.sent', { email: field.value.trim() });
  } catch (error) {
    status.textContent = error.status === 400 ? t('transcript.invalid')
      : error.status === 422 ? t('transcript.nothing')
      : error.status === 429 ? t('transcript.limited', { seconds: error.retryAfter ?? 60 })
      : t('transcript.failed');
  } finally {
    button.disabled = false;
  }
}

async function start() {
  translate();
  let session;
  const kept = storedToken();
  history.replaceState(null, '', location.pathname);
  try {
    session = await call('POST', '/session', { token: kept ?? undefined, page: pageOrigin() });
  } catch (error) {
    if (error.code === 'origin_not_allowed') return; // framed where it may not be: stay blank, the loader shows nothing
    throw error;
  }
  state.token = session.token;
  try { localStorage.setItem(storageKey, session.token); } catch { /* third-party storage blocked: the loader keeps it */ }
  parent.postMessage({ type: 'bridge-widget:token', token: session.token }, pageOrigin() || '*');
  const settings = session.settings;
  document.documentElement.style.setProperty('--accent', settings.colour);
  $('.name').textContent = settings.name;
  $('.state').textContent = settings.online ? t('online') : t('offline');
  $('.greeting').textContent = settings.greeting[language] ?? settings.greeting.en ?? '';
  $('.greeting').hidden = !$('.greeting').textContent;
  $('.widget').hidden = false;
  // Nobody online (no agent available, or outside the hours): the hours and the offline form.
  $('.away').hidden = settings.online;
  $('.composer').hidden = !settings.online;
  showHours(settings.hours);
  // Only where the bridge can send mail (settings.transcript): otherwise no button at all.
  $('.mail').hidden = !settings.transcript;
  $('.mail').addEventListener('click', toggleTranscript);
  $('.transcript-form').addEventListener('submit', sendTranscript);
  $('#transcript-email').addEventListener('input', () => { $('.transcript-status').textContent = ''; });
  $('.offline').addEventListener('submit', leaveMessage);
  $('.confirm').addEventListener('submit', confirmAddress);
  $('.composer').addEventListener('submit', send);
  $('#text').addEventListener('input', typed);
  $('.attach').addEventListener('click', () => $('#image').click());
  $('#image').addEventListener('change', sendImage);
  for (const button of document.querySelectorAll('.rate button')) button.addEventListener('click', rate);
  $('#text').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); $('.composer').requestSubmit(); }
  });
  $('.close').addEventListener('click', () => parent.postMessage({ type: 'bridge-widget:close' }, '*'));
  window.addEventListener('message', (event) => {
    if (event.source !== parent || typeof event.data !== 'object' || !event.data) return;
    if (event.data.type === 'bridge-widget:open') { state.open = true; report(); $('#text').focus(); }
    if (event.data.type === 'bridge-widget:closed') state.open = false;
  });
  document.addEventListener('visibilitychange', report);
  await reload();
  connect();
  parent.postMessage({ type: 'bridge-widget:ready', colour: settings.colour }, '*');
}

start();
