/**
 * Splits a command string into words the way Compose does for `command:` / `entrypoint:` given
 * as a string (it uses go-shellwords): whitespace separates words, single quotes are literal,
 * double quotes allow backslash escapes of \ " $ and `, a backslash outside quotes escapes the
 * next character. No variable expansion, globbing or operators: `;`, `|`, `&&` stay ordinary
 * characters inside words, so `sh -c "a && b"` keeps its quoted script as one word.
 */
export type ShellWordsResult = { readonly ok: true; readonly words: string[] } | { readonly ok: false; readonly message: string };

export function splitShellWords(text: string): ShellWordsResult {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
      i += 1;
    } else if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end === -1) return { ok: false, message: `unterminated single quote in ${JSON.stringify(text)}` };
      current += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (ch === '"') {
      let j = i + 1;
      let closed = false;
      while (j < text.length) {
        const c = text[j]!;
        if (c === '\\' && j + 1 < text.length && '\\"$`'.includes(text[j + 1]!)) {
          current += text[j + 1];
          j += 2;
        } else if (c === '"') {
          closed = true;
          break;
        } else {
          current += c;
          j += 1;
        }
      }
      if (!closed) return { ok: false, message: `unterminated double quote in ${JSON.stringify(text)}` };
      inWord = true;
      i = j + 1;
    } else if (ch === '\\') {
      if (i + 1 >= text.length) return { ok: false, message: `trailing backslash in ${JSON.stringify(text)}` };
      current += text[i + 1];
      inWord = true;
      i += 2;
    } else {
      current += ch;
      inWord = true;
      i += 1;
    }
  }
  if (inWord) words.push(current);
  return { ok: true, words };
}
