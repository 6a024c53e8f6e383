// The members of a zip archive, read on the controller with yauzl (zip64, data descriptors,
// CRC and size checks, and names that would leave the destination refused): unarchive puts them
// on the host as a tree, so the host needs no unzip.
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { ModuleError } from '../../engine/types.js';
import { compareTreePaths, treePath, type WantedEntry } from './file-tree.js';

interface ZipMember extends WantedEntry {
  /** The name as the archive spells it (directories end in '/'). */
  name: string;
}

const UNIX = 3;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

/** "PK\x03\x04" (or an empty archive's "PK\x05\x06"). */
export function isZip(head: Buffer): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}

/** Every member, parents first (directories an archive only implies are added), and the names as listed. */
export async function readZip(archive: Buffer, name: string): Promise<{ members: ZipMember[]; names: string[] }> {
  const members = new Map<string, ZipMember>();
  const zip = await yauzl.fromBufferPromise(archive, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }).catch((e: Error) => {
    throw new ModuleError(`unarchive: ${name} is not a zip archive yauzl can read: ${e.message}`);
  });
  try {
    for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip)) {
      const unixMode = entry.versionMadeBy >> 8 === UNIX ? entry.externalFileAttributes >>> 16 : 0;
      const directory = entry.fileName.endsWith('/') || (unixMode & S_IFMT) === S_IFDIR;
      if ((unixMode & S_IFMT) === S_IFLNK) throw new ModuleError(`unarchive: ${name}: member ${entry.fileName} is a symbolic link (not supported in zip archives)`);
      if (entry.isEncrypted()) throw new ModuleError(`unarchive: ${name}: member ${entry.fileName} is encrypted`);
      const rel = treePath(entry.fileName);
      const mode = unixMode & 0o7777 ? (unixMode & 0o7777).toString(8).padStart(4, '0') : undefined;
      const content = directory ? undefined : await readAll(await zip.openReadStreamPromise(entry));
      members.set(rel, { name: entry.fileName, path: rel, type: directory ? 'directory' : 'file', ...(mode ? { mode } : {}), ...(content ? { content } : {}) });
    }
  } catch (e) {
    if (e instanceof ModuleError) throw e;
    throw new ModuleError(`unarchive: cannot read ${name}: ${(e as Error).message}`);
  } finally {
    zip.close();
  }
  const names = [...members.values()].map((m) => m.name);
  for (const rel of [...members.keys()]) {
    for (let at = rel.lastIndexOf('/'); at > 0; at = rel.lastIndexOf('/', at - 1)) {
      const parent = rel.slice(0, at);
      if (!members.has(parent)) members.set(parent, { name: `${parent}/`, path: parent, type: 'directory' });
    }
  }
  return { members: [...members.values()].sort((a, b) => compareTreePaths(a.path, b.path)), names };
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const cleanup = () => zip.removeAllListeners('entry').removeAllListeners('end').removeAllListeners('error');
    zip.once('entry', (e: yauzl.Entry) => (cleanup(), resolve(e)));
    zip.once('end', () => (cleanup(), resolve(null)));
    zip.once('error', (e: Error) => (cleanup(), reject(e)));
    zip.readEntry();
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
