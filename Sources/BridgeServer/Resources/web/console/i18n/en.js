// The console's own texts (its sections add theirs). {name} placeholders are filled by t().
export default {
  'app.title': 'Console',
  'signin.title': 'Sign in to the console',
  'console.section.channels': 'Channels',
  'section.automation': 'Automation',
  'section.people': 'People',
  'console.sections': 'Console sections',
  'console.inbox': 'Inbox',
  'console.refused.title': 'The console is for owners and admins',
  'console.refused.text': 'You are signed in as {name}, an agent. Your work is in the inbox.',
  'console.loading': 'Loading…',
  'console.load.failed': 'This section could not be loaded: {message}',
  'console.empty': 'Nothing here yet.',
  'console.copy': 'Copy',
  'console.copied': 'Copied',
  'console.csv': 'Download CSV',
  'console.saved': 'Saved.',
  'console.failed': 'That did not work: {message}',
  'reports.nav': 'Reports',  // the Reports section's name in the navigation (shown before it loads)
  'console.nav.health': 'Health',
  'console.nav.data': 'Data',
  'section.campaigns': 'Campaigns',
};
