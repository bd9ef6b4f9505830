// `#shortcut` in the composer: the canned responses, filled in for the ticket by the server, as a
// list under the text (arrows, Enter or Tab to insert, Escape to close). Loaded the first time `#`
// is typed; `c` is the composer.
import { el } from '../dom.js';

const SHORTCUT = /(^|\s)#([a-z0-9_-]{0,40})$/;

export async function updateCanned(c) {
  const match = c.mode === 'reply' || c.mode === 'note'
    ? SHORTCUT.exec(c.text.value.slice(0, c.text.selectionStart)) : null;
  if (!match) { c.closeCanned(); return; }
  const ticketId = c.ticketId;
  const all = await c.store.canned(ticketId);
  if (ticketId !== c.ticketId) return;
  const again = SHORTCUT.exec(c.text.value.slice(0, c.text.selectionStart));
  if (!again) { c.closeCanned(); return; }
  const prefix = again[2];
  c.cannedItems = all.filter((r) => r.shortcut.replace(/^#/, '').startsWith(prefix)).slice(0, 8);
  c.cannedToken = prefix.length + 1;
  if (!c.cannedItems.length) { c.closeCanned(); return; }
  c.cannedIndex = 0;
  c.cannedList.replaceChildren(...c.cannedItems.map((r, index) => el('li', {
    attrs: { role: 'option', id: `canned-${index}`, 'data-index': index, 'aria-selected': String(index === 0) },
  }, el('span', { class: 'canned-shortcut', text: r.shortcut.startsWith('#') ? r.shortcut : `#${r.shortcut}` }),
  el('span', { class: 'canned-title', text: r.title || '' }),
  el('span', { class: 'canned-text', text: r.rendered ?? r.text }))));
  c.cannedList.hidden = false;
  c.text.setAttribute('aria-expanded', 'true');
  c.text.setAttribute('aria-activedescendant', 'canned-0');
}

export function moveCanned(c, delta) {
  const count = c.cannedItems.length;
  c.cannedIndex = (c.cannedIndex + delta + count) % count;
  for (const option of c.cannedList.children) option.setAttribute('aria-selected', String(Number(option.dataset.index) === c.cannedIndex));
  c.text.setAttribute('aria-activedescendant', `canned-${c.cannedIndex}`);
  c.cannedList.children[c.cannedIndex].scrollIntoView({ block: 'nearest' });
}

/** Replaces the typed #shortcut with the response as filled in for this ticket. */
export function insertCanned(c, index) {
  const canned = c.cannedItems?.[index];
  if (!canned) return;
  const end = c.text.selectionStart;
  const start = end - c.cannedToken;
  const fill = canned.rendered ?? canned.text;
  c.text.setRangeText(fill, start, end, 'end');
  c.store.setDraft(c.ticketId, { text: c.text.value });
  c.closeCanned();
  c.text.focus();
}
