// locale_gen (community.general's): a locale generated (or removed) the Debian way: its line in
// /etc/locale.gen enabled (or commented out), then locale-gen. PostgreSQL's initdb and
// CREATE DATABASE ... LOCALE need the locale generated on the host.
import { ModuleError, type Module } from '../engine/types.js';
import { applyManagedFile, observeManagedFile, planManagedFile, type ManagedFile, type ManagedFileAction } from './support/managed-file.js';
import { execOrFail } from './support/host-commands.js';
import { decodeText, readLines } from './support/text.js';

interface Observed {
  file: ManagedFile;
  generated: boolean;
  /** The locale's line in /usr/share/i18n/SUPPORTED ("de_DE.UTF-8 UTF-8"), null when it is not a locale. */
  supported: string | null;
}

const LOCALE_GEN = '/etc/locale.gen';

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9_.@-]+$', description: 'the locale, e.g. de_DE.UTF-8 (as in /usr/share/i18n/SUPPORTED)' },
    state: { enum: ['present', 'absent'], default: 'present', description: 'whether the locale should be generated' },
  },
} as const;

/** locale -a names en_US.UTF-8 "en_US.utf8": codeset lower-cased, without dashes. */
export function localeKey(name: string): string {
  const [lang, rest = ''] = name.split('.');
  const [codeset, modifier] = rest.split('@');
  return `${lang}${codeset ? `.${codeset.toLowerCase().replace(/-/g, '')}` : ''}${modifier ? `@${modifier}` : ''}`;
}

/** Whether `locale -a` lists the locale (under its normalized name). */
export function isGenerated(localeList: string, name: string): boolean {
  return localeList.split('\n').some((l) => localeKey(l.trim()) === localeKey(name));
}

/** The locale's line in /usr/share/i18n/SUPPORTED ("de_DE.UTF-8 UTF-8"), null when it is not a supported locale. */
export function supportedLine(supported: string, name: string): string | null {
  return supported.split('\n').find((l) => l.split(/\s+/)[0] === name) ?? null;
}

/** /etc/locale.gen with the locale's line enabled (uncommented or added) or commented out. */
export function editLocaleGen(lines: string[], name: string, supported: string, enable: boolean): string[] {
  const matches = (l: string) => new RegExp(`^#?\\s*${name.replace(/[.+]/g, '\\$&')}\\s`).test(l);
  let found = false;
  const out = lines.map((l) => {
    if (!matches(l)) return l;
    found = true;
    return enable ? `${l.replace(/^#\s*/, '')}` : l.startsWith('#') ? l : `# ${l}`;
  });
  if (enable && !found) {
    if (out.length && !out[out.length - 1].endsWith('\n')) out[out.length - 1] += '\n';
    out.push(`${supported}\n`);
  }
  return out;
}

export const locale_gen: Module<typeof schema, Observed, { file?: ManagedFileAction }> = {
  name: 'locale_gen',
  description: 'Generate or remove a locale (/etc/locale.gen and locale-gen)',
  schema,

  async observe(ctx, args) {
    const file = await observeManagedFile(ctx, LOCALE_GEN, {});
    const list = await ctx.host.exec(['locale', '-a']);
    if (list.exitCode !== 0) throw new ModuleError(`locale -a failed: ${list.stderr.trim()}`);
    const supportedFile = await ctx.host.read('/usr/share/i18n/SUPPORTED');
    return { file, generated: isGenerated(list.stdout, args.name), supported: supportedLine(supportedFile?.toString('utf8') ?? '', args.name) };
  },

  plan(o, args) {
    const present = args.state === 'present';
    if (present && !o.supported) throw new ModuleError(`locale_gen: ${args.name} is not a supported locale (see /usr/share/i18n/SUPPORTED; is the locales package installed?)`);
    const lines = o.file.content ? readLines(decodeText(o.file.content, LOCALE_GEN)) : [];
    const desired = Buffer.from(editLocaleGen(lines, args.name, o.supported ?? '', present).join(''));
    const filePlan = planManagedFile(o.file, desired);
    const fileChange = 'action' in filePlan ? filePlan : null;
    const result = { name: args.name, state: args.state };
    if (!fileChange && o.generated === present) return { changed: false, summary: `${args.name} ${present ? 'generated' : 'absent'}`, result };
    return {
      changed: true,
      summary: `${present ? 'generate' : 'remove'} locale ${args.name}`,
      diffs: [...(fileChange?.diffs ?? []), { target: `locale ${args.name}`, before: o.generated ? 'generated\n' : 'not generated\n', after: present ? 'generated\n' : 'not generated\n' }],
      writes: fileChange?.writes,
      action: { file: fileChange?.action },
      result,
    };
  },

  async apply(ctx, action) {
    if (action.file) await applyManagedFile(ctx, action.file);
    await execOrFail(ctx, ['locale-gen'], 'locale-gen failed');
    return {};
  },
};
