/** Local TCP ports: one free to listen on, and whether one accepts connections (on 127.0.0.1). */
import { connect, createServer } from "node:net";

/** A port nobody listens on now (the caller binds it soon after). */
export const freePort = () => new Promise<number>((resolve, reject) => {
  const server = createServer().once("error", reject).listen(0, "127.0.0.1", () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  });
});

export const accepts = (port: number) => new Promise<boolean>((resolve) => {
  const socket = connect(port, "127.0.0.1");
  socket.once("connect", () => (socket.destroy(), resolve(true)));
  socket.once("error", () => resolve(false));
});
