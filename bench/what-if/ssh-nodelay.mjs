// What-if preload for the fleet benchmark: TCP_NODELAY on every ssh2 client socket, as a
// one-line fix in engine/connection/ssh.ts (SshHost.open) would do. Measure it with
//   node bench/fleet.mjs --hosts 1 --runs 7 --node-arg=--import=./bench/what-if/ssh-nodelay.mjs
import { createRequire } from 'node:module';

const ssh2 = createRequire(import.meta.url)('ssh2');
const connect = ssh2.Client.prototype.connect;
ssh2.Client.prototype.connect = function (config) {
  const result = connect.call(this, config);
  this.setNoDelay(true);
  return result;
};
