// コンソールの文言(各セクションは自分の文言を持つ)。{name} は t() が埋める。
export default {
  'app.title': 'コンソール',
  'signin.title': 'コンソールにサインイン',
  'console.section.channels': 'チャネル',
  'section.automation': '自動化',
  'section.people': 'メンバー',
  'console.sections': 'コンソールのセクション',
  'console.inbox': '受信箱',
  'console.refused.title': 'コンソールはオーナーと管理者向けです',
  'console.refused.text': '{name} さん(エージェント)としてサインインしています。お仕事は受信箱にあります。',
  'console.loading': '読み込み中…',
  'console.load.failed': 'このセクションを読み込めませんでした: {message}',
  'console.empty': 'まだ何もありません。',
  'console.copy': 'コピー',
  'console.copied': 'コピーしました',
  'console.csv': 'CSV をダウンロード',
  'console.saved': '保存しました。',
  'console.failed': 'うまくいきませんでした: {message}',
  'reports.nav': 'レポート',  // the Reports section's name in the navigation (shown before it loads)
  'console.nav.health': '稼働状況',
  'console.nav.data': 'データ',
  'section.campaigns': 'キャンペーン',
};
