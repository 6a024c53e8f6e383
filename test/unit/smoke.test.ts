import { test, expect } from 'vitest';
import { quoteArg } from '../../engine/connection/shell.js';
test('q', () => { expect(quoteArg("a b")).toBe("'a b'"); });
