import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { ensureHostsBlock, parseCorefile, printCorefile } from '../../../modules/k8s/corefile.js';
import { blogCorefile, blogHosts } from '../../fixtures/k8s/blog-corefile.js';

describe('Corefile merge', () => {
  test('adds the blog hosts block after the kubernetes block, every other line unchanged', () => {
    const merged = ensureHostsBlock(blogCorefile, '.:53', blogHosts);
    expect(merged).toBe(
      blogCorefile.replace(
        '      ttl 30\n    }\n',
        '      ttl 30\n    }\n    hosts {\n      192.168.1.37 pgpool.write.db.internal\n      192.168.1.31 pgpool.read.db.internal\n      fallthrough\n    }\n',
      ),
    );
    expect(ensureHostsBlock(merged, '.:53', blogHosts)).toBe(merged);
  });

  test('replaces the entries of an existing hosts block; options and comments stay', () => {
    const existing = blogCorefile.replace(
      '    prometheus :9153\n',
      '    hosts /etc/coredns/extra {\n      # lab names\n      10.0.0.1 old.name\n      ttl 60\n      fallthrough\n    }\n    prometheus :9153\n',
    );
    const merged = ensureHostsBlock(existing, '.:53', blogHosts);
    expect(merged).toContain(
      '    hosts /etc/coredns/extra {\n      # lab names\n      192.168.1.37 pgpool.write.db.internal\n      192.168.1.31 pgpool.read.db.internal\n      ttl 60\n      fallthrough\n    }\n',
    );
    expect(merged).not.toContain('old.name');
    expect(merged.split('\n').filter((l) => l.trim() === 'fallthrough')).toHaveLength(1);
    expect(ensureHostsBlock(merged, '.:53', blogHosts)).toBe(merged);
  });

  test("follows kubeadm's indentation (4 spaces, nested +3) and edits only the named server block", () => {
    const kubeadm =
      'example.org:53 {\n    forward . 8.8.8.8\n}\n.:53 {\n    errors\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n    }\n    forward . /etc/resolv.conf\n}\n';
    const merged = ensureHostsBlock(kubeadm, '.:53', [{ ip: '10.1.1.1', names: ['a.internal', 'b.internal'] }]);
    expect(merged).toContain('    }\n    hosts {\n       10.1.1.1 a.internal b.internal\n       fallthrough\n    }\n    forward . /etc/resolv.conf\n}');
    expect(merged.startsWith('example.org:53 {\n    forward . 8.8.8.8\n}\n')).toBe(true);
  });

  test('a missing server block and unsupported brace layouts are errors', () => {
    expect(() => ensureHostsBlock('example.org {\n  whoami\n}\n', '.:53', blogHosts)).toThrow(/no '.:53 \{ ... \}' server block/);
    expect(() => parseCorefile('.:53 {\n  health { lameduck 5s }\n}\n')).toThrow(/line 2: braces inside a line/);
    expect(() => parseCorefile('.:53 {\n  errors\n')).toThrow(/line 1: block is never closed/);
    expect(() => parseCorefile('}\n')).toThrow(/line 1/);
  });

  test('parse → print gives back the text, and parse(print(tree)) is the same tree', () => {
    const word = fc.stringMatching(/^[a-z0-9.:_/-]{1,8}$/);
    const line = fc
      .tuple(fc.constantFrom('', ' ', '    ', '\t'), fc.array(word, { minLength: 0, maxLength: 3 }), fc.option(fc.constantFrom('# note {', '#x')))
      .map(([indent, ws, comment]) => `${indent}${ws.join(' ')}${comment ? ` ${comment}` : ''}`);
    type T = string | { header: string; body: T[] };
    const tree: fc.Arbitrary<T[]> = fc.letrec<{ node: T; nodes: T[] }>((tie) => ({
      node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, line, fc.record({ header: word, body: tie('nodes') })),
      nodes: fc.array(tie('node'), { maxLength: 4 }),
    })).nodes;
    const render = (nodes: T[], indent: string): string[] => nodes.flatMap((n) => (typeof n === 'string' ? [indent + n] : [`${indent}${n.header} {`, ...render(n.body, `${indent}  `), `${indent}}`]));
    fc.assert(
      fc.property(tree, (nodes) => {
        const text = render(nodes, '').join('\n');
        const parsed = parseCorefile(text);
        expect(printCorefile(parsed)).toBe(text);
        expect(parseCorefile(printCorefile(parsed))).toEqual(parsed);
      }),
    );
  });
});
