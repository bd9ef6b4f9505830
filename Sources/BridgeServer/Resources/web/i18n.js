// Language choice and formatting. The language comes from the browser unless the agent picked one
// (kept in localStorage); only that language's catalogue is loaded (another is fetched when the
// agent switches). Dates and times use Intl in the agent's own time zone; the Intl formatters are
// made once per language and options (building one costs far more than using it).
export const languages = [['en', 'English'], ['ja', '日本語']];
const codes = languages.map(([code]) => code);

function initial() {
  const saved = localStorage.getItem('inbox.language');
  if (saved && codes.includes(saved)) return saved;
  const preferred = (navigator.languages || [navigator.language || 'en']).map((l) => l.slice(0, 2).toLowerCase());
  return preferred.find((l) => codes.includes(l)) || 'en';
}

const base = (code) => import(`./i18n/${code}.js`).then((module) => module.default);
/** Loaders of the catalogues added to the base one (a page's or a console section's own texts). */
const extra = [];

async function load(code) {
  const parts = await Promise.all([base, ...extra].map((loader) => loader(code)));
  return Object.assign({}, ...parts);
}

let language = initial();
let catalogue = await load(language);
const listeners = new Set();

/** Adds a catalogue, `loader(code)` → `{key: text}`, over the base one for every language (later
 *  ones win), so a page or a console section keeps its texts in its own files. Resolves once the
 *  current language's part is in. */
export async function useCatalogue(loader) {
  extra.push(loader);
  const wanted = language;
  const part = await loader(wanted);
  if (language === wanted) Object.assign(catalogue, part);
}

export function currentLanguage() { return language; }

export async function setLanguage(next) {
  if (!codes.includes(next) || next === language) return;
  const loaded = await load(next);
  language = next;
  catalogue = loaded;
  localStorage.setItem('inbox.language', next);
  document.documentElement.lang = next;
  for (const listener of listeners) listener(next);
}

export function onLanguageChange(listener) { listeners.add(listener); }

/** The catalogue text for key, {placeholders} filled from params (as text). */
export function t(key, params = {}) {
  const text = catalogue[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? `{${name}}`).toString());
}

const formatters = new Map();

/** One Intl formatter per kind, language and options. */
function formatter(Kind, options) {
  const key = `${Kind.name}|${language}|${JSON.stringify(options)}`;
  let made = formatters.get(key);
  if (!made) {
    made = new Kind(language, options);
    formatters.set(key, made);
  }
  return made;
}

const CLOCK = { hour: '2-digit', minute: '2-digit' };
const DAY_CLOCK = { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' };
const FULL = { dateStyle: 'full', timeStyle: 'short' };

/** A time: the clock time today, else day and time (agent's time zone). */
export function formatTime(iso) {
  const date = new Date(iso);
  const now = new Date();
  const sameDay = date.getDate() === now.getDate() && date.getMonth() === now.getMonth() && date.getFullYear() === now.getFullYear();
  return formatter(Intl.DateTimeFormat, sameDay ? CLOCK : DAY_CLOCK).format(date);
}

export function formatFullTime(iso) {
  return formatter(Intl.DateTimeFormat, FULL).format(new Date(iso));
}

const UNITS = {};
for (const unit of ['minute', 'hour', 'day']) UNITS[unit] = { style: 'unit', unit, unitDisplay: 'short' };

/** A duration since iso, short: "5 min", "3 hr", "2 days". */
export function formatSince(iso, now = Date.now()) {
  const minutes = Math.max(0, Math.floor((now - Date.parse(iso)) / 60000));
  const [value, unit] = minutes < 60 ? [minutes, 'minute'] : minutes < 48 * 60 ? [Math.floor(minutes / 60), 'hour'] : [Math.floor(minutes / 1440), 'day'];
  return formatter(Intl.NumberFormat, UNITS[unit]).format(value);
}

export function formatNumber(value) {
  return formatter(Intl.NumberFormat, undefined).format(value);
}

export function formatList(items) {
  return formatter(Intl.ListFormat, { style: 'short', type: 'conjunction' }).format(items);
}

document.documentElement.lang = language;
