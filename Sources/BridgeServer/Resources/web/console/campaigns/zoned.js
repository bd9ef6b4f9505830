// A wall-clock time in a named time zone as an instant (ISO 8601, UTC), with Intl only: the
// offset the zone has at that moment is read back from Intl and applied (twice, so a time next
// to a daylight-saving change lands on the right side of it).

/** The zone's offset from UTC in ms at instant `ms`. */
function offset(ms, zone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms)).map((part) => [part.type, part.value]));
  const asUTC = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return asUTC - Math.floor(ms / 1000) * 1000;
}

/** `local` is a datetime-local value (YYYY-MM-DDTHH:MM); null when it is not one. */
export function zonedToISO(local, zone) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local ?? '');
  if (!match) return null;
  const wall = Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5]);
  let ms = wall - offset(wall, zone);
  ms = wall - offset(ms, zone);
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** The time zones the browser knows, the page's own first. */
export function timeZones() {
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ['UTC'];
  return [own, ...all.filter((zone) => zone !== own)];
}
