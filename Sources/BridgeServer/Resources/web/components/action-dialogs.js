// The dialogs of the less frequent actions, in a module of their own that loads the first time one
// is opened (the inbox's first load stays small): resolve with a reason, transfer, tags (a ticket's
// or a contact's), merge,
// split, the customer history link, the same for a selection of tickets, linking another identity
// to a contact, and a WhatsApp template when only templates may go. Each resolves to true when its
// action succeeded, false when cancelled (openDialog in dialog.js).
import { api } from '../api.js';
import { el } from '../dom.js';
import { formatTime, t } from '../i18n.js';
import { field, openDialog, select } from './dialog.js';
import { mayLink, mergeCandidates } from '../access.js';

export const RESOLUTION_REASONS = ['solved by chat', 'solved by phone', 'duplicate', 'spam', 'test', 'other'];

/** Tells the page an action failed (shown by the composer's alert). */
function failed(error) {
  if (error.status !== 401) document.querySelector('inbox-app')?.dispatchEvent(new CustomEvent('action-failed', { detail: error }));
}

/** e: resolve, with the reason the API keeps (ResolutionReason). */
export function resolve(store, ticket) {
  const reason = select([['', t('resolve.noReason')], ...RESOLUTION_REASONS.map((r) => [r, t(`reason.${r}`)])], '');
  return openDialog({
    title: t('resolve.title', { id: ticket.id }),
    fields: [field(t('resolve.reason'), reason)],
    submitLabel: t('action.resolve'),
    submit: () => store.resolve(ticket.id, reason.value || undefined),
  });
}

export function transfer(store, ticket) {
  const departments = store.departments.map((d) => [`d${d.id}`, d.name]);
  const agents = [...store.agents.values()].filter((a) => a.active !== false && a.id !== store.me?.id && typeof a.id === 'number')
    .map((a) => [`a${a.id}`, `${a.name}${a.availability && a.availability !== 'online' ? ` (${t(`availability.${a.availability}`)})` : ''}`]);
  const target = el('select', {},
    departments.length ? el('optgroup', { attrs: { label: t('transfer.departments') } }, departments.map(([v, l]) => el('option', { text: l, attrs: { value: v } }))) : null,
    agents.length ? el('optgroup', { attrs: { label: t('transfer.agents') } }, agents.map(([v, l]) => el('option', { text: l, attrs: { value: v } }))) : null);
  const note = el('textarea', { attrs: { rows: 3, maxlength: 4096 } });
  return openDialog({
    title: t('transfer.title', { id: ticket.id }),
    fields: [field(t('transfer.to'), target), field(t('transfer.note'), note)],
    submitLabel: t('action.transfer'),
    submit: () => {
      const value = target.value;
      const body = value.startsWith('d') ? { departmentId: Number(value.slice(1)) } : { agentId: Number(value.slice(1)) };
      if (note.value.trim()) body.note = note.value;
      return store.transfer(ticket.id, body);
    },
  });
}

/** A ticket's tags: keep or drop the current ones, add more. */
export function tags(store, ticket) {
  return editTags(t('tags.title', { id: ticket.id }), ticket.tags, async (added, removed) => {
    if (removed.length) await store.removeTags(ticket.id, removed);
    if (added.length) await store.addTags(ticket.id, added);
  });
}

/** A contact's own tags (PATCH /contacts/{id}), the same dialog as a ticket's. */
export function contactTags(store, contact, name) {
  return editTags(t('contact.tagsTitle', { name }), contact.tags, (addTags, removeTags) => store.changeContactTags(contact.id, addTags, removeTags));
}

/** The tags dialog: a checkbox per current tag (unchecked is removed), and new ones typed comma
 *  or space separated, `#` optional; `save(added, removed)` makes the change. */
function editTags(title, tagList, save) {
  const current = new Set(tagList ?? []);
  const boxes = [...current].map((tag) => {
    const box = el('input', { attrs: { type: 'checkbox', value: tag, checked: true } });
    return el('label', { class: 'check' }, box, el('span', { text: `#${tag}` }));
  });
  const add = el('input', { attrs: { type: 'text', placeholder: t('tags.placeholder'), autocomplete: 'off' } });
  return openDialog({
    title,
    fields: [boxes.length ? el('fieldset', { class: 'checks' }, el('legend', { text: t('tags.current') }), boxes) : null,
      field(t('tags.add'), add)].filter(Boolean),
    submitLabel: t('tags.save'),
    submit: async () => {
      const removed = boxes.map((b) => b.querySelector('input')).filter((b) => !b.checked).map((b) => b.value);
      const added = add.value.split(/[,\s]+/).map((s) => s.replace(/^#/, '').trim().toLowerCase()).filter((s) => s && !current.has(s));
      if (removed.length || added.length) await save(added, removed);
    },
  });
}

/** Merge: the contact's other open tickets into this one, those the agent may answer (access.js). */
export async function merge(store, ticket) {
  let others = [];
  try {
    const page = await api.tickets({ contact: String(ticket.contact.id), limit: 50 });
    others = mergeCandidates(store.me, ticket, page.items);
  } catch { /* shown as none */ }
  const boxes = others.map((x) => el('label', { class: 'check' },
    el('input', { attrs: { type: 'checkbox', value: x.id } }),
    el('span', { text: `#${x.id} · ${t(`status.${x.status}`)} · ${x.lastMessage?.text ?? ''}` })));
  return openDialog({
    title: t('merge.title', { id: ticket.id }),
    fields: boxes.length ? [el('fieldset', { class: 'checks' }, el('legend', { text: t('merge.choose') }), boxes)] : [el('p', { text: t('merge.none') })],
    submitLabel: t('action.merge'),
    submit: () => {
      const ids = boxes.map((b) => b.querySelector('input')).filter((b) => b.checked).map((b) => Number(b.value));
      if (!ids.length) throw new Error(t('merge.pick'));
      return store.merge(ticket.id, ids);
    },
  });
}

/** Split: chosen messages to a new ticket of the same contact. */
export function split(store, ticket) {
  const messages = store.conversations.get(ticket.id)?.messages ?? [];
  const boxes = messages.map((m) => el('label', { class: 'check' },
    el('input', { attrs: { type: 'checkbox', value: m.id } }),
    el('span', { text: `${formatTime(m.createdAt)} · ${m.direction === 'in' ? '→' : '←'} ${m.text}` })));
  return openDialog({
    title: t('split.title', { id: ticket.id }),
    fields: [el('fieldset', { class: 'checks scroll' }, el('legend', { text: t('split.choose') }), boxes)],
    submitLabel: t('action.split'),
    submit: () => {
      const ids = boxes.map((b) => b.querySelector('input')).filter((b) => b.checked).map((b) => Number(b.value));
      if (!ids.length) throw new Error(t('split.pick'));
      return store.split(ticket.id, ids);
    },
  });
}

/** A signed link that shows the customer their own history; shown to copy. */
export async function historyLink(store, ticket) {
  let link;
  try { link = await api.historyLink(ticket.contact.id); } catch (error) { failed(error); return; }
  const url = new URL(link.url, location.origin).href;
  const input = el('input', { attrs: { type: 'text', readonly: true, value: url } });
  await openDialog({
    title: t('historyLink.title'),
    fields: [field(t('historyLink.label', { until: formatTime(link.expiresAt) }), input)],
    submitLabel: t('historyLink.copy'),
    submit: async () => { input.select(); await navigator.clipboard?.writeText(url).catch(() => {}); },
  });
}

export function bulkResolve(store, apply) {
  const reason = select([['', t('resolve.noReason')], ...RESOLUTION_REASONS.map((r) => [r, t(`reason.${r}`)])], '');
  return openDialog({
    title: t('bulk.resolveTitle', { count: store.selected.size }),
    fields: [field(t('resolve.reason'), reason)],
    submitLabel: t('action.resolve'),
    submit: () => apply({ changes: { status: 'resolved', ...(reason.value ? { resolutionReason: reason.value } : {}) } }),
  });
}

export function bulkAssign(store, apply) {
  const target = el('select', {},
    store.departments.length ? el('optgroup', { attrs: { label: t('transfer.departments') } }, store.departments.map((d) => el('option', { text: d.name, attrs: { value: `d${d.id}` } }))) : null,
    el('optgroup', { attrs: { label: t('transfer.agents') } }, [...store.agents.values()].filter((a) => typeof a.id === 'number' && a.active !== false)
      .map((a) => el('option', { text: a.id === store.me?.id ? `${a.name} (${t('list.you')})` : a.name, attrs: { value: `a${a.id}` } }))));
  const note = el('textarea', { attrs: { rows: 2, maxlength: 4096 } });
  return openDialog({
    title: t('bulk.assignTitle', { count: store.selected.size }),
    fields: [field(t('transfer.to'), target), field(t('transfer.note'), note)],
    submitLabel: t('bulk.assign'),
    submit: () => {
      const v = target.value;
      const transfer = v.startsWith('d') ? { departmentId: Number(v.slice(1)) } : { agentId: Number(v.slice(1)) };
      if (note.value.trim()) transfer.note = note.value;
      return apply({ transfer });
    },
  });
}

export function bulkTag(store, apply) {
  const input = el('input', { attrs: { type: 'text', autocomplete: 'off', placeholder: t('tags.placeholder') } });
  return openDialog({
    title: t('bulk.tagTitle', { count: store.selected.size }),
    fields: [field(t('tags.add'), input)],
    submitLabel: t('bulk.tag'),
    submit: () => {
      const tags = input.value.split(/[,\s]+/).map((s) => s.replace(/^#/, '').trim().toLowerCase()).filter(Boolean);
      if (!tags.length) throw new Error(t('tags.pick'));
      return apply({ changes: { addTags: tags } });
    },
  });
}

/** Finds another contact (name, phone, channel user id, e-mail or id) and links it to this one. */
export function linkContact(store, ticket, done) {
  const query = el('input', { attrs: { type: 'search', autocomplete: 'off' } });
  const results = el('div', { class: 'checks', attrs: { role: 'radiogroup', 'aria-label': t('contact.linkResults') } });
  let timer;
  query.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (!query.value.trim()) { results.replaceChildren(); return; }
      const asked = query.value;
      const page = await api.tickets({ contact: asked.trim(), limit: 20 }).catch(() => ({ items: [] }));
      const seen = new Map();
      for (const x of page.items) if (x.contact.id !== ticket.contact.id && !seen.has(x.contact.id)) seen.set(x.contact.id, x);
      // Only contacts the agent may link (every ticket of theirs answerable: access.js, with counts from the API).
      const here = await store.contact(ticket.contact.id).catch(() => null);
      const found = await Promise.all([...seen.keys()].map((id) => store.contact(id, true).catch(() => null)));
      if (query.value !== asked) return;
      for (const other of found) if (other && !mayLink(store.me, here, other)) seen.delete(other.id);
      for (const [id] of seen) if (!found.some((c) => c?.id === id)) seen.delete(id);
      results.replaceChildren(...[...seen.values()].map((x) => el('label', { class: 'check' },
        el('input', { attrs: { type: 'radio', name: 'link-contact', value: x.contact.id } }),
        el('span', { text: `${x.contact.displayName || t('contact.unknown', { id: x.contact.id })} · ${x.channels.map((c) => t(`channel.${c}`)).join(', ')}` }))));
      if (!seen.size) results.append(el('p', { class: 'faint', text: t('contact.linkNone') }));
    }, 250);
  });
  return openDialog({
    title: t('contact.linkTitle'),
    fields: [field(t('contact.linkFind'), query), results],
    submitLabel: t('contact.link'),
    submit: async () => {
      const chosen = results.querySelector('input:checked');
      if (!chosen) throw new Error(t('contact.linkPick'));
      await api.linkContact(ticket.contact.id, Number(chosen.value));
      await store.contact(ticket.contact.id, true);
      await done();
    },
  });
}

/** Fills a template body's numbered placeholders (`{{1}}`…) with the values typed so far;
 *  an empty value leaves its placeholder showing. Plain text in, plain text out. */
export function fillTemplate(body, values) {
  return body.replace(/\{\{\s*(\d+)\s*\}\}/g, (whole, n) => values[Number(n) - 1]?.trim() || whole);
}

/** A WhatsApp template: picked from the account's approved list (GET /channels/{channel}/templates),
 *  one input per placeholder and a live preview of the filled body. When the list cannot be had
 *  (no business account id configured, Meta refusing) the reason is shown and the name, language
 *  and parameters are typed by hand as before. */
export function sendTemplate(store, ticketId, channel) {
  // The account the reply goes on: that of the channel's identity the customer wrote from last.
  const windows = (store.tickets.get(ticketId)?.replyWindows ?? []).filter((w) => w.channel === channel);
  const account = windows.sort((a, b) => (a.closesAt ?? '').localeCompare(b.closesAt ?? '')).at(-1)?.account;

  const status = el('p', { class: 'template-status', text: t('template.loading'), attrs: { role: 'status' } });
  const choice = el('select', { attrs: { id: 'template-choice' } });
  const meta = el('p', { class: 'template-meta' });
  const body = el('p', { class: 'template-body' });
  const inputs = el('div', { class: 'template-params' });
  const preview = el('p', { class: 'template-preview', attrs: { 'aria-live': 'polite' } });
  const pick = el('div', { class: 'template-pick' },
    field(t('template.choose'), choice), meta,
    el('div', { class: 'field' }, el('span', { class: 'template-label', text: t('template.body') }), body),
    inputs,
    el('div', { class: 'field' }, el('span', { class: 'template-label', text: t('template.preview') }), preview));
  pick.hidden = true;

  const name = el('input', { attrs: { type: 'text', autocomplete: 'off', pattern: '[a-z0-9_]+', spellcheck: 'false' } });
  const language = el('input', { attrs: { type: 'text', autocomplete: 'off', value: document.documentElement.lang === 'ja' ? 'ja' : 'en_US', spellcheck: 'false' } });
  const parameters = el('textarea', { attrs: { rows: 3 } });
  const manual = el('div', { class: 'template-manual' },
    field(t('template.name'), name), field(t('template.language'), language), field(t('template.parameters'), parameters));
  manual.hidden = true;

  let templates = [];
  const current = () => templates[Number(choice.value)];
  const values = () => [...inputs.querySelectorAll('input')].map((input) => input.value);
  const renderPreview = () => { preview.textContent = current() ? fillTemplate(current().body, values()) : ''; };
  const renderChoice = () => {
    const template = current();
    if (!template) return;
    meta.textContent = t('template.meta', { language: template.language, category: template.category });
    body.textContent = template.body;
    inputs.replaceChildren(...Array.from({ length: template.parameters }, (_, i) => {
      const input = el('input', { attrs: { type: 'text', autocomplete: 'off', 'data-parameter': i + 1 } });
      input.addEventListener('input', renderPreview);
      return field(t('template.parameter', { n: i + 1 }), input);
    }));
    renderPreview();
  };
  choice.addEventListener('change', renderChoice);
  const typeByHand = (reason) => {
    status.textContent = reason;
    pick.hidden = true;
    manual.hidden = false;
    if (name.isConnected) name.focus();
  };

  api.templates(channel, account).then((answer) => {
    templates = answer?.templates ?? [];
    if (!templates.length) { typeByHand(t('template.none')); return; }
    choice.replaceChildren(...templates.map((template, index) => el('option', {
      text: t('template.option', { name: template.name, language: template.language, category: template.category }), attrs: { value: index },
    })));
    status.textContent = '';
    pick.hidden = false;
    renderChoice();
    if (choice.isConnected) choice.focus();
  }).catch((error) => {
    if (error.status !== 401) typeByHand(t('template.unavailable', { message: error.message }));
  });

  return openDialog({
    title: t('template.title'),
    fields: [status, pick, manual],
    submitLabel: t('template.send'),
    submit: () => {
      let template;
      if (!pick.hidden && current()) {
        const filled = values().map((value) => value.trim());
        if (filled.some((value) => !value)) throw new Error(t('template.fillAll'));
        template = { name: current().name, language: current().language };
        if (filled.length) template.parameters = filled;
      } else {
        if (manual.hidden || !name.value.trim() || !language.value.trim()) throw new Error(t('template.name'));
        template = { name: name.value.trim(), language: language.value.trim() };
        const typed = parameters.value.split('\n').map((line) => line.trim()).filter(Boolean);
        if (typed.length) template.parameters = typed;
      }
      return store.reply(ticketId, { template, channel });
    },
  });
}
