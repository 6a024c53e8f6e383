// --syntax-check: what loading checks (keywords, module arguments, every expression compiled),
// and beyond it, without connecting to any host: every template a task names literally is compiled,
// and the files of include_tasks/include_role written literally are loaded and checked the same way.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkTemplate, TemplateError } from '../expr/ejs-template.js';
import { loadIncludedRole, loadIncludedTasks, type Node, type Play, type TaskNode } from './playbook.js';
import { SourceError, whereOfValue } from './yaml.js';

export async function syntaxCheck(plays: Play[]): Promise<SourceError[]> {
  const problems: SourceError[] = [];
  const seen = new Set<string>();
  const visit = async (nodes: Node[], play: Play): Promise<void> => {
    for (const node of nodes) {
      if (node.kind === 'block') {
        for (const section of [node.block, node.rescue, node.always]) await visit(section, play);
        continue;
      }
      try {
        await visit(await checkTask(node, play, seen), play);
      } catch (e) {
        if (!(e instanceof SourceError)) throw e;
        problems.push(e);
      }
    }
  };
  for (const play of plays) {
    await visit(play.tasks, play);
    await visit(play.handlers, play);
  }
  return problems;
}

/** Checks one task's template; returns the tasks of a literal include, to be checked too. */
async function checkTask(task: TaskNode, play: Play, seen: Set<string>): Promise<Node[]> {
  const literal = (v: unknown): v is string => typeof v === 'string' && !v.includes('{{');
  const key = `${task.where.file}:${task.where.line}:${task.where.col}`;
  if (seen.has(key)) return [];
  seen.add(key);
  if (task.module.name === 'template' && literal(task.args.src)) {
    const file = await findTemplate(task.baseDirs, task.args.src);
    const at = whereOfValue(task.source.template ?? task.source, 'src') ?? task.where;
    if (!file) throw new SourceError(`template: src '${task.args.src}' not found under templates/ of ${task.baseDirs.join(', ')}`, at);
    try {
      checkTemplate(await fs.readFile(file, 'utf8'), file);
    } catch (e) {
      if (e instanceof TemplateError) throw new SourceError(e.message);
      throw e;
    }
  }
  if (task.action?.kind === 'include_tasks' && literal(task.args.file)) return loadIncludedTasks(task, task.args.file, play.loader, task.outerTags);
  if (task.action?.kind === 'include_role' && literal(task.args.name)) return (await loadIncludedRole(task, task.args, play, task.outerTags)).nodes;
  return [];
}

async function findTemplate(baseDirs: string[], src: string): Promise<string | undefined> {
  const candidates = path.isAbsolute(src) ? [src] : baseDirs.flatMap((d) => [path.join(d, 'templates', src), path.join(d, src)]);
  for (const c of candidates)
    if (
      await fs.stat(c).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return c;
  return undefined;
}
