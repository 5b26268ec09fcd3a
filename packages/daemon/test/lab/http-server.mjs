// A tiny HTTP server for the daemon's lab tests and failover benchmark: answers every request with 200 and the node's
// name, on each given port, dual-stack ([::] with IPv4-mapped addresses). Prints one "listening <name> <port>" line per
// port once bound. Usage: node http-server.mjs NAME PORT [PORT...]
import { createServer } from 'node:http';

const [name = 'unnamed', ...ports] = process.argv.slice(2);
for (const port of ports.length > 0 ? ports : ['80']) {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
    res.end(`${name}\n`);
  });
  server.keepAliveTimeout = 0;
  server.listen({ port: Number(port), host: '::', ipv6Only: false }, () => {
    process.stdout.write(`listening ${name} ${port}\n`);
  });
}
process.on('SIGTERM', () => process.exit(0));
