// グラフ部品（console/charts.js）の文言。グラフを描くどのセクションでも使う。
export default {
  'charts.show': '数値を表示',
  'charts.hide': '数値を隠す',
  'charts.csv': 'CSV をダウンロード：{title}',
};
