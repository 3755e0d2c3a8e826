// Node.js dgram (libuv underneath) as the program under test.
//   node node_dgram_echo.js server PORT       echo server; prints "ready",
//                                             "echoed N" on SIGTERM
//   node node_dgram_echo.js client HOST PORT COUNT [MAX]
//                                             sends COUNT datagrams of
//                                             1..MAX (1472) bytes one at a
//                                             time, checks each echo
// UDP_TYPE=udp6 in the environment: an AF_INET6 socket (the server then
// binds :: and, with Node's default, serves IPv4 peers too).
// Bounded: the server ends after 120 s, each echo waits at most 1 s, the
// whole client run at most 60 s.
'use strict';
const dgram = require('dgram');

function payload(i, size) {
  const b = Buffer.alloc(size);
  for (let k = 0; k < size; k++) b[k] = (i * 11 + k * 7) & 0xff;
  return b;
}

const [mode, ...rest] = process.argv.slice(2);
const udp6 = process.env.UDP_TYPE === 'udp6';
const sock = dgram.createSocket(udp6 ? 'udp6' : 'udp4');
const any = udp6 ? '::' : '0.0.0.0';

if (mode === 'server') {
  let echoed = 0;
  const stop = () => {
    sock.close();
    console.log(`echoed ${echoed}`);
    process.exit(0);
  };
  sock.on('message', (msg, rinfo) => {
    sock.send(msg, rinfo.port, rinfo.address);
    echoed++;
  });
  sock.on('error', (e) => {
    console.error(`node: ${e.message}`);
    process.exit(1);
  });
  process.on('SIGTERM', stop);
  setTimeout(stop, 120000).unref();
  sock.bind(Number(rest[0]), any, () => console.log(`ready node ${process.version} (libuv ${process.versions.uv})`));
} else if (mode === 'client') {
  const [host, port, count] = [rest[0], Number(rest[1]), Number(rest[2])];
  const max = rest[3] ? Number(rest[3]) : 1472;
  const start = Date.now();
  let i = 0;
  let sent = null;
  let timer = null;
  const finish = (code, why) => {
    clearTimeout(timer);
    if (why) console.error(`node client: ${why}`);
    sock.close();
    process.exitCode = code;
  };
  const next = () => {
    if (i === count) return finish(0, null) || console.log(`client: ${count} datagrams intact`);
    if (Date.now() - start > 60000) return finish(1, `deadline passed after ${i} datagrams`);
    sent = payload(i, 1 + (i * 37) % max);
    sock.send(sent, port, host);
    timer = setTimeout(() => finish(1, `no echo of datagram ${i}`), 1000);
  };
  sock.on('message', (msg) => {
    clearTimeout(timer);
    if (!msg.equals(sent)) return finish(1, `echo of datagram ${i} differs`);
    i++;
    next();
  });
  sock.bind(0, any, next);
} else {
  console.error('usage: node_dgram_echo.js server PORT | client HOST PORT COUNT [MAX]');
  process.exit(2);
}
