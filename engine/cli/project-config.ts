// plinth.cfg: the defaults a project sets once, in ansible.cfg's INI form, so a team can copy
// its ansible.cfg's [defaults] and [privilege_escalation] sections. Found as Ansible finds
// ansible.cfg: $PLINTH_CONFIG, else ./plinth.cfg, else ~/.plinth.cfg. Relative paths in it are
// relative to the file. Command-line options win over it.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SourceError } from '../load/yaml.js';

export interface ProjectConfig {
  file: string;
  inventory?: string[];
  forks?: number;
  rolesPath: string[];
  vaultPasswordFile?: string;
  /** Connection and become defaults for every host, below the inventory's variables. */
  hostDefaults: Record<string, unknown>;
  /** Keys plinth does not use (an ansible.cfg copied whole has many): said once, not an error. */
  ignored: string[];
}

/** [section] key → what it sets. */
const HOST_DEFAULTS: Record<string, Record<string, string>> = {
  defaults: {
    remote_user: 'ansible_user',
    private_key_file: 'ansible_ssh_private_key_file',
    host_key_checking: 'ansible_host_key_checking',
    remote_port: 'ansible_port',
    timeout: 'ansible_timeout',
  },
  privilege_escalation: {
    become: 'ansible_become',
    become_method: 'ansible_become_method',
    become_user: 'ansible_become_user',
    become_flags: 'ansible_become_flags',
  },
};

async function findProjectConfig(cwd = process.cwd(), env = process.env): Promise<string | undefined> {
  if (env.PLINTH_CONFIG) return path.resolve(cwd, env.PLINTH_CONFIG);
  for (const candidate of [path.join(cwd, 'plinth.cfg'), path.join(os.homedir(), '.plinth.cfg')]) {
    if (
      await fs.stat(candidate).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return candidate;
  }
  return undefined;
}

export async function loadProjectConfig(cwd = process.cwd(), env = process.env): Promise<ProjectConfig | undefined> {
  const file = await findProjectConfig(cwd, env);
  if (!file) return undefined;
  const text = await fs.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new SourceError(`cannot read the plinth config ${file}: ${e.code ?? e.message}`);
  });
  return parseProjectConfig(text, file);
}

export function parseProjectConfig(text: string, file: string): ProjectConfig {
  const dir = path.dirname(file);
  const resolve = (p: string) => path.resolve(dir, p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p);
  const config: ProjectConfig = { file, rolesPath: [], hostDefaults: {}, ignored: [] };
  let section = '';
  text.split(/\r?\n/).forEach((raw, i) => {
    const where = { file, line: i + 1, col: 1 };
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = header[1].trim();
      return;
    }
    const m = /^([A-Za-z0-9_.-]+)\s*[=:]\s*(.*)$/.exec(line);
    if (!m) throw new SourceError(`plinth config: expected "key = value" or a [section], got '${line}'`, where);
    const key = m[1];
    // As in ansible.cfg, a ';' or ' #' after a value starts a comment.
    const value = m[2].replace(/\s+[#;].*$/, '').trim();
    if (!section) throw new SourceError(`plinth config: '${key}' is outside a section; put it under [defaults]`, where);
    const host = HOST_DEFAULTS[section]?.[key];
    if (host) config.hostDefaults[host] = ['private_key_file'].includes(key) ? resolve(value) : value;
    else if (section === 'defaults' && key === 'inventory')
      config.inventory = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map(resolve);
    else if (section === 'defaults' && key === 'forks') {
      const forks = Number(value);
      if (!Number.isInteger(forks) || forks < 1) throw new SourceError(`plinth config: forks must be a positive integer, got '${value}'`, where);
      config.forks = forks;
    } else if (section === 'defaults' && key === 'roles_path') config.rolesPath = value.split(':').filter(Boolean).map(resolve);
    else if (section === 'defaults' && key === 'vault_password_file') config.vaultPasswordFile = resolve(value);
    else config.ignored.push(`[${section}] ${key}`);
  });
  return config;
}
