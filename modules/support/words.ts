// Word splitting of a free-form command, as Python's shlex.split (POSIX mode) does it for
// Ansible's command module: quotes group words, nothing is expanded, no shell runs.
import { ModuleError } from '../../engine/types.js';

const SPACE = /[ \t\r\n]/;

export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (SPACE.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ModuleError(`no closing quotation in command: ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let text = '';
      i++;
      for (; i < line.length && line[i] !== '"'; i++) {
        // Inside double quotes a backslash escapes only a double quote or a backslash.
        if (line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) i++;
        text += line[i];
      }
      if (i >= line.length) throw new ModuleError(`no closing quotation in command: ${line}`);
      word = (word ?? '') + text;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new ModuleError(`no escaped character after the final backslash in command: ${line}`);
      word = (word ?? '') + line[++i];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}
