// The module registry: every module plinth knows, by name. Add a module by importing it here.
import type { Module } from '../engine/types.js';
import { command } from './command.js';
import { shell } from './shell.js';
import { file } from './file.js';
import { copy } from './copy.js';
import { template } from './template.js';
import { lineinfile } from './lineinfile.js';
import { blockinfile } from './blockinfile.js';
import { stat } from './stat.js';
import { assert } from './assert.js';
import { set_fact } from './set_fact.js';
import { debug } from './debug.js';
import { pgpoolEnc } from './pgpool_enc.js';
import { k8s } from './k8s.js';
import { corednsHosts } from './coredns_hosts.js';
import { apt } from './apt.js';
import { systemd } from './systemd.js';
import { postgres_conf } from './postgres_conf.js';
import { pg_hba } from './pg_hba.js';
import { postgres_role } from './postgres_role.js';
import { basebackup } from './basebackup.js';
import { postgres_query } from './postgres_query.js';
import { postgres_db } from './postgres_db.js';
import { postgres_privs } from './postgres_privs.js';
import { ping } from './ping.js';
import { setup } from './setup.js';
import { wait_for } from './wait_for.js';
import { uri } from './uri.js';

const all: Module[] = [
  command,
  shell,
  file,
  copy,
  template,
  lineinfile,
  blockinfile,
  stat,
  assert,
  set_fact,
  debug,
  pgpoolEnc,
  k8s,
  corednsHosts,
  apt,
  systemd,
  postgres_conf,
  pg_hba,
  postgres_role,
  basebackup,
  postgres_query,
  postgres_db,
  postgres_privs,
  ping,
  setup,
  wait_for,
  uri,
];

export const modules: ReadonlyMap<string, Module> = new Map(all.map((m) => [m.name, m]));
