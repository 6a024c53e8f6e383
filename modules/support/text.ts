// Text helpers for the file modules: strict UTF-8, Python-compatible line splitting, and
// diff text for content that may be binary.
import { ModuleError } from '../../engine/types.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 exactly (a BOM is kept); other encodings are refused rather than corrupted. */
export function decodeText(content: Buffer, path: string): string {
  try {
    return strictUtf8.decode(content);
  } catch {
    throw new ModuleError(`${path} is not UTF-8 text; refusing to edit it line by line`);
  }
}

export function isBinary(content: Buffer): boolean {
  if (content.includes(0)) return true;
  try {
    strictUtf8.decode(content);
    return false;
  } catch {
    return true;
  }
}

/** Python's bytes.readlines(): lines split after each "\n", which is kept. */
export function readLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Python's bytes.splitlines(True): breaks after "\n", "\r" or "\r\n", which are kept. */
export function splitLinesKeepEnds(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

/** Diff text for one side of a content change. */
export function diffText(content: Buffer | null): string {
  if (content === null) return '';
  if (isBinary(content)) return `binary file (${content.length} bytes)\n`;
  return content.toString('utf8');
}
