// Node module hooks (module.register) that let a playbook's library/ hold TypeScript: a .ts file
// is turned into JavaScript by removing its types (sucrase), imports left as they are, lines kept
// where they were so that stack traces point at the user's lines. Registered only when plinth
// loads a user module written in TypeScript; plinth's own code is JavaScript in dist/.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'sucrase';

interface ResolveContext {
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>;
type NextLoad = (url: string, context: unknown) => Promise<unknown>;

const TYPESCRIPT = /\.m?ts$/;

function isUserTypeScript(url: string): boolean {
  return url.startsWith('file:') && TYPESCRIPT.test(url) && !url.includes('/node_modules/');
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string }> {
  try {
    return await next(specifier, context);
  } catch (e) {
    // TypeScript's own convention for ES modules: `import './helper.js'` names helper.ts.
    const fromTypeScript = context.parentURL !== undefined && isUserTypeScript(context.parentURL);
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || !fromTypeScript || !/^\.\.?\/.*\.m?js$/.test(specifier)) throw e;
    return next(specifier.replace(/js$/, 'ts'), context);
  }
}

export async function load(url: string, context: unknown, next: NextLoad): Promise<unknown> {
  if (!isUserTypeScript(url)) return next(url, context);
  const file = fileURLToPath(url);
  const { code } = transform(await readFile(file, 'utf8'), { transforms: ['typescript'], disableESTransforms: true, filePath: file });
  return { format: 'module', source: code, shortCircuit: true };
}
