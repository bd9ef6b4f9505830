// Language choice and formatting. The language comes from the browser unless the agent picked one
// (kept in localStorage); dates and times use Intl in the agent's own time zone.
import en from './i18n/en.js';
import ja from './i18n/ja.js';

const catalogues = { en, ja };
export const languages = [['en', 'English'], ['ja', '日本語']];

function initial() {
  const saved = localStorage.getItem('inbox.language');
  if (saved && catalogues[saved]) return saved;
  const preferred = (navigator.languages || [navigator.language || 'en']).map((l) => l.slice(0, 2).toLowerCase());
  return preferred.find((l) => catalogues[l]) || 'en';
}

let language = initial();
const listeners = new Set();

export function currentLanguage() { return language; }

export function setLanguage(next) {
  if (!catalogues[next] || next === language) return;
  language = next;
  localStorage.setItem('inbox.language', next);
  document.documentElement.lang = next;
  for (const listener of listeners) listener(next);
}

export function onLanguageChange(listener) { listeners.add(listener); }

/** The catalogue text for key, {placeholders} filled from params (as text). */
export function t(key, params = {}) {
  const text = catalogues[language][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? `{${name}}`).toString());
}

/** A time: the clock time today, else day and time (agent's time zone). */
export function formatTime(iso) {
  const date = new Date(iso);
  const now = new Date();
  const sameDay = date.toDateString() === now.toDateString();
  const options = sameDay ? { hour: '2-digit', minute: '2-digit' } : { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' };
  return new Intl.DateTimeFormat(language, options).format(date);
}

export function formatFullTime(iso) {
  return new Intl.DateTimeFormat(language, { dateStyle: 'full', timeStyle: 'short' }).format(new Date(iso));
}

/** A duration since iso, short: "5 min", "3 hr", "2 days". */
export function formatSince(iso, now = Date.now()) {
  const minutes = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 60000));
  const [value, unit] = minutes < 60 ? [minutes, 'minute'] : minutes < 48 * 60 ? [Math.floor(minutes / 60), 'hour'] : [Math.floor(minutes / 1440), 'day'];
  return new Intl.NumberFormat(language, { style: 'unit', unit, unitDisplay: 'short' }).format(value);
}

export function formatList(items) {
  return new Intl.ListFormat(language, { style: 'short', type: 'conjunction' }).format(items);
}

document.documentElement.lang = language;
