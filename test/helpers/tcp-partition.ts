// A TCP relay a test puts between one process and a server, to cut the network between them
// for real: once cut, what either side sends is never delivered and new connections hang (a
// partition drops packets; it does not refuse connections), while both processes run on.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface Partition {
  /** host:port to give the process in place of the server's. */
  address: string;
  cut(): void;
  close(): Promise<void>;
}

export async function relayTo(host: string, port: number): Promise<Partition> {
  const sockets = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('error', () => {});
    client.on('close', () => sockets.delete(client));
    if (cut) return client.pause();   // accepted, never answered
    const upstream = connect(port, host);
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => sockets.delete(upstream));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${own}`,
    cut() {
      cut = true;
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
      }
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
