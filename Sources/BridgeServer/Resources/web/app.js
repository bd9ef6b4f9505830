// Placeholder: the inbox app replaces this file.
document.title = "Inbox";
