// The website widget's English texts. Values are plain text, never markup.
export default {
  'close': 'Close the chat',
  'online': 'We are online',
  'offline': 'We are away',
  'message': 'Your message',
  'placeholder': 'Write a message…',
  'send': 'Send',
  'typing': '{name} is typing…',
  'agent': 'Support',
  'you': 'You',
  'failed': 'Not sent. Try again.',
  'limited': 'Too many messages at once. Try again in {seconds} s.',
  'unreachable': 'The chat cannot be reached. Retrying…',
  'refused': 'This chat is not available on this site.',
};
