import { test, expect } from 'vitest';
import { quoteArg } from '../../engine/connection/shell-quote.js';
test('q', () => {
  expect(quoteArg('a b')).toBe("'a b'");
});
