// The module registry: every module plinth knows, by name. Add a module by importing it here.
import type { Module } from '../engine/types.js';

const all: Module[] = [
];

export const modules: ReadonlyMap<string, Module> = new Map(all.map((m) => [m.name, m]));
