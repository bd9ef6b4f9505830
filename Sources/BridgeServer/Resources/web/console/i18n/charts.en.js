// The chart module's own texts (console/charts.js), for every section that draws charts.
export default {
  'charts.show': 'Show numbers',
  'charts.hide': 'Hide numbers',
  'charts.csv': 'Download CSV: {title}',
};
