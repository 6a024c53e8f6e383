// openssh_keypair (community.crypto's): an ssh key pair on the host, of a type and size, with a
// comment; regenerated when it does not match (unless regenerate: never), removed with absent.
import { ModuleError, type Module } from '../engine/types.js';
import { applyAttributes, attributeChanges, attributeProperties, resolveAttributes, type AttributeChange } from './support/attributes.js';
import { execOrFail } from './support/host-commands.js';
import { ensureKeyDir, generateKeyPair, keyInfo, publicKeyOf, type KeyInfo } from './support/ssh-keys.js';

interface Observed {
  exists: boolean;
  info: KeyInfo | null;
  publicKey?: string;
  attributeChanges: AttributeChange[];
}

type Step = 'generate' | 'comment' | 'remove' | 'attributes';

const DEFAULT_SIZE: Record<string, number> = { rsa: 4096, ecdsa: 256, dsa: 1024, ed25519: 256 };

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: { type: 'string', pattern: '^/', description: 'the private key file (the public key is path.pub)' },
    type: { enum: ['rsa', 'ed25519', 'ecdsa', 'dsa'], default: 'rsa', description: 'key type' },
    size: { type: 'integer', minimum: 256, description: 'bits (rsa default 4096, ecdsa 256)' },
    comment: { type: 'string', description: 'the key comment' },
    state: { enum: ['present', 'absent'], default: 'present', description: 'whether the pair should exist' },
    force: { type: 'boolean', default: false, description: 'regenerate the pair even when it matches' },
    regenerate: {
      enum: ['never', 'fail', 'partial_idempotence', 'full_idempotence', 'always'],
      default: 'partial_idempotence',
      description: 'a pair of another type or size: never keeps it, fail fails, the idempotence modes replace it; always replaces any pair',
    },
    passphrase: { type: 'string', 'x-secret': true, description: 'passphrase of a new private key (never shown)' },
    ...attributeProperties,
  },
} as const;

export const openssh_keypair: Module<typeof schema, Observed, { steps: Step[] }> = {
  name: 'openssh_keypair',
  description: 'Create, regenerate or remove an OpenSSH key pair on the host',
  schema,

  async observe(ctx, args) {
    const st = await ctx.host.stat(args.path, { ...ctx.become });
    if (!st) return { exists: false, info: null, attributeChanges: [] };
    const info = await keyInfo(ctx, args.path);
    const wanted = await resolveAttributes(ctx, { mode: args.mode ?? '0600', owner: args.owner, group: args.group });
    const pub = info ? await publicKeyOf(ctx, args.path).catch(() => undefined) : undefined;
    return { exists: true, info, publicKey: pub, attributeChanges: attributeChanges(st, wanted) };
  },

  plan(o, args) {
    const type = args.type;
    const size = args.size ?? DEFAULT_SIZE[type];
    const result = {
      filename: args.path,
      type,
      size,
      ...(o.info ? { fingerprint: o.info.fingerprint, comment: o.info.comment } : {}),
      ...(o.publicKey ? { public_key: o.publicKey.split(' ').slice(0, 2).join(' ') } : {}),
    };
    if (args.state === 'absent') {
      if (!o.exists) return { changed: false, summary: `${args.path} absent`, result };
      return { changed: true, summary: `remove ${args.path} and ${args.path}.pub`, diffs: [{ target: args.path, before: describe(o.info), after: '' }], action: { steps: ['remove'] }, result };
    }
    const mismatch = o.info !== null && (o.info.type !== type || (type !== 'ed25519' && o.info.bits !== size));
    let steps: Step[] = [];
    if (!o.exists || args.force || args.regenerate === 'always' || (o.info === null && args.regenerate !== 'never')) steps = ['generate'];
    else if (mismatch) {
      if (args.regenerate === 'fail') throw new ModuleError(`openssh_keypair: ${args.path} is a ${o.info!.type} key of ${o.info!.bits} bits, not ${type} ${size} (regenerate: fail)`);
      if (args.regenerate !== 'never') steps = ['generate'];
    }
    if (!steps.length) {
      if (args.comment !== undefined && o.info && o.info.comment !== args.comment) steps.push('comment');
      if (o.attributeChanges.length) steps.push('attributes');
    }
    if (!steps.length) return { changed: false, summary: `${args.path} ${o.info?.type ?? type} ${o.info?.bits ?? size}`, result };
    const attributeLines = (side: 'before' | 'after') => (steps.includes('attributes') ? o.attributeChanges.map((c) => `${c.field}: ${c[side]}\n`).join('') : '');
    const after = steps.includes('generate') ? { bits: size, type, comment: args.comment ?? '', fingerprint: '(new)' } : { ...o.info!, comment: args.comment ?? o.info!.comment };
    return {
      changed: true,
      summary: steps.includes('generate') ? `${o.exists ? 'regenerate' : 'generate'} ${type} key ${args.path}` : `${steps.join(', ')} of ${args.path}`,
      diffs: [{ target: args.path, before: describe(o.info) + attributeLines('before'), after: describe(after) + attributeLines('after') }],
      action: { steps },
      result,
    };
  },

  async apply(ctx, action, args) {
    if (action.steps.includes('remove')) {
      await execOrFail(ctx, ['rm', '-f', '--', args.path, `${args.path}.pub`], `cannot remove ${args.path}`);
      return {};
    }
    const type = args.type;
    if (action.steps.includes('generate')) {
      await ensureKeyDir(ctx, args.path, args.owner, args.group);
      const bits = type === 'ed25519' ? undefined : (args.size ?? DEFAULT_SIZE[type]);
      await generateKeyPair(ctx, { file: args.path, type, bits, comment: args.comment ?? '' }, args.passphrase);
    }
    if (action.steps.includes('comment')) {
      await execOrFail(ctx, ['ssh-keygen', '-q', '-c', '-C', args.comment ?? '', '-f', args.path, '-P', args.passphrase ?? ''], `cannot change the comment of ${args.path}`);
    }
    const st = await ctx.host.stat(args.path, { ...ctx.become });
    const wanted = await resolveAttributes(ctx, { mode: args.mode ?? '0600', owner: args.owner, group: args.group });
    await applyAttributes(ctx, args.path, attributeChanges(st, wanted));
    if (args.owner || args.group) await applyAttributes(ctx, `${args.path}.pub`, attributeChanges(null, { owner: wanted.owner, group: wanted.group }));
    const info = await keyInfo(ctx, args.path);
    return { result: { fingerprint: info?.fingerprint, public_key: (await publicKeyOf(ctx, args.path)).split(' ').slice(0, 2).join(' '), comment: info?.comment } };
  },
};

function describe(info: Pick<KeyInfo, 'type' | 'bits' | 'comment' | 'fingerprint'> | null): string {
  return info ? `type: ${info.type}\nsize: ${info.bits}\ncomment: ${info.comment}\nfingerprint: ${info.fingerprint}\n` : '';
}
