// Types of the two ssh2 files plinth imports directly (see ssh.ts): those of the package's index.
declare module 'ssh2/lib/client.js' {
  import { Client } from 'ssh2';
  export default Client;
}

declare module 'ssh2/lib/protocol/keyParser.js' {
  import type { utils } from 'ssh2';
  const keyParser: { parseKey: typeof utils.parseKey };
  export default keyParser;
}
