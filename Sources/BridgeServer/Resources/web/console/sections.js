// The console's sections, in the order of its navigation. Each is a custom element in a module of
// its own under console/<key>/, loaded the first time it is opened, so the console's first load
// stays small however many sections it grows. A section element gets:
//   .me     the signed-in owner or admin (GET /api/v1/me)
//   .path   what follows `#/<key>/` in the address (e.g. an account's id), '' for the section's start
// and may dispatch `navigate` (bubbling, detail: {path}) to move within itself; the app keeps the
// address in step. Its texts live in its own catalogue files, added with i18n's useCatalogue.
export const sections = [
  { key: 'channels', label: 'console.section.channels', element: 'console-channels', load: () => import('./channels/page.js') },
  { key: 'people', label: 'console.section.people', element: 'console-people', load: () => import('./people/page.js') },
  { key: 'automation', label: 'console.section.automation', element: 'console-automation', load: () => import('./automation/page.js') },
  { key: 'campaigns', label: 'console.section.campaigns', element: 'console-campaigns', load: () => import('./campaigns/page.js') },
  { key: 'reports', label: 'console.section.reports', element: 'console-reports', load: () => import('./reports/page.js') },
  { key: 'health', label: 'console.section.health', element: 'console-health', load: () => import('./health/page.js') },
  { key: 'data', label: 'console.section.data', element: 'console-data', load: () => import('./data/page.js') },
];
