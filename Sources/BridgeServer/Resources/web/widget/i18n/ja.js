// ウェブサイトのチャットの日本語の文言。値はプレーンテキストのみ。
export default {
  'close': 'チャットを閉じる',
  'online': 'オンライン',
  'offline': '不在',
  'message': 'メッセージ',
  'placeholder': 'メッセージを入力…',
  'send': '送信',
  'typing': '{name}が入力中…',
  'agent': 'サポート',
  'you': 'あなた',
  'failed': '送信できませんでした。もう一度お試しください。',
  'limited': '送信が多すぎます。{seconds}秒後にお試しください。',
  'unreachable': 'チャットに接続できません。再接続しています…',
  'refused': 'このサイトではチャットを利用できません。',
};
